/**
 * The chaos run (issue 5, real processes): a 3-host lab (cluster.ts) with the service `web`
 * and a client polling its floating address; then, `iterations` times: draw a fault from the
 * seed (faults.ts), inject it, undo it, and wait until the cluster is whole and the service
 * answers again (booting hosts the switch cut and restarting daemons that exited, as
 * systemd would), bounded. After every fault the witness is checked (never two owners); at
 * the end every node stops cleanly and every journal must replay.
 *
 * The report says per fault who owned the service before and after and how long the client
 * got no answer; failures are the checks that did not hold, each a line, and the seed.
 */
import { randomInt } from 'node:crypto'
import { DEFAULT_TIMING, defaultSelfFenceStopMs, type Timing } from '../../src/config/timing.js'
import { TEST_TIMING } from '../helpers/cluster.js'
import { seeded } from '../helpers/random.js'
import type { Cleanup } from './cleanup.js'
import { ChaosCluster, until } from './cluster.js'
import { diskFaultMethod } from './disk.js'
import { describeSpread, outageAround, spread, type Outage } from './downtime.js'
import { FAULT_KINDS, describePlan, drawFault, injectFault, targetOf, type FaultKind, type FaultPlan } from './faults.js'
import { DIST, sleep } from './lab.js'
import { describeLoss, probeLoss } from './network.js'
import { replayJournal, type ReplayVerdict } from './replay-check.js'
import { checkWitness, describeOverlap } from './witness-check.js'

export const HOSTS = ['a', 'b', 'c'] as const
export type Profile = 'test' | 'shipped'

export function timingOf(profile: Profile): Timing {
  const base = profile === 'shipped' ? DEFAULT_TIMING : { ...TEST_TIMING, selfFenceStopMs: defaultSelfFenceStopMs(TEST_TIMING.selfFenceAfterMs) }
  return { ...base }
}

export interface ChaosOptions {
  seed: number
  iterations: number
  profile: Profile
  cleanup: Cleanup
  say: (line: string) => void
  keep?: boolean
  /** Only these kinds (default: every kind this lab can inject). */
  kinds?: readonly FaultKind[]
}

export interface IterationResult {
  index: number
  plan: FaultPlan
  target: string
  description: string
  ownerBefore: string
  ownerAfter: string | null
  faultAtMs: number
  recoveredAtMs: number | null
  outage: Outage
  notes: string[]
}

export interface ChaosReport {
  seed: number
  iterations: IterationResult[]
  failures: string[]
  replays: ReplayVerdict[]
  runs: number
  switchCuts: number
  exits: string[]
  durationMs: number
  /** Where the lab was: its namespaces start with `id`, its loop devices are over `image`. */
  lab: { id: string; dir: string; image: string }
}

/** Answers in a row, all from one node and all sent after the fault was undone: the service is back. */
const STEADY_ANSWERS = 5
/** A daemon that exited is started again at most this often (systemd's RestartSec). */
const RESTART_BACKOFF_MS = 1000

export const newSeed = (): number => randomInt(1, 2 ** 31 - 1)

export function reproduceCommand(seed: number, iterations: number, profile: Profile): string {
  return `npm run chaos -- --seed ${seed} --iterations ${iterations}${profile === 'test' ? '' : ` --profile ${profile}`}`
}

/** Time to get back to whole after a fault: fencing retries and a few joins, bounded. */
const recoveryTimeoutMs = (timing: Timing): number => 4 * timing.diskDeadAfterMs + 30_000

/**
 * Boots hosts that are off and restarts daemons that exited, until every node is a member
 * seen alive by all and the service answers steadily; the owner and when, or null.
 */
async function recover(cluster: ChaosCluster, sinceMs: number, timeoutMs: number): Promise<{ owner: string; atMs: number } | null> {
  const lastStart = new Map<string, number>()
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && !cluster.lab.cleanup.closing;) {
    for (const name of cluster.lab.hostNames) {
      if (cluster.live(name) !== null || Date.now() - (lastStart.get(name) ?? 0) < RESTART_BACKOFF_MS) continue
      lastStart.set(name, Date.now())
      try { await cluster.boot(name) } catch { /* cut again by the switch meanwhile: next round */ }
    }
    const owner = cluster.lab.steadyOwner(STEADY_ANSWERS, sinceMs)
    if (owner !== null && (await cluster.wholeProblem()) === null) return { owner, atMs: Date.now() }
    await sleep(100)
  }
  return null
}

function availableKinds(options: ChaosOptions, lossOk: boolean): FaultKind[] {
  const kinds = (options.kinds ?? FAULT_KINDS).filter((k) => k !== 'loss' || lossOk)
  if (kinds.length === 0) throw new Error('no fault kind left to inject')
  return kinds
}

async function setUp(cluster: ChaosCluster, failures: string[]): Promise<string | null> {
  for (const name of cluster.lab.hostNames) cluster.start(name)
  if (!(await until(cluster.lab, async () => (await cluster.wholeProblem()) === null, 30_000))) { failures.push(`set-up: the cluster did not form within 30 s: ${await describeState(cluster)}\n${cluster.recentLogs()}`); return null }
  await cluster.addService(cluster.lab.hostNames[0]!)
  cluster.lab.startClient()
  const started = Date.now()
  if (!(await until(cluster.lab, () => cluster.lab.steadyOwner(STEADY_ANSWERS, started) !== null, 30_000))) { failures.push(`set-up: the service did not answer within 30 s\n${cluster.recentLogs()}`); return null }
  return cluster.lab.steadyOwner(STEADY_ANSWERS, started)
}

async function iterate(cluster: ChaosCluster, options: ChaosOptions, random: () => number, kinds: FaultKind[], timing: Timing, index: number, owner: string): Promise<IterationResult> {
  const plan = drawFault(random, kinds, timing)
  const target = targetOf(plan, owner, cluster.lab.hostNames)
  const description = describePlan(plan, target, owner)
  options.say(`# [${index}/${options.iterations}] ${description}`)
  const notes: string[] = []
  const faultAtMs = Date.now()
  await injectFault({ cluster, timing, note: (line) => notes.push(line) }, plan, target, owner)
  const back = await recover(cluster, Date.now(), recoveryTimeoutMs(timing))
  const untilMs = back?.atMs ?? Date.now()
  return { index, plan, target, description, ownerBefore: owner, ownerAfter: back?.owner ?? null, faultAtMs, recoveredAtMs: back?.atMs ?? null, outage: outageAround(cluster.lab.answers, faultAtMs, untilMs), notes }
}

/** Why the run could not go on: membership, and what the client got last. */
async function describeState(cluster: ChaosCluster): Promise<string> {
  const last = cluster.lab.answers.slice(-5).map((a) => `${a.node ?? a.error}`).join(' ')
  return `${(await cluster.wholeProblem()) ?? 'the cluster is whole'}; the client's last answers: ${last || '(none)'}`
}

function describeIteration(r: IterationResult): string {
  const moved = r.ownerAfter === null ? 'not recovered' : r.ownerAfter === r.ownerBefore ? `owner stays ${r.ownerBefore}` : `owner ${r.ownerBefore} -> ${r.ownerAfter}`
  const back = r.recoveredAtMs === null ? '' : `, whole again after ${r.recoveredAtMs - r.faultAtMs} ms`
  return `#   ${moved}; client: longest time without an answer ${r.outage.downtimeMs} ms, ${r.outage.failures} failed requests${back}${r.notes.length > 0 ? `; ${r.notes.join('; ')}` : ''}`
}

/** Clean stop of every node, the owner last; then every journal replays. */
async function finish(cluster: ChaosCluster, owner: string | null, failures: string[]): Promise<ReplayVerdict[]> {
  const order = [...cluster.lab.hostNames.filter((n) => n !== owner), ...(owner === null ? [] : [owner])]
  for (const name of order) {
    const exit = await cluster.stop(name)
    if (exit !== null && exit.code !== 0) failures.push(`clean stop of ${name} ended with code ${exit.code} signal ${exit.signal} (0 expected)\n${cluster.recentLogs()}`)
  }
  const replays: ReplayVerdict[] = []
  for (const name of cluster.lab.hostNames) {
    const verdict = await replayJournal(DIST.cli, name, cluster.journal(name))
    replays.push(verdict)
    if (verdict.code !== 0) failures.push(`journal of ${name} does not replay (exit ${verdict.code}): ${verdict.output}`)
  }
  return replays
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const startedAt = Date.now()
  const timing = timingOf(options.profile)
  const loss = probeLoss()
  const say = options.say
  say(`# chaos: seed ${options.seed}, ${options.iterations} faults, ${options.profile} timing ${JSON.stringify(timing)}`)
  say(`# reproduce with: ${reproduceCommand(options.seed, options.iterations, options.profile)}`)
  say(`# network: ${describeLoss(loss)}`)
  say(`# disk: ${diskFaultMethod()}`)
  const cluster = await ChaosCluster.create(options.cleanup, { hosts: HOSTS, say, timing: { ...timing }, loss, ...(options.keep === undefined ? {} : { keep: options.keep }) })
  say(`# lab: ${cluster.lab.dir} (logs/, witness.log, journal/), namespaces ${cluster.lab.net.id}-*`)
  const failures: string[] = []
  const iterations: IterationResult[] = []
  const random = seeded(options.seed)
  const kinds = availableKinds(options, loss.kind !== 'none')
  let owner = await setUp(cluster, failures)
  for (let index = 1; owner !== null && index <= options.iterations && failures.length === 0 && !options.cleanup.closing; index++) {
    const result = await iterate(cluster, options, random, kinds, timing, index, owner)
    if (options.cleanup.closing) break
    iterations.push(result)
    say(describeIteration(result))
    const witness = checkWitness(cluster.witness)
    for (const o of witness.overlaps) failures.push(`after fault ${index} (${result.description}): ${describeOverlap(o)}`)
    if (result.ownerAfter === null) failures.push(`after fault ${index} (${result.description}): the cluster was not whole with the service answering within ${recoveryTimeoutMs(timing)} ms: ${await describeState(cluster)}\n${cluster.recentLogs()}`)
    if (!cluster.lab.clientRunning) failures.push('the client process died')
    owner = result.ownerAfter
    cluster.lab.forgetAnswersBefore(result.faultAtMs)
  }
  if (options.cleanup.closing) {
    say(`# interrupted after ${iterations.length} faults: the lab is being removed; seed ${options.seed} (reproduce with: ${reproduceCommand(options.seed, options.iterations, options.profile)})`)
    return { seed: options.seed, iterations, failures: ['interrupted'], replays: [], runs: 0, switchCuts: cluster.power.cuts.length, exits: [], durationMs: Date.now() - startedAt, lab: { id: cluster.lab.net.id, dir: cluster.lab.dir, image: cluster.disk.image } }
  }
  const replays = await finish(cluster, owner, failures)
  const witness = checkWitness(cluster.witness)
  for (const o of witness.overlaps) if (!failures.some((f) => f.includes(describeOverlap(o)))) failures.push(`at the end: ${describeOverlap(o)}`)
  const report: ChaosReport = {
    seed: options.seed, iterations, failures, replays, runs: witness.runs.length, switchCuts: cluster.power.cuts.length,
    exits: cluster.history.filter((d) => d.exit !== null).map((d) => `${d.name}:${d.exit!.signal ?? d.exit!.code}`), durationMs: Date.now() - startedAt,
    lab: { id: cluster.lab.net.id, dir: cluster.lab.dir, image: cluster.disk.image },
  }
  summarize(report, say, options)
  return report
}

function summarize(report: ChaosReport, say: (line: string) => void, options: ChaosOptions): void {
  const moved = report.iterations.filter((r) => r.ownerAfter !== null && r.ownerAfter !== r.ownerBefore)
  say(`# downtime seen by the client per failover (owner changed): ${describeSpread(spread(moved.map((r) => r.outage.downtimeMs)))}`)
  for (const kind of FAULT_KINDS) {
    for (const onOwner of [true, false]) {
      const these = report.iterations.filter((r) => r.plan.kind === kind && (r.target === r.ownerBefore) === onOwner)
      if (these.length === 0) continue
      const movedHere = these.filter((r) => r.ownerAfter !== r.ownerBefore).length
      say(`#   ${kind} on ${onOwner ? 'the owner' : 'another node'}: ${these.length} faults, ${movedHere} moved the service; downtime ${describeSpread(spread(these.map((r) => r.outage.downtimeMs)))}`)
    }
  }
  const exits = new Map<string, number>()
  for (const e of report.exits) { const how = e.slice(e.indexOf(':') + 1); exits.set(how, (exits.get(how) ?? 0) + 1) }
  const exitText = [...exits].map(([how, n]) => `${/^\d+$/.test(how) ? `code ${how}` : how} x${n}`).join(', ')
  say(`# witness: ${report.runs} runs of the service, ${report.failures.some((f) => f.includes('both ran the service')) ? 'OVERLAPS FOUND' : 'never two at once'}; switch cuts: ${report.switchCuts}; daemon exits: ${exitText || '(none)'}`)
  say(`# replay: ${report.replays.map((r) => `${r.node} exit ${r.code}`).join(', ') || '(not run)'}`)
  for (const failure of report.failures) say(`# FAILED: ${failure.split('\n').join('\n#   ')}`)
  say(`# ${report.failures.length === 0 ? 'passed' : 'FAILED'}: ${report.iterations.length} faults in ${(report.durationMs / 1000).toFixed(1)} s; seed ${report.seed} (reproduce with: ${reproduceCommand(report.seed, options.iterations, options.profile)})`)
}
