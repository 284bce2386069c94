import t from 'tap'
import { DropLog } from '../../src/runtime/drop-log.js'

t.test('first drop per source and reason is logged, then one line per window with the count', async (t) => {
  const log = new DropLog(10_000, 4)
  t.equal(log.note('10.0.0.9:7400', 'unauthenticated', 0), 'dropped heartbeat from 10.0.0.9:7400: unauthenticated')
  for (let i = 1; i <= 500; i++) t.equal(log.note('10.0.0.9:7400', 'unauthenticated', i * 10), null)
  t.equal(log.note('10.0.0.9:7400', 'replayed', 5000), 'dropped heartbeat from 10.0.0.9:7400: replayed', 'another reason is its own key')
  t.equal(log.note('10.0.0.9:7400', 'unauthenticated', 10_000), 'dropped heartbeat from 10.0.0.9:7400: unauthenticated (501 since the last line)')
  t.equal(log.note('10.0.0.9:7400', 'unauthenticated', 10_001), null)
})

t.test('memory is bounded under a flood from many sources', async (t) => {
  const log = new DropLog(10_000, 4)
  for (let i = 0; i < 100; i++) t.not(log.note(`10.0.0.${i}:1`, 'malformed', i), null, 'a new source is logged')
  t.equal(log.note('10.0.0.99:1', 'malformed', 100), null, 'the newest sources are still remembered')
  t.not(log.note('10.0.0.0:1', 'malformed', 101), null, 'the oldest was forgotten, so it is logged again')
})
