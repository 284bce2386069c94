import t from 'tap'
import { ReplayGuard, type ReplayVerdict } from '../../src/net/replay-guard.js'

// Each scenario: steps of [sender, incarnation, channel, seq, expected verdict], run in order on one guard.
type Step = [number, number, number, number, ReplayVerdict]
const scenarios: [string, Step[]][] = [
  ['first packet of a sender is accepted at any seq', [[1, 5, 0, 900, 'ok']]],
  ['increasing seqs', [[1, 1, 0, 1, 'ok'], [1, 1, 0, 2, 'ok'], [1, 1, 0, 10, 'ok']]],
  ['the same seq twice is a replay', [[1, 1, 0, 1, 'ok'], [1, 1, 0, 1, 'replayed']]],
  ['an older seq is a replay', [[1, 1, 0, 5, 'ok'], [1, 1, 0, 4, 'replayed'], [1, 1, 0, 6, 'ok']]],
  ['channels are independent', [[1, 1, 0, 5, 'ok'], [1, 1, 1, 5, 'ok'], [1, 1, 1, 5, 'replayed'], [1, 1, 0, 3, 'replayed'], [1, 1, 1, 3, 'replayed']]],
  ['senders are independent', [[1, 1, 0, 5, 'ok'], [2, 1, 0, 5, 'ok'], [2, 1, 0, 4, 'replayed'], [1, 1, 0, 6, 'ok']]],
  ['a higher incarnation resets the seqs', [[1, 1, 0, 50, 'ok'], [1, 1, 1, 50, 'ok'], [1, 2, 0, 1, 'ok'], [1, 2, 1, 1, 'ok'], [1, 2, 0, 1, 'replayed']]],
  ['an older incarnation after a newer one is stale', [[1, 3, 0, 1, 'ok'], [1, 2, 0, 100, 'stale-incarnation'], [1, 2, 1, 1, 'stale-incarnation'], [1, 3, 0, 2, 'ok']]],
  ['a stale packet does not lower the incarnation', [[1, 3, 0, 5, 'ok'], [1, 1, 0, 9, 'stale-incarnation'], [1, 3, 0, 5, 'replayed'], [1, 3, 0, 6, 'ok']]],
  ['a replayed packet of the old incarnation after a restart is stale', [[1, 1, 0, 7, 'ok'], [1, 2, 0, 1, 'ok'], [1, 1, 0, 7, 'stale-incarnation']]],
  ['seq 0 is accepted first, then replayed', [[1, 0, 0, 0, 'ok'], [1, 0, 0, 0, 'replayed']]],
  ['seq near 2^53', [[1, 1, 0, Number.MAX_SAFE_INTEGER - 1, 'ok'], [1, 1, 0, Number.MAX_SAFE_INTEGER, 'ok'], [1, 1, 0, Number.MAX_SAFE_INTEGER, 'replayed']]],
]

for (const [name, steps] of scenarios) {
  t.test(name, async (t) => {
    const guard = new ReplayGuard(4, 2)
    for (const [i, [sender, incarnation, channel, seq, expected]] of steps.entries()) {
      t.equal(guard.accept(sender, incarnation, channel, seq), expected, `step ${i + 1}: sender ${sender} inc ${incarnation} ch ${channel} seq ${seq}`)
    }
  })
}

t.test('check() judges like accept() but records nothing', async (t) => {
  const guard = new ReplayGuard(2, 2)
  t.equal(guard.check(1, 1, 0, 5), 'ok')
  t.equal(guard.check(1, 1, 0, 5), 'ok', 'still ok: not recorded')
  t.equal(guard.entries(), 0)
  t.equal(guard.accept(1, 1, 0, 5), 'ok')
  t.equal(guard.check(1, 1, 0, 5), 'replayed')
  t.equal(guard.check(1, 0, 0, 9), 'stale-incarnation')
  t.equal(guard.check(1, 2, 0, 1), 'ok')
  t.equal(guard.accept(1, 1, 0, 6), 'ok', 'the checked higher incarnation was not recorded')
})

t.test('memory: one entry per sender × channel, capped', async (t) => {
  const guard = new ReplayGuard(2, 3)
  for (let seq = 1; seq <= 1000; seq++) {
    for (const sender of [1, 2]) for (const channel of [0, 1, 2]) guard.accept(sender, 1 + Math.floor(seq / 100), channel, seq)
  }
  t.equal(guard.entries(), 6)
  t.throws(() => guard.accept(3, 1, 0, 1), RangeError, 'a third sender exceeds sendersMax')
  t.throws(() => guard.accept(1, 1, 3, 1), RangeError, 'channel 3 is outside 0..2')
  t.throws(() => guard.check(1, 1, -1, 1), RangeError)
  t.throws(() => new ReplayGuard(1, 0), RangeError)
  t.throws(() => new ReplayGuard(-1, 1), RangeError)
})
