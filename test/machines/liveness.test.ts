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

// membership-3: silence counted up to one disk cycle after the observer's last completed read.
const withReads = { ...timing, diskReadIntervalMs: 1000 }
const read = (diskChangedAt: number | null, diskReadAt: number | null, ...heartbeatAt: (number | null)[]): LivenessEvidence => ({ diskChangedAt, heartbeatAt, diskReadAt })
const lateReads: [string, LivenessEvidence, number, string][] = [
  ['own reads on time: as before (one missed write, heartbeat fresh)', read(7000, 9500, 9900), 10000, 'suspect'],
  ['own reads 3 s late: the peer is not blamed for them', read(7000, 7000, 9900), 10000, 'alive'],
  ['own reads late, but the peer was silent long before the last read', read(4000, 7000, 9900), 10000, 'suspect'],
  ['peer dead, own reads on time: dead as before', read(0, 19800, 14000), 20000, 'dead'],
  ['peer silent, own reads stalled for 12 s: silence counted only to 9 s, not dead (nothing read, nothing known)', read(0, 8000, 14000), 20000, 'suspect'],
  ['never read: silence up to now, as before', read(null, null, null), 20000, 'dead'],
]
for (const [name, evidence, at, expected] of lateReads) {
  t.equal(assessLiveness(evidence, withReads, at, 5000).liveness, expected, name)
}
t.equal(assessLiveness(read(7000, 7000, 9900), timing, 10000, 0).liveness, 'suspect', 'without diskReadIntervalMs (older journals) the read time is ignored')
