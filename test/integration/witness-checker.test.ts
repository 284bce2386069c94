/** The witness checker must be able to fail: overlapping runs are found, back-to-back ones are not. */
import t from 'tap'
import { overlaps, parseRuns } from '../helpers/witness.js'

t.test('runs end at stop, or at the last tick of a node that died', async (t) => {
  const runs = parseRuns(['a start 100', 'a tick 150', 'a tick 200', 'b start 900', 'b tick 950', 'b stop 1000', 'a start 1100', 'a tick 1200', ''].join('\n'))
  t.same(runs.map((r) => [r.node, Number(r.fromNs), Number(r.toNs), r.stopped]), [['a', 100, 200, false], ['b', 900, 1000, true], ['a', 1100, 1200, false]])
  t.same(overlaps(runs), [], 'a died at 200, b ran 900..1000, a again from 1100: never two at once')
})

t.test('two nodes running at once are found', async (t) => {
  const runs = parseRuns(['a start 100', 'b start 150', 'a tick 200', 'b stop 300', 'a stop 400'].join('\n'))
  const found = overlaps(runs)
  t.equal(found.length, 1)
  t.same([found[0]!.a.node, found[0]!.b.node], ['a', 'b'])
})

t.test('garbage lines are ignored, a tick with no start opens nothing', async (t) => {
  t.same(parseRuns('junk\nb tick 5\nc start x\n'), [])
})
