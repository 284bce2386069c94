/**
 * The hybrid clock end to end, on the simulator running the real node runtime: node b's wall
 * clock is ten minutes behind a's. b counts a up on a heartbeat that says "up", which a sends
 * only after it journaled its own join, so in the merged timeline b's decision must come after
 * a's join. Ordered by wall clock it would come ten minutes before it.
 */
import '../sim/low-priority.js'
import t from 'tap'
import { Simulation } from '../sim/cluster.js'
import { FAST_TIMING } from '../sim/faults.js'
import { readJournal } from '../sim/checks/replay.js'
import { explainSources } from '../../journal/explain.js'
import { mergeTimelines } from '../../journal/merge.js'

const TEN_MINUTES_MS = 600_000

t.test('a receive sorts after its send although the receiver\'s wall clock is ten minutes behind', async (t) => {
  const sim = await Simulation.create({ seed: 7, nodes: ['a', 'b'], services: [], protection: 'power', timing: FAST_TIMING, wallOffsetsMs: [0, -TEN_MINUTES_MS] })
  sim.machine('a').startDaemon()
  await sim.run(500)
  sim.machine('b').startDaemon()
  await sim.run(3000)
  const names = ['a', 'b']
  const journals = await Promise.all(names.map((n) => readJournal(n, sim.machine(n).journalDb)))
  const e = await explainSources(names, journals.map((records) => ({ records, count: records.length, close: async () => {} })))
  t.equal(e.order, 'hybrid-clock', 'every record is stamped')
  const joined = e.decisions.findIndex((d) => d.node === 'a' && d.type === 'local' && d.to === 'member')
  const sawUp = e.decisions.findIndex((d) => d.node === 'b' && d.type === 'peer' && d.subject === 'a' && d.to === 'up' && d.input.state === 'up')
  t.ok(joined >= 0 && sawUp >= 0, `both decisions are there (a joined: ${joined}, b saw a up: ${sawUp})`)
  t.ok(sawUp > joined, 'b\'s decision, caused by a\'s heartbeat, sorts after a\'s join')
  const bFirst = e.decisions.find((d) => d.node === 'b')!
  t.ok(bFirst.stamp!.wallMs >= e.decisions[joined]!.stamp!.wallMs, 'b\'s clock was pulled up to a\'s, not left ten minutes behind')
  t.ok(bFirst.stamp!.wallMs - bFirst.wallMs > TEN_MINUTES_MS - 5000, 'while b\'s own wall clock stayed behind')
  const byWall = mergeTimelines(names.map((n) => e.decisions.filter((d) => d.node === n)), 'wall-clock')
  t.ok(byWall.indexOf(e.decisions[sawUp]!) < byWall.indexOf(e.decisions[joined]!), 'ordered by the wall clocks, the receive would come first (the test has teeth)')
})
