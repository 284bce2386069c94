/**
 * This node's role for one service: disabled ⇄ stopped → acquiring → starting → running,
 * and back through stopping → releasing; recovering after a resource failure; failed when a
 * stop fails (the node must be fenced); left after a clean shutdown.
 *
 * Exclusive ownership rests on the service's lease on the quorum disk:
 *   - a resource is started only while the lease is held (LEASE_ACQUIRED seen, not yet lost
 *     or released);
 *   - the lease is released only after every resource that may have started got a
 *     successful stop ('not-running' counts: stopping a stopped resource succeeds);
 *   - a failed stop keeps the lease and escalates: the service never runs elsewhere until
 *     this node is fenced.
 * Resource agents run one call at a time: `inFlight` names the call, and an AGENT_DONE that
 * does not match it is rejected (noted in context, so the runtime journals it).
 *
 * Intent (enabled, the placement verdict, leaving, a restart request) is recorded whenever
 * it arrives; the eventless transitions act on it as soon as no agent or lease call is in
 * flight. Pure: time arrives inside events, effects leave as emitted events. No `evidence`
 * in context: every field here is a decision input, none may be coalesced (see step.ts).
 */
import { assign, emit, enqueueActions, setup } from 'xstate'
import { tryRestart } from './restart-budget.js'
import type {
  AgentDoneEvent, AgentOp, AgentOutcome, RecoveryDefinition, ResourceDefinition, ServiceEffect, ServiceEvent, ServiceInput,
} from './service-events.js'

export type { ServiceInput } from './service-events.js'

export interface AgentCall { call: number; op: AgentOp; resource: number }

export interface LeaseView {
  held: boolean
  lver: number | null
  /** The lease request in flight, if any. */
  op: 'acquire' | 'release' | null
  /** Why the last release failed (retried on CHECK). */
  error: string | null
}

export interface FailureRecord { op: AgentOp; resource: number; resourceName: string; outcome: AgentOutcome; detail: string; at: number }

export interface ServiceContext {
  service: string
  node: string
  nodeId: number
  incarnation: number
  startedAt: number
  /** The newest definition; resources apply at the next start. */
  resources: ResourceDefinition[]
  recovery: RecoveryDefinition
  enabled: boolean
  /** The resources in use since the last start: what monitors and stops refer to. */
  active: ResourceDefinition[]
  /** Resources 0 … upTo-1 may be running (started, being started, or not yet stopped). */
  upTo: number
  nextMonitorAt: (number | null)[]
  inFlight: AgentCall | null
  /** Agent calls asked so far: the id of the last one. */
  calls: number
  lease: LeaseView
  /** The latest placement verdict still in force (consumed when the lease is given up for failure, refused or lost). */
  placement: { owner: string | null; reason: string } | null
  leaving: boolean
  restartRequested: boolean
  /** The failure being recovered from, or the stop that failed. */
  failure: FailureRecord | null
  /** Sent with the next release: the service failed here, placement should avoid this node. */
  failedHere: boolean
  /** Restart times inside the recovery window (restart-budget.ts), oldest first. */
  restarts: number[]
  /** Why the machine is where it is, for status and replay. */
  reason: string | null
  /** Inputs refused as illegal here (STYLE §8): counted, the last one described. */
  rejected: { count: number; last: string | null }
}

type Args = { context: ServiceContext; event: ServiceEvent }

const wantRun = (c: ServiceContext): boolean => c.enabled && !c.leaving && c.placement?.owner === c.node
const idle = (c: ServiceContext): boolean => c.inFlight === null
const allStopped = (c: ServiceContext): boolean => c.inFlight === null && c.upTo === 0
const asDone = (e: ServiceEvent): AgentDoneEvent | null => (e.type === 'AGENT_DONE' ? e : null)

function matches(c: ServiceContext, e: ServiceEvent): e is AgentDoneEvent {
  const f = c.inFlight
  return e.type === 'AGENT_DONE' && f !== null && (e.call === undefined || e.call === f.call) && e.op === f.op && e.resource === f.resource
}

const succeeded = (e: AgentDoneEvent): boolean => e.outcome === 'ok' || (e.op === 'stop' && e.outcome === 'not-running')
const nameOf = (c: ServiceContext, resource: number): string => c.active[resource]?.name ?? `#${resource}`

function nextAt(c: ServiceContext, resource: number, at: number): number | null {
  const interval = c.active[resource]?.monitorIntervalMs ?? 0
  return interval > 0 ? at + interval : null
}

/** The started resource whose monitor is most overdue at `at` (ties: start order), or null. */
function dueMonitor(c: ServiceContext, at: number): number | null {
  let due: number | null = null
  for (let i = 0; i < c.upTo; i++) {
    const t = c.nextMonitorAt[i] ?? null
    if (t !== null && t <= at && (due === null || t < (c.nextMonitorAt[due] ?? Infinity))) due = i
  }
  return due
}

function describe(c: ServiceContext, e: AgentDoneEvent): string {
  return `${e.op} of ${nameOf(c, e.resource)} (${e.resource}) ${e.outcome}${e.detail === '' ? '' : `: ${e.detail}`}`
}

function failureOf(c: ServiceContext, e: AgentDoneEvent): FailureRecord {
  return { op: e.op, resource: e.resource, resourceName: nameOf(c, e.resource), outcome: e.outcome, detail: e.detail, at: e.at }
}

function rejection(c: ServiceContext, e: ServiceEvent, why: string): Pick<ServiceContext, 'rejected'> {
  return { rejected: { count: c.rejected.count + 1, last: `${e.type} at ${e.at}: ${why}` } }
}

function agentRejection(c: ServiceContext, e: ServiceEvent): string {
  if (e.type !== 'AGENT_DONE') return 'not an agent result'
  const f = c.inFlight
  const expected = f === null ? 'no agent call in flight' : `call ${f.call} ${f.op} ${f.resource} in flight`
  return `stale result${e.call === undefined ? '' : ` of call ${e.call}`} ${e.op} ${e.resource} (${e.outcome}): ${expected}`
}

type RecoveryStep = { kind: 'abandon' | 'restart' | 'relocate' | 'disable'; reason: string; restarts: number[] }

/** After a failure, with every resource stopped: restart here, or give the service up per policy. */
function recoveryStep(c: ServiceContext, at: number): RecoveryStep {
  const f = c.failure
  const what = f === null ? 'failure' : `${f.op} of ${f.resourceName} ${f.outcome}`
  if (!wantRun(c)) return { kind: 'abandon', reason: `${what}; no longer wanted here: release`, restarts: c.restarts }
  const { policy, windowMs } = c.recovery
  const giveUp = policy === 'disable' ? 'disable' : 'relocate'
  if (f?.outcome === 'misconfigured') return { kind: giveUp, reason: `${what}: no retry here: ${giveUp}`, restarts: c.restarts }
  if (policy === 'relocate') return { kind: 'relocate', reason: `${what}: policy relocate`, restarts: c.restarts }
  const v = tryRestart(c.restarts, c.recovery, at)
  if (v.allowed) return { kind: 'restart', reason: `${what}: restart ${v.used} of ${v.max} within ${windowMs} ms`, restarts: v.history }
  return { kind: giveUp, reason: `${what}: restart budget exhausted (${v.used} of ${v.max} within ${windowMs} ms): ${giveUp}`, restarts: v.history }
}

const recoveryIs = (kind: RecoveryStep['kind']) => ({ context, event }: Args) => allStopped(context) && recoveryStep(context, event.at).kind === kind

function agentCall(c: ServiceContext, op: AgentOp, resource: number): { call: AgentCall; effect: ServiceEffect } {
  const call = { call: c.calls + 1, op, resource }
  return { call, effect: { type: 'effect.agent', service: c.service, call: call.call, op, resource, resourceName: nameOf(c, resource) } }
}

const sameDefinition = (c: ServiceContext, e: { resources: ResourceDefinition[]; recovery: RecoveryDefinition }): boolean =>
  JSON.stringify([c.resources, c.recovery]) === JSON.stringify([e.resources, e.recovery])

export const serviceMachine = setup({
  types: {} as { context: ServiceContext; events: ServiceEvent; input: ServiceInput; emitted: ServiceEffect },
  guards: {
    enabled: ({ context }) => context.enabled,
    notEnabled: ({ context }) => !context.enabled,
    leaving: ({ context }) => context.leaving,
    notLeaving: ({ context }) => !context.leaving,
    wantRun: ({ context }) => wantRun(context),
    /** Only a new owner matters: a verdict with the same owner and another wording changes nothing. */
    placementChanged: ({ context, event }) => event.type === 'PLACE' && (context.placement === null || context.placement.owner !== event.owner),
    configChanged: ({ context, event }) => event.type === 'CONFIGURE' && (!sameDefinition(context, event) || context.enabled !== event.enabled),
    definitionChanged: ({ context, event }) => event.type === 'CONFIGURE' && !sameDefinition(context, event),
    /** The configuration turns enabled off (a repeat of an unchanged enabled:false retries nothing: send DISABLE to retry). */
    configDisables: ({ context, event }) => event.type === 'CONFIGURE' && !event.enabled && context.enabled,
    configEnables: ({ context, event }) => event.type === 'CONFIGURE' && event.enabled && !context.enabled,
    strayLease: ({ context }) => !context.lease.held && context.lease.op === null,
    leaseHeld: ({ context }) => context.lease.held,
    acquiring: ({ context }) => context.lease.op === 'acquire',
    acquiredWanted: ({ context }) => context.lease.op === 'acquire' && wantRun(context),
    releasing: ({ context }) => context.lease.op === 'release',
    releasingLost: ({ context }) => context.lease.op === 'release' && !context.lease.held,
    releaseToRetry: ({ context }) => context.lease.op === null && context.lease.held,
    notRestarting: ({ context }) => !context.restartRequested,
    startOk: ({ context, event }) => matches(context, event) && event.op === 'start' && succeeded(event),
    startFailed: ({ context, event }) => matches(context, event) && event.op === 'start',
    monitorOk: ({ context, event }) => matches(context, event) && event.op === 'monitor' && succeeded(event),
    monitorFailed: ({ context, event }) => matches(context, event) && event.op === 'monitor',
    stopOk: ({ context, event }) => matches(context, event) && event.op === 'stop' && succeeded(event),
    stopFailed: ({ context, event }) => matches(context, event) && event.op === 'stop',
    drain: ({ context, event }) => matches(context, event),
    monitorDue: ({ context, event }) => idle(context) && dueMonitor(context, event.at) !== null,
    startUnwanted: ({ context }) => idle(context) && !wantRun(context),
    allStarted: ({ context }) => idle(context) && context.upTo >= context.active.length,
    runUnwanted: ({ context }) => idle(context) && (!wantRun(context) || context.restartRequested),
    stoppedRestart: ({ context }) => allStopped(context) && context.lease.held && wantRun(context),
    stoppedHeld: ({ context }) => allStopped(context) && context.lease.held,
    stoppedAll: ({ context }) => allStopped(context),
    recoverAbandon: recoveryIs('abandon'),
    recoverRestart: recoveryIs('restart'),
    recoverDisable: recoveryIs('disable'),
    recoverRelocate: recoveryIs('relocate'),
  },
  actions: {
    storePlacement: assign(({ event }) => (event.type === 'PLACE' ? { placement: { owner: event.owner, reason: event.reason } } : {})),
    forgetPlacement: assign({ placement: null }),
    enable: assign({ enabled: true }),
    disable: assign({ enabled: false }),
    storeConfig: assign(({ event }) => (event.type === 'CONFIGURE' ? { resources: event.resources, recovery: event.recovery, enabled: event.enabled } : {})),
    storeDefinition: assign(({ event }) => (event.type === 'CONFIGURE' ? { resources: event.resources, recovery: event.recovery } : {})),
    leave: assign({ leaving: true }),
    requestRestart: assign(({ event }) => ({ restartRequested: true, reason: `restart requested at ${event.at}` })),
    clearRestart: assign({ restartRequested: false }),
    rejectRestart: assign(({ context, event }) => rejection(context, event, 'not running here')),
    rejectAgent: assign(({ context, event }) => rejection(context, event, agentRejection(context, event))),
    rejectLease: assign(({ context, event }) => rejection(context, event, `no matching lease request in flight (lease ${context.lease.held ? `held, lver ${context.lease.lver}` : 'not held'}, request ${context.lease.op ?? 'none'})`)),
    rejectEnable: assign(({ context, event }) => rejection(context, event, `service failed here (${context.reason ?? 'a stop failed'}): this node awaits fencing; DISABLE retries the stop`)),
    rejectShutdown: assign(({ context, event }) => ({ leaving: true, ...rejection(context, event, 'cannot leave cleanly: a stop failed, the service stays failed here with its lease until fenced or a DISABLE retry stops it') })),
    requestAcquire: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ lease: { ...context.lease, op: 'acquire', error: null } })
      enqueue.emit({ type: 'effect.acquireLease', service: context.service })
    }),
    adoptLease: assign(({ context, event }) => (event.type === 'LEASE_ACQUIRED' ? { lease: { ...context.lease, held: true, lver: event.lver, op: null } } : {})),
    newTenure: assign({ failedHere: false }),
    refused: assign(({ context, event }) => (event.type === 'LEASE_REFUSED'
      ? { lease: { ...context.lease, op: null }, placement: null, reason: `lease refused${event.holder === null ? '' : ` (held by ${event.holder})`}: ${event.reason}` }
      : {})),
    loseLease: assign(({ context, event }) => (event.type === 'LEASE_LOST'
      ? { lease: { held: false, lver: null, op: context.lease.op, error: null }, placement: null, reason: `LEASE LOST to ${event.holder ?? 'nobody'}: ${event.reason}` }
      : {})),
    requestRelease: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ lease: { ...context.lease, op: 'release', error: null } })
      enqueue.emit({ type: 'effect.releaseLease', service: context.service, failedHere: context.failedHere })
    }),
    releaseFailed: assign(({ context, event }) => (event.type === 'LEASE_RELEASE_FAILED' ? { lease: { ...context.lease, op: null, error: event.reason } } : {})),
    dropLease: assign({ lease: { held: false, lver: null, op: null, error: null } }),
    beginStart: assign(({ context }) => ({ active: context.resources, upTo: 0, nextMonitorAt: context.resources.map(() => null), failure: null, restartRequested: false })),
    startNext: enqueueActions(({ context, enqueue }) => {
      if (!idle(context) || !wantRun(context) || !context.lease.held || context.upTo >= context.active.length) return
      const { call, effect } = agentCall(context, 'start', context.upTo)
      enqueue.assign({ inFlight: call, calls: call.call })
      enqueue.emit(effect)
    }),
    startedOk: assign(({ context, event }) => {
      const e = asDone(event)
      if (e === null) return {}
      return { inFlight: null, upTo: Math.max(context.upTo, e.resource + 1), nextMonitorAt: context.nextMonitorAt.map((t, i) => (i === e.resource ? nextAt(context, i, e.at) : t)) }
    }),
    startFailedHere: assign(({ context, event }) => {
      const e = asDone(event)
      if (e === null) return {}
      return { inFlight: null, upTo: Math.max(context.upTo, e.resource + 1), failure: failureOf(context, e), reason: describe(context, e) }
    }),
    monitorNext: enqueueActions(({ context, event, enqueue }) => {
      if (!idle(context) || !wantRun(context) || context.restartRequested) return
      const due = dueMonitor(context, event.at)
      if (due === null) return
      const { call, effect } = agentCall(context, 'monitor', due)
      enqueue.assign({ inFlight: call, calls: call.call })
      enqueue.emit(effect)
    }),
    monitoredOk: assign(({ context, event }) => {
      const e = asDone(event)
      if (e === null) return {}
      return { inFlight: null, nextMonitorAt: context.nextMonitorAt.map((t, i) => (i === e.resource ? nextAt(context, i, e.at) : t)) }
    }),
    monitorFailedHere: assign(({ context, event }) => {
      const e = asDone(event)
      return e === null ? {} : { inFlight: null, failure: failureOf(context, e), reason: describe(context, e) }
    }),
    stopNext: enqueueActions(({ context, enqueue }) => {
      if (!idle(context) || context.upTo <= 0) return
      const { call, effect } = agentCall(context, 'stop', context.upTo - 1)
      enqueue.assign({ inFlight: call, calls: call.call })
      enqueue.emit(effect)
    }),
    stoppedOk: assign(({ context, event }) => {
      const e = asDone(event)
      return e === null ? {} : { inFlight: null, upTo: Math.min(context.upTo, e.resource), nextMonitorAt: context.nextMonitorAt.map((t, i) => (i === e.resource ? null : t)) }
    }),
    stopFailedHere: assign(({ context, event }) => {
      const e = asDone(event)
      return e === null ? {} : { inFlight: null, failure: failureOf(context, e), failedHere: true, reason: `${describe(context, e)}: this node must be fenced` }
    }),
    /** The start or monitor that was in flight when the stop was decided finished: a started resource may be running. */
    drained: assign(({ context, event }) => {
      const e = asDone(event)
      if (e === null) return {}
      return { inFlight: null, upTo: e.op === 'start' ? Math.max(context.upTo, e.resource + 1) : context.upTo }
    }),
    escalate: emit(({ context }) => ({ type: 'effect.escalate' as const, service: context.service, reason: context.reason ?? 'a stop failed' })),
    recover: assign(({ context, event }) => {
      const step = recoveryStep(context, event.at)
      const giveUp = step.kind !== 'restart'
      return { restarts: step.restarts, reason: step.reason, failedHere: giveUp ? true : context.failedHere, placement: giveUp ? null : context.placement }
    }),
    disableByPolicy: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ enabled: false })
      enqueue.emit({ type: 'effect.disableService', service: context.service, reason: context.reason ?? 'recovery policy disable' })
    }),
  },
}).createMachine({
  id: 'service',
  context: ({ input }) => ({
    service: input.service, node: input.node, nodeId: input.nodeId, incarnation: input.incarnation, startedAt: input.startedAt,
    resources: input.resources, recovery: input.recovery, enabled: input.enabled,
    active: input.resources, upTo: 0, nextMonitorAt: input.resources.map(() => null), inFlight: null, calls: 0,
    lease: { held: false, lver: null, op: null, error: null }, placement: null, leaving: false, restartRequested: false,
    failure: null, failedHere: false, restarts: [], reason: null, rejected: { count: 0, last: null },
  }),
  initial: 'stopped',
  on: {
    PLACE: { guard: 'placementChanged', actions: 'storePlacement' },
    ENABLE: { guard: 'notEnabled', actions: 'enable' },
    DISABLE: { guard: 'enabled', actions: 'disable' },
    CONFIGURE: { guard: 'configChanged', actions: 'storeConfig' },
    SHUTDOWN: { guard: 'notLeaving', actions: 'leave' },
    RESTART: { actions: 'rejectRestart' },
    AGENT_DONE: { actions: 'rejectAgent' },
    LEASE_ACQUIRED: { actions: 'rejectLease' },
    LEASE_REFUSED: { actions: 'rejectLease' },
    LEASE_RELEASED: { actions: 'rejectLease' },
    LEASE_RELEASE_FAILED: { actions: 'rejectLease' },
    // A lease already known lost (or never held) is lost again: nothing new, a no-op.
  },
  states: {
    disabled: {
      entry: 'forgetPlacement',
      always: [{ guard: 'leaving', target: 'left' }, { guard: 'enabled', target: 'stopped' }],
      on: { LEASE_ACQUIRED: { guard: 'strayLease', target: 'releasing', actions: ['adoptLease', 'newTenure'] } },
    },
    stopped: {
      always: [{ guard: 'leaving', target: 'left' }, { guard: 'notEnabled', target: 'disabled' }, { guard: 'wantRun', target: 'acquiring' }],
      on: { LEASE_ACQUIRED: { guard: 'strayLease', target: 'releasing', actions: ['adoptLease', 'newTenure'] } },
    },
    acquiring: {
      entry: 'requestAcquire',
      on: {
        LEASE_ACQUIRED: [
          { guard: 'acquiredWanted', target: 'starting', actions: ['adoptLease', 'newTenure'] },
          { guard: 'acquiring', target: 'releasing', actions: ['adoptLease', 'newTenure'] },
        ],
        LEASE_REFUSED: { guard: 'acquiring', target: 'stopped', actions: 'refused' },
        // Nothing runs yet. The request stays in flight (one lease request at a time): its
        // answer decides, and a late LEASE_ACQUIRED is released since the verdict is forgotten.
        LEASE_LOST: { actions: 'loseLease' },
      },
    },
    starting: {
      entry: ['beginStart', 'startNext'],
      always: [{ guard: 'startUnwanted', target: 'stopping' }, { guard: 'allStarted', target: 'running' }],
      on: {
        AGENT_DONE: [
          { guard: 'startOk', actions: ['startedOk', 'startNext'] },
          { guard: 'startFailed', target: 'recovering', actions: 'startFailedHere' },
          { actions: 'rejectAgent' },
        ],
        LEASE_LOST: { target: 'stopping', actions: 'loseLease' },
      },
    },
    running: {
      always: { guard: 'runUnwanted', target: 'stopping' },
      on: {
        CHECK: { guard: 'monitorDue', actions: 'monitorNext' },
        AGENT_DONE: [
          { guard: 'monitorOk', actions: ['monitoredOk', 'monitorNext'] },
          { guard: 'monitorFailed', target: 'recovering', actions: 'monitorFailedHere' },
          { actions: 'rejectAgent' },
        ],
        RESTART: { guard: 'notRestarting', actions: 'requestRestart' },
        LEASE_LOST: { target: 'stopping', actions: 'loseLease' },
      },
    },
    recovering: {
      entry: 'stopNext',
      always: [
        { guard: 'recoverAbandon', target: 'releasing', actions: 'recover' },
        { guard: 'recoverRestart', target: 'starting', actions: 'recover' },
        { guard: 'recoverDisable', target: 'releasing', actions: ['recover', 'disableByPolicy'] },
        { guard: 'recoverRelocate', target: 'releasing', actions: 'recover' },
      ],
      on: {
        AGENT_DONE: [
          { guard: 'stopOk', actions: ['stoppedOk', 'stopNext'] },
          { guard: 'stopFailed', target: 'failed', actions: 'stopFailedHere' },
          { guard: 'drain', actions: ['drained', 'stopNext'] },
          { actions: 'rejectAgent' },
        ],
        LEASE_LOST: { target: 'stopping', actions: 'loseLease' },
      },
    },
    stopping: {
      entry: 'stopNext',
      always: [
        { guard: 'stoppedRestart', target: 'starting', actions: 'clearRestart' },
        { guard: 'stoppedHeld', target: 'releasing', actions: 'clearRestart' },
        { guard: 'stoppedAll', target: 'stopped', actions: 'clearRestart' },
      ],
      on: {
        AGENT_DONE: [
          { guard: 'stopOk', actions: ['stoppedOk', 'stopNext'] },
          { guard: 'stopFailed', target: 'failed', actions: 'stopFailedHere' },
          { guard: 'drain', actions: ['drained', 'stopNext'] },
          { actions: 'rejectAgent' },
        ],
        LEASE_LOST: { guard: 'leaseHeld', actions: 'loseLease' },
      },
    },
    releasing: {
      entry: 'requestRelease',
      on: {
        // The verdict that was in force is forgotten: the next PLACE, computed from the lease as
        // released (failedOn included), decides whether this node takes the service again.
        LEASE_RELEASED: { guard: 'releasing', target: 'stopped', actions: ['dropLease', 'forgetPlacement'] },
        LEASE_RELEASE_FAILED: [
          { guard: 'releasingLost', target: 'stopped', actions: 'releaseFailed' },
          { guard: 'releasing', actions: 'releaseFailed' },
        ],
        CHECK: { guard: 'releaseToRetry', actions: 'requestRelease' },
        // Everything is stopped already; the release in flight is still awaited (one lease request at a time).
        LEASE_LOST: { guard: 'leaseHeld', actions: 'loseLease' },
      },
    },
    failed: {
      entry: 'escalate',
      on: {
        DISABLE: { target: 'stopping', actions: 'disable' },
        CONFIGURE: [
          { guard: 'configDisables', target: 'stopping', actions: ['storeDefinition', 'disable'] },
          { guard: 'definitionChanged', actions: 'storeDefinition' },
          { guard: 'configEnables', actions: 'rejectEnable' },
          { actions: [] },
        ],
        ENABLE: { actions: 'rejectEnable' },
        SHUTDOWN: { guard: 'notLeaving', actions: 'rejectShutdown' },
        LEASE_LOST: { guard: 'leaseHeld', actions: 'loseLease' },
      },
    },
    left: { type: 'final' },
  },
})
