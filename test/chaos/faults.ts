/**
 * The faults of the chaos harness: what each one does to the lab, and how it is drawn from
 * the seeded random source. Only faults the product promises to survive (README "Fencing"
 * and "Limits of this release"): every node has a power fence (the lab's switch), so a daemon
 * that is killed or paused while its service runs is fenced before the service moves, and a
 * node that loses its disk fences itself and is fenced by its peers.
 *
 *   power-off      the host loses power (every process, its link and its addresses)
 *   kill-daemon    SIGKILL of the node daemon alone: its service keeps running until the
 *                  node is fenced (the switch cuts the host)
 *   pause          SIGSTOP of the daemon, SIGCONT after a while: mostly past the deadline
 *                  (the node is counted dead and, if it runs the service, fenced), sometimes
 *                  short of it (nothing may happen)
 *   link-down      the host's cable pulled at the switch, then plugged back: heartbeats stop,
 *                  the disk still shows the node alive, nobody takes over
 *   loss           random loss of 20-60% of the frames on the host's link, both ways
 *   disk-error     the node's own path to the quorum disk fails (disk.ts): short of the
 *                  self-fence deadline (ridden out) or past it (it goes out, stops the
 *                  service, is fenced by the node taking over)
 *   restart-storm  2-5 restarts of the daemon in a row, each after a SIGKILL or a SIGTERM
 *
 * A plan is drawn before the run knows who owns the service: it names the target as "the
 * owner" or "the i-th other node". The seed reproduces the plans; the timing of real
 * processes (who answers first, how long a start takes) is the machine's.
 */
import type { Timing } from '../../src/config/timing.js'
import type { ChaosCluster } from './cluster.js'
import { breakPath, repairPath } from './disk.js'
import { sleep } from './lab.js'
import { setLink, startLoss } from './network.js'

export const FAULT_KINDS = ['power-off', 'kill-daemon', 'pause', 'link-down', 'loss', 'disk-error', 'restart-storm'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** How often each kind is drawn, relative to the others. */
const WEIGHTS: Record<FaultKind, number> = { 'power-off': 2, 'kill-daemon': 2, pause: 2, 'link-down': 1, loss: 1, 'disk-error': 2, 'restart-storm': 1 }
/** Share of faults aimed at the service's owner (the others hit a node that runs nothing). */
const ON_OWNER = 0.7

export interface RestartStep { afterMs: number; signal: 'SIGKILL' | 'SIGTERM' }

export interface FaultPlan {
  kind: FaultKind
  onOwner: boolean
  /** Which of the other nodes, when not the owner (index into them, in name order). */
  otherIndex: number
  /** pause, link-down, loss, disk-error: how long the fault lasts; power-off, kill-daemon: how long the host (the daemon) stays down at least. */
  durationMs: number
  /** loss: the share of frames lost. */
  lossPercent: number
  /** restart-storm: each restart, after how long and by which signal. */
  restarts: RestartStep[]
}

const between = (random: () => number, lo: number, hi: number): number => Math.round(lo + random() * (hi - lo))

/** A duration for `kind` at these timings: past the deadline that matters, or (sometimes) short of it. */
function durationFor(kind: FaultKind, random: () => number, timing: Timing): number {
  const rideOutMs = timing.selfFenceAfterMs - timing.selfFenceStopMs - timing.diskIntervalMs
  switch (kind) {
    case 'pause':
      return random() < 0.25 ? between(random, rideOutMs * 0.3, rideOutMs * 0.8) : between(random, timing.diskDeadAfterMs + 500, timing.diskDeadAfterMs + 2500)
    case 'disk-error':
      return random() < 0.3 ? between(random, rideOutMs * 0.3, rideOutMs * 0.8) : between(random, timing.selfFenceAfterMs + 500, timing.diskDeadAfterMs + 2000)
    case 'link-down':
      return between(random, timing.peerDeadAfterMs * 0.5, timing.peerDeadAfterMs * 3)
    case 'loss':
      return between(random, 1000, 4000)
    case 'power-off':
    case 'kill-daemon':
      // How long the host stays off (the daemon stays dead) at least: from a quick reboot to past the disk deadline.
      return between(random, 0, timing.diskDeadAfterMs * 2)
    case 'restart-storm':
      return 0
  }
}

/** The next fault, from the seeded source; `kinds` are the ones this lab can inject. */
export function drawFault(random: () => number, kinds: readonly FaultKind[], timing: Timing): FaultPlan {
  const total = kinds.reduce((sum, k) => sum + WEIGHTS[k], 0)
  let pick = random() * total
  const kind = kinds.find((k) => (pick -= WEIGHTS[k]) < 0) ?? kinds[kinds.length - 1]!
  const onOwner = random() < ON_OWNER
  const otherIndex = Math.floor(random() * 16)
  const durationMs = durationFor(kind, random, timing)
  const lossPercent = between(random, 20, 60)
  const restarts: RestartStep[] = []
  if (kind === 'restart-storm') {
    for (let i = between(random, 2, 5); i > 0; i--) restarts.push({ afterMs: between(random, 200, 1500), signal: random() < 0.5 ? 'SIGKILL' : 'SIGTERM' })
  }
  return { kind, onOwner, otherIndex, durationMs, lossPercent, restarts }
}

/** The node a plan hits, given the current owner. */
export function targetOf(plan: FaultPlan, owner: string, names: readonly string[]): string {
  if (plan.onOwner) return owner
  const others = names.filter((n) => n !== owner)
  return others[plan.otherIndex % others.length]!
}

export function describePlan(plan: FaultPlan, target: string, owner: string): string {
  const who = `${target}${target === owner ? ' (owner)' : ''}`
  switch (plan.kind) {
    case 'pause': return `pause ${who}: SIGSTOP, SIGCONT after ${plan.durationMs} ms`
    case 'link-down': return `link-down ${who} for ${plan.durationMs} ms`
    case 'loss': return `loss ${plan.lossPercent}% on ${who}'s link for ${plan.durationMs} ms`
    case 'disk-error': return `disk-error on ${who}'s path for ${plan.durationMs} ms`
    case 'restart-storm': return `restart-storm of ${who}: ${plan.restarts.map((r) => `${r.signal === 'SIGKILL' ? 'kill' : 'term'}+${r.afterMs}ms`).join(', ')}`
    default: return `${plan.kind} ${who}, back after ${plan.durationMs} ms at the earliest`
  }
}

export interface FaultContext {
  cluster: ChaosCluster
  timing: Timing
  /** Notes for the report: what happened beyond the plan (a host the switch cut, a daemon that was already gone). */
  note: (line: string) => void
}

/** Waits until the service answers from a node other than `owner` or `ms` passed; true if it moved. */
async function movedFrom(ctx: FaultContext, owner: string, sinceMs: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline && !ctx.cluster.lab.cleanup.closing;) {
    const now = ctx.cluster.lab.steadyOwner(3, sinceMs)
    if (now !== null && now !== owner) return true
    await sleep(50)
  }
  return false
}

/** How long a fault waits for its service to move before the recovery phase takes over. */
const moveWaitMs = (timing: Timing): number => 3 * timing.diskDeadAfterMs + 20_000

/**
 * Injects `plan` on `target` and undoes what can be undone (SIGCONT, the link back, the loss
 * removed, the disk path repaired). Hosts the switch cut stay off: the recovery phase boots
 * them, as it restarts daemons that exited.
 */
export async function injectFault(ctx: FaultContext, plan: FaultPlan, target: string, owner: string): Promise<void> {
  const { cluster } = ctx
  const atMs = Date.now()
  switch (plan.kind) {
    case 'power-off':
    case 'kill-daemon':
      if (plan.kind === 'power-off') await cluster.lab.powerOff(target)
      else if (!cluster.signal(target, 'SIGKILL')) ctx.note(`${target}'s daemon was already gone`)
      await cluster.reap(target)
      if (target === owner) await movedFrom(ctx, owner, atMs, moveWaitMs(ctx.timing))
      await sleep(atMs + plan.durationMs - Date.now())
      return
    case 'pause':
      if (!cluster.signal(target, 'SIGSTOP')) ctx.note(`${target}'s daemon was already gone`)
      await sleep(plan.durationMs)
      if (!cluster.signal(target, 'SIGCONT')) ctx.note(`${target}'s daemon was gone when it was to be resumed (fenced: ${!cluster.lab.isOn(target)})`)
      return
    case 'link-down':
      setLink(cluster.lab.net, target, false)
      try { await sleep(plan.durationMs) } finally { setLink(cluster.lab.net, target, true) }
      return
    case 'loss': {
      const stop = await startLoss(cluster.lab.net, target, plan.lossPercent)
      try { await sleep(plan.durationMs) } finally {
        const problem = await stop()
        if (problem !== null) throw new Error(`could not remove the loss on ${target}: ${problem}`)
      }
      return
    }
    case 'disk-error':
      breakPath(cluster.disk, target)
      try { await sleep(plan.durationMs) } finally { repairPath(cluster.disk, target) }
      return
    case 'restart-storm':
      await restartStorm(ctx, plan.restarts, target)
  }
}

async function restartStorm(ctx: FaultContext, steps: readonly RestartStep[], target: string): Promise<void> {
  const { cluster } = ctx
  for (const step of steps) {
    await sleep(step.afterMs)
    if (!cluster.lab.isOn(target)) { ctx.note(`the storm on ${target} ended early: the switch cut its host`); return }
    if (step.signal === 'SIGTERM') await cluster.stop(target)
    else { cluster.signal(target, 'SIGKILL'); await cluster.reap(target) }
    if (!cluster.lab.isOn(target)) { ctx.note(`the storm on ${target} ended early: the switch cut its host`); return }
    try {
      if (cluster.live(target) === null) cluster.start(target)
    } catch (error) {
      ctx.note(`the storm on ${target} ended early: ${(error as Error).message}`)
      return
    }
  }
}
