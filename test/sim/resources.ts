/**
 * Simulated resources and the agents that drive them, and the simulated power switch.
 *
 * A resource on a machine is stopped, running, or "maybe": a start was begun and not proven
 * stopped (still starting, failed or timed out half-way, cut short by an abort). Until a stop
 * succeeds or the machine loses power, a resource in "maybe" may be running: the safety
 * checker counts it as held. The machine's disk and the agents' state change as the world
 * (an agent finishes even while its daemon is stopped); the daemon hears the result as its
 * own event.
 */
import type { AgentOp, AgentResult, ResourceSpec, RunOptions } from '../../src/agents/types.js'
import type { FenceAgentCall, FenceAgentResult, FenceTarget } from '../../src/fence/agent.js'
import { toProcess, type SimProcess, type World } from './world.js'

export type ResourceState = 'stopped' | 'maybe' | 'running'

/** A change of whether `machine` holds (may run) `service`. */
export interface HoldChange { atMs: number; service: string; machine: string; held: boolean }

export interface AgentFaults {
  /** Probability that a start fails (the resource is left "maybe" until stopped). */
  startFailRate: number
  /** Probability that a stop fails (only on machines with a power fence: escalation). */
  stopFailRate: number
  /** Probability that an operation overruns its timeout. */
  hangRate: number
  /** Every stop overruns its timeout (a resource that will not stop). */
  stopsHang?: boolean
}

const LATENCY_MS: Record<AgentOp, [number, number]> = { start: [10, 400], stop: [10, 300], monitor: [2, 60], validate: [1, 5] }

export class SimResources {
  private readonly states = new Map<string, ResourceState>()
  readonly changes: HoldChange[] = []
  private readonly heldBy = new Map<string, Set<string>>()
  readonly faults = new Map<string, AgentFaults>()
  starts = 0
  /** The slowest stop of one resource (see Simulation: bounded where nothing else would end a resource). */
  stopMaxMs = 300

  constructor(private readonly world: World, private readonly random: () => number) {}

  faultsOf(machine: string): AgentFaults {
    let f = this.faults.get(machine)
    if (f === undefined) { f = { startFailRate: 0, stopFailRate: 0, hangRate: 0 }; this.faults.set(machine, f) }
    return f
  }

  state(machine: string, service: string, resource: string): ResourceState {
    return this.states.get(`${machine}|${service}|${resource}`) ?? 'stopped'
  }

  /** Machines on which `service` may run now. */
  holders(service: string): string[] {
    return [...(this.heldBy.get(service) ?? [])].sort()
  }

  /** Machines on which every listed resource of `service` runs. */
  runningOn(service: string, resources: readonly string[]): string[] {
    const machines = new Set([...this.states.keys()].map((k) => k.split('|')[0]!))
    return [...machines].filter((m) => resources.every((r) => this.state(m, service, r) === 'running')).sort()
  }

  private set(machine: string, service: string, resource: string, state: ResourceState): void {
    this.states.set(`${machine}|${service}|${resource}`, state)
    const held = [...this.states.entries()].some(([k, s]) => s !== 'stopped' && k.startsWith(`${machine}|${service}|`))
    const set = this.heldBy.get(service) ?? new Set<string>()
    this.heldBy.set(service, set)
    if (held === set.has(machine)) return
    if (held) set.add(machine)
    else set.delete(machine)
    this.changes.push({ atMs: this.world.nowMs, service, machine, held })
  }

  /** Power lost: nothing of the machine runs any more. */
  powerLoss(machine: string): void {
    for (const key of [...this.states.keys()]) {
      const [m, service, resource] = key.split('|') as [string, string, string]
      if (m === machine) this.set(m, service, resource, 'stopped')
    }
  }

  /** The resource dies on its own (a crashed process): its monitor reports not running. */
  crash(machine: string, service: string, resource: string): boolean {
    if (this.state(machine, service, resource) !== 'running') return false
    this.set(machine, service, resource, 'stopped')
    return true
  }

  /**
   * One agent call from `machine`'s daemon. `boot` is the machine's power cycle when called:
   * an agent of an earlier boot died with it and changes nothing.
   */
  run(machine: string, boot: () => number, process: SimProcess, spec: ResourceSpec, op: AgentOp, options: RunOptions): Promise<AgentResult> {
    const service = options.env?.CARBONADO_SERVICE ?? '?'
    const resource = spec.name
    const calledBoot = boot()
    const faults = this.faultsOf(machine)
    const [lo, hi] = op === 'stop' ? [Math.min(LATENCY_MS.stop[0], this.stopMaxMs), this.stopMaxMs] : LATENCY_MS[op]
    const hangs = this.random() < faults.hangRate || (op === 'stop' && faults.stopsHang === true)
    const tookMs = hangs ? options.timeoutMs + 1 : lo + this.random() * (hi - lo)
    const fails = op === 'start' ? this.random() < faults.startFailRate : op === 'stop' ? this.random() < faults.stopFailRate : false
    if (op === 'start') { this.starts++; this.set(machine, service, resource, this.state(machine, service, resource) === 'running' ? 'running' : 'maybe') }
    const result = (outcome: AgentResult['outcome'], detail: string): AgentResult => ({ op, outcome, exitCode: outcome === 'ok' ? 0 : 1, signal: null, durationMs: Math.round(Math.min(tookMs, options.timeoutMs)), output: '', detail: `${resource} ${op}: ${detail}` })
    return new Promise((resolve) => {
      let settled = false
      const answer = (r: AgentResult): void => { if (!settled) { settled = true; toProcess(this.world, process, () => resolve(r)) } }
      options.signal?.addEventListener('abort', () => answer(result('timeout', 'cut short (aborted)')), { once: true })
      if (tookMs > options.timeoutMs) {
        this.world.after(options.timeoutMs, null, () => answer(result('timeout', `no answer within ${options.timeoutMs} ms`)))
        return
      }
      this.world.after(tookMs, null, () => {
        if (boot() !== calledBoot) return
        if (settled) return
        if (op === 'start' && !fails) this.set(machine, service, resource, 'running')
        if (op === 'stop' && !fails) this.set(machine, service, resource, 'stopped')
        const now = this.state(machine, service, resource)
        if (op === 'monitor') answer(now === 'running' ? result('ok', 'running') : result('not-running', 'not running'))
        else answer(fails ? result('failed', 'exit 1 (simulated failure)') : result('ok', 'exit 0'))
      })
    })
  }
}

export interface SwitchFaults { failUntilMs: number; failRate: number }

/** The power switch every machine's fence agent talks to: `port` names the machine. */
export class SimPowerSwitch {
  readonly faults: SwitchFaults = { failUntilMs: 0, failRate: 0 }
  readonly log: { atMs: number; by: string; target: string; outcome: string }[] = []

  constructor(private readonly world: World, private readonly random: () => number, private readonly powerOff: (machine: string) => void) {}

  fenceOff(by: string, process: SimProcess, agent: FenceAgentCall, target: FenceTarget): Promise<FenceAgentResult> {
    const tookMs = 100 + this.random() * 1400
    const machine = target.port ?? target.nodename ?? '?'
    return new Promise((resolve) => {
      this.world.after(Math.min(tookMs, agent.timeoutMs), null, () => {
        const fails = this.world.nowMs < this.faults.failUntilMs || this.random() < this.faults.failRate
        const outcome = tookMs > agent.timeoutMs ? 'timeout' : fails ? 'failed' : 'ok'
        if (outcome === 'ok') this.powerOff(machine)
        this.log.push({ atMs: this.world.nowMs, by, target: machine, outcome })
        const result: FenceAgentResult = { outcome, detail: `sim-switch off port ${machine}: ${outcome}`, exitCode: outcome === 'ok' ? 0 : 1, output: '', durationMs: Math.round(tookMs) }
        toProcess(this.world, process, () => resolve(result))
      })
    })
  }
}
