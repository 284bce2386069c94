/**
 * Faults drawn from a seed (TigerBeetle's VOPR, FoundationDB's BUGGIFY): the cluster's shape,
 * its timing profile and protection, each machine's clock rate, and a timed list of faults
 * for the fault phase. Rates and durations are drawn per seed but kept survivable: only
 * faults the product promises to survive with that protection (README "Limits of this
 * release": a paused or killed daemon is safe only with a power fence or a watchdog; a
 * failing stop only with a power fence), and disk damage only ever to one copy of a block.
 */
import { blockOffset, leaseSlot, serviceRegister, type Geometry } from '../../src/disk/layout.js'
import { seeded } from '../helpers/random.js'
import type { Protection, SimOptions, SimService, Simulation } from './cluster.js'

export const FAST_TIMING = { heartbeatIntervalMs: 100, peerDeadAfterMs: 1000, diskIntervalMs: 250, selfFenceAfterMs: 1000, diskDeadAfterMs: 1500 }
const SHIPPED_DEADLINE_MS = 10_000

export type FaultKind =
  | 'power-off' | 'kill-daemon' | 'pause' | 'restart-daemon' | 'partition' | 'one-way' | 'net-loss'
  | 'disk-stall' | 'disk-errors' | 'disk-corrupt' | 'resource-crash' | 'start-fail' | 'stop-fail' | 'switch-fail'

export interface Fault { atMs: number; kind: FaultKind; target: string; durationMs: number; detail: string }

export interface Plan {
  options: SimOptions
  /** diskDeadAfterMs of the drawn timing: every duration is a multiple of it. */
  deadlineMs: number
  faultPhaseMs: number
  healPhaseMs: number
  faults: Fault[]
}

type Rng = () => number
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!
const between = (rng: Rng, lo: number, hi: number): number => lo + rng() * (hi - lo)

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

function drawServices(rng: Rng, nodes: string[]): SimService[] {
  const count = 1 + Math.floor(rng() * 3)
  return Array.from({ length: count }, (_, i) => ({
    name: ['web', 'db', 'mail'][i]!,
    domain: shuffled(rng, nodes).slice(0, Math.max(2, Math.ceil(rng() * nodes.length))),
    failback: rng() < 0.5,
    resources: 1 + Math.floor(rng() * 2),
    policy: pick(rng, ['restart-then-relocate', 'restart-then-relocate', 'relocate', 'disable'] as const),
  }))
}

/** The faults a protection makes survivable (see the file comment). */
export function allowedFaults(protection: Protection): FaultKind[] {
  const always: FaultKind[] = ['power-off', 'restart-daemon', 'partition', 'one-way', 'net-loss', 'disk-stall', 'disk-errors', 'disk-corrupt', 'resource-crash', 'start-fail']
  if (protection === 'power') return [...always, 'kill-daemon', 'pause', 'stop-fail', 'switch-fail']
  if (protection === 'watchdog') return [...always, 'kill-daemon', 'pause']
  return always
}

/**
 * The run a seed stands for. `short` (the test suite's runs): fast timing only and half the
 * fault phase, so a few hundred seeds fit in the suite; `npm run sim` draws full runs, a
 * quarter of them at the shipped timing.
 */
export function drawPlan(seed: number, run: { short?: boolean } = {}): Plan {
  const rng = seeded(seed)
  const nodes = ['a', 'b', 'c', 'd'].slice(0, 2 + Math.floor(rng() * 3))
  const shipped = rng() < 0.25 && run.short !== true
  const timing = shipped ? {} : FAST_TIMING
  const deadlineMs = shipped ? SHIPPED_DEADLINE_MS : FAST_TIMING.diskDeadAfterMs
  const protection = pick(rng, ['power', 'power', 'watchdog', 'none', 'pill'] as const)
  const options: SimOptions = {
    seed, nodes, services: drawServices(rng, nodes), timing, protection,
    rates: nodes.map(() => between(rng, 0.96, 1.04)),
    failbackStableMs: Math.round(deadlineMs * 3), monitorIntervalMs: Math.round(deadlineMs / 2),
  }
  const faultPhaseMs = (run.short === true ? 12 : 24) * deadlineMs
  const kinds = allowedFaults(protection)
  const faults: Fault[] = []
  for (let at = between(rng, 2, 4) * deadlineMs; at < faultPhaseMs; at += between(rng, 0.5, 3) * deadlineMs) {
    const kind = pick(rng, kinds)
    faults.push({ atMs: Math.round(at), kind, target: pick(rng, nodes), durationMs: Math.round(faultDuration(rng, kind, deadlineMs)), detail: faultDetail(rng, kind, nodes, options.services) })
  }
  // Healing: every fault has ended, then time for fence retries, boots, joins and failback.
  const healPhaseMs = (run.short === true ? 20 : 30) * deadlineMs + options.failbackStableMs!
  return { options, deadlineMs, faultPhaseMs, healPhaseMs, faults }
}

function faultDuration(rng: Rng, kind: FaultKind, deadlineMs: number): number {
  switch (kind) {
    case 'power-off': return between(rng, 1, 6) * deadlineMs
    case 'pause': return between(rng, 0.1, 3) * deadlineMs
    case 'disk-stall': return between(rng, 0.1, 2) * deadlineMs
    case 'net-loss': return between(rng, 1, 5) * deadlineMs
    default: return between(rng, 0.5, 4) * deadlineMs
  }
}

function faultDetail(rng: Rng, kind: FaultKind, nodes: string[], services: SimService[]): string {
  if (kind === 'partition' || kind === 'one-way') {
    const order = shuffled(rng, nodes)
    const cut = 1 + Math.floor(rng() * (nodes.length - 1))
    return `${order.slice(0, cut).join(',')}|${order.slice(cut).join(',')}`
  }
  if (kind === 'net-loss') return String(Math.round(between(rng, 0.1, 0.7) * 100) / 100)
  if (kind === 'disk-errors') return String(Math.round(between(rng, 0.05, 1) * 100) / 100)
  if (kind === 'resource-crash') return pick(rng, services).name
  if (kind === 'disk-corrupt') return pick(rng, ['status', 'mailbox', 'lease'])
  return ''
}

/** Carries out one fault on the simulation, and schedules its end. */
export function applyFault(sim: Simulation, fault: Fault, geometry: Geometry, rng: Rng): void {
  const m = sim.machine(fault.target)
  const later = (fn: () => void): void => { sim.world.after(fault.durationMs, null, fn) }
  sim.act(`${fault.kind} ${fault.target}${fault.detail === '' ? '' : ` ${fault.detail}`} for ${fault.durationMs} ms`)
  switch (fault.kind) {
    case 'power-off': m.powerOff(); later(() => m.powerOn()); return
    case 'kill-daemon': m.killDaemon(); later(() => m.startDaemon()); return
    case 'pause': m.pause(); later(() => m.resume()); return
    case 'restart-daemon': void m.stopDaemon().then(() => later(() => m.startDaemon())); return
    case 'partition': case 'one-way': {
      const [left, right] = fault.detail.split('|').map((g) => g.split(',')) as [string[], string[]]
      if (fault.kind === 'partition') sim.network.partition([left, right])
      else for (const x of left) for (const y of right) sim.network.faults.blocked.add(`${x}>${y}`)
      later(() => sim.network.heal())
      return
    }
    case 'net-loss': sim.network.faults.lossRate = Number(fault.detail); sim.network.faults.duplicateRate = 0.05; sim.network.faults.delayMaxMs = 30; later(() => { sim.network.faults.lossRate = 0; sim.network.faults.duplicateRate = 0; sim.network.faults.delayMaxMs = 2 }); return
    case 'disk-stall': sim.disk.faultsOf(fault.target).stallUntilMs = sim.world.nowMs + fault.durationMs; return
    case 'disk-errors': {
      const f = sim.disk.faultsOf(fault.target)
      f.errorRate = Number(fault.detail)
      later(() => { f.errorRate = 0 })
      return
    }
    case 'disk-corrupt': {
      const kind = fault.detail as 'status' | 'mailbox' | 'lease'
      const slot = kind === 'lease' ? leaseSlot(geometry, serviceRegister(Math.floor(rng() * sim.options.services.length)), m.id) : m.id
      // Only a block whose shadow holds a written block: the reader falls back to it (and the
      // writer repairs the primary on its next write). Rot in both copies is a lost block.
      const shadow = blockOffset(geometry, 1, kind, slot)
      if (sim.disk.bytes.subarray(shadow, shadow + geometry.blockSize).every((b) => b === 0)) return
      sim.disk.corrupt(blockOffset(geometry, 0, kind, slot), geometry.blockSize, `${kind} block ${slot}, primary copy`)
      return
    }
    case 'resource-crash': for (const name of sim.machines.keys()) sim.resources.crash(name, fault.detail, 'r0'); return
    case 'start-fail': case 'stop-fail': {
      const f = sim.resources.faultsOf(fault.target)
      if (fault.kind === 'start-fail') f.startFailRate = 0.7
      else f.stopFailRate = 0.5
      later(() => { f.startFailRate = 0; f.stopFailRate = 0 })
      return
    }
    case 'switch-fail': sim.powerSwitch.faults.failUntilMs = sim.world.nowMs + fault.durationMs; return
  }
}

/** Every fault ends: links healed, paths clean, every machine on and its daemon running. */
export function healAll(sim: Simulation): void {
  sim.act('heal: every fault ends')
  sim.network.heal()
  Object.assign(sim.network.faults, { lossRate: 0, duplicateRate: 0, delayMaxMs: 2 })
  for (const [name, m] of sim.machines) {
    Object.assign(sim.disk.faultsOf(name), { stallUntilMs: 0, failUntilMs: 0, errorRate: 0 })
    Object.assign(sim.resources.faultsOf(name), { startFailRate: 0, stopFailRate: 0, hangRate: 0 })
    m.resume()
    if (!m.powered) m.powerOn()
    else if (!m.running) m.startDaemon()
  }
  sim.powerSwitch.faults.failUntilMs = 0
}
