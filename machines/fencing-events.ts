/**
 * Inputs and effects of the fencing machine (fencing.ts): one machine per fencing operation
 * against one target node. Every input carries `at`, the monotonic reading of this node's
 * clock when it arrived; the machine never reads a clock. Effects are emitted events; the
 * shell (src/runtime/fence-shell.ts) journals them with the transition, then acts.
 */

/** One level of the target's fencing topology, tried in configured order. */
export interface FenceMethodRef {
  name: string
  kind: 'agent' | 'poison-pill'
}

/** When every method of a round failed: wait min(maxMs, baseMs · 2^(round-1)), at most roundsMax rounds. */
export interface FenceRetry {
  baseMs: number
  maxMs: number
  /** At least 1 (config/fencing.ts checks it; the machine reads anything lower as 1). */
  roundsMax: number
}

/** The machine's input: the operation as the shell requested it. */
export interface FenceInput {
  target: string
  targetId: number
  /** The incarnation this operation stops (a poison pill names it); null when never seen. */
  targetIncarnation: number | null
  requestedBy: string
  /** Why fencing was requested (kept for status and the journal). */
  reason: string
  /** In the order to try; empty: the operation is failed at once and waits for an ACK. */
  methods: FenceMethodRef[]
  /** The race delay before the first method; 0: none. */
  delayMs: number
  retry: FenceRetry
  startedAt: number
}

export type FenceOutcome = 'ok' | 'failed' | 'timeout' | 'misconfigured'

/** Time has passed: the race delay or the backoff may be over; the first method is asked on the first one. */
export type FenceCheckEvent = { type: 'CHECK'; at: number }
/** A method asked by effect.fenceMethod finished; `call` and `method` echo the effect. Only 'ok' fences. */
export type MethodDoneEvent = { type: 'METHOD_DONE'; at: number; call: number; method: number; outcome: FenceOutcome; detail: string }
/** An administrator confirms the node is off (fence_ack_manual): fenced, proof 'manual-ack'. */
export type AckEvent = { type: 'ACK'; at: number; who: string }
/** The target proved itself gone another way (restarted as a newer incarnation, left cleanly): nothing to fence. */
export type CancelEvent = { type: 'CANCEL'; at: number; reason: string }

export type FenceEvent = FenceCheckEvent | MethodDoneEvent | AckEvent | CancelEvent

/** What proves the target off: the method that reported it, or 'manual-ack'. */
export interface FenceProof {
  name: string
  detail: string
}

/** Effects the fencing machine asks the shell for; all carry `target`. */
export type FenceEffect =
  /** Run method `method` (index into the input's methods) now; answer METHOD_DONE with the same `call` and `method`. */
  | { type: 'effect.fenceMethod'; call: number; method: number; name: string; kind: FenceMethodRef['kind']; target: string; targetId: number; targetIncarnation: number | null; round: number }
  /** A method did not fence the target (for the log; the machine already moved on). */
  | { type: 'effect.fenceMethodFailed'; target: string; name: string; outcome: Exclude<FenceOutcome, 'ok'>; detail: string; round: number }
  /** Every method of round `round` failed; the next round starts after waitMs. */
  | { type: 'effect.fenceRetry'; target: string; round: number; waitMs: number }
  /** No more rounds (or no method at all): the operation waits for ACK or CANCEL; the target's services stay put. */
  | { type: 'effect.fenceGaveUp'; target: string; rounds: number; reason: string }
  /** The target is proven off: its leases may be taken (fence/proof.ts). Emitted at most once per operation. */
  | { type: 'effect.fenced'; target: string; targetId: number; targetIncarnation: number | null; proof: FenceProof }
  /** Nothing to fence any more. */
  | { type: 'effect.fenceCancelled'; target: string; reason: string }
