/**
 * Inputs and effects of the per-service machine (service.ts). Every input carries `at`, the
 * monotonic reading of this node's clock when it arrived; the machine never reads a clock.
 * Effects are emitted events; the shell journals them with the transition, then acts.
 */

/** One resource of a service, in start order (stop order is the reverse). */
export interface ResourceDefinition {
  name: string
  /** Period of the recurring monitor once started; 0 or less: never monitored. */
  monitorIntervalMs: number
}

export type RecoveryPolicy = 'restart-then-relocate' | 'relocate' | 'disable'

/**
 * What to do when a started resource fails (start or monitor):
 *   - 'restart-then-relocate': restart here while the budget allows (maxRestarts within
 *     windowMs), then relocate (rgmanager's recovery="restart" with max_restarts);
 *   - 'relocate': relocate at the first failure, no local restart (recovery="relocate");
 *   - 'disable': restart here while the budget allows, then disable the service cluster-wide
 *     (maxRestarts 0 gives rgmanager's immediate recovery="disable").
 */
export interface RecoveryDefinition {
  policy: RecoveryPolicy
  maxRestarts: number
  windowMs: number
}

export type AgentOp = 'start' | 'stop' | 'monitor'
/** 'not-running' on a stop is success (stopping a stopped resource); on start or monitor it is a failure. */
export type AgentOutcome = 'ok' | 'not-running' | 'failed' | 'timeout' | 'misconfigured'

/** The machine's input: one service machine per configured service on each node. */
export interface ServiceInput {
  service: string
  node: string
  nodeId: number
  incarnation: number
  startedAt: number
  /** In start order; the shell applies each agent's timeouts. */
  resources: ResourceDefinition[]
  recovery: RecoveryDefinition
  enabled: boolean
}

/** The placement function's verdict for this service now (placement.ts); only changes matter. */
export type PlaceEvent = { type: 'PLACE'; at: number; owner: string | null; reason: string }
/** Answers to effect.acquireLease. */
/** `proof` (journaled, not decided on): why the lease could be taken from its holder (machines/takeover-proof.ts). */
export type LeaseAcquiredEvent = { type: 'LEASE_ACQUIRED'; at: number; lver: number; proof?: string; proofKind?: string }
export type LeaseRefusedEvent = { type: 'LEASE_REFUSED'; at: number; holder: string | null; reason: string }
/** Answers to effect.releaseLease. */
export type LeaseReleasedEvent = { type: 'LEASE_RELEASED'; at: number; lver: number }
export type LeaseReleaseFailedEvent = { type: 'LEASE_RELEASE_FAILED'; at: number; reason: string }
/** The disk shows a newer lease version held by someone else: a safety alarm, stop at once. */
export type LeaseLostEvent = { type: 'LEASE_LOST'; at: number; holder: string | null; reason: string }
/**
 * A resource agent call finished. `call` echoes the effect.agent that asked for it: when
 * present it must match exactly; without it the result matches the call in flight by op and
 * resource (the shell runs one call at a time per service). `output` (the agent's output
 * tail) is kept in the journal for the record; no decision reads it.
 */
export type AgentDoneEvent = { type: 'AGENT_DONE'; at: number; call?: number; op: AgentOp; resource: number; outcome: AgentOutcome; detail: string; output?: string }
/** Time has passed: monitors that are due are asked for, a failed release is retried. */
export type ServiceCheckEvent = { type: 'CHECK'; at: number }
/** Administrator's requests. */
export type EnableEvent = { type: 'ENABLE'; at: number }
export type DisableEvent = { type: 'DISABLE'; at: number }
/** Stop every resource, then start them all again here; not counted in the restart budget. */
export type RestartEvent = { type: 'RESTART'; at: number }
/** A new definition. Resources apply at the next start (a running service keeps its own until RESTART, relocation or recovery); recovery applies at once; enabled acts like ENABLE/DISABLE. */
export type ConfigureEvent = { type: 'CONFIGURE'; at: number; resources: ResourceDefinition[]; recovery: RecoveryDefinition; enabled: boolean }
/** This node is leaving cleanly: stop everything here, release the lease, obey no further placement. */
export type ServiceShutdownEvent = { type: 'SHUTDOWN'; at: number }

export type ServiceEvent =
  | PlaceEvent
  | LeaseAcquiredEvent | LeaseRefusedEvent | LeaseReleasedEvent | LeaseReleaseFailedEvent | LeaseLostEvent
  | AgentDoneEvent
  | ServiceCheckEvent
  | EnableEvent | DisableEvent | RestartEvent | ConfigureEvent
  | ServiceShutdownEvent

/** Effects the service machine asks the shell for; all carry `service`. */
export type ServiceEffect =
  /** Run a disk-Paxos round for this service's lease; answer LEASE_ACQUIRED or LEASE_REFUSED. */
  | { type: 'effect.acquireLease'; service: string }
  /** Every resource is stopped: give the lease up; `failedHere` lets placement avoid this node. Answer LEASE_RELEASED or LEASE_RELEASE_FAILED. */
  | { type: 'effect.releaseLease'; service: string; failedHere: boolean }
  /** One resource agent call (never two at once per service); answer AGENT_DONE with the same `call`. */
  | { type: 'effect.agent'; service: string; call: number; op: AgentOp; resource: number; resourceName: string }
  /** A stop failed: this node must be fenced; until then the service stays failed here and keeps its lease. */
  | { type: 'effect.escalate'; service: string; reason: string }
  /** The recovery policy disabled the service: record it disabled in the cluster configuration, so no node starts it until an administrator enables it. */
  | { type: 'effect.disableService'; service: string; reason: string }
