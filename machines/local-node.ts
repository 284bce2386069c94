/**
 * This node's own membership: joining → member → out (self-fenced) or left (clean stop).
 * Kimberlite's rules: a node that cannot write both quorum copies may not join; a member
 * that has not completed a write for selfFenceAfterMs removes itself. The deadline counts
 * from the *start* of the last good write, never later than the moment peers saw it.
 *
 * selfFenceAfterMs is the moment by which everything must be stopped, so the node goes out
 * `stopReserveMs` before it (timing.selfFenceStopMs) and the shell stops every resource in
 * that reserve, then exits whatever is left (the in-process watchdog). Journals written
 * before the reserve existed carry no stopReserveMs: 0, their decisions unchanged.
 *
 * A poison pill (a peer's fence message for this incarnation, read from the quorum disk)
 * puts the node out at once; the shell then stops everything and exits.
 */
import { assign, emit, setup } from 'xstate'
import type { LocalEvent, MembershipEffect, ReportedState } from './events.js'

export interface LocalInput {
  node: string
  nodeId: number
  incarnation: number
  startedAt: number
  selfFenceAfterMs: number
  /** Go out this long before the deadline, to stop resources in time (absent in old journals: 0). */
  stopReserveMs?: number
}

export interface LocalContext extends LocalInput {
  diskError: string | null
  evidence: { lastWriteOkAt: number | null; lastWriteSeq: number | null }
}

export const localNodeMachine = setup({
  types: {} as { context: LocalContext; events: LocalEvent; input: LocalInput; emitted: MembershipEffect },
  guards: {
    deadlinePassed: ({ context, event }) => event.at - (context.evidence.lastWriteOkAt ?? context.startedAt) > context.selfFenceAfterMs - (context.stopReserveMs ?? 0),
  },
  actions: {
    recordWrite: assign({
      evidence: ({ context, event }) => (event.type === 'DISK_WRITE_OK' ? { lastWriteOkAt: event.at, lastWriteSeq: event.seq } : context.evidence),
      diskError: null,
    }),
    recordFailure: assign({ diskError: ({ context, event }) => (event.type === 'DISK_WRITE_FAILED' ? event.code : context.diskError) }),
    emitJoined: emit(({ context }) => ({ type: 'effect.joined' as const, node: context.node, incarnation: context.incarnation })),
    emitSelfFence: emit(({ context, event }) => ({
      type: 'effect.selfFence' as const, node: context.node, incarnation: context.incarnation,
      reason: event.type === 'POISON_PILL'
        ? `poison pill from ${event.from} (${event.action})`
        : `no completed disk write for ${Math.round(event.at - (context.evidence.lastWriteOkAt ?? context.startedAt))} ms (selfFenceAfterMs ${context.selfFenceAfterMs}${context.stopReserveMs ? `, stopping ${context.stopReserveMs} ms before it` : ''})${context.diskError === null ? '' : `, last error ${context.diskError}`}`,
      ...(event.type === 'POISON_PILL' ? { pill: { from: event.from, action: event.action } } : {}),
    })),
    emitLeave: emit(({ context }) => ({ type: 'effect.leave' as const, node: context.node, incarnation: context.incarnation })),
  },
}).createMachine({
  id: 'local',
  context: ({ input }) => ({ ...input, diskError: null, evidence: { lastWriteOkAt: null, lastWriteSeq: null } }),
  initial: 'joining',
  states: {
    joining: {
      on: {
        DISK_WRITE_OK: { target: 'member', actions: ['recordWrite', 'emitJoined'] },
        DISK_WRITE_FAILED: { actions: 'recordFailure' },
        POISON_PILL: { target: 'out', actions: 'emitSelfFence' },
        SHUTDOWN: { target: 'left', actions: 'emitLeave' },
      },
    },
    member: {
      on: {
        DISK_WRITE_OK: { actions: 'recordWrite' },
        DISK_WRITE_FAILED: { actions: 'recordFailure' },
        CHECK: { guard: 'deadlinePassed', target: 'out', actions: 'emitSelfFence' },
        POISON_PILL: { target: 'out', actions: 'emitSelfFence' },
        SHUTDOWN: { target: 'left', actions: 'emitLeave' },
      },
    },
    out: { type: 'final' },
    left: { type: 'final' },
  },
})

/** What this node writes about itself on the disk and in heartbeats, for each machine state. */
export function reportedState(state: string): ReportedState {
  switch (state) {
    case 'member': return 'up'
    case 'out': return 'out'
    case 'left': return 'down'
    default: return 'joining'
  }
}
