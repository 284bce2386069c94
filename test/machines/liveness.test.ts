import t from 'tap'
import { assessLiveness, type LivenessEvidence } from '../../machines/liveness.js'

const timing = { diskSuspectAfterMs: 2000, diskDeadAfterMs: 10000, peerDeadAfterMs: 5000 }
const ev = (diskChangedAt: number | null, ...heartbeatAt: (number | null)[]): LivenessEvidence => ({ diskChangedAt, heartbeatAt })

// [name, evidence, at, since, expected]
const table: [string, LivenessEvidence, number, number, string][] = [
  ['disk fresh, heartbeat fresh', ev(9000, 9500), 10000, 0, 'alive'],
  ['disk fresh, no heartbeat ever (partition): disk is the tie-breaker', ev(9000, null), 10000, 0, 'alive'],
  ['disk fresh, heartbeats long gone', ev(19000, 1000), 20000, 0, 'alive'],
  ['disk one missed write, heartbeat fresh', ev(7000, 9900), 10000, 0, 'suspect'],
  ['disk exactly at suspect limit is still alive', ev(8000, 9900), 10000, 0, 'alive'],
  ['disk silent past dead limit but heartbeat fresh: suspect, never dead', ev(0, 19000), 20000, 0, 'suspect'],
  ['disk and heartbeat silent past both limits', ev(0, 14000), 20000, 0, 'dead'],
  ['disk past dead limit, heartbeat exactly at its limit: not dead', ev(0, 15000), 20000, 0, 'suspect'],
  ['disk exactly at dead limit: not dead', ev(10000, 1000), 20000, 0, 'suspect'],
  ['one of two channels fresh keeps it from dead', ev(0, 1000, 19000), 20000, 0, 'suspect'],
  ['never seen anything, watched long enough', ev(null, null), 20000, 5000, 'dead'],
  ['never seen anything, watched briefly', ev(null, null), 6000, 5000, 'alive'],
  ['never seen anything, past suspect limit', ev(null, null), 8000, 5000, 'suspect'],
]

for (const [name, evidence, at, since, expected] of table) {
  t.equal(assessLiveness(evidence, timing, at, since).liveness, expected, name)
}
