/**
 * Membership of one peer, as seen by this node: unknown → up ⇄ suspect → dead, or left on
 * a clean shutdown. The disk decides (liveness.ts); incarnations tell restarts apart; a
 * node declared dead comes back only as a new incarnation that writes the disk again. A
 * heartbeat from a newer incarnation proves the old one is gone (dead, "replaced"); the
 * new one is up only once it writes the disk.
 * Pure: time arrives inside events, effects leave as emitted events.
 */
import { assign, emit, setup } from 'xstate'
import type { DiskStatusEvent, HeartbeatEvent, MembershipEffect, PeerEvent, ReportedState } from './events.js'
import { assessLiveness, type Liveness, type LivenessTiming } from './liveness.js'

export interface PeerInput {
  peer: string
  nodeId: number
  /** When this observer started watching (monotonic ms). */
  startedAt: number
  channels: number
  timing: LivenessTiming
  /**
   * A peer that reported itself out (dead here), then writes "down" as the same incarnation,
   * has finished stopping everything (it writes "down" only then: a clean stop, or a poison
   * pill answered) and is counted left. Set by membership-2 and later; a journal of an older
   * version lacks it and replays the old rule (dead stays dead).
   */
  leavesAfterOut?: boolean
}

export interface PeerEvidence {
  diskSeq: number | null
  diskChangedAt: number | null
  heartbeatAt: (number | null)[]
  /** When this observer last completed a read of the peer's block (membership-3 counts silence up to it); kept only where the timing asks for it. */
  diskReadAt?: number | null
}

export interface PeerContext extends Omit<PeerInput, 'channels'> {
  incarnation: number | null
  diskReadError: string | null
  /** The incarnation already reported as a zombie (evidence after it was declared dead). */
  zombieReported: number | null
  /** Liveness readings: they change with every disk cycle and heartbeat (see step.ts on coalescing). */
  evidence: PeerEvidence
}

type Evidence = DiskStatusEvent | HeartbeatEvent
const ALIVE_STATES: readonly ReportedState[] = ['joining', 'up', 'leaving']

function freshEvidence(channels: number): PeerEvidence {
  return { diskSeq: null, diskChangedAt: null, heartbeatAt: Array.from({ length: channels }, () => null) }
}

function liveness(context: PeerContext, at: number): Liveness {
  return assessLiveness(context.evidence, context.timing, at, context.startedAt).liveness
}

function why(context: PeerContext, at: number): string {
  const a = assessLiveness(context.evidence, context.timing, at, context.startedAt)
  return `disk silent ${Math.round(a.diskAgeMs)} ms, heartbeat silent ${Math.round(a.heartbeatAgeMs)} ms`
}

function recordEvidence(context: PeerContext, event: PeerEvent): PeerEvidence {
  const e = context.evidence
  if (event.type === 'DISK_STATUS') {
    const changed = { ...e, diskSeq: event.seq, diskChangedAt: event.seq !== e.diskSeq ? event.at : e.diskChangedAt }
    return context.timing.diskReadIntervalMs === undefined ? changed : { ...changed, diskReadAt: event.at }
  }
  if (event.type === 'HEARTBEAT' && event.channel >= 0 && event.channel < e.heartbeatAt.length) {
    return { ...e, heartbeatAt: e.heartbeatAt.map((at, i) => (i === event.channel ? event.at : at)) }
  }
  return e
}

const asEvidence = (event: PeerEvent): Evidence | null =>
  event.type === 'DISK_STATUS' || event.type === 'HEARTBEAT' ? event : null

export const peerMachine = setup({
  types: {} as { context: PeerContext; events: PeerEvent; input: PeerInput; emitted: MembershipEffect },
  guards: {
    olderIncarnation: ({ context, event }) => { const e = asEvidence(event); return e !== null && context.incarnation !== null && e.incarnation < context.incarnation },
    newerIncarnation: ({ context, event }) => { const e = asEvidence(event); return e !== null && context.incarnation !== null && e.incarnation > context.incarnation },
    rejoins: ({ context, event }) => event.type === 'DISK_STATUS' && ALIVE_STATES.includes(event.state) && (context.incarnation === null || event.incarnation > context.incarnation),
    reportsDown: ({ event }) => asEvidence(event)?.state === 'down',
    downAfterOut: ({ context, event }) => context.leavesAfterOut === true && event.type === 'DISK_STATUS' && event.state === 'down' && event.incarnation === context.incarnation,
    reportsOut: ({ event }) => asEvidence(event)?.state === 'out',
    diskChanged: ({ context, event }) => event.type === 'DISK_STATUS' && context.evidence.diskSeq !== null && event.seq !== context.evidence.diskSeq,
    heartbeatAlive: ({ event }) => event.type === 'HEARTBEAT' && ALIVE_STATES.includes(event.state),
    zombie: ({ context, event }) => {
      const e = asEvidence(event)
      if (e === null || e.incarnation !== context.incarnation || context.zombieReported === e.incarnation) return false
      return e.type === 'HEARTBEAT' ? ALIVE_STATES.includes(e.state) : e.seq !== context.evidence.diskSeq && ALIVE_STATES.includes(e.state)
    },
    isDead: ({ context, event }) => liveness(context, event.at) === 'dead',
    isSuspect: ({ context, event }) => liveness(context, event.at) === 'suspect',
    isAlive: ({ context, event }) => liveness(context, event.at) === 'alive',
  },
  actions: {
    record: assign({ evidence: ({ context, event }) => recordEvidence(context, event), diskReadError: ({ context, event }) => (event.type === 'DISK_STATUS' ? null : context.diskReadError) }),
    adopt: assign({ incarnation: ({ context, event }) => asEvidence(event)?.incarnation ?? context.incarnation }),
    resetEvidence: assign({ evidence: ({ context }) => freshEvidence(context.evidence.heartbeatAt.length), zombieReported: null }),
    noteUnreadable: assign({ diskReadError: ({ context, event }) => (event.type === 'DISK_UNREADABLE' ? event.code : context.diskReadError) }),
    markZombie: assign({ zombieReported: ({ context, event }) => asEvidence(event)?.incarnation ?? context.zombieReported }),
    emitUp: emit(({ context, event }) => ({ type: 'effect.peerUp' as const, peer: context.peer, incarnation: context.incarnation ?? 0, reason: event.type === 'HEARTBEAT' ? `heartbeat on channel ${event.channel}` : 'disk status written' })),
    emitSuspect: emit(({ context, event }) => ({ type: 'effect.peerSuspect' as const, peer: context.peer, reason: why(context, event.at) })),
    emitDead: emit(({ context, event }) => ({ type: 'effect.peerDead' as const, peer: context.peer, incarnation: context.incarnation, reason: event.type === 'CHECK' ? why(context, event.at) : `reports itself out (${event.type === 'HEARTBEAT' ? 'heartbeat' : 'disk'})` })),
    emitReplaced: emit(({ context, event }) => ({ type: 'effect.peerDead' as const, peer: context.peer, incarnation: context.incarnation, reason: `replaced by incarnation ${asEvidence(event)?.incarnation ?? '?'} (heartbeat), not yet writing the disk` })),
    emitLeft: emit(({ context }) => ({ type: 'effect.peerLeft' as const, peer: context.peer, incarnation: context.incarnation })),
    emitRestarted: emit(({ context, event }) => ({ type: 'effect.peerRestarted' as const, peer: context.peer, oldIncarnation: context.incarnation ?? 0, newIncarnation: asEvidence(event)?.incarnation ?? 0 })),
    emitZombie: emit(({ context, event }) => ({ type: 'effect.zombie' as const, peer: context.peer, incarnation: context.incarnation ?? 0, source: event.type === 'HEARTBEAT' ? 'heartbeat' as const : 'disk' as const })),
  },
}).createMachine({
  id: 'peer',
  context: ({ input }) => ({
    peer: input.peer, nodeId: input.nodeId, startedAt: input.startedAt, timing: input.timing, ...(input.leavesAfterOut === true ? { leavesAfterOut: true } : {}),
    incarnation: null, diskReadError: null, zombieReported: null, evidence: freshEvidence(input.channels),
  }),
  initial: 'unknown',
  on: { DISK_UNREADABLE: { actions: 'noteUnreadable' } },
  states: {
    unknown: {
      on: {
        DISK_STATUS: [
          { guard: 'reportsDown', target: 'left', actions: ['adopt', 'record', 'emitLeft'] },
          { guard: 'reportsOut', target: 'dead', actions: ['adopt', 'record', 'emitDead'] },
          { guard: 'diskChanged', target: 'up', actions: ['adopt', 'record', 'emitUp'] },
          { actions: ['adopt', 'record'] },
        ],
        HEARTBEAT: [
          { guard: 'heartbeatAlive', target: 'up', actions: ['adopt', 'record', 'emitUp'] },
          { actions: 'record' },
        ],
        CHECK: { guard: 'isDead', target: 'dead', actions: 'emitDead' },
      },
    },
    up: {
      on: {
        DISK_STATUS: [
          { guard: 'olderIncarnation' },
          { guard: 'newerIncarnation', target: 'up', reenter: true, actions: ['emitRestarted', 'adopt', 'resetEvidence', 'record'] },
          { guard: 'reportsDown', target: 'left', actions: ['record', 'emitLeft'] },
          { guard: 'reportsOut', target: 'dead', actions: ['record', 'emitDead'] },
          { actions: 'record' },
        ],
        HEARTBEAT: [
          { guard: 'olderIncarnation' },
          { guard: 'newerIncarnation', target: 'dead', actions: 'emitReplaced' },
          { guard: 'reportsOut', target: 'dead', actions: ['record', 'emitDead'] },
          { actions: 'record' },
        ],
        CHECK: [
          { guard: 'isDead', target: 'dead', actions: 'emitDead' },
          { guard: 'isSuspect', target: 'suspect', actions: 'emitSuspect' },
        ],
      },
    },
    suspect: {
      on: {
        DISK_STATUS: [
          { guard: 'olderIncarnation' },
          { guard: 'newerIncarnation', target: 'up', actions: ['emitRestarted', 'adopt', 'resetEvidence', 'record'] },
          { guard: 'reportsDown', target: 'left', actions: ['record', 'emitLeft'] },
          { guard: 'reportsOut', target: 'dead', actions: ['record', 'emitDead'] },
          { guard: 'diskChanged', target: 'up', actions: ['record', 'emitUp'] },
          { actions: 'record' },
        ],
        HEARTBEAT: [
          { guard: 'olderIncarnation' },
          { guard: 'newerIncarnation', target: 'dead', actions: 'emitReplaced' },
          { guard: 'reportsOut', target: 'dead', actions: ['record', 'emitDead'] },
          { actions: 'record' },
        ],
        CHECK: [
          { guard: 'isDead', target: 'dead', actions: 'emitDead' },
          { guard: 'isAlive', target: 'up', actions: 'emitUp' },
        ],
      },
    },
    dead: {
      on: {
        DISK_STATUS: [
          { guard: 'downAfterOut', target: 'left', actions: ['record', 'emitLeft'] },
          { guard: 'rejoins', target: 'up', actions: ['adopt', 'resetEvidence', 'record', 'emitUp'] },
          { guard: 'zombie', actions: ['markZombie', 'record', 'emitZombie'] },
          { guard: 'olderIncarnation' },
          { actions: 'record' },
        ],
        HEARTBEAT: { guard: 'zombie', actions: ['markZombie', 'emitZombie'] },
      },
    },
    left: {
      on: {
        DISK_STATUS: [
          { guard: 'rejoins', target: 'up', actions: ['adopt', 'resetEvidence', 'record', 'emitUp'] },
          { guard: 'olderIncarnation' },
          { actions: 'record' },
        ],
      },
    },
  },
})
