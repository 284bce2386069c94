import t from 'tap'
import { peerMachine } from '../../machines/membership.js'
import type { PeerEvent, ReportedState } from '../../machines/events.js'
import { drive } from '../helpers/drive.js'
import { edgesTaken, machineEdges } from '../helpers/edges.js'

const timing = { diskSuspectAfterMs: 2000, diskDeadAfterMs: 10000, peerDeadAfterMs: 5000 }
const input = { peer: 'b', nodeId: 2, startedAt: 0, channels: 2, timing, leavesAfterOut: true }
const disk = (at: number, seq: number, incarnation = 1, state: ReportedState = 'up'): PeerEvent => ({ type: 'DISK_STATUS', at, seq, incarnation, state })
const hb = (at: number, incarnation = 1, channel = 0, state: ReportedState = 'up'): PeerEvent => ({ type: 'HEARTBEAT', at, channel, incarnation, seq: at, state })
const check = (at: number): PeerEvent => ({ type: 'CHECK', at })
const unreadable = (at: number): PeerEvent => ({ type: 'DISK_UNREADABLE', at, code: 'CARB_ERR_DISK_BAD_CRC' })

/** A peer that has been seen writing: baseline read, then a changed sequence. */
function upPeer() {
  const d = drive(peerMachine, input)
  d.send(disk(0, 10))
  d.send(disk(1000, 11))
  return d
}

// Every transition of the peer machine (the last test checks each edge is taken by a row):
// [name, events after upPeer() or from scratch, expected final state, expected effect types]
type Row = [string, boolean, PeerEvent[], string, string[]]
const table: Row[] = [
  ['baseline read alone is not proof of life', false, [disk(0, 10)], 'unknown', []],
  ['unknown → up on a changed disk sequence', false, [disk(0, 10), disk(1000, 11)], 'up', ['effect.peerUp']],
  ['unknown → up on a heartbeat', false, [hb(100)], 'up', ['effect.peerUp']],
  ['unknown stays unknown on a heartbeat that says down', false, [hb(100, 1, 0, 'down')], 'unknown', []],
  ['unknown → left when the disk says down', false, [disk(0, 10, 1, 'down')], 'left', ['effect.peerLeft']],
  ['unknown → dead when the disk says out', false, [disk(0, 10, 1, 'out')], 'dead', ['effect.peerDead']],
  ['unknown → dead after silence on both', false, [disk(0, 10), check(10001)], 'dead', ['effect.peerDead']],
  ['unknown stays unknown before the deadline', false, [disk(0, 10), check(9999)], 'unknown', []],
  ['up → suspect after a missed disk write', true, [check(3001)], 'suspect', ['effect.peerSuspect']],
  ['up stays up while the disk keeps changing, no heartbeat at all (tie-breaker)', true, [disk(2000, 12), disk(3000, 13), check(3500), disk(4000, 14), check(5500)], 'up', []],
  ['up → dead when disk and heartbeats are silent', true, [hb(1500), check(11001)], 'dead', ['effect.peerDead']],
  ['an unreadable block is no evidence: up → suspect', true, [unreadable(1500), check(3001)], 'suspect', ['effect.peerSuspect']],
  ['suspect → up when the disk changes again', true, [check(3001), disk(3500, 12)], 'up', ['effect.peerSuspect', 'effect.peerUp']],
  ['suspect stays suspect while heartbeats answer', true, [check(3001), hb(9000), hb(14000), check(15000)], 'suspect', ['effect.peerSuspect']],
  ['suspect → dead when heartbeats stop too', true, [check(3001), hb(9000), check(14001)], 'dead', ['effect.peerSuspect', 'effect.peerDead']],
  ['suspect stays suspect while the disk sequence stands still', true, [check(3001), disk(3500, 11), check(3600)], 'suspect', ['effect.peerSuspect']],
  ['suspect → up on a check once the disk is first read (heard by heartbeat before any disk read)', false, [hb(100), check(2001), disk(2500, 10), check(2600)], 'up', ['effect.peerUp', 'effect.peerSuspect', 'effect.peerUp']],
  ['suspect → left when the disk says down', true, [check(3001), disk(3500, 12, 1, 'down')], 'left', ['effect.peerSuspect', 'effect.peerLeft']],
  ['suspect → dead when the peer reports itself out on the disk', true, [check(3001), disk(3500, 12, 1, 'out')], 'dead', ['effect.peerSuspect', 'effect.peerDead']],
  ['suspect → dead when the peer reports itself out by heartbeat', true, [check(3001), hb(3500, 1, 0, 'out')], 'dead', ['effect.peerSuspect', 'effect.peerDead']],
  ['suspect → up on restart with a new incarnation', true, [check(3001), disk(3500, 1, 2, 'joining')], 'up', ['effect.peerSuspect', 'effect.peerRestarted']],
  ['suspect → dead on a heartbeat from a newer incarnation (replaced)', true, [check(3001), hb(3500, 2)], 'dead', ['effect.peerSuspect', 'effect.peerDead']],
  ['suspect ignores a disk write of an older incarnation', true, [check(3001), disk(3500, 99, 0), check(3600)], 'suspect', ['effect.peerSuspect']],
  ['suspect ignores heartbeats of an older incarnation: silence still kills', true, [check(3001), hb(9000, 0), check(11001)], 'dead', ['effect.peerSuspect', 'effect.peerDead']],
  ['up → up on restart with a new incarnation', true, [disk(1500, 1, 2)], 'up', ['effect.peerRestarted']],
  ['up ignores evidence of an older incarnation', true, [disk(1500, 99, 0), check(3001)], 'suspect', ['effect.peerSuspect']],
  ['up ignores heartbeats of an older incarnation: silence still kills', true, [hb(10500, 0), check(11001)], 'dead', ['effect.peerDead']],
  ['up → left on a clean shutdown', true, [disk(1500, 12, 1, 'down')], 'left', ['effect.peerLeft']],
  ['up → dead when the peer reports itself out on the disk', true, [disk(1500, 12, 1, 'out')], 'dead', ['effect.peerDead']],
  ['up → dead when the peer reports itself out by heartbeat', true, [hb(1500, 1, 0, 'out')], 'dead', ['effect.peerDead']],
  ['dead → zombie reported once when the same incarnation writes again', true, [check(11001), disk(12000, 12), disk(13000, 13), hb(13000)], 'dead', ['effect.peerDead', 'effect.zombie']],
  ['dead → zombie reported once on heartbeats alone', true, [check(11001), hb(12000), hb(12500)], 'dead', ['effect.peerDead', 'effect.zombie']],
  ['dead ignores a disk write of an older incarnation', true, [check(11001), disk(12000, 99, 0)], 'dead', ['effect.peerDead']],
  ['dead stays dead on the old incarnation saying out', true, [check(11001), disk(12000, 12, 1, 'out')], 'dead', ['effect.peerDead']],
  ['out, then "down" as the same incarnation (a poison pill answered): left', true, [disk(1500, 12, 1, 'out'), disk(2500, 13, 1, 'down')], 'left', ['effect.peerDead', 'effect.peerLeft']],
  ['dead, then "down" from an older incarnation: still dead', true, [disk(1500, 12, 1, 'out'), disk(2500, 99, 0, 'down')], 'dead', ['effect.peerDead']],
  ['dead → up when a new incarnation writes the disk', true, [check(11001), disk(12000, 1, 2, 'joining')], 'up', ['effect.peerDead', 'effect.peerUp']],
  ['dead is not revived by a heartbeat of a new incarnation alone', true, [check(11001), hb(12000, 2)], 'dead', ['effect.peerDead']],
  ['left → up on a new incarnation', true, [disk(1500, 12, 1, 'down'), disk(5000, 1, 2)], 'up', ['effect.peerLeft', 'effect.peerUp']],
  ['left is not revived by the same incarnation writing again', true, [disk(1500, 12, 1, 'down'), disk(2500, 13)], 'left', ['effect.peerLeft']],
  ['left ignores a disk write of an older incarnation', true, [disk(1500, 12, 1, 'down'), disk(2500, 99, 0)], 'left', ['effect.peerLeft']],
  ['a heartbeat from a newer incarnation: the old one is gone', true, [hb(1500, 2)], 'dead', ['effect.peerDead']],
  ['replaced, then the new incarnation writes the disk: up again', true, [hb(1500, 2), disk(2000, 1, 2, 'joining')], 'up', ['effect.peerDead', 'effect.peerUp']],
  ['heartbeat on one channel of two keeps it from dead', true, [hb(9000, 1, 1), check(11001)], 'suspect', ['effect.peerSuspect']],
]

/** Runs a row's events (after its set-up) and names the edges they took. */
function run([, fromUp, events]: Row) {
  const d = fromUp ? upPeer() : drive(peerMachine, input)
  const before = d.transitions.length
  const edges: string[] = []
  for (const e of events) {
    edges.push(...edgesTaken(peerMachine, d.snapshot, e))
    d.send(e)
  }
  return { d, before, edges }
}

for (const row of table) {
  const [name, , , state, effects] = row
  t.test(name, async (t) => {
    const { d, before } = run(row)
    t.equal(d.state(), state)
    t.same(d.transitions.slice(before).flatMap((tr) => tr.effects.map((e) => e.type)), effects)
  })
}

t.test('every edge of the peer machine is taken by a table row', async (t) => {
  const edges = machineEdges(peerMachine)
  t.equal(new Set(edges).size, edges.length, 'edge names are unique')
  const taken = new Set(table.flatMap((row) => run(row).edges))
  t.same(edges.filter((e) => !taken.has(e)), [], 'edges no row takes')
})

t.test('a journal from before membership-2 (no leavesAfterOut in the input): out, then "down", stays dead', async (t) => {
  const { leavesAfterOut: _on, ...older } = input
  const d = drive(peerMachine, older)
  d.send(disk(0, 10))
  d.send(disk(1000, 11))
  d.send(disk(1500, 12, 1, 'out'))
  d.send(disk(2500, 13, 1, 'down'))
  t.equal(d.state(), 'dead')
})

t.test('unreadable blocks are noted, not treated as evidence', async (t) => {
  const d = upPeer()
  d.send({ type: 'DISK_UNREADABLE', at: 1500, code: 'CARB_ERR_DISK_BAD_CRC' })
  t.equal(d.snapshot.context.diskReadError, 'CARB_ERR_DISK_BAD_CRC')
  d.send(check(3001))
  t.equal(d.state(), 'suspect', 'an unreadable block does not count as a write')
  d.send(disk(3500, 12))
  t.equal(d.snapshot.context.diskReadError, null)
})

t.test('dead reason names the silence it saw', async (t) => {
  const d = upPeer()
  const tr = d.send(check(11001))
  t.match(String(tr?.effects[0]?.reason), /disk silent 10001 ms, heartbeat silent 11001 ms/)
})
