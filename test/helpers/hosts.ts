/**
 * Two simulated hosts for integration tests, each a network namespace the test creates,
 * joined by a veth pair whose two ends have the same name in both (a service definition is
 * cluster-wide, so its interface name must be valid on every host). A node process runs
 * inside its host through `ip netns exec`, which also gives it a private mount namespace:
 * what the node mounts is seen by that host alone, as on two real machines sharing a SAN.
 *
 * What a host "is" here: its namespace holds the kernel state (interfaces, addresses), its
 * processes hold the mounts (their mount namespace dies with the last of them). A power cut
 * loses both, so `powerOff` kills every process of the namespace and takes its interface
 * down with its addresses; `powerOn` brings back only the boot-time configuration.
 *
 * Every step registers its undo in a teardown that never throws (tap drops the remaining
 * teardowns after one that throws), so a failed test leaves no process, namespace, loop
 * device, mount or temp dir behind.
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs'
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { majorMinorOf, parseMountinfo } from '../../src/agents/mountinfo.js'
import { CLI, TEST_TIMING, runCli, type LogLine, type NodeProc } from './cluster.js'

const execFileAsync = promisify(execFile)

export interface Teardown { teardown(fn: () => unknown): void }

/** The interface every host has toward the others: the same name on each host. */
export const HOST_IFACE = 'carb0'
/** Private addresses that exist only inside the test's namespaces; nothing is routed elsewhere. */
export const HOST_SUBNET = '10.213.0'
export const HOST_PREFIX = 24
/** Two heartbeat channels per node: two ports on its one address (the namespaces are private, so fixed ports cannot collide). */
export const HEARTBEAT_PORTS = [5405, 5406] as const
/** Killed processes leave the namespace within this, or the power cut failed. */
const PROCESS_EXIT_WAIT_MS = 5000
const LOOP_FS_BYTES = 16 << 20
const TOOLS = ['ip', 'losetup', 'mkfs.ext4', 'mount', 'umount', 'mountpoint', 'unshare', 'fuser']

export interface SimHost {
  name: string
  netns: string
  /** The host's own address on HOST_IFACE (no prefix). */
  address: string
}

/** Registers `fn` as a teardown that reports its failure instead of throwing. */
export function guardedTeardown(t: Teardown, what: string, fn: () => unknown): void {
  t.teardown(async () => {
    try { await fn() } catch (error) { console.error(`# teardown: ${what} failed: ${(error as Error).message}`) }
  })
}

/** Why these tests cannot run here (a skip reason), or null. */
export function hostsProblem(): string | null {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'simulated hosts need root (network namespaces, loop devices, mounts)'
  for (const tool of TOOLS) {
    if (!['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((dir) => existsSync(join(dir, tool)))) return `${tool} is not installed`
  }
  const probe = `carb-probe-${process.pid}`
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' })
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' })
  } catch (error) {
    return `cannot create a network namespace: ${(error as Error).message.split('\n')[0]}`
  }
  return null
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

export async function tempDir(t: Teardown, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  guardedTeardown(t, `removing ${dir}`, () => rm(dir, { recursive: true, force: true }))
  return dir
}

/** Pids whose network namespace is `netns` (zombies hold no namespace and are not listed). */
export function pidsIn(netns: string): number[] {
  try {
    return ip(['netns', 'pids', netns]).split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number)
  } catch {
    return []
  }
}

/** SIGKILL to every process of the namespace, again until none is left (one may fork while the others die). */
async function killAllIn(netns: string): Promise<number[]> {
  const killed = new Set<number>()
  for (const until = Date.now() + PROCESS_EXIT_WAIT_MS; ;) {
    const left = pidsIn(netns)
    if (left.length === 0) return [...killed]
    if (Date.now() > until) throw new Error(`processes still in ${netns} after SIGKILL: ${left.join(', ')}`)
    for (const pid of left) {
      killed.add(pid)
      try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Exactly two hosts, `names[i]` at HOST_SUBNET.(i+1), joined by one veth pair. */
export function createHostPair(t: Teardown, names: readonly [string, string]): [SimHost, SimHost] {
  const hosts = names.map((name, i) => ({ name, netns: `carb-host-${name}-${process.pid}-${Math.floor(Math.random() * 1e6)}`, address: `${HOST_SUBNET}.${i + 1}` })) as [SimHost, SimHost]
  for (const host of hosts) {
    ip(['netns', 'add', host.netns])
    guardedTeardown(t, `removing ${host.netns}`, async () => {
      await killAllIn(host.netns)
      ip(['netns', 'del', host.netns])
    })
    ip(['-n', host.netns, 'link', 'set', 'lo', 'up'])
  }
  // Created directly inside the namespaces: no interface name is ever taken in the root namespace.
  ip(['link', 'add', HOST_IFACE, 'netns', hosts[0].netns, 'type', 'veth', 'peer', 'name', HOST_IFACE, 'netns', hosts[1].netns])
  for (const host of hosts) powerOn(host)
  return hosts
}

/** Boot: the host's interface up with its own address only (a floating address is not boot configuration). */
export function powerOn(host: SimHost): void {
  if (!addressesOn(host).includes(`${host.address}/${HOST_PREFIX}`)) ip(['-n', host.netns, 'addr', 'add', `${host.address}/${HOST_PREFIX}`, 'dev', HOST_IFACE])
  ip(['-n', host.netns, 'link', 'set', HOST_IFACE, 'up'])
}

/**
 * The power cut: every process of the host dies at once (their mount namespaces, and the
 * mounts in them, go with the last of them), then the host's interface goes down and loses
 * its addresses, as RAM does. Returns the pids killed.
 */
export async function powerOff(host: SimHost): Promise<number[]> {
  const killed = await killAllIn(host.netns)
  ip(['-n', host.netns, 'link', 'set', HOST_IFACE, 'down'])
  ip(['-n', host.netns, 'addr', 'flush', 'dev', HOST_IFACE])
  return killed
}

/** `address/prefix` IPv4 entries on the host's interface, as iproute2 reports them. */
export function addressesOn(host: SimHost): string[] {
  return parseAddresses(ip(['-n', host.netns, '-j', '-4', 'addr', 'show', 'dev', HOST_IFACE]))
}

export async function addressesOnAsync(host: SimHost): Promise<string[]> {
  const { stdout } = await execFileAsync('ip', ['-n', host.netns, '-j', '-4', 'addr', 'show', 'dev', HOST_IFACE], { encoding: 'utf8' })
  return parseAddresses(stdout)
}

function parseAddresses(text: string): string[] {
  const links = JSON.parse(text) as { addr_info?: { local: string; prefixlen: number }[] }[]
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`))
}

export interface SharedDisk { device: string; majorMinor: string; image: string }

/**
 * A real ext4 file system on a loop device: the shared disk both hosts see. Detached in a
 * teardown; a leftover mount in this (root) mount namespace is unmounted first.
 */
export async function sharedExt4(t: Teardown, dir: string): Promise<SharedDisk> {
  const image = join(dir, 'shared-disk.img')
  await writeFile(image, '')
  await truncate(image, LOOP_FS_BYTES)
  const device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim()
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup printed "${device}", not a loop device`)
  guardedTeardown(t, `detaching ${device}`, () => {
    try {
      const leftover = mountsIn('self', majorMinorOf(statSync(device, { bigint: true }).rdev))
      for (const m of leftover.reverse()) execFileSync('umount', [m], { stdio: 'ignore' })
    } finally {
      execFileSync('losetup', ['-d', device], { stdio: 'pipe' })
    }
  })
  const majorMinor = majorMinorOf(statSync(device, { bigint: true }).rdev)
  execFileSync('mkfs.ext4', ['-q', '-F', device], { stdio: 'ignore' })
  return { device, majorMinor, image }
}

/** Mount points of the device `majorMinor` in the mount namespace of `pid` ('self': the test's own, the root one). Empty if the process is gone. */
export function mountsIn(pid: number | 'self', majorMinor: string): string[] {
  let text: string
  try { text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8') } catch { return [] }
  return parseMountinfo(text).filter((e) => e.majorMinor === majorMinor).map((e) => e.mountPoint)
}

/** A file as the process `pid` sees it: through its root, in its mount namespace. */
export function readAs(pid: number, path: string): string {
  return readFileSync(`/proc/${pid}/root${path}`, 'utf8')
}

/** Reads a file of the (unmounted) file system from a throw-away mount namespace: nothing stays mounted. */
export function readUnmounted(disk: SharedDisk, mountPoint: string, file: string): string {
  const script = 'mount -o ro -t ext4 "$1" "$2" && cat "$2/$3"; status=$?; umount "$2"; exit $status'
  return execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', disk.device, mountPoint, file], { encoding: 'utf8' })
}

const nsInode = (path: string): string => readlinkSync(path)

/** What makes a daemon an honest host: it is the node program itself, in its host's network namespace, with a mount namespace of its own. */
export function describeDaemon(pid: number, host: SimHost): { isNode: boolean; inHostNetns: boolean; ownMountNs: boolean } {
  return {
    isNode: realpathSync(`/proc/${pid}/exe`) === realpathSync(process.execPath),
    inHostNetns: statSync(`/proc/${pid}/ns/net`).ino === statSync(`/run/netns/${host.netns}`).ino,
    ownMountNs: nsInode(`/proc/${pid}/ns/mnt`) !== nsInode('/proc/self/ns/mnt'),
  }
}

export function mountNamespaceOf(pid: number): string {
  return nsInode(`/proc/${pid}/ns/mnt`)
}

/**
 * A cluster of node processes, one per host: a temp dir (the shared storage: cluster file,
 * key, quorum disk file, journals, control sockets), heartbeats on the hosts' addresses.
 */
export class HostCluster {
  readonly nodes = new Map<string, NodeProc>()
  /** Every node process started, restarts included, in start order. */
  readonly processes: NodeProc[] = []
  private constructor(readonly dir: string, readonly file: string, readonly hosts: readonly SimHost[]) {}

  static async create(t: Teardown, dir: string, hosts: readonly SimHost[], timing: Record<string, number> = {}): Promise<HostCluster> {
    const lines = ['cluster: hosts', 'disk: quorum.disk', 'authKeyFile: authkey', 'journalDir: journal/{node}', 'controlSocket: run/{node}.sock', 'timing:']
    for (const [k, v] of Object.entries({ ...TEST_TIMING, ...timing })) lines.push(`  ${k}: ${v}`)
    lines.push('nodes:')
    for (const [i, host] of hosts.entries()) {
      lines.push(`  - name: ${host.name}`, `    id: ${i + 1}`, `    heartbeat: [${HEARTBEAT_PORTS.map((p) => `"${host.address}:${p}"`).join(', ')}]`)
    }
    const file = join(dir, 'cluster.yaml')
    await writeFile(file, `${lines.join('\n')}\n`)
    for (const args of [['key', 'generate', join(dir, 'authkey')], ['disk', 'init', '-c', file, '--block-size', '512']]) {
      const r = runCli(args)
      if (r.code !== 0) throw new Error(`carbonado ${args.join(' ')} failed: ${r.stderr}`)
    }
    const cluster = new HostCluster(dir, file, hosts)
    guardedTeardown(t, 'killing the node processes', () => cluster.killAll())
    return cluster
  }

  host(name: string): SimHost {
    const host = this.hosts.find((h) => h.name === name)
    if (host === undefined) throw new Error(`no host ${name}`)
    return host
  }

  /** `carbonado node run` inside the host's namespace; `ip netns exec` execs it, so the child is the node itself. */
  start(name: string): NodeProc {
    const child = spawn('ip', ['netns', 'exec', this.host(name).netns, process.execPath, CLI, 'node', 'run', '-c', this.file, '--node', name, '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const proc: NodeProc = { name, child, lines: [], raw: [], exited: new Promise((r) => child.once('exit', (code) => r(code))) }
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        proc.raw.push(line)
        try { proc.lines.push(JSON.parse(line) as LogLine) } catch { /* plain stderr line: kept in raw */ }
      })
    }
    this.nodes.set(name, proc)
    this.processes.push(proc)
    return proc
  }

  node(name: string): NodeProc {
    const p = this.nodes.get(name)
    if (p === undefined) throw new Error(`node ${name} not started`)
    return p
  }

  /** The pid of the live node process of `name`, or null. */
  pid(name: string): number | null {
    const p = this.nodes.get(name)
    return p === undefined || p.child.exitCode !== null || p.child.signalCode !== null || p.child.pid === undefined ? null : p.child.pid
  }

  /** `carbonado ARGS -c FILE --node NAME` from the root namespace (the control socket is a path in the shared dir). Asynchronous: the ownership watch keeps sampling meanwhile. */
  async cli(name: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args, '-c', this.file, '--node', name], { encoding: 'utf8' })
      return { code: 0, stdout, stderr }
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string }
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }

  async waitFor(name: string, match: (l: LogLine) => boolean, timeoutMs: number, from = 0): Promise<LogLine> {
    const p = this.node(name)
    for (const deadline = Date.now() + timeoutMs; ;) {
      const hit = p.lines.slice(from).find(match)
      if (hit !== undefined) return hit
      if (Date.now() > deadline) throw new Error(`node ${name}: no matching log line within ${timeoutMs} ms; last lines:\n${p.raw.slice(-15).join('\n')}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  waitPeer(observer: string, peer: string, to: string, timeoutMs: number, from = 0): Promise<LogLine> {
    return this.waitFor(observer, (l) => typeof l.machine === 'string' && l.machine.startsWith(`peer:${peer}#`) && l.to === to, timeoutMs, from)
  }

  /** The last `count` log lines of every node, peer-machine chatter left out: for failure messages. */
  recentLogs(count = 25): string {
    return [...this.nodes.values()].map((p) => `--- ${p.name}\n${p.raw.filter((l) => !l.includes('"machine":"peer')).slice(-count).join('\n')}`).join('\n')
  }

  /** Clean stop (SIGTERM); SIGKILL after 15 s. Resolves with the exit code. */
  async stop(name: string): Promise<number | null> {
    const p = this.node(name)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM')
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000)
    const code = await p.exited
    clearTimeout(timer)
    return code
  }

  /** Every node process, then whatever they started that still runs in the hosts' namespaces. */
  async killAll(): Promise<void> {
    for (const p of this.processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGCONT'); p.child.kill('SIGKILL') }
      await p.exited
    }
    for (const host of this.hosts) await killAllIn(host.netns)
  }

  journal(name: string): string {
    return join(this.dir, 'journal', name)
  }
}

/** Who holds the floating address and who has the shared disk mounted, at one moment. */
export interface OwnershipSample { atMs: number; address: string[]; mounted: string[] }

/** Changes recorded at most: a test runs for a minute, ownership changes a handful of times. */
const WATCH_CHANGES_MAX = 10_000

/**
 * Which hosts hold something, read host by host in order h0..hn-1 and again h0..hn-2. Hosts
 * i < j both hold it at one moment for sure when i held it at its first and at its second
 * read and j at its read in between: a move from i to j between two reads is never taken
 * for an overlap (a short overlap may be missed; the witness log is the exact check).
 */
async function bracketed(names: readonly string[], holds: (i: number) => Promise<boolean>): Promise<{ holders: string[]; double: boolean }> {
  const first: boolean[] = []
  for (let i = 0; i < names.length; i++) first.push(await holds(i))
  const again: boolean[] = []
  for (let i = 0; i < names.length - 1; i++) again.push(await holds(i))
  let double = false
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) if (first[i]! && first[j]! && again[i]!) double = true
  return { holders: names.filter((_, i) => first[i]!), double }
}

/**
 * Samples ownership every `intervalMs` in the background and keeps each change; `doubles`
 * are the samples in which two hosts had the address, or two nodes had the disk mounted.
 */
export class OwnershipWatch {
  readonly changes: OwnershipSample[] = []
  readonly doubles: OwnershipSample[] = []
  readonly errors: string[] = []
  sampled = 0
  private startedAt = 0
  private stoppedAt = 0
  private running = false
  private loop: Promise<void> = Promise.resolve()

  constructor(private readonly cluster: HostCluster, private readonly cidr: string, private readonly disk: SharedDisk) {}

  /** One sample, and whether it proves two holders of the address or of the disk. */
  async sample(): Promise<OwnershipSample & { double: boolean }> {
    const atMs = Date.now()
    const hosts = this.cluster.hosts
    const names = hosts.map((h) => h.name)
    const address = await bracketed(names, async (i) => (await addressesOnAsync(hosts[i]!)).includes(this.cidr))
    const mounted = await bracketed(names, async (i) => {
      const pid = this.cluster.pid(names[i]!)
      return pid !== null && mountsIn(pid, this.disk.majorMinor).length > 0
    })
    return { atMs, address: address.holders, mounted: mounted.holders, double: address.double || mounted.double }
  }

  start(intervalMs: number, t: Teardown): void {
    this.running = true
    this.startedAt = Date.now()
    guardedTeardown(t, 'stopping the ownership watch', () => this.stop())
    this.loop = (async () => {
      while (this.running) {
        try { this.record(await this.sample()) } catch (error) { if (this.errors.length < 100) this.errors.push((error as Error).message) }
        await new Promise((r) => setTimeout(r, intervalMs))
      }
    })()
  }

  private record(s: OwnershipSample & { double: boolean }): void {
    this.sampled += 1
    const { double, ...sample } = s
    if (double && this.doubles.length < WATCH_CHANGES_MAX) this.doubles.push(sample)
    const last = this.changes.at(-1)
    const same = last !== undefined && last.address.join() === s.address.join() && last.mounted.join() === s.mounted.join()
    if (!same && this.changes.length < WATCH_CHANGES_MAX) this.changes.push(sample)
  }

  async stop(): Promise<void> {
    if (this.running) this.stoppedAt = Date.now()
    this.running = false
    await this.loop
  }

  /** Samples per second while it ran. */
  get rate(): number {
    return this.sampled / (Math.max(1, (this.stoppedAt || Date.now()) - this.startedAt) / 1000)
  }

  /** The changes as text: `+0 ms address [a] mounted [a]; +2100 ms ...`. */
  describe(): string {
    const t0 = this.changes[0]?.atMs ?? 0
    return this.changes.map((c) => `+${c.atMs - t0} ms address [${c.address.join(',')}] mounted [${c.mounted.join(',')}]`).join('; ')
  }
}
