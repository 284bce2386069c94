/**
 * False failovers: a node that stalls (a long GC, an event loop stuck in a synchronous call, a
 * VM descheduled) must not lose its services. Three real `carbonado node run` processes on
 * loopback share a file-backed quorum disk at the given timings (shipped defaults unless told
 * otherwise); one service (the witness script of the integration tests, added with the real
 * CLI, failback off, resource defaults) runs on its preferred node. A stall is SIGSTOP of the
 * owner's daemon process for `stallMs`, then SIGCONT: the whole process stops, its disk
 * writes, heartbeats and timers with it, while the service's worker (a separate process)
 * keeps running, as it would during a real stall of the daemon.
 *
 * After each stall the bench waits 1.5 disk cycles plus a random part of one (so the next
 * stall falls at a random phase of the disk and heartbeat cycles), then until the cluster is
 * steady again: every peer's last decision about the owner is "up", the owner's local machine
 * is a member and the service runs somewhere. Everything the nodes logged in between counts
 * for that stall: peers' "suspect" and "dead" decisions about the stalled node, the stalled
 * node's decisions about its peers, its self-fences (its local machine going `out`),
 * takeovers (the witness records a start of the service on another node) and the service's
 * stops and restarts on the stalled node (a self-fence stops it; the node's next incarnation
 * may start it again on the "own earlier incarnation" proof before any peer may). The next stall
 * hits whichever node then owns the service. At the end the witness is checked: never two
 * nodes running the service at once.
 */
import { existsSync, readFileSync } from 'node:fs'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TestCluster, packageRoot, runCli, type LogLine } from '../test/helpers/cluster.js'
import { destroyWithWorkers, runsOf, startsOf, workerPid } from '../test/helpers/services.js'
import { overlaps } from '../test/helpers/witness.js'
import { DEFAULT_TIMING, type Timing } from '../src/config/timing.js'
import { cleanupOnInterrupt } from './interrupt.js'

export interface StallPlan { stallMs: number; count: number }

export interface StallSeries {
  stallMs: number
  stalls: number
  /** The stalls as they happened (SIGSTOP to SIGCONT, this process's clock). */
  actualMinMs: number
  actualMaxMs: number
  /** Peers' decisions about the stalled node, and how many stalls caused at least one. */
  suspectDecisions: number
  stallsWithSuspect: number
  /** The longest disk silence a peer's "suspect" decision gave as its reason (0 without one). */
  suspectDiskSilentMaxMs: number
  deadDecisions: number
  stallsWithDead: number
  /** The stalled node's own "suspect"/"dead" decisions about its peers, after it resumed. */
  ownSuspectDecisions: number
  ownDeadDecisions: number
  /** The stalled node's local machine going out (self-fence), and its process exiting. */
  selfFences: number
  exits: number
  /** Starts of the service on a node other than the stalled one; stops and starts on the stalled one. */
  takeovers: number
  ownerStops: number
  ownerRestarts: number
}

export interface FalseFailoverResult { nodes: number; series: StallSeries[]; twoOwners: number; seconds: number }

const NODES = ['a', 'b', 'c'] as const
const UP_WITHIN_MS = 30_000
const STEADY_WITHIN_MS = 60_000
const POLL_MS = 50

/**
 * The integration tests' witness script in the cluster's directory (test/helpers/services.ts
 * installScript reads it beside the TypeScript sources; the bench runs from dist/).
 */
async function installWitness(c: TestCluster): Promise<string> {
  const text = await readFile(join(packageRoot(import.meta.dirname), 'test/integration/fixtures/witness-service.sh'), 'utf8')
  const path = join(c.dir, 'witness-service.sh')
  await writeFile(path, text.replace('WITNESS_DIR', c.dir))
  await chmod(path, 0o755)
  return path
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const about = (peer: string) => (l: LogLine): boolean => typeof l.machine === 'string' && l.machine.startsWith(`peer:${peer}#`)
const isLocal = (l: LogLine): boolean => typeof l.machine === 'string' && l.machine.startsWith('local#')

/** The node whose witness run is open (started, not stopped), or null while none is. */
function owner(c: TestCluster): string | null {
  const open = runsOf(c).filter((r) => !r.stopped)
  return open.length === 0 ? null : open[open.length - 1]!.node
}

function stopsOf(c: TestCluster, node: string): number {
  const file = join(c.dir, 'witness.log')
  if (!existsSync(file)) return 0
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith(`${node} stop `)).length
}

function lastDecision(lines: LogLine[], from: number, match: (l: LogLine) => boolean): LogLine | undefined {
  for (let i = lines.length - 1; i >= from; i--) if (match(lines[i]!)) return lines[i]
  return undefined
}

/** Steady: every peer last decided "up" about `stalled`, its local machine is a member, the service runs. */
function steady(c: TestCluster, stalled: string, marks: Record<string, number>): boolean {
  for (const n of NODES) {
    const p = c.node(n)
    if (p.child.exitCode !== null || p.child.signalCode !== null) return false
    if (n === stalled) {
      const local = lastDecision(p.lines, marks[n]!, isLocal)
      if (local !== undefined && local.to !== 'member') return false
    } else {
      const view = lastDecision(p.lines, marks[n]!, about(stalled))
      if (view !== undefined && view.to !== 'up') return false
    }
  }
  return owner(c) !== null
}

async function waitSteady(c: TestCluster, stalled: string, marks: Record<string, number>): Promise<void> {
  const deadline = Date.now() + STEADY_WITHIN_MS
  while (!steady(c, stalled, marks)) {
    if (Date.now() > deadline) {
      const logs = [...c.nodes.values()].map((p) => `--- ${p.name}\n${p.raw.slice(-20).join('\n')}`).join('\n')
      throw new Error(`false-failovers bench: the cluster was not steady ${STEADY_WITHIN_MS} ms after a stall of ${stalled}\n${logs}`)
    }
    // A node that exited (the in-process watchdog) comes back as a fresh process, as systemd would restart it.
    for (const n of NODES) {
      const p = c.node(n)
      if (p.child.exitCode !== null || p.child.signalCode !== null) { marks[n] = 0; c.start(n) }
    }
    await sleep(POLL_MS)
  }
}

interface StallCount {
  actualMs: number; suspect: number; suspectDiskSilentMs: number; dead: number; ownSuspect: number; ownDead: number
  selfFences: number; exits: number; takeovers: number; ownerStops: number; ownerRestarts: number
}

/** One stall of `stalled`'s daemon; counts what every node logged until the cluster is steady again. */
async function stallOnce(c: TestCluster, stalled: string, stallMs: number, timing: Timing): Promise<StallCount> {
  const marks: Record<string, number> = Object.fromEntries(NODES.map((n) => [n, c.node(n).lines.length]))
  const start = Object.fromEntries(NODES.map((n) => [n, c.node(n).lines.length]))
  const procs = Object.fromEntries(NODES.map((n) => [n, c.node(n)]))
  const startsBefore = Object.fromEntries(NODES.map((n) => [n, startsOf(c, n)]))
  const stopsBefore = stopsOf(c, stalled)
  const pid = c.nodePid(stalled)
  if (pid === null) throw new Error(`false-failovers bench: ${stalled} is not running`)
  const from = process.hrtime.bigint()
  process.kill(pid, 'SIGSTOP')
  await sleep(stallMs)
  process.kill(pid, 'SIGCONT')
  const actualMs = Number(process.hrtime.bigint() - from) / 1e6
  await sleep(1.5 * timing.diskIntervalMs + Math.random() * timing.diskIntervalMs)
  await waitSteady(c, stalled, marks)
  const count: StallCount = { actualMs, suspect: 0, suspectDiskSilentMs: 0, dead: 0, ownSuspect: 0, ownDead: 0, selfFences: 0, exits: 0, takeovers: 0, ownerStops: stopsOf(c, stalled) - stopsBefore, ownerRestarts: startsOf(c, stalled) - startsBefore[stalled]! }
  for (const n of NODES) {
    // A node restarted meanwhile has a new process; its earlier one's lines count too.
    const seen = [procs[n]!.lines.slice(start[n]!), ...(c.node(n) === procs[n] ? [] : [c.node(n).lines])].flat()
    if (c.node(n) !== procs[n]) count.exits++
    if (n === stalled) {
      count.selfFences += seen.filter((l) => isLocal(l) && l.to === 'out').length
      count.ownSuspect += seen.filter((l) => typeof l.machine === 'string' && l.machine.startsWith('peer:') && l.to === 'suspect').length
      count.ownDead += seen.filter((l) => typeof l.machine === 'string' && l.machine.startsWith('peer:') && l.to === 'dead').length
    } else {
      const suspects = seen.filter((l) => about(stalled)(l) && l.to === 'suspect')
      count.suspect += suspects.length
      for (const l of suspects) count.suspectDiskSilentMs = Math.max(count.suspectDiskSilentMs, Number(/disk silent (\d+) ms/.exec(l.message)?.[1] ?? 0))
      count.dead += seen.filter((l) => about(stalled)(l) && l.to === 'dead').length
      count.takeovers += startsOf(c, n) - startsBefore[n]!
    }
  }
  return count
}

function summarize(stallMs: number, counts: StallCount[]): StallSeries {
  const sum = (f: (s: StallCount) => number): number => counts.reduce((a, s) => a + f(s), 0)
  const actual = counts.map((s) => s.actualMs)
  return {
    stallMs, stalls: counts.length,
    actualMinMs: Math.round(Math.min(...actual)), actualMaxMs: Math.round(Math.max(...actual)),
    suspectDecisions: sum((s) => s.suspect), stallsWithSuspect: sum((s) => (s.suspect > 0 ? 1 : 0)),
    suspectDiskSilentMaxMs: Math.max(0, ...counts.map((s) => s.suspectDiskSilentMs)),
    deadDecisions: sum((s) => s.dead), stallsWithDead: sum((s) => (s.dead > 0 ? 1 : 0)),
    ownSuspectDecisions: sum((s) => s.ownSuspect), ownDeadDecisions: sum((s) => s.ownDead),
    selfFences: sum((s) => s.selfFences), exits: sum((s) => s.exits),
    takeovers: sum((s) => s.takeovers), ownerStops: sum((s) => s.ownerStops), ownerRestarts: sum((s) => s.ownerRestarts),
  }
}

export async function benchFalseFailovers(plans: StallPlan[], timing: Timing = DEFAULT_TIMING, onSeries: (s: StallSeries) => void = () => {}): Promise<FalseFailoverResult> {
  const began = Date.now()
  const c = await TestCluster.create([...NODES], { timing: { ...timing } })
  const series: StallSeries[] = []
  let twoOwners = 0
  const withdraw = cleanupOnInterrupt(c, () => {
    for (const n of NODES) { const pid = workerPid(c, n); if (pid !== null) try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ } }
  })
  try {
    const script = await installWitness(c)
    c.startAll()
    for (const o of NODES) for (const p of NODES) if (o !== p) await c.waitPeer(o, p, 'up', UP_WITHIN_MS)
    const added = runCli(['service', 'add', 'web', '--domain', NODES.join(','), '--failback', 'off', '--resource', `{type: script, name: app, path: ${script}}`, '-c', c.file, '--node', 'a'])
    if (added.code !== 0) throw new Error(`false-failovers bench: service add failed: ${added.stdout}${added.stderr}`)
    const deadline = Date.now() + UP_WITHIN_MS
    while (owner(c) === null) {
      if (Date.now() > deadline) throw new Error('false-failovers bench: the service did not start')
      await sleep(POLL_MS)
    }
    // Settle past the start: the owner's first monitors, every node's view of the new lease.
    await sleep(3 * timing.diskIntervalMs)
    for (const plan of plans) {
      const counts: StallCount[] = []
      for (let i = 0; i < plan.count; i++) counts.push(await stallOnce(c, owner(c)!, plan.stallMs, timing))
      const s = summarize(plan.stallMs, counts)
      series.push(s)
      onSeries(s)
    }
    twoOwners = overlaps(runsOf(c)).length
  } finally {
    await destroyWithWorkers(c)()
    withdraw()
  }
  return { nodes: NODES.length, series, twoOwners, seconds: Math.round((Date.now() - began) / 1000) }
}

/**
 * The stalls run by `npm run bench`: 100 of 700 ms (a long GC pause), then fewer, longer ones to
 * show the margin: 3000 ms, the longest stall that cannot make the node fence itself at any
 * phase of its disk cycle (it goes out selfFenceAfterMs - selfFenceStopMs after the start of its
 * last good cycle, which may have begun a disk interval before the stall; 200 ms kept for the
 * cycle's own duration), and one past the margin, where every stall must end in a self-fence.
 */
export function stallPlan(quick: boolean, timing: Timing = DEFAULT_TIMING): StallPlan[] {
  const longestSafeMs = timing.selfFenceAfterMs - timing.selfFenceStopMs - timing.diskIntervalMs - 200
  const pastMs = timing.selfFenceAfterMs - timing.selfFenceStopMs + timing.diskIntervalMs
  return quick
    ? [{ stallMs: 700, count: 10 }, { stallMs: 3000, count: 2 }, { stallMs: longestSafeMs, count: 2 }, { stallMs: pastMs, count: 1 }]
    : [{ stallMs: 700, count: 100 }, { stallMs: 3000, count: 10 }, { stallMs: longestSafeMs, count: 10 }, { stallMs: pastMs, count: 3 }]
}

/** RESULTS.md lines: one per stall length, then the run's total and the witness's verdict. */
export function describeFalseFailovers(r: FalseFailoverResult, timing: Timing = DEFAULT_TIMING): string[] {
  const lines = r.series.map((s) => {
    const ratio = (x: number): string => `${x}/${s.stalls} = ${(x / s.stalls).toFixed(2)}`
    return `- false failovers, SIGSTOP of the service owner's daemon for ${s.stallMs} ms then SIGCONT (measured ${s.actualMinMs}..${s.actualMaxMs} ms), ${r.nodes} nodes, shipped defaults (selfFenceAfterMs ${timing.selfFenceAfterMs}, selfFenceStopMs ${timing.selfFenceStopMs}, diskIntervalMs ${timing.diskIntervalMs}, diskDeadAfterMs ${timing.diskDeadAfterMs}), ${s.stalls} stalls: takeovers ${ratio(s.takeovers)}, self-fences ${ratio(s.selfFences)}, daemon exits ${s.exits}, service stopped on the stalled node ${s.ownerStops} and restarted there ${s.ownerRestarts}; peers' "suspect" decisions ${s.suspectDecisions} (stalls with one: ${ratio(s.stallsWithSuspect)}${s.suspectDecisions > 0 ? `, longest disk silence given ${s.suspectDiskSilentMaxMs} ms` : ''}), "dead" ${s.deadDecisions} (stalls with one: ${ratio(s.stallsWithDead)}); the stalled node's own "suspect" about its peers ${s.ownSuspectDecisions}, "dead" ${s.ownDeadDecisions}`
  })
  const stalls = r.series.reduce((a, s) => a + s.stalls, 0)
  lines.push(`- false failovers, whole run: ${stalls} stalls in ${r.seconds} s; the witness saw two nodes run the service at once ${r.twoOwners} times`)
  return lines
}
