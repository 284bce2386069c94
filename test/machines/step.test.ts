import t from 'tap'
import { initialTransition } from 'xstate'
import { peerMachine } from '../../machines/membership.js'
import { step } from '../../machines/step.js'

const input = { peer: 'b', nodeId: 2, startedAt: 0, channels: 1, timing: { diskSuspectAfterMs: 2000, diskDeadAfterMs: 10000, peerDeadAfterMs: 5000 } }

t.test('classifies inputs: noop, evidence-only, decision', async (t) => {
  let [s] = initialTransition(peerMachine, input)
  s = step(peerMachine, s, { type: 'DISK_STATUS', at: 0, seq: 1, incarnation: 1, state: 'up' }).snapshot
  const up = step(peerMachine, s, { type: 'DISK_STATUS', at: 1000, seq: 2, incarnation: 1, state: 'up' })
  t.ok(up.transition, 'a state change is a decision')
  t.notOk(up.evidenceOnly)
  const renew = step(peerMachine, up.snapshot, { type: 'HEARTBEAT', at: 1200, channel: 0, incarnation: 1, seq: 5, state: 'up' })
  t.equal(renew.transition, null)
  t.ok(renew.evidenceOnly, 'a heartbeat that only renews is coalescible')
  const quiet = step(peerMachine, renew.snapshot, { type: 'CHECK', at: 1300 })
  t.ok(quiet.noop, 'a check before any deadline changes nothing')
  const err = step(peerMachine, renew.snapshot, { type: 'DISK_UNREADABLE', at: 1300, code: 'X' })
  t.notOk(err.evidenceOnly, 'a new read error is kept: it changes context outside evidence')
  t.equal(err.transition, null)
})
