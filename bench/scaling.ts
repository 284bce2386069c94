/**
 * Scaling: how failover time and the daemons' cost change with the node count, 100 services.
 * For each size N, N real `carbonado node run` processes on loopback share a file-backed
 * quorum disk at the given timings (shipped defaults unless told otherwise). The disk has the
 * shipped geometry (4096-byte blocks, 16 node slots, 16 configuration blocks) except room for
 * 100 services: `disk init` offers no flag for that (its default is 64), so the bench lays the
 * disk out through the same code (src/disk/disk-init.ts) with maxServices 100.
 *
 * Once every node sees every other up, one `config restore` writes 100 services (one version,
 * as an administrator restoring a backup would), each with one cheap LSB script resource at
 * the resource defaults: start creates a state file for the service and node and appends
 * "<service> <node> start <ns since the epoch>" to a log as its last act, stop removes the
 * file and appends "... stop <ns>", status tests the file. There is no service process. From
 * the log the bench also checks the safety rule: a service "runs" on a node from its start to
 * its stop there (a daemon that exited without stopping it leaves it running; the SIGKILLed
 * machine's run ends at the kill), and two nodes' runs of one service must never overlap. Service i prefers node i mod N; the rest of
 * its domain is the other nodes rotated by i div N, so a dead node's services spread over the
 * survivors instead of all landing on one.
 *
 * Once the 100 services run (plus three disk cycles), the bench measures each daemon's CPU
 * (its own, and its agents' as waited-for children) and RSS over a window and the whole
 * machine's busy CPU, and counts, from the cluster formed on, "suspect", "dead" and self-fence
 * decisions (a healthy cluster takes none), daemons that exited, and service machines entering
 * `acquiring` (100 when each service is placed once). A cluster in which a node self-fenced or
 * exited, or whose services did not all start, is reported as not steady and no failover is
 * measured in it. Otherwise, at a random phase of the disk cycle, the bench SIGKILLs node b: a
 * sample is the time from the kill to the start script of one of b's services completing on
 * a survivor (the script's own timestamp); the last sample is when b's last service is back.
 */
import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { TestCluster, runCli, type LogLine } from '../test/helpers/cluster.js'
import { DEFAULT_TIMING, type Timing } from '../src/config/timing.js'
import { initDisk } from '../src/disk/disk-init.js'
import { DEFAULT_GEOMETRY } from '../src/disk/layout.js'
import { distribution, type Distribution } from './detection.js'
import { cpuSeconds, machineCpu, rssMiB } from './proc-stats.js'
import { cleanupOnInterrupt } from './interrupt.js'

export const SCALING_SERVICES = 100
const NAMES = 'abcdefghijklmnop'.split('')
const VICTIM = 'b'
const POLL_MS = 100

export interface ScalingOptions {
  /** Steady window over which CPU is measured. */
  windowS: number
  /** Longest wait for the cluster to form and for the services to start, each. */
  setupWithinMs: number
  /** Longest wait, from the kill, for every service of the victim to start elsewhere. */
  failoverWithinMs: number
}

export interface ScalingResult {
  nodes: number
  timing: Timing
  /** From the first node process started to every node seeing every other "up". */
  formedMs: number
  /** From `config restore` returning to the first start of the last service to start; null if some never started. */
  placedMs: number | null
  /** Services on their preferred node before the kill, and how many the victim ran. */
  onPreferred: number
  victimServices: number
  /** Per daemon over the steady window: own CPU, its agents' CPU (% of one core), RSS (MiB). */
  cpuPercent: { mean: number; max: number }
  agentCpuPercent: { mean: number; max: number }
  rssMiB: { mean: number; max: number }
  /** Busy share of all the machine's cores over the window (every process, not only daemons). */
  machineBusyPercent: number
  /** This bench process's own CPU over the window (% of one core): it reads every daemon's log. */
  benchCpuPercent: number
  /** From the cluster formed (everyone up) to the kill: decisions a healthy cluster should never take. */
  steadySuspect: number
  steadyDead: number
  steadySelfFences: number
  /** Node processes that exited (the in-process watchdog) before the kill. */
  exits: number
  /** Service machines entering `acquiring`, all nodes, formed to kill: 100 if every service is placed once. */
  acquireAttempts: number
  /** Why no failover was measured (the cluster never got steady), or null. */
  unsteady: string | null
  /** Kill to each survivor's "dead" decision about the victim. */
  detection: Distribution | null
  /** Kill to each of the victim's services started on a survivor; moved may be short of victimServices. */
  moved: number
  failover: Distribution | null
  /** Survivors that started at least one of the victim's services. */
  takers: number
  /** Services that ran on two nodes at one moment, over the whole run (the safety rule: 0). */
  twoOwners: number
}

/** The service: a state file per service and node; start records its completion. */
const SCRIPT = `#!/bin/sh
# Scaling bench service: no process, a state file per service and node; starts and stops logged.
dir="BENCH_DIR"
state="$dir/state/\${CARBONADO_SERVICE:?}@\${CARBONADO_NODE:?}"
case "$1" in
  start) : > "$state"; echo "$CARBONADO_SERVICE $CARBONADO_NODE start $(date +%s%N)" >> "$dir/runs.log"; exit 0 ;;
  stop) if [ -f "$state" ]; then rm -f "$state"; echo "$CARBONADO_SERVICE $CARBONADO_NODE stop $(date +%s%N)" >> "$dir/runs.log"; fi; exit 0 ;;
  status) if [ -f "$state" ]; then exit 0; fi; exit 3 ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
`

interface Start { service: string; node: string; atMs: number }
interface Event extends Start { what: 'start' | 'stop' }

function events(c: TestCluster): Event[] {
  const file = join(c.dir, 'runs.log')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    const m = /^(\S+) (\S+) (start|stop) (\d+)$/.exec(line.trim())
    return m === null ? [] : [{ service: m[1]!, node: m[2]!, what: m[3] as 'start' | 'stop', atMs: Number(BigInt(m[4]!) / 1000n) / 1000 }]
  })
}

const starts = (c: TestCluster): Start[] => events(c).filter((e) => e.what === 'start')

/**
 * Services that ran on two nodes at one moment: a run lasts from a start to the same node's next
 * stop, or is still going; the victim's runs end at its kill (a dead machine runs nothing).
 */
function twoOwners(c: TestCluster, killedAtMs: number | null): number {
  const runs = new Map<string, { node: string; from: number; to: number }[]>()
  const open = new Map<string, { node: string; from: number; to: number }>()
  for (const e of [...events(c)].sort((x, y) => x.atMs - y.atMs)) {
    const key = `${e.service}@${e.node}`
    if (e.what === 'start' && !open.has(key)) {
      const run = { node: e.node, from: e.atMs, to: Number.POSITIVE_INFINITY }
      open.set(key, run)
      runs.set(e.service, [...(runs.get(e.service) ?? []), run])
    } else if (e.what === 'stop') {
      const run = open.get(key)
      if (run !== undefined) { run.to = e.atMs; open.delete(key) }
    }
  }
  let services = 0
  for (const list of runs.values()) {
    const ends = list.map((r) => ({ ...r, to: r.node === VICTIM && killedAtMs !== null ? Math.min(r.to, killedAtMs) : r.to }))
    if (ends.some((a, i) => ends.some((b, j) => j > i && a.node !== b.node && a.from < b.to && b.from < a.to))) services++
  }
  return services
}

/** The node that last started each service. */
function owners(c: TestCluster): Map<string, string> {
  const owner = new Map<string, string>()
  for (const s of starts(c)) owner.set(s.service, s.node)
  return owner
}

const serviceName = (i: number): string => `s${String(i).padStart(3, '0')}`

/** Service i prefers node i mod N; the others follow, rotated by i div N. */
export function domainOf(i: number, names: readonly string[]): string[] {
  const preferred = names[i % names.length]!
  const others = names.filter((n) => n !== preferred)
  const shift = others.length === 0 ? 0 : Math.floor(i / names.length) % others.length
  return [preferred, ...others.slice(shift), ...others.slice(0, shift)]
}

/** Polls `check` until it holds (true) or `timeoutMs` passed (false). */
async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
  return true
}

const isPeer = (l: LogLine, to: string): boolean => typeof l.machine === 'string' && l.machine.startsWith('peer:') && l.to === to
const isOut = (l: LogLine): boolean => typeof l.machine === 'string' && l.machine.startsWith('local#') && l.to === 'out'

/** Each node's latest decision about each peer, read incrementally from the log lines. */
class PeerViews {
  private readonly seen = new Map<string, number>()
  private readonly latest = new Map<string, string>()
  constructor(private readonly c: TestCluster) {}

  everyoneUp(): boolean {
    for (const o of this.c.names) {
      const lines = this.c.node(o).lines
      for (let i = this.seen.get(o) ?? 0; i < lines.length; i++) {
        const l = lines[i]!
        if (typeof l.machine === 'string' && l.machine.startsWith('peer:')) this.latest.set(`${o}>${l.machine.slice(5).split('#')[0]}`, String(l.to))
      }
      this.seen.set(o, lines.length)
    }
    return this.c.names.every((o) => this.c.names.every((p) => p === o || this.latest.get(`${o}>${p}`) === 'up'))
  }
}

const exited = (c: TestCluster): string[] => c.names.filter((n) => { const p = c.node(n).child; return p.exitCode !== null || p.signalCode !== null })

const round1 = (x: number): number => Math.round(x * 10) / 10
const meanMax = (xs: number[]): { mean: number; max: number } => (xs.length === 0 ? { mean: Number.NaN, max: Number.NaN } : { mean: round1(xs.reduce((a, b) => a + b, 0) / xs.length), max: round1(Math.max(...xs)) })

async function prepare(c: TestCluster): Promise<string> {
  await initDisk(join(c.dir, 'quorum.disk'), { clusterName: 'test', force: true, geometry: { ...DEFAULT_GEOMETRY, maxServices: SCALING_SERVICES } })
  await mkdir(join(c.dir, 'state'))
  const script = join(c.dir, 'bench-service.sh')
  await writeFile(script, SCRIPT.replace('BENCH_DIR', c.dir))
  await chmod(script, 0o755)
  const services = Array.from({ length: SCALING_SERVICES }, (_, i) => ({ name: serviceName(i), index: i, domain: domainOf(i, c.names), resources: [{ type: 'script', name: 'app', path: script }] }))
  const file = join(c.dir, 'services.yaml')
  await writeFile(file, stringify({ v: 1, version: 0, services }))
  return file
}

/** CPU and RSS of every daemon still running over `windowS`, and the machine's busy share. */
async function steadyCost(c: TestCluster, windowS: number): Promise<Pick<ScalingResult, 'cpuPercent' | 'agentCpuPercent' | 'rssMiB' | 'machineBusyPercent' | 'benchCpuPercent'>> {
  const pids = c.names.flatMap((n) => { const pid = c.nodePid(n); return pid === null ? [] : [pid] })
  const read = (pid: number): { own: number; children: number } | null => { try { return cpuSeconds(pid) } catch { return null } }
  const before = pids.map(read)
  const machineBefore = machineCpu()
  const benchBefore = process.cpuUsage()
  await new Promise((r) => setTimeout(r, windowS * 1000))
  const bench = process.cpuUsage(benchBefore)
  const after = pids.map(read)
  const machineAfter = machineCpu()
  const alive = pids.flatMap((pid, i) => (before[i] && after[i] ? [{ pid, before: before[i]!, after: after[i]! }] : []))
  const rss = alive.flatMap(({ pid }) => { try { return [rssMiB(pid)] } catch { return [] } })
  return {
    cpuPercent: meanMax(alive.map((a) => ((a.after.own - a.before.own) / windowS) * 100)),
    agentCpuPercent: meanMax(alive.map((a) => ((a.after.children - a.before.children) / windowS) * 100)),
    rssMiB: meanMax(rss),
    machineBusyPercent: round1(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100),
    benchCpuPercent: round1((bench.user + bench.system) / (windowS * 1e4)),
  }
}

type FailoverPart = Pick<ScalingResult, 'victimServices' | 'detection' | 'moved' | 'failover' | 'takers'> & { killedAtMs: number | null }

async function failover(c: TestCluster, timing: Timing, withinMs: number): Promise<FailoverPart> {
  const mine = [...owners(c)].filter(([, node]) => node === VICTIM).map(([service]) => service)
  await new Promise((r) => setTimeout(r, Math.random() * timing.diskIntervalMs))
  const survivors = c.names.filter((n) => n !== VICTIM)
  const marks = survivors.map((n) => c.node(n).lines.length)
  const killedAt = Date.now()
  c.node(VICTIM).child.kill('SIGKILL')
  const movedTo = (): Start[] => {
    const all = starts(c)
    return mine.flatMap((service) => {
      const hit = all.find((s) => s.service === service && s.node !== VICTIM && s.atMs >= killedAt)
      return hit === undefined ? [] : [hit]
    })
  }
  await until(() => movedTo().length === mine.length, withinMs)
  const moved = movedTo()
  const deadAt = survivors.flatMap((n, i) => {
    const line = c.node(n).lines.slice(marks[i]).find((l) => typeof l.machine === 'string' && l.machine.startsWith(`peer:${VICTIM}#`) && l.to === 'dead')
    return line === undefined ? [] : [Date.parse(line.time) - killedAt]
  })
  return {
    victimServices: mine.length, moved: moved.length,
    detection: deadAt.length === 0 ? null : distribution(deadAt),
    failover: moved.length === 0 ? null : distribution(moved.map((s) => Math.round(s.atMs - killedAt))),
    takers: new Set(moved.map((s) => s.node)).size, killedAtMs: killedAt,
  }
}

/** Decisions since the cluster formed that a steady cluster never takes, and the acquisitions. */
function steadyCounts(c: TestCluster, formed: Map<string, number>): Pick<ScalingResult, 'steadySuspect' | 'steadyDead' | 'steadySelfFences' | 'acquireAttempts'> {
  const lines = c.names.flatMap((name) => c.node(name).lines.slice(formed.get(name)))
  const entering = (to: string) => (l: LogLine): boolean => typeof l.machine === 'string' && l.machine.startsWith('service:') && l.to === to && l.from !== to
  return {
    steadySuspect: lines.filter((l) => isPeer(l, 'suspect')).length, steadyDead: lines.filter((l) => isPeer(l, 'dead')).length,
    steadySelfFences: lines.filter(isOut).length, acquireAttempts: lines.filter(entering('acquiring')).length,
  }
}

/** Cluster creation attempts: TestCluster picks each port free at that moment, and 32 picks may repeat one. */
const CREATE_ATTEMPTS = 3

/**
 * TestCluster.create, again when two nodes drew the same port. A create that fails leaves its
 * directory behind (it has not returned the cluster yet); the error's cluster-file path names it.
 */
async function createCluster(names: string[], timing: Timing): Promise<TestCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestCluster.create(names, { timing: { ...timing } })
    } catch (error) {
      const dir = /(\S*\/carbonado-test-[^/\s]+)\/cluster\.yaml/.exec(String(error))?.[1]
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
      if (attempt >= CREATE_ATTEMPTS || !String(error).includes('is already used by')) throw error
    }
  }
}

async function benchSize(n: number, timing: Timing, options: ScalingOptions): Promise<ScalingResult> {
  const c = await createCluster(NAMES.slice(0, n), timing)
  const withdraw = cleanupOnInterrupt(c)
  try {
    const servicesFile = await prepare(c)
    const began = Date.now()
    c.startAll()
    const views = new PeerViews(c)
    if (!await until(() => views.everyoneUp() || exited(c).length > 0, options.setupWithinMs) || exited(c).length > 0) {
      throw new Error(`scaling bench: ${n} nodes did not all see each other up within ${options.setupWithinMs} ms (exited: ${exited(c).join(', ') || 'none'})`)
    }
    const formedMs = Date.now() - began
    const formed = new Map(c.names.map((name) => [name, c.node(name).lines.length]))
    const restored = runCli(['config', 'restore', servicesFile, '-c', c.file, '--node', 'a'])
    if (restored.code !== 0) throw new Error(`scaling bench: config restore failed: ${restored.stdout}${restored.stderr}`)
    const restoredAt = Date.now()
    await until(() => owners(c).size === SCALING_SERVICES || exited(c).length > 0, options.setupWithinMs)
    await new Promise((r) => setTimeout(r, 3 * timing.diskIntervalMs))
    const cost = await steadyCost(c, options.windowS)
    const owner = owners(c)
    const placed = owner.size === SCALING_SERVICES
    // The moment the last service first started (a service started twice counts its first start).
    const firstStarts = new Map<string, number>()
    for (const s of starts(c)) if (!firstStarts.has(s.service)) firstStarts.set(s.service, s.atMs)
    const placedMs = placed ? Math.round(Math.max(...firstStarts.values()) - restoredAt) : null
    const onPreferred = [...owner].filter(([service, node]) => domainOf(Number(service.slice(1)), c.names)[0] === node).length
    const counts = steadyCounts(c, formed)
    const gone = exited(c)
    const unsteady = gone.length > 0 || counts.steadySelfFences > 0 || !placed
      ? `${counts.steadySelfFences} self-fences, ${gone.length} daemons exited${placed ? '' : `, ${owner.size} of ${SCALING_SERVICES} services ever started`}`
      : null
    const none: FailoverPart = { victimServices: [...owner.values()].filter((o) => o === VICTIM).length, detection: null, moved: 0, failover: null, takers: 0, killedAtMs: null }
    const { killedAtMs, ...moved } = unsteady === null ? await failover(c, timing, options.failoverWithinMs) : none
    return { nodes: n, timing, formedMs, placedMs, onPreferred, ...cost, ...counts, exits: gone.length, unsteady, ...moved, twoOwners: twoOwners(c, killedAtMs) }
  } finally {
    for (const p of c.nodes.values()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
      await p.exited
    }
    await c.destroy()
    withdraw()
  }
}

export interface ScalingRun { nodes: number; timing: Timing; profile: string }

/**
 * Every timing of the disk multiplied by `factor` (the heartbeat's kept): 1/factor of the lease
 * reads per second, factor times the margins; the relations of src/config/timing.ts still hold.
 * For 16 daemons with 100 services on one small machine, where the shipped defaults do not stay steady.
 */
export function slowDiskTiming(factor: number): Timing {
  const d = DEFAULT_TIMING
  return { ...d, diskIntervalMs: d.diskIntervalMs * factor, selfFenceAfterMs: d.selfFenceAfterMs * factor, selfFenceStopMs: d.selfFenceStopMs * factor, diskDeadAfterMs: d.diskDeadAfterMs * factor }
}

/** The sizes run by `npm run bench`: 2, 4, 8, 16 nodes at the shipped defaults, then 16 with the disk timings x2. */
export function scalingPlan(quick: boolean): { runs: ScalingRun[]; options: ScalingOptions } {
  const shipped = (nodes: number): ScalingRun => ({ nodes, timing: DEFAULT_TIMING, profile: 'shipped defaults' })
  const runs = quick ? [shipped(2), shipped(4)] : [shipped(2), shipped(4), shipped(8), shipped(16), { nodes: 16, timing: slowDiskTiming(2), profile: 'disk timings x2' }]
  return { runs, options: { windowS: quick ? 5 : 15, setupWithinMs: 90_000, failoverWithinMs: 90_000 } }
}

export async function benchScaling(runs: ScalingRun[], options: ScalingOptions, onSize: (r: ScalingResult & { profile: string }) => void = () => {}): Promise<(ScalingResult & { profile: string })[]> {
  const results: (ScalingResult & { profile: string })[] = []
  for (const run of runs) {
    if (run.nodes < 2 || run.nodes > NAMES.length) throw new Error(`scaling bench: ${run.nodes} nodes; 2 to ${NAMES.length}`)
    const r = { ...await benchSize(run.nodes, run.timing, options), profile: run.profile }
    results.push(r)
    onSize(r)
  }
  return results
}

/** One RESULTS.md line for one size. */
export function describeScaling(r: ScalingResult & { profile: string }): string {
  const t = r.timing
  const head = `- scaling, ${r.nodes} nodes, ${SCALING_SERVICES} services, ${r.profile} (diskIntervalMs ${t.diskIntervalMs}, selfFenceAfterMs ${t.selfFenceAfterMs}, diskDeadAfterMs ${t.diskDeadAfterMs}): formed in ${r.formedMs} ms, ${r.placedMs === null ? 'services not all started' : `all started ${r.placedMs} ms after the configuration write`}, ${r.onPreferred} on their preferred node`
  const cost = `per daemon CPU ${r.cpuPercent.mean} % of one core (max ${r.cpuPercent.max}), its agents ${r.agentCpuPercent.mean} %, RSS ${r.rssMiB.mean} MiB (max ${r.rssMiB.max}); machine ${r.machineBusyPercent} % busy (this bench ${r.benchCpuPercent} % of one core)`
  const health = `from formed to kill: ${r.steadySuspect} "suspect" and ${r.steadyDead} "dead" decisions, ${r.steadySelfFences} self-fences, ${r.exits} daemons exited, ${r.acquireAttempts} lease acquisitions attempted; services that ran on two nodes at once: ${r.twoOwners}`
  if (r.unsteady !== null) return `${head}; NOT STEADY (${r.unsteady}), no failover measured; ${cost}; ${health}`
  const f = r.failover
  const moved = f === null ? 'none of its services started elsewhere' : `${r.moved} of them back on ${r.takers} survivor${r.takers === 1 ? '' : 's'}, kill to start p50 ${f.p50Ms} ms, p90 ${f.p90Ms} ms, last ${f.maxMs} ms (ratio p50/diskDeadAfterMs ${(f.p50Ms / t.diskDeadAfterMs).toFixed(3)})`
  const detection = r.detection === null ? 'no "dead" decision' : `"dead" on the survivors p50 ${r.detection.p50Ms} ms (max ${r.detection.maxMs})`
  return `${head}; SIGKILL of b (${r.victimServices} services): ${detection}, ${moved}; steady ${cost}; ${health}`
}
