/**
 * The services' shell (DESIGN.md "machines decide, the shell acts"): each disk cycle it reads
 * the configuration version and the leases of the configured services, computes where each
 * service should run (machines/placement.ts) and tells this node's service machines; it
 * carries out what they ask (acquire or release a lease, call a resource agent) and brings
 * the results back as inputs. Every input goes through the MachineHost, so it is journaled.
 *
 * Exclusive ownership: a machine starts resources only after LEASE_ACQUIRED, and a lease is
 * taken from another node only with a proof that the holder's incarnation is stopped
 * (machines/takeover-proof.ts: left cleanly, restarted, fenced, or, for a node with no fence method,
 * silent past its self-fence deadline). The proof travels in LEASE_ACQUIRED, so the journal
 * records which proof allowed each takeover; a missing fence asks the fencing shell for one.
 *
 * Agents start and monitor only while this node is a member: a node resumed after a pause,
 * or out, never starts or probes a resource again in that incarnation (stops still run).
 */
import { proposeConfig, readConfig } from '../config/config-store.js'
import type { ServiceDef, ServicesDoc } from '../config/services.js'
import { EMPTY_SERVICES } from '../config/services.js'
import { CarbError, isCarbError } from '../errors.js'
import { acquireLease, readLease, releaseLease, type LeaseView } from '../disk/lease.js'
import { placement, type PlacementInput } from '../../machines/placement.js'
import { describeProof, takeoverProof, type FenceRecord, type HolderView, type ProofVerdict } from '../../machines/takeover-proof.js'
import { Deadline } from '../agents/run-process.js'
import { settleWithin } from './platform.js'
import type { ServiceEffect, ServiceInput } from '../../machines/service-events.js'
import type { Decision } from './machine-host.js'
import { platformRetry, type ShellDeps } from './shell-deps.js'

/** States of a service machine in which this node may hold the service's lease. */
const HOLDING_STATES = ['acquiring', 'starting', 'running', 'recovering', 'stopping', 'releasing', 'failed']
/** States in which a resource of the service may be up on this node. */
const RESOURCE_STATES = ['starting', 'running', 'recovering', 'stopping', 'failed']
/** Agent output kept in the journal with each result; the log gets every line. */
export const AGENT_OUTPUT_JOURNAL_MAX = 2048
/** Configuration version races lost before giving up on disabling a service. */
const DISABLE_ATTEMPTS_MAX = 5
/** Reads of the configuration and of each lease at start-up: a peer may be writing a new version. */
const CLEANUP_READ_ATTEMPTS = 5
const CLEANUP_READ_RETRY_MS = 200

export type MemberState = PlacementInput['nodes'][number]['state']

export interface ServiceShellDeps extends ShellDeps {
  /** This node's membership view: state of every node (self included) and since when it is up. */
  members: () => { name: string; nodeId: number; state: MemberState; upSinceMs: number | null }[]
  /** What this node knows of a lease holder, for the takeover proof; null if not configured. */
  holderView: (nodeId: number) => HolderView | null
  /** Successful fencing operations against a node, newest last. */
  fenced: (nodeId: number) => readonly FenceRecord[]
  /** The holder must be fenced before its lease can be taken. */
  requestFence: (nodeId: number, reason: string) => void
  /** This node's local machine is a member (agents may start and monitor). */
  isMember: () => boolean
  /** A stop failed: the service cannot move until this node is fenced (node.ts decides how). */
  escalate: (service: string, reason: string) => void
}

export interface ServiceStatus {
  name: string
  index: number
  enabled: boolean
  holder: string | null
  leaseInstance: number
  localState: string
  placement: string
}

export class ServiceShell {
  /** Starts and monitors running now, each with the controller that kills it. */
  private readonly inFlight = new Set<{ controller: AbortController; done: Promise<void> }>()
  private doc: ServicesDoc = EMPTY_SERVICES
  private readonly leases = new Map<string, LeaseView>()
  private readonly verdicts = new Map<string, string>()
  /** Deleted services whose machines may still be stopping: their definitions are kept until then. */
  private readonly retired = new Map<string, ServiceDef>()
  private configError: string | null = null
  private busy = false

  constructor(private readonly deps: ServiceShellDeps) {}

  get version(): number { return this.doc.version }
  get services(): readonly ServiceDef[] { return this.doc.services }

  private machineId(name: string): string { return `service:${name}#${this.deps.incarnation()}` }

  private nodeName(nodeId: number): string | null {
    if (nodeId === 0) return null
    return this.deps.config.nodes.find((n) => n.id === nodeId)?.name ?? `node-${nodeId}`
  }

  private nodeNames(): string[] { return this.deps.config.nodes.map((n) => n.name) }

  /** One cycle: configuration, leases, placement. Skipped while the previous one still runs. */
  async cycle(): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      await this.refreshConfig()
      await this.refreshLeases()
      this.place()
    } finally {
      this.busy = false
    }
  }

  private async refreshConfig(): Promise<void> {
    try {
      const { doc } = await readConfig(this.deps.disk, this.nodeNames())
      this.configError = null
      if (doc.version === this.doc.version && this.hasMachines(doc)) return
      this.apply(doc)
    } catch (error) {
      const line = isCarbError(error) ? error.oneLine() : String(error)
      if (line !== this.configError) this.deps.log.log('warn', `configuration unreadable, keeping version ${this.doc.version}: ${line}`)
      this.configError = line
    }
  }

  private hasMachines(doc: ServicesDoc): boolean {
    return doc.services.every((s) => this.deps.host.has(this.machineId(s.name)))
  }

  /** A new configuration version: create machines for new services, reconfigure the others. */
  private apply(doc: ServicesDoc): void {
    const at = this.deps.clock.monotonicMs()
    const previous = this.doc
    this.doc = doc
    for (const service of doc.services) {
      const id = this.machineId(service.name)
      const before = previous.services.find((s) => s.name === service.name)
      if (!this.deps.host.has(id)) {
        this.deps.host.create(id, 'service', this.machineInput(service, at), at)
        continue
      }
      this.deps.host.deliver(id, { type: 'CONFIGURE', at, ...this.definition(service) })
      if (before !== undefined && before.restartGeneration !== service.restartGeneration) this.deps.host.deliver(id, { type: 'RESTART', at })
    }
    for (const gone of previous.services.filter((s) => !doc.services.some((d) => d.name === s.name))) {
      const id = this.machineId(gone.name)
      this.retired.set(gone.name, gone)
      if (this.deps.host.has(id)) this.deps.host.deliver(id, { type: 'DISABLE', at })
    }
    this.deps.log.log('info', `configuration version ${doc.version}: ${doc.services.map((s) => s.name).join(', ') || 'no services'}`)
    this.deps.commit()
  }

  private definition(service: ServiceDef): Pick<ServiceInput, 'resources' | 'recovery' | 'enabled'> {
    return { resources: service.resources.map((r) => ({ name: r.name, monitorIntervalMs: r.monitorIntervalMs })), recovery: service.recovery, enabled: service.enabled }
  }

  private machineInput(service: ServiceDef, at: number): ServiceInput {
    return { service: service.name, node: this.deps.self.name, nodeId: this.deps.self.id, incarnation: this.deps.incarnation(), startedAt: at, ...this.definition(service) }
  }

  /** Machines of a new incarnation of this node (the old generation was removed with it). */
  recreate(): void {
    const at = this.deps.clock.monotonicMs()
    for (const service of this.doc.services) this.deps.host.create(this.machineId(service.name), 'service', this.machineInput(service, at), at)
  }

  private async refreshLeases(): Promise<void> {
    for (const service of this.doc.services) {
      try {
        this.leases.set(service.name, await readLease(this.deps.disk, service.index))
      } catch (error) {
        this.deps.log.log('warn', `lease of ${service.name} unreadable: ${isCarbError(error) ? error.oneLine() : String(error)}`)
      }
    }
  }

  private verdict(service: ServiceDef, lease: LeaseView, at: number): { owner: string | null; reason: string } {
    return placement({
      service: { name: service.name, enabled: service.enabled, domain: service.domain, failback: service.failback, relocateTo: service.relocateTo },
      nodes: this.deps.members().map((m) => ({ name: m.name, state: m.state, upSinceMs: m.upSinceMs })),
      lease: { holder: this.nodeName(lease.holder), failedOn: lease.failedOn.map((n) => this.nodeName(n) ?? String(n)) },
      self: this.deps.self.name, now: at, failbackStableMs: service.failbackStableMs,
    })
  }

  private place(): void {
    // The cycle ran beside the disk cycle: this node may have gone out or restarted meanwhile.
    if (!this.deps.isMember()) return
    const at = this.deps.clock.monotonicMs()
    for (const service of this.doc.services) {
      const id = this.machineId(service.name)
      const lease = this.leases.get(service.name)
      if (!this.deps.host.has(id) || lease === undefined) continue
      const holder = this.nodeName(lease.holder)
      const verdict = this.verdict(service, lease, at)
      this.verdicts.set(service.name, verdict.reason)
      const state = String(this.deps.host.view(id)?.value ?? '')
      if (holder !== null && holder !== this.deps.self.name && HOLDING_STATES.includes(state) && state !== 'acquiring' && state !== 'releasing' && lease.instance > 0) {
        this.deps.host.deliver(id, { type: 'LEASE_LOST', at, holder, reason: `lease instance ${lease.instance} is held by ${holder}` })
        continue
      }
      // Ask to own only what can be taken now: a live holder must first release (failback, relocation).
      const proof = verdict.owner === this.deps.self.name ? this.proof(lease) : null
      if (proof !== null && !proof.ok && proof.needsFencing) this.deps.requestFence(lease.holder, `to take over ${service.name}: ${proof.reason}`)
      const mine = proof !== null && proof.ok
      const owner = verdict.owner === this.deps.self.name && !mine ? null : verdict.owner
      this.deps.host.deliver(id, { type: 'PLACE', at, owner, reason: mine || owner !== null ? verdict.reason : `${verdict.reason}; waiting: ${proof !== null && !proof.ok ? proof.reason : `${holder ?? 'nobody'} to release`}` })
    }
    this.deps.commit()
  }

  /** What the journal says allowed an acquisition: the deciding plan's verdict, or free/own. */
  private provenBy(planned: { view: LeaseView; verdict: ProofVerdict | null } | null): { proof: string; proofKind: string } {
    if (planned === null) return { proof: 'no attempt planned', proofKind: 'unproven' }
    if (planned.verdict !== null) return planned.verdict.ok ? { proof: describeProof(planned.verdict.proof), proofKind: planned.verdict.proof.kind } : { proof: planned.verdict.reason, proofKind: 'unproven' }
    const kind = planned.view.holder === 0 ? 'free' : 'own'
    return { proof: kind === 'free' ? 'the lease was free' : 'the lease named an earlier incarnation of this node (stopped by its self-fence or start-up clean-up)', proofKind: kind }
  }

  /** May the lease be taken from its holder now, and on which proof (machines/takeover-proof.ts)? */
  private proof(lease: LeaseView): ProofVerdict {
    return takeoverProof({
      self: this.deps.self.id, lease: { holder: lease.holder, incarnation: lease.incarnation },
      holder: lease.holder === 0 ? null : this.deps.holderView(lease.holder), fenced: this.deps.fenced(lease.holder),
      diskDeadAfterMs: this.deps.config.timing.diskDeadAfterMs,
    })
  }

  /** Tick: lets running services ask for their due monitors (members only). */
  check(at: number): void {
    if (!this.deps.isMember()) return
    for (const service of this.doc.services) {
      const id = this.machineId(service.name)
      if (this.deps.host.has(id)) this.deps.host.deliver(id, { type: 'CHECK', at })
    }
  }

  /** Carry out what a service machine asked (after the journal batch that decided it is durable). */
  effect(d: Decision): void {
    for (const e of d.transition.effects as ServiceEffect[]) {
      if (e.type === 'effect.acquireLease') void this.acquire(d.machine, e.service)
      else if (e.type === 'effect.releaseLease') void this.release(d.machine, e.service, e.failedHere)
      else if (e.type === 'effect.agent') void this.agent(d.machine, e.service, e.op, e.resource, e.call)
      else if (e.type === 'effect.disableService') void this.disableService(e.service, e.reason)
      else if (e.type === 'effect.escalate') this.deps.escalate(e.service, e.reason)
    }
  }

  private deliver(id: string, event: { type: string; [field: string]: unknown }): void {
    if (!this.deps.host.has(id)) return
    this.deps.host.deliver(id, { ...event, at: this.deps.clock.monotonicMs() })
    this.deps.commit()
  }

  private service(name: string): ServiceDef | undefined {
    return this.doc.services.find((s) => s.name === name) ?? this.retired.get(name)
  }

  private async acquire(id: string, name: string): Promise<void> {
    const service = this.service(name)
    if (service === undefined) { this.deliver(id, { type: 'LEASE_REFUSED', holder: null, reason: 'the service is no longer configured' }); return }
    try {
      // The verdict that asked for this may be a cycle old: decide again on the lease as it is now
      // (a release for failure just added this node to failedOn, say) before proposing.
      const fresh = await readLease(this.deps.disk, service.index)
      const verdict = this.verdict(service, fresh, this.deps.clock.monotonicMs())
      if (verdict.owner !== this.deps.self.name && fresh.holder !== this.deps.self.id) {
        this.deliver(id, { type: 'LEASE_REFUSED', holder: this.nodeName(fresh.holder), reason: `not proposed: on lease instance ${fresh.instance} placement chooses ${verdict.owner ?? 'no node'} (${verdict.reason})` })
        return
      }
      // The proof journaled is the verdict that let the deciding attempt propose, taken when it
      // planned (the value it replaced), not an earlier attempt's nor one computed afterwards.
      let planned: { view: LeaseView; verdict: ProofVerdict | null } | null = null
      const mayTakeFrom = (current: LeaseView): string | null => {
        const verdict = this.proof(current)
        planned = { view: current, verdict }
        return verdict.ok ? null : verdict.reason
      }
      const onPlan = (current: LeaseView): void => { planned = { view: current, verdict: null } }
      const result = await acquireLease(this.deps.disk, service.index, { nodeId: this.deps.self.id, incarnation: this.deps.incarnation() }, mayTakeFrom, platformRetry(this.deps.platform), onPlan)
      const proven = this.provenBy(planned)
      if (result.acquired) this.deliver(id, { type: 'LEASE_ACQUIRED', lver: result.instance, ...proven })
      else this.deliver(id, { type: 'LEASE_REFUSED', holder: this.nodeName(result.holder), reason: result.reason })
    } catch (error) {
      this.deliver(id, { type: 'LEASE_REFUSED', holder: null, reason: isCarbError(error) ? error.oneLine() : String(error) })
    }
  }

  private async release(id: string, name: string, failedHere: boolean): Promise<void> {
    const service = this.service(name)
    if (service === undefined) { this.deliver(id, { type: 'LEASE_RELEASE_FAILED', reason: 'unknown service' }); return }
    try {
      const result = await releaseLease(this.deps.disk, service.index, { nodeId: this.deps.self.id, incarnation: this.deps.incarnation() }, { failedHere }, platformRetry(this.deps.platform))
      if (result.released) this.deliver(id, { type: 'LEASE_RELEASED', lver: result.instance })
      else this.deliver(id, { type: 'LEASE_RELEASE_FAILED', reason: result.reason })
    } catch (error) {
      this.deliver(id, { type: 'LEASE_RELEASE_FAILED', reason: isCarbError(error) ? error.oneLine() : String(error) })
    }
  }

  private async agent(id: string, name: string, op: 'start' | 'stop' | 'monitor', index: number, call: number): Promise<void> {
    if (op !== 'stop' && !this.deps.isMember()) {
      // Answered all the same: a machine left waiting for AGENT_DONE would wait for ever (the
      // simulator found one stuck in starting after its node rejoined, seed 2156).
      this.deps.log.log('warn', `${name}: not running ${op} of resource ${index}: this node is no longer a member (out or leaving)`)
      this.deliver(id, { type: 'AGENT_DONE', call, op, resource: index, outcome: 'failed', detail: `${op} not run: this node is not a member`, output: '' })
      return
    }
    const resource = this.service(name)?.resources[index]
    if (resource === undefined) { this.deliver(id, { type: 'AGENT_DONE', call, op, resource: index, outcome: 'misconfigured', detail: 'resource no longer configured', output: '' }); return }
    const timeoutMs = op === 'start' ? resource.startTimeoutMs : op === 'stop' ? resource.stopTimeoutMs : resource.monitorTimeoutMs
    // Starts and monitors can be cut short by a self-fence (stopEverything); stops never are.
    const controller = op === 'stop' ? null : new AbortController()
    const running = this.deps.platform.runAgent(resource, op, { timeoutMs, env: this.agentEnv(name, resource.name), onOutput: (line) => this.deps.log.log('info', `${name}/${resource.name} ${op}: ${line}`), ...(controller === null ? {} : { signal: controller.signal }) })
    const entry = controller === null ? null : { controller, done: running.then(() => undefined, () => undefined) }
    if (entry !== null) this.inFlight.add(entry)
    const result = await running.finally(() => { if (entry !== null) this.inFlight.delete(entry) })
    if (op !== 'monitor' || result.outcome !== 'ok') this.deps.log.log(result.outcome === 'ok' ? 'info' : 'warn', `${name}/${resource.name} ${op}: ${result.outcome} (${result.detail})`)
    this.deliver(id, { type: 'AGENT_DONE', call, op, resource: index, outcome: result.outcome, detail: result.detail, output: result.output.slice(-AGENT_OUTPUT_JOURNAL_MAX) })
  }

  /**
   * The `disable` recovery policy: the service is disabled cluster-wide (a new configuration
   * version), so placement does not simply move it elsewhere. Retried on a version race.
   */
  private async disableService(name: string, reason: string): Promise<void> {
    const names = this.nodeNames()
    for (let attempt = 0; attempt < DISABLE_ATTEMPTS_MAX; attempt++) {
      try {
        const { doc } = await readConfig(this.deps.disk, names)
        const service = doc.services.find((s) => s.name === name)
        if (service === undefined || !service.enabled) return
        const next = { ...doc, services: doc.services.map((s) => (s.name === name ? { ...s, enabled: false } : s)) }
        const written = await proposeConfig(this.deps.disk, this.deps.self.id, doc.version, next, names, platformRetry(this.deps.platform))
        this.deps.log.log('warn', `service ${name} disabled by its recovery policy (configuration version ${written.version}): ${reason}`)
        return
      } catch (error) {
        if (!isCarbError(error) || error.code !== 'CARB_ERR_CONFIG_VERSION') {
          this.deps.log.log('error', `service ${name}: could not disable it (${isCarbError(error) ? error.oneLine() : String(error)})`)
          return
        }
      }
    }
  }

  /** What every agent is told about where it runs (scripts shared by all nodes may need the node's name). */
  private agentEnv(service: string, resource: string): Record<string, string> {
    return { CARBONADO_NODE: this.deps.self.name, CARBONADO_SERVICE: service, CARBONADO_RESOURCE: resource, CARBONADO_CLUSTER: this.deps.config.cluster }
  }

  /** Every service machine asked to stop (clean node stop). */
  shutdown(at: number): void {
    for (const service of this.doc.services) {
      const id = this.machineId(service.name)
      if (this.deps.host.has(id)) this.deps.host.deliver(id, { type: 'SHUTDOWN', at })
    }
    this.deps.commit()
  }

  /**
   * This node fenced itself: stop every resource of every service it may hold, all services
   * at once, within `budgetMs` (each stop timeout is cut to what is left), without asking the
   * machines (they belong to the incarnation that just ended). Leases are not released: peers
   * take them over on a proof. True when every stop succeeded in time.
   */
  async stopEverything(reason: string, budgetMs: number): Promise<boolean> {
    const deadline = new Deadline(budgetMs, () => this.deps.clock.monotonicMs())
    // A start still running would finish after the stop and leave the resource up: kill every
    // start and monitor in flight (their process groups) and wait for them first.
    const cut = [...this.inFlight]
    for (const call of cut) call.controller.abort()
    if (cut.length > 0) {
      this.deps.log.log('warn', `cutting ${cut.length} agent call(s) in flight short (${reason})`)
      await settleWithin(this.deps.platform.timers, Promise.all(cut.map((c) => c.done)), deadline.remainingMs())
    }
    // Only where a resource may be up: a service still acquiring its lease has started nothing,
    // and 100 needless stop scripts at once can miss the budget (bench/scaling.ts at 16 nodes).
    const held = [...this.doc.services, ...this.retired.values()].filter((s) => RESOURCE_STATES.includes(String(this.deps.host.view(this.machineId(s.name))?.value ?? 'stopped')))
    const results = await Promise.all(held.map((service) => this.stopAll(service, reason, deadline)))
    return results.every(Boolean)
  }

  /** Every resource of `service`, in reverse order, within the deadline. True when all stopped. */
  private async stopAll(service: ServiceDef, reason: string, deadline: Deadline): Promise<boolean> {
    this.deps.log.log('warn', `${service.name}: stopping every resource here (${reason})`)
    let allStopped = true
    for (const resource of [...service.resources].reverse()) {
      const timeoutMs = Math.min(resource.stopTimeoutMs, deadline.remainingMs())
      if (timeoutMs <= 0) { allStopped = false; this.deps.log.log('error', `${service.name}/${resource.name} stop: no time left`); continue }
      const result = await this.deps.platform.runAgent(resource, 'stop', { timeoutMs, env: this.agentEnv(service.name, resource.name) })
      const ok = result.outcome === 'ok' || result.outcome === 'not-running'
      allStopped &&= ok
      this.deps.log.log(ok ? 'info' : 'error', `${service.name}/${resource.name} stop: ${result.outcome} (${result.detail})`)
    }
    return allStopped
  }

  /**
   * Start-up clean-up, before this incarnation first writes the disk: every service whose lease
   * names this node (an earlier incarnation that crashed, or was killed) gets every resource
   * stopped, so a peer may count "restarted" as proof (machines/takeover-proof.ts). Returns what failed.
   */
  async cleanupStale(): Promise<{ failed: string[]; incarnationMax: number }> {
    // Strict reads: an unreadable configuration or lease must not pass for "nothing to stop".
    const read = async <T>(what: string, get: () => Promise<T>): Promise<T> => {
      let last: unknown
      for (let attempt = 1; attempt <= CLEANUP_READ_ATTEMPTS; attempt++) {
        try { return await get() } catch (error) { last = error; await this.deps.platform.timers.sleep(CLEANUP_READ_RETRY_MS) }
      }
      throw new CarbError('CARB_ERR_CLEANUP_FAILED', `start-up clean-up could not read ${what}: ${isCarbError(last) ? last.oneLine() : String(last)}; not joining (a lease may name this node)`, this.deps.self.name)
    }
    const { doc } = await read('the service configuration', () => readConfig(this.deps.disk, this.nodeNames()))
    this.apply(doc)
    const failed: string[] = []
    let incarnationMax = 0
    for (const service of this.doc.services) {
      const lease = await read(`the lease of ${service.name}`, () => readLease(this.deps.disk, service.index))
      this.leases.set(service.name, lease)
      if (lease.holder !== this.deps.self.id) continue
      incarnationMax = Math.max(incarnationMax, lease.incarnation)
      const stopped = await this.stopAll(service, `start-up clean-up: the lease names this node (incarnation ${lease.incarnation})`, new Deadline(service.resources.reduce((sum, r) => sum + r.stopTimeoutMs, 0), () => this.deps.clock.monotonicMs()))
      if (!stopped) failed.push(service.name)
    }
    return { failed, incarnationMax }
  }


  /** The longest a clean stop may take: every resource's stop timeout, plus a lease release each. */
  stopBudgetMs(): number {
    return this.doc.services.reduce((sum, s) => sum + s.resources.reduce((r, x) => r + x.stopTimeoutMs, 0) + 5000, 1000)
  }

  /** True when no service machine of this incarnation still holds or runs anything. */
  /** Some service machine is where a resource may be up (started, being started or stopped, or a failed stop). */
  resourcesMayRun(): boolean {
    return [...this.doc.services, ...this.retired.values()].some((s) => RESOURCE_STATES.includes(String(this.deps.host.view(this.machineId(s.name))?.value ?? 'stopped')))
  }

  quiet(): boolean {
    return this.doc.services.every((s) => !HOLDING_STATES.includes(String(this.deps.host.view(this.machineId(s.name))?.value ?? 'stopped')))
  }

  status(): ServiceStatus[] {
    return this.doc.services.map((s) => {
      const lease = this.leases.get(s.name)
      return {
        name: s.name, index: s.index, enabled: s.enabled,
        holder: lease === undefined ? null : this.nodeName(lease.holder), leaseInstance: lease?.instance ?? 0,
        localState: String(this.deps.host.view(this.machineId(s.name))?.value ?? 'none'),
        placement: this.verdicts.get(s.name) ?? '',
      }
    })
  }

  get configDoc(): ServicesDoc { return this.doc }
}
