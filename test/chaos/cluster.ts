/**
 * Carbonado on the chaos lab: one real `carbonado node run` per host (through `ip netns
 * exec`, so it lives in its host's network namespace), a quorum disk reached by each node
 * through its own loop device (disk.ts), a power fence for every node (the lab's switch,
 * switch.ts, through pdu-agent.ts), and one service `web`: the HTTP server of
 * fixtures/http-service.sh, then the floating address (the `ip` agent) on `carb0`.
 *
 * The server starts before the address and stops after it: the address is never up on a host
 * where nothing answers, and a client sees the new owner as soon as the address is added
 * (the ip agent's three gratuitous ARPs take two more seconds, after the address is up).
 *
 * A node's log goes to logs/NAME.log in the lab's directory (every incarnation appended); who
 * counts whom up is asked of the nodes themselves (status.ts), as `carbonado status` does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { HEARTBEAT_PORTS, HOST_IFACE, HOST_PREFIX } from '../helpers/hosts.js'
import { runCli } from '../helpers/cluster.js'
import type { Cleanup } from './cleanup.js'
import { createQuorumDisk, type QuorumDisk } from './disk.js'
import { DIST, HTTP_PORT, Lab, ROOT, sleep, type LabOptions } from './lab.js'
import { FLOATING_ADDRESS } from './network.js'
import { startSwitch, type PowerSwitch } from './switch.js'
import { askStatus, type StatusView } from './status.js'

const execFileAsync = promisify(execFile)

export const SERVICE = 'web'
/** Lines of a node's log kept in memory for failure reports (the whole log is in logs/). */
const RECENT_LINES_MAX = 1000
/** A clean stop (SIGTERM) that takes longer ends with SIGKILL. */
const STOP_WAIT_MS = 15_000
/** Resource timeouts of the service: short, as the test timings are. */
const RESOURCE_TIMINGS = 'monitorIntervalMs: 500, startTimeoutMs: 8000, stopTimeoutMs: 5000, monitorTimeoutMs: 2000'

export interface ClusterOptions extends LabOptions {
  timing: Record<string, number>
}

/** One `carbonado node run` process. */
export interface Daemon {
  name: string
  child: ChildProcess
  pid: number
  startedAtMs: number
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  exit: { code: number | null; signal: NodeJS.Signals | null } | null
  recent: string[]
}

export class ChaosCluster {
  readonly daemons = new Map<string, Daemon>()
  /** Every daemon ever started, in order (exit codes for the report). */
  readonly history: Daemon[] = []
  private logs = new Map<string, WriteStream>()

  private constructor(readonly lab: Lab, readonly file: string, readonly disk: QuorumDisk, readonly power: PowerSwitch) {}

  static async create(cleanup: Cleanup, options: ClusterOptions): Promise<ChaosCluster> {
    const lab = await Lab.create(cleanup, options)
    const disk = await createQuorumDisk(cleanup, lab.dir, options.hosts)
    const holder: { cluster: ChaosCluster | null } = { cluster: null }
    const power = await startSwitch(join(lab.dir, 'switch.sock'), {
      has: (plug) => lab.hostNames.includes(plug),
      isOn: (plug) => lab.isOn(plug),
      off: async (plug) => {
        lab.say(`# switch: power off ${plug} (asked by a fence agent)`)
        await lab.powerOff(plug)
        await holder.cluster?.reap(plug)
      },
    })
    cleanup.add('closing the power switch', () => power.close())
    const file = await writeClusterFile(lab, disk, options.timing)
    const init = runCli(['disk', 'init', '-c', file, '--block-size', '512'])
    if (init.code !== 0) throw new Error(`carbonado disk init failed: ${init.stderr}`)
    await mkdir(join(lab.dir, 'logs'))
    const cluster = new ChaosCluster(lab, file, disk, power)
    holder.cluster = cluster
    cleanup.add('killing the node processes', () => cluster.killAll())
    return cluster
  }

  journal(name: string): string { return join(this.lab.dir, 'journal', name) }

  /** A live daemon of `name`, or null. */
  live(name: string): Daemon | null {
    const d = this.daemons.get(name)
    return d !== undefined && d.exit === null ? d : null
  }

  /** `carbonado node run` in the host's namespace. Refused on a host without power. */
  start(name: string): Daemon {
    if (this.lab.cleanup.closing) throw new Error('the lab is being cleaned up')
    if (!this.lab.isOn(name)) throw new Error(`host ${name} has no power`)
    if (this.live(name) !== null) throw new Error(`node ${name} already runs`)
    const netns = this.lab.net.hosts.find((h) => h.name === name)!.netns
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, DIST.cli, 'node', 'run', '-c', this.file, '--node', name, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const log = this.logs.get(name) ?? createWriteStream(join(this.lab.dir, 'logs', `${name}.log`), { flags: 'a' })
    this.logs.set(name, log)
    const daemon: Daemon = { name, child, pid: child.pid ?? -1, startedAtMs: Date.now(), exited: Promise.resolve({ code: null, signal: null }), exit: null, recent: [] }
    daemon.exited = new Promise((resolve) => child.once('exit', (code, signal) => { daemon.exit = { code, signal }; log.write(`# exit code ${code} signal ${signal}\n`); resolve(daemon.exit) }))
    log.write(`# started pid ${daemon.pid} at ${new Date(daemon.startedAtMs).toISOString()}\n`)
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (raw) => {
        log.write(`${raw}\n`)
        daemon.recent.push(raw)
        if (daemon.recent.length > RECENT_LINES_MAX) daemon.recent.splice(0, daemon.recent.length - RECENT_LINES_MAX)
      })
    }
    this.daemons.set(name, daemon)
    this.history.push(daemon)
    return daemon
  }

  /** After a power cut: the daemon of the host is gone; wait for its exit to be seen. */
  async reap(name: string): Promise<void> {
    const d = this.daemons.get(name)
    if (d !== undefined) await d.exited
  }

  /** Clean stop (SIGTERM, SIGCONT first in case it is paused); SIGKILL after STOP_WAIT_MS. */
  async stop(name: string): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    const d = this.live(name)
    if (d === null) return null
    d.child.kill('SIGCONT')
    d.child.kill('SIGTERM')
    const timer = setTimeout(() => d.child.kill('SIGKILL'), STOP_WAIT_MS)
    const exit = await d.exited
    clearTimeout(timer)
    return exit
  }

  signal(name: string, signal: NodeJS.Signals): boolean {
    const d = this.live(name)
    if (d === null) return false
    return d.child.kill(signal)
  }

  /** The host boots and its daemon starts: a fresh incarnation. */
  async boot(name: string): Promise<Daemon> {
    if (!this.lab.isOn(name)) await this.lab.powerOn(name)
    return this.start(name)
  }

  async killAll(): Promise<void> {
    for (const d of this.daemons.values()) {
      if (d.exit === null) { d.child.kill('SIGCONT'); d.child.kill('SIGKILL') }
      await d.exited
    }
    await Promise.all([...this.logs.values()].map((log) => new Promise<void>((r) => log.end(() => r()))))
    this.logs.clear()
  }

  /** The node's own view (`carbonado status --json`), through its control socket; null if it does not answer. */
  status(name: string): Promise<StatusView | null> {
    return askStatus(join(this.lab.dir, 'run', `${name}.sock`))
  }

  /**
   * Why the cluster is not whole, or null when it is: every host on, every daemon running and
   * a member, and every daemon counting every other one alive (up, or suspect after a late
   * disk write) as the incarnation that one says it is.
   */
  async wholeProblem(): Promise<string | null> {
    const names = this.lab.hostNames
    const views = new Map<string, StatusView>()
    for (const name of names) {
      if (!this.lab.isOn(name)) return `host ${name} is off`
      if (this.live(name) === null) return `node ${name} does not run`
      const view = await this.status(name)
      if (view === null) return `node ${name} does not answer on its control socket`
      const self = view.members.find((m) => m.self)
      if (self?.state !== 'member') return `node ${name} (incarnation ${view.incarnation}) is ${self?.state ?? 'unknown'}, not a member`
      views.set(name, view)
    }
    for (const [observer, view] of views) {
      for (const m of view.members) {
        if (m.self) continue
        const own = views.get(m.name)?.incarnation
        if (!['up', 'suspect'].includes(m.state) || m.incarnation !== own) return `${observer} counts ${m.name} ${m.state} (incarnation ${m.incarnation}), not alive as incarnation ${own}`
      }
    }
    return null
  }

  /** `carbonado ARGS -c FILE --node NAME` from the root namespace (the control socket is a path in the lab dir). */
  async cli(name: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [DIST.cli, ...args, '-c', this.file, '--node', name], { encoding: 'utf8' })
      return { code: 0, stdout, stderr }
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string }
      return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) }
    }
  }

  /** The service: the HTTP server, then the floating address; failback off (placement moves it only when it must). */
  async addService(via: string): Promise<void> {
    const script = await installService(this.lab)
    const resources = [
      `{type: script, name: http, path: ${script}, ${RESOURCE_TIMINGS}}`,
      `{type: ip, name: vip, address: ${FLOATING_ADDRESS}, prefix: ${HOST_PREFIX}, interface: ${HOST_IFACE}, ${RESOURCE_TIMINGS}}`,
    ]
    const added = await this.cli(via, 'service', 'add', SERVICE, '--domain', this.lab.hostNames.join(','), '--failback', 'off', ...resources.flatMap((r) => ['--resource', r]))
    if (added.code !== 0) throw new Error(`service add failed: ${added.stdout}${added.stderr}`)
  }

  get witness(): string { return join(this.lab.dir, 'witness.log') }

  /** The last lines of every node (peer-machine and monitor chatter left out), for a failure report. */
  recentLogs(count = 25): string {
    return this.lab.hostNames.map((name) => {
      const d = this.daemons.get(name)
      const lines = d === undefined ? [] : d.recent.filter((l) => !/"machine":"peer|stays running on|monitor: /.test(l)).slice(-count).map((l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l))
      return `--- ${name}${d === undefined ? ' (never started)' : d.exit === null ? '' : ` (exited: code ${d.exit.code}, signal ${d.exit.signal})`}\n${lines.join('\n')}`
    }).join('\n')
  }
}

async function writeClusterFile(lab: Lab, disk: QuorumDisk, timing: Record<string, number>): Promise<string> {
  const agent = join(lab.dir, 'pdu-agent')
  await writeFile(agent, `#!/bin/sh\n# The lab's fence agent (test/chaos/pdu-agent.ts), run by this Node.\nexec '${process.execPath}' '${DIST.pduAgent}'\n`)
  await chmod(agent, 0o755)
  const socket = join(lab.dir, 'switch.sock')
  const [first] = lab.hostNames
  const lines = ['cluster: chaos', `disk: ${disk.paths.get(first!)}`, 'authKeyFile: authkey', 'journalDir: journal/{node}', 'controlSocket: run/{node}.sock', 'timing:']
  for (const [k, v] of Object.entries(timing)) lines.push(`  ${k}: ${v}`)
  lines.push('nodes:')
  for (const [i, host] of lab.net.hosts.entries()) {
    lines.push(`  - name: ${host.name}`, `    id: ${i + 1}`, `    heartbeat: [${HEARTBEAT_PORTS.map((p) => `"${host.address}:${p}"`).join(', ')}]`)
    lines.push(`    disk: ${disk.paths.get(host.name)}`)
    lines.push(`    fence: [{ method: agent, name: pdu, agent: ${agent}, params: { socket: ${socket} }, timeoutMs: 10000 }]`)
  }
  const file = join(lab.dir, 'cluster.yaml')
  await writeFile(file, `${lines.join('\n')}\n`)
  const key = runCli(['key', 'generate', join(lab.dir, 'authkey')])
  if (key.code !== 0) throw new Error(`carbonado key generate failed: ${key.stderr}`)
  return file
}

async function installService(lab: Lab): Promise<string> {
  const text = await readFile(join(ROOT, 'test/chaos/fixtures/http-service.sh'), 'utf8')
  const path = join(lab.dir, 'http-service.sh')
  const values: Record<string, string> = { LAB_DIR: lab.dir, NODE_BIN: process.execPath, SERVER_JS: DIST.server, HTTP_PORT: String(HTTP_PORT) }
  const filled = text.replace(/@([A-Z_]+)@/g, (whole, name: string) => values[name] ?? whole)
  const left = /@[A-Z_]+@/.exec(filled)
  if (left !== null) throw new Error(`http-service.sh: no value for ${left[0]}`)
  await writeFile(path, filled)
  await chmod(path, 0o755)
  return path
}

/** Polls `check` every 50 ms until it is true; false after `timeoutMs` or when the lab closes. */
export async function until(lab: Lab, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (await check()) return true
    if (Date.now() > deadline || lab.cleanup.closing) return false
    await sleep(50)
  }
}
