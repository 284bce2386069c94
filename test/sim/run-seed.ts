/**
 * One simulator run: the seed draws the cluster and its faults (faults.ts); a fault phase,
 * then a healing phase in which every fault ends and the cluster must converge; then every
 * checker gives its verdict. The same seed gives the same run, event for event.
 */
import { geometryWithDefaults } from '../../src/disk/layout.js'
import { fencingProvesStop } from '../../src/config/fencing.js'
import type { ServiceStatus } from '../../src/runtime/service-shell.js'
import type { ServicesDoc } from '../../src/config/services.js'
import type { StoredRecord } from '../../journal/records.js'
import { seeded } from '../helpers/random.js'
import { GEOMETRY, Simulation } from './cluster.js'
import { applyFault, drawPlan, healAll, type Plan } from './faults.js'
import { checkConvergence } from './checks/convergence.js'
import { checkReplay, readJournal } from './checks/replay.js'
import { checkSingleOwner } from './checks/single-owner.js'
import { checkTakeoverProofs, takeovers } from './checks/takeover-proof.js'
import type { Verdict } from './checks/verdict.js'

export interface SeedResult {
  seed: number
  ok: boolean
  verdicts: Verdict[]
  plan: Plan
  virtualMs: number
  events: number
  realMs: number
  takeovers: number
  starts: number
  sim: Simulation
}

export function describePlan(plan: Plan): string {
  const o = plan.options
  const timing = Object.keys(o.timing).length === 0 ? 'shipped timing' : 'fast timing'
  return `${o.nodes.length} nodes, ${o.services.length} services, ${timing}, protection ${o.protection}, ${plan.faults.length} faults (${[...new Set(plan.faults.map((f) => f.kind))].join(', ')})`
}

export async function runSeed(seed: number, options: { short?: boolean } = {}): Promise<SeedResult> {
  const started = performance.now()
  const plan = drawPlan(seed, options)
  const sim = await Simulation.create(plan.options)
  const geometry = geometryWithDefaults(GEOMETRY)
  const faultRng = seeded(seed ^ 0x5eed)
  sim.startAll()
  for (const fault of plan.faults) sim.world.at(fault.atMs, null, () => applyFault(sim, fault, geometry, faultRng))
  await sim.run(plan.faultPhaseMs)
  sim.world.at(sim.world.nowMs, null, () => healAll(sim))
  await sim.run(plan.healPhaseMs)
  const { verdicts, takeovers } = await check(sim)
  return {
    seed, ok: verdicts.every((v) => v.valid !== false), verdicts, plan, virtualMs: sim.world.nowMs, events: sim.world.events,
    realMs: performance.now() - started, takeovers, starts: sim.resources.starts, sim,
  }
}

export interface SeedsRun { seeds: number; failed: number; takeovers: number; virtualMs: number; events: number; realMs: number }

/** Seeds from..from+count-1 one after another (each handed to `onEach` as it ends), with totals. */
export async function runSeeds(from: number, count: number, options: { short?: boolean }, onEach: (r: SeedResult) => void = () => undefined): Promise<SeedsRun> {
  const started = performance.now()
  const total: SeedsRun = { seeds: count, failed: 0, takeovers: 0, virtualMs: 0, events: 0, realMs: 0 }
  for (let seed = from; seed < from + count; seed++) {
    const r = await runSeed(seed, options)
    total.virtualMs += r.virtualMs
    total.events += r.events
    total.takeovers += r.takeovers
    if (!r.ok) total.failed++
    onEach(r)
  }
  total.realMs = performance.now() - started
  return total
}

async function journals(sim: Simulation): Promise<Map<string, StoredRecord[]>> {
  const out = new Map<string, StoredRecord[]>()
  for (const [name, m] of sim.machines) out.set(name, await readJournal(name, m.journalDb))
  return out
}

/** Every checker over a finished simulation (also used by the scenario runner), and the takeovers seen. */
export async function check(sim: Simulation): Promise<{ verdicts: Verdict[]; takeovers: number; journals: Map<string, StoredRecord[]> }> {
  const all = await journals(sim)
  const taken = [...all].flatMap(([name, records]) => takeovers(name, sim.machine(name).rate, records))
  const verdicts: Verdict[] = [
    checkSingleOwner(sim.resources.changes),
    await checkReplay(all),
    checkTakeoverProofs(taken, {
      powerCuts: sim.powerSwitch.log.filter((l) => l.outcome === 'ok').map((l) => ({ atMs: l.atMs, target: l.target })),
      someNodeUnfenceable: sim.config.nodes.some((n) => !fencingProvesStop(n.fence, sim.config.watchdog)),
    }),
    checkConvergence(await convergenceView(sim)),
    { checker: 'no-errors', valid: sim.world.errors.length === 0, problems: sim.world.errors.map((e) => `at ${Math.round(e.atMs)} ms an event threw: ${(e.error as Error).stack ?? String(e.error)}`) },
  ]
  return { verdicts, takeovers: taken.length, journals: all }
}

async function convergenceView(sim: Simulation): Promise<Parameters<typeof checkConvergence>[0]> {
  const answers = new Map<string, { doc: ServicesDoc; services: ServiceStatus[] }>()
  for (const [name, m] of sim.machines) {
    if (m.runtime === null) continue
    const [answer] = await sim.settle(m.request({ cmd: 'services' }), 1000)
    answers.set(name, answer as { doc: ServicesDoc; services: ServiceStatus[] })
  }
  const newest = [...answers.values()].sort((x, y) => y.doc.version - x.doc.version)[0]
  return {
    services: (newest?.doc.services ?? sim.servicesDoc().services).map((s) => ({ name: s.name, enabled: s.enabled })),
    runningOn: (service) => sim.runningOn(service),
    holders: (service) => sim.holders(service),
    serviceState: (machine, service) => answers.get(machine)?.services.find((s) => s.name === service)?.localState ?? 'none',
    localStates: () => new Map([...sim.machines].map(([name, m]) => [name, m.runtime?.localState() ?? 'none'])),
  }
}
