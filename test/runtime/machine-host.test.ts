import t from 'tap'
import { initialTransition } from 'xstate'
import { MachineHost, type Decision } from '../../src/runtime/machine-host.js'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'
import { peerMachine } from '../../machines/membership.js'
import { assessLiveness } from '../../machines/liveness.js'
import { step, type TransitionRecord } from '../../machines/step.js'
import { replayRecords, describeDifference } from '../../journal/replay.js'
import type { JournalRecord, StoredRecord } from '../../journal/records.js'
import { peerStream } from '../helpers/peer-stream.js'
import type { PeerEvent } from '../../machines/events.js'

const timing = { diskSuspectAfterMs: 2000, diskDeadAfterMs: 10000, peerDeadAfterMs: 5000 }
const input = { peer: 'b', nodeId: 2, startedAt: 0, channels: 2, timing }
const keyOf = (e: { type: string; channel?: number }): string | undefined =>
  e.type === 'DISK_STATUS' ? 'disk' : e.type === 'HEARTBEAT' ? `hb:${e.channel}` : undefined

function hosted(events: { type: string; at: number }[]) {
  const records: StoredRecord[] = []
  const decisions: Decision[] = []
  const host = new MachineHost({ append: (record: JournalRecord) => records.push({ seq: records.length + 1, record }) }, (d) => decisions.push(d))
  host.create('peer:b', 'peer', input, 0)
  for (const e of events) host.deliver('peer:b', e, keyOf(e as { type: string; channel?: number }))
  return { host, records, decisions }
}

function naive(events: { type: string; at: number }[]): { at: number; t: TransitionRecord }[] {
  let [s] = initialTransition(peerMachine, input)
  const out: { at: number; t: TransitionRecord }[] = []
  for (const e of events) {
    const r = step(peerMachine, s, e)
    s = r.snapshot
    if (r.transition !== null) out.push({ at: e.at, t: r.transition })
  }
  return out
}

t.test('an idle healthy peer writes nothing to the journal after it is seen up', async (t) => {
  const { records, host } = hosted(idleHour())
  const kinds = records.map((r) => r.record.t)
  t.same(kinds.filter((k) => k === 'transition').length, 1, 'one decision: up')
  t.ok(records.length <= 6, `an hour of disk reads, heartbeats and checks left ${records.length} records`)
  t.ok(host.counters.coalesced > 10000, 'evidence was coalesced, not dropped unseen')
})

function idleHour(): PeerEvent[] {
  const events: PeerEvent[] = []
  for (let at = 0; at < 3_600_000; at += 100) {
    if (at % 1000 === 0) events.push({ type: 'DISK_STATUS', at, seq: at / 1000, incarnation: 1, state: 'up' })
    if (at % 500 === 0) for (const channel of [0, 1]) events.push({ type: 'HEARTBEAT', at, channel, incarnation: 1, seq: at, state: 'up' })
    events.push({ type: 'CHECK', at: at + 50 })
  }
  return events
}

t.test('coalescing never changes a decision (seeded fault streams)', async (t) => {
  for (let seed = 1; seed <= 60; seed++) {
    const events = peerStream(seed, 120_000)
    const expected = naive(events).map((x) => ({ at: x.at, ...x.t }))
    const { decisions } = hosted(events)
    const got = decisions.map((d) => ({ at: d.atMs, ...d.transition }))
    t.same(got, expected, `seed ${seed}: same decisions at the same instants`)
  }
})

/** The first seed whose stream has a peer declared dead on silence (disk and network). */
function seedWithDeath(): number {
  for (let seed = 1; seed < 500; seed++) {
    if (naive(peerStream(seed, 120_000)).some((x) => x.t.to === 'dead' && x.t.event === 'CHECK')) return seed
  }
  throw new Error('no seed under 500 produces a death: the stream generator is broken')
}

t.test('the journal of a faulty run replays exactly', async (t) => {
  const { records, decisions } = hosted(peerStream(seedWithDeath(), 120_000))
  t.ok(decisions.length >= 2, `the stream has decisions to replay (${decisions.length})`)
  const result = await replayRecords(records, MACHINES, REPLAYABLE_CODE_VERSIONS)
  t.ok(result.ok, result.difference === undefined ? 'replayed' : describeDifference(result.difference))
  t.equal(result.transitions, decisions.length)
})

t.test('replay catches a machine that decides differently', async (t) => {
  const { records } = hosted(peerStream(seedWithDeath(), 120_000))
  // Deliberately changed decision code: the dead deadline is one second later than the
  // recorded one, so the CHECK that declared the peer dead now decides nothing.
  const later = { ...timing, diskDeadAfterMs: timing.diskDeadAfterMs + 1000, peerDeadAfterMs: timing.peerDeadAfterMs + 1000 }
  const changed = peerMachine.provide({ guards: { isDead: ({ context, event }) => assessLiveness(context.evidence, later, event.at, context.startedAt).liveness === 'dead' } })
  const result = await replayRecords(records, { ...MACHINES, peer: changed }, REPLAYABLE_CODE_VERSIONS)
  t.notOk(result.ok, 'divergence detected')
  t.match(describeDifference(result.difference!), /first difference at seq \d+, machine peer:b: machine decided differently\n  input: +\{"type":"CHECK"/)
  t.equal(result.difference?.got, null, 'the changed machine stays silent where the recorded one declared death')
})

t.test('replay reports a transition the journal lacks, and an input for an unknown machine', async (t) => {
  const { records } = hosted(peerStream(7, 60_000))
  const withoutFirstTransition = records.filter((r, i) => i !== records.findIndex((x) => x.record.t === 'transition'))
  const a = await replayRecords(withoutFirstTransition, MACHINES, REPLAYABLE_CODE_VERSIONS)
  t.match(a.difference?.message, /does not record/)
  const b = await replayRecords(records.filter((r) => r.record.t !== 'create'), MACHINES, REPLAYABLE_CODE_VERSIONS)
  t.match(b.difference?.message, /never created/)
})
