/**
 * Real-process cluster for integration tests: a temp dir with a cluster file, key and
 * file-backed quorum disk; each node a `carbonado node run` child (optionally inside a
 * network namespace the test created); JSON log lines collected per node.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { createSocket } from 'node:dgram'

/** The package root, found from here whether this file runs as TypeScript or from dist/. */
export function packageRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir
  throw new Error(`no package.json above ${from}`)
}

export const CLI = join(packageRoot(import.meta.dirname), 'dist/src/cli/main.js')

/** Fast but relation-respecting timings, so a test waits seconds, not tens of seconds. */
export const TEST_TIMING = { heartbeatIntervalMs: 100, peerDeadAfterMs: 1000, diskIntervalMs: 250, selfFenceAfterMs: 1000, diskDeadAfterMs: 1500 }

export interface LogLine { time: string; node: string; level: string; message: string; machine?: string; from?: unknown; to?: unknown; event?: string; effects?: { type: string; [k: string]: unknown }[] }

export interface NodeProc { name: string; child: ChildProcess; lines: LogLine[]; raw: string[]; exited: Promise<number | null> }

/**
 * A loopback address of the cluster's own (127.0.0.0/8 is all on lo). A port found free and
 * closed again can be taken by a parallel test's ephemeral socket before the node binds it
 * (seen as EADDRINUSE on the 2-core CI); on an address no other cluster uses, it cannot.
 */
export function loopbackHost(): string {
  const byte = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1))
  return `127.${byte(16, 250)}.${byte(0, 255)}.${byte(1, 254)}`
}

export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((r) => socket.bind(0, host, r))
  const { port } = socket.address()
  socket.close()
  return port
}

export function runCli(args: string[], opts: { input?: string } = {}): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], input: opts.input ?? '' })
    return { code: 0, stdout, stderr: '' }
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string }
    return { code: e.status, stdout: e.stdout, stderr: e.stderr }
  }
}

export interface ClusterOptions {
  timing?: Record<string, number>
  netns?: string
  /** Extra top-level YAML lines (fencing:, watchdog:, …), given the cluster's directory. */
  topLevel?: (dir: string) => string[]
  /** Extra YAML lines inside a node's entry (fence:, disk:, …), unindented. */
  nodeLines?: (name: string, dir: string) => string[]
  /** Run each node as a "machine" in its own PID namespace, with a plug file for fence_kill. */
  machines?: boolean
}

export class TestCluster {
  readonly nodes = new Map<string, NodeProc>()
  machines = false
  private constructor(readonly dir: string, readonly file: string, readonly names: string[], readonly netns: string | null) {}

  static async create(names: string[], opts: ClusterOptions = {}): Promise<TestCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'carbonado-test-'))
    const timing = { ...TEST_TIMING, ...opts.timing }
    const lines = ['cluster: test', 'disk: quorum.disk', 'authKeyFile: authkey', 'journalDir: journal/{node}', 'controlSocket: run/{node}.sock', 'timing:']
    for (const [k, v] of Object.entries(timing)) lines.push(`  ${k}: ${v}`)
    lines.push(...(opts.topLevel?.(dir) ?? []))
    lines.push('nodes:')
    const host = loopbackHost()
    for (const [i, name] of names.entries()) {
      lines.push(`  - name: ${name}`, `    id: ${i + 1}`, `    heartbeat: ["${host}:${await freeUdpPort(host)}", "${host}:${await freeUdpPort(host)}"]`)
      lines.push(...(opts.nodeLines?.(name, dir) ?? []).map((l) => `    ${l}`))
    }
    const file = join(dir, 'cluster.yaml')
    await writeFile(file, `${lines.join('\n')}\n`)
    for (const args of [['key', 'generate', join(dir, 'authkey')], ['disk', 'init', '-c', file, '--block-size', '512']]) {
      const r = runCli(args)
      if (r.code !== 0) throw new Error(`carbonado ${args.join(' ')} failed: ${r.stderr}`)
    }
    const cluster = new TestCluster(dir, file, names, opts.netns ?? null)
    cluster.machines = opts.machines === true
    return cluster
  }

  /** Where `machines` clusters write each node's "power plug": the host pid that ends its machine. */
  get plugDir(): string { return join(this.dir, 'plugs') }

  /** Starts `name`; `env` adds variables to its environment (NOTIFY_SOCKET, …). */
  start(name: string, env: Record<string, string> = {}): NodeProc {
    const run = [process.execPath, CLI, 'node', 'run', '-c', this.file, '--node', name, '--log-format', 'json']
    // A "machine": the node in a PID namespace of its own. SIGKILL of the unshare process kills
    // the node (--kill-child), and the death of a namespace's first process kills every process
    // in it, service workers included: a power cut (test/fence/fixtures/fence_kill uses it).
    const command = this.machines ? ['unshare', '--pid', '--fork', '--kill-child', ...run] : run
    const options = { stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }
    const child = this.netns === null
      ? spawn(command[0]!, command.slice(1), options)
      : spawn('ip', ['netns', 'exec', this.netns, ...command], options)
    const proc: NodeProc = { name, child, lines: [], raw: [], exited: new Promise((r) => child.once('exit', (code) => r(code))) }
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        proc.raw.push(line)
        try { proc.lines.push(JSON.parse(line) as LogLine) } catch { /* plain stderr line: kept in raw */ }
      })
    }
    if (this.machines && child.pid !== undefined) {
      mkdirSync(this.plugDir, { recursive: true })
      writeFileSync(join(this.plugDir, `${name}.pid`), `${child.pid}\n`)
    }
    this.nodes.set(name, proc)
    return proc
  }

  startAll(): void { for (const n of this.names) this.start(n) }

  node(name: string): NodeProc {
    const p = this.nodes.get(name)
    if (p === undefined) throw new Error(`node ${name} not started`)
    return p
  }

  /** Resolves with the first log line of `name` (at index >= from) matching; rejects after timeoutMs. */
  async waitFor(name: string, match: (l: LogLine) => boolean, timeoutMs: number, from = 0): Promise<LogLine> {
    const p = this.node(name)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = p.lines.slice(from).find(match)
      if (hit !== undefined) return hit
      if (Date.now() > deadline) throw new Error(`node ${name}: no matching log line within ${timeoutMs} ms; last lines:\n${p.raw.slice(-15).join('\n')}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** Wait until `observer` has declared `peer` in state `to` (a decision log line). */
  waitPeer(observer: string, peer: string, to: string, timeoutMs: number, from = 0): Promise<LogLine> {
    return this.waitFor(observer, (l) => typeof l.machine === 'string' && l.machine.startsWith(`peer:${peer}#`) && l.to === to, timeoutMs, from)
  }

  decisions(name: string): LogLine[] {
    return this.node(name).lines.filter((l) => l.machine !== undefined)
  }

  /**
   * The node process itself: the child's pid, or in a machine, the one child of `unshare`
   * (which does not pass signals on). Null once it is gone.
   */
  nodePid(name: string): number | null {
    const p = this.node(name)
    if (p.child.pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return null
    if (!this.machines) return p.child.pid
    try {
      const inner = Number(readFileSync(`/proc/${p.child.pid}/task/${p.child.pid}/children`, 'utf8').trim().split(/\s+/)[0])
      return Number.isInteger(inner) && inner > 0 ? inner : null
    } catch {
      return null
    }
  }

  async stop(name: string): Promise<number | null> {
    const p = this.node(name)
    const pid = this.nodePid(name)
    if (pid !== null) { process.kill(pid, 'SIGCONT'); process.kill(pid, 'SIGTERM') }
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000)
    const code = await p.exited
    clearTimeout(timer)
    return code
  }

  async destroy(): Promise<void> {
    for (const p of this.nodes.values()) {
      if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGCONT'); p.child.kill('SIGKILL') }
      await p.exited
    }
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** A network namespace with loopback up; removed by the returned function. */
export function createNetns(prefix: string): { name: string; remove: () => void; setLoopback: (up: boolean) => void } {
  const name = `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`
  execFileSync('ip', ['netns', 'add', name])
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'])
  return {
    name,
    setLoopback: (up) => execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', up ? 'up' : 'down']),
    remove: () => { try { execFileSync('ip', ['netns', 'del', name]) } catch { /* already gone */ } },
  }
}
