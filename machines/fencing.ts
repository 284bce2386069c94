/**
 * One fencing operation against one target node: delaying → fencing ⇄ backoff → failed, ending
 * in succeeded (fenced) or cancelled.
 *
 *   - delaying: the race delay (only when delayMs > 0): a node that runs no service waits, so in
 *     a fence race the node running services fences first. Left on the first CHECK with
 *     at ≥ startedAt + delayMs.
 *   - fencing: the methods of the target's topology are tried in configured order, one at a
 *     time (`inFlight` names the call). 'ok' fences; any other outcome ('failed', 'timeout',
 *     'misconfigured') moves on to the next method; after the last one the round has failed.
 *   - backoff: wait min(maxMs, baseMs · 2^(round-1)) after a failed round, then, on the first
 *     CHECK past `nextAt`, start the next round at the first method. After roundsMax failed
 *     rounds the operation is failed instead.
 *   - failed: no automatic retry; it waits for an administrator's ACK or a CANCEL. A target
 *     with no fence method configured is failed from the start.
 *   - succeeded, cancelled: final; every later input (a late METHOD_DONE included) is ignored.
 *
 * ACK (the administrator confirms the node is off, like fence_ack_manual) ends any running
 * operation as fenced with proof 'manual-ack'; CANCEL (the target proved itself gone another way:
 * restarted as a newer incarnation, or left cleanly) ends it as cancelled. effect.fenced is
 * emitted at most once, and only for an 'ok' METHOD_DONE of the call in flight or an ACK.
 *
 * Every effect comes from an input with a time: the machine is created with its input only (the
 * host drops effects of the initial transition), and the first method is asked on the first
 * CHECK in fencing (the shell sends one right after creating). Likewise the "no method"
 * effect.fenceGaveUp goes out on the first CHECK in failed. A METHOD_DONE that does not match
 * the call in flight is rejected: counted and described in `rejected`, nothing else changes.
 * Pure: time arrives inside events, deadlines are checked on CHECK (no timers), effects leave
 * as emitted events. No `evidence` in context: every field is a decision input (see step.ts).
 */
import { assign, enqueueActions, setup } from 'xstate'
import type { FenceEffect, FenceEvent, FenceInput, FenceOutcome, FenceProof, FenceRetry, MethodDoneEvent } from './fencing-events.js'

export type { FenceEffect, FenceEvent, FenceInput } from './fencing-events.js'

/** Attempts kept in context (newest last): enough for status over several rounds, bounded for the journal. */
export const ATTEMPTS_MAX = 32

export const NO_METHOD_REASON = 'no fence method configured: waiting for carbonado fence ack'

export interface FenceCall { call: number; method: number }

export interface FenceAttempt { round: number; method: number; name: string; outcome: FenceOutcome; detail: string; at: number }

export interface FencingContext extends FenceInput {
  /** The round being tried, from 1. */
  round: number
  /** The method of the round being tried (or to try on the next CHECK). */
  methodIndex: number
  inFlight: FenceCall | null
  /** Method calls asked so far: the id of the last one. */
  calls: number
  /** The race-delay or backoff deadline, while one is running. */
  nextAt: number | null
  /** The last method failure (or why there is nothing to try), for status. */
  lastError: string | null
  /** The latest ATTEMPTS_MAX method results, oldest first. */
  attempts: FenceAttempt[]
  /** Set when the operation is failed; `announced` once effect.fenceGaveUp went out. */
  gaveUp: { rounds: number; reason: string; announced: boolean } | null
  /** What proved the target off, once succeeded. */
  proof: FenceProof | null
  /** Why the operation was cancelled, once cancelled. */
  cancelReason: string | null
  /** Inputs refused as illegal here (STYLE §8): counted, the last one described. */
  rejected: { count: number; last: string | null }
}

/** The wait after round `round` failed: baseMs doubled per round, capped at maxMs (exponent capped so it never overflows). */
export function backoffMs(retry: Pick<FenceRetry, 'baseMs' | 'maxMs'>, round: number): number {
  const doublings = Math.min(Math.max(round - 1, 0), 52)
  return Math.max(0, Math.min(retry.maxMs, retry.baseMs * 2 ** doublings))
}

/** roundsMax as the machine reads it: whole, at least 1 (the config guarantees it; absurd input does not loop forever nor skip fencing). */
export const roundsMaxOf = (retry: FenceRetry): number => (retry.roundsMax >= 1 ? Math.floor(retry.roundsMax) : 1)

function matches(c: FencingContext, e: FenceEvent): e is MethodDoneEvent {
  const f = c.inFlight
  return e.type === 'METHOD_DONE' && f !== null && e.call === f.call && e.method === f.method
}

const failedDone = (c: FencingContext, e: FenceEvent): boolean => matches(c, e) && e.outcome !== 'ok'
const lastMethod = (c: FencingContext): boolean => c.methodIndex + 1 >= c.methods.length
const nameOf = (c: FencingContext, method: number): string => c.methods[method]?.name ?? `#${method}`
const describe = (c: FencingContext, e: MethodDoneEvent): string => `${nameOf(c, e.method)} ${e.outcome}${e.detail === '' ? '' : `: ${e.detail}`}`
const pastDeadline = (c: FencingContext, e: FenceEvent): boolean => e.type === 'CHECK' && c.nextAt !== null && e.at >= c.nextAt

function attemptOf(c: FencingContext, e: MethodDoneEvent): Pick<FencingContext, 'inFlight' | 'attempts'> {
  const attempt: FenceAttempt = { round: c.round, method: e.method, name: nameOf(c, e.method), outcome: e.outcome, detail: e.detail, at: e.at }
  return { inFlight: null, attempts: [...c.attempts, attempt].slice(-ATTEMPTS_MAX) }
}

function rejection(c: FencingContext, e: FenceEvent): Pick<FencingContext, 'rejected'> {
  const f = c.inFlight
  const expected = f === null ? 'no method in flight' : `call ${f.call} method ${f.method} in flight`
  const what = e.type === 'METHOD_DONE' ? `stale result of call ${e.call} method ${e.method} (${e.outcome})` : 'unexpected input'
  return { rejected: { count: c.rejected.count + 1, last: `${e.type} at ${e.at}: ${what}: ${expected}` } }
}

function fencedEffect(c: FencingContext, proof: FenceProof): FenceEffect {
  return { type: 'effect.fenced', target: c.target, targetId: c.targetId, targetIncarnation: c.targetIncarnation, proof }
}

function initialContext(input: FenceInput): FencingContext {
  const none = input.methods.length === 0
  return {
    ...input,
    round: 1, methodIndex: 0, inFlight: null, calls: 0,
    nextAt: !none && input.delayMs > 0 ? input.startedAt + input.delayMs : null,
    lastError: none ? NO_METHOD_REASON : null,
    attempts: [],
    gaveUp: none ? { rounds: 0, reason: NO_METHOD_REASON, announced: false } : null,
    proof: null, cancelReason: null, rejected: { count: 0, last: null },
  }
}

export const fencingMachine = setup({
  types: {} as { context: FencingContext; events: FenceEvent; input: FenceInput; emitted: FenceEffect },
  guards: {
    noMethods: ({ context }) => context.methods.length === 0,
    noDelay: ({ context }) => context.delayMs <= 0,
    pastDeadline: ({ context, event }) => pastDeadline(context, event),
    idle: ({ context }) => context.inFlight === null,
    doneOk: ({ context, event }) => matches(context, event) && event.outcome === 'ok',
    failedNextMethod: ({ context, event }) => failedDone(context, event) && !lastMethod(context),
    failedRetry: ({ context, event }) => failedDone(context, event) && lastMethod(context) && context.round < roundsMaxOf(context.retry),
    failedGiveUp: ({ context, event }) => failedDone(context, event) && lastMethod(context),
    notAnnounced: ({ context }) => context.gaveUp !== null && !context.gaveUp.announced,
  },
  actions: {
    /** Ask the current method of the current round, unless a call is in flight. */
    askMethod: enqueueActions(({ context: c, enqueue }) => {
      const method = c.methods[c.methodIndex]
      if (c.inFlight !== null || method === undefined) return
      const call = c.calls + 1
      enqueue.assign({ inFlight: { call, method: c.methodIndex }, calls: call, nextAt: null })
      enqueue.emit({
        type: 'effect.fenceMethod', call, method: c.methodIndex, name: method.name, kind: method.kind,
        target: c.target, targetId: c.targetId, targetIncarnation: c.targetIncarnation, round: c.round,
      })
    }),
    /** A method did not fence: recorded, told, and the next method of the round is current. */
    methodFailed: enqueueActions(({ context: c, event, enqueue }) => {
      if (!matches(c, event) || event.outcome === 'ok') return
      enqueue.assign({ ...attemptOf(c, event), lastError: describe(c, event), methodIndex: c.methodIndex + 1 })
      enqueue.emit({ type: 'effect.fenceMethodFailed', target: c.target, name: nameOf(c, event.method), outcome: event.outcome, detail: event.detail, round: c.round })
    }),
    retryLater: enqueueActions(({ context: c, event, enqueue }) => {
      const waitMs = backoffMs(c.retry, c.round)
      enqueue.assign({ nextAt: event.at + waitMs })
      enqueue.emit({ type: 'effect.fenceRetry', target: c.target, round: c.round, waitMs })
    }),
    nextRound: assign(({ context }) => ({ round: context.round + 1, methodIndex: 0, nextAt: null })),
    giveUp: enqueueActions(({ context: c, enqueue }) => {
      const reason = `every method failed in ${c.round} round${c.round === 1 ? '' : 's'} (last: ${c.lastError ?? 'none'}): waiting for carbonado fence ack`
      enqueue.assign({ gaveUp: { rounds: c.round, reason, announced: true }, nextAt: null })
      enqueue.emit({ type: 'effect.fenceGaveUp', target: c.target, rounds: c.round, reason })
    }),
    announceGaveUp: enqueueActions(({ context: c, enqueue }) => {
      if (c.gaveUp === null || c.gaveUp.announced) return
      enqueue.assign({ gaveUp: { ...c.gaveUp, announced: true } })
      enqueue.emit({ type: 'effect.fenceGaveUp', target: c.target, rounds: c.gaveUp.rounds, reason: c.gaveUp.reason })
    }),
    methodFenced: enqueueActions(({ context: c, event, enqueue }) => {
      if (!matches(c, event) || event.outcome !== 'ok') return
      const proof = { name: nameOf(c, event.method), detail: event.detail }
      enqueue.assign({ ...attemptOf(c, event), proof, nextAt: null })
      enqueue.emit(fencedEffect(c, proof))
    }),
    acknowledged: enqueueActions(({ context: c, event, enqueue }) => {
      if (event.type !== 'ACK') return
      const proof = { name: 'manual-ack', detail: `acknowledged off by ${event.who}` }
      enqueue.assign({ proof, inFlight: null, nextAt: null })
      enqueue.emit(fencedEffect(c, proof))
    }),
    cancel: enqueueActions(({ context: c, event, enqueue }) => {
      if (event.type !== 'CANCEL') return
      enqueue.assign({ cancelReason: event.reason, inFlight: null, nextAt: null })
      enqueue.emit({ type: 'effect.fenceCancelled', target: c.target, reason: event.reason })
    }),
    rejectDone: assign(({ context, event }) => rejection(context, event)),
  },
}).createMachine({
  id: 'fencing',
  context: ({ input }) => initialContext(input),
  initial: 'delaying',
  // ACK and CANCEL are listed in each running state, not on the root: xstate's pure
  // `transition()` still takes root transitions from a snapshot that is done.
  states: {
    delaying: {
      // Resolved at creation: no method → failed, no race delay → fencing (nothing emitted: no input time yet).
      always: [{ guard: 'noMethods', target: 'failed' }, { guard: 'noDelay', target: 'fencing' }],
      on: {
        CHECK: { guard: 'pastDeadline', target: 'fencing', actions: 'askMethod' },
        METHOD_DONE: { actions: 'rejectDone' },
        ACK: { target: 'succeeded', actions: 'acknowledged' },
        CANCEL: { target: 'cancelled', actions: 'cancel' },
      },
    },
    fencing: {
      on: {
        CHECK: { guard: 'idle', actions: 'askMethod' },
        METHOD_DONE: [
          { guard: 'doneOk', target: 'succeeded', actions: 'methodFenced' },
          { guard: 'failedNextMethod', actions: ['methodFailed', 'askMethod'] },
          { guard: 'failedRetry', target: 'backoff', actions: ['methodFailed', 'retryLater'] },
          { guard: 'failedGiveUp', target: 'failed', actions: ['methodFailed', 'giveUp'] },
          { actions: 'rejectDone' },
        ],
        // The method in flight may still finish: its late METHOD_DONE reaches a final state and changes nothing.
        ACK: { target: 'succeeded', actions: 'acknowledged' },
        CANCEL: { target: 'cancelled', actions: 'cancel' },
      },
    },
    backoff: {
      on: {
        CHECK: { guard: 'pastDeadline', target: 'fencing', actions: ['nextRound', 'askMethod'] },
        METHOD_DONE: { actions: 'rejectDone' },
        ACK: { target: 'succeeded', actions: 'acknowledged' },
        CANCEL: { target: 'cancelled', actions: 'cancel' },
      },
    },
    failed: {
      on: {
        CHECK: { guard: 'notAnnounced', actions: 'announceGaveUp' },
        METHOD_DONE: { actions: 'rejectDone' },
        ACK: { target: 'succeeded', actions: 'acknowledged' },
        CANCEL: { target: 'cancelled', actions: 'cancel' },
      },
    },
    // Final: no transitions at all, so every later input is a no-op (nothing journaled).
    succeeded: { type: 'final' },
    cancelled: { type: 'final' },
  },
})
