/**
 * One seed, one run: the same seed gives the same events, log and journals, which is what
 * makes a failing seed reproducible. A different seed gives a different run.
 */
import './low-priority.js'
import t from 'tap'
import { runSeed, type SeedResult } from './run-seed.js'

const fingerprint = (r: SeedResult): string => JSON.stringify({ events: r.events, log: r.sim.log.map((l) => [l.atMs, l.machine, l.message]), actions: r.sim.actions })

t.test('the same seed twice: identical runs', async (t) => {
  const first = await runSeed(3, { short: true })
  const second = await runSeed(3, { short: true })
  t.equal(first.events, second.events, 'same number of events')
  t.equal(fingerprint(first), fingerprint(second), 'same log, line for line, at the same virtual times')
  const other = await runSeed(4, { short: true })
  t.not(fingerprint(other), fingerprint(first), 'another seed is another run')
})
