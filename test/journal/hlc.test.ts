/**
 * The hybrid logical clock and the merged timeline: table tests of the clock, and the
 * property the merge promises (a receive never sorts before its send) over random message
 * exchanges between nodes whose wall clocks disagree by minutes and jump backwards.
 */
import t from 'tap'
import { HLC_LOGICAL_MAX, HybridClock, compareHlc, formatHlc, isHlcPair, type Hlc } from '../../journal/hlc.js'
import { mergeOrder, mergeTimelines, type Mergeable, type MergeOrder } from '../../journal/merge.js'
import { seeded } from '../helpers/random.js'

t.test('tick moves forward even when the wall clock goes back', async (t) => {
  let wall = 1000
  const clock = new HybridClock(() => wall)
  const a = clock.tick()
  wall = 500
  const b = clock.tick()
  const c = clock.tick()
  t.same([a, b, c], [{ wallMs: 1000, logical: 0 }, { wallMs: 1000, logical: 1 }, { wallMs: 1000, logical: 2 }])
  wall = 2000.7
  t.same(clock.tick(), { wallMs: 2000, logical: 0 }, 'a newer wall clock resets the logical part')
})

t.test('receive moves past the remote stamp and its own', async (t) => {
  const clock = new HybridClock(() => 1000)
  t.same(clock.receive({ wallMs: 5000, logical: 7 }), { wallMs: 5000, logical: 8 }, 'a sender ahead pulls the clock forward')
  t.same(clock.receive({ wallMs: 4000, logical: 0 }), { wallMs: 5000, logical: 9 }, 'an older stamp still advances the logical part')
  t.same(clock.receive({ wallMs: 5000, logical: 20 }), { wallMs: 5000, logical: 21 })
  t.same(clock.tick(), { wallMs: 5000, logical: 22 })
  const fresh = new HybridClock(() => 9000)
  t.same(fresh.receive({ wallMs: 5000, logical: 3 }), { wallMs: 9000, logical: 0 }, 'its own wall clock ahead: no logical part')
})

t.test('the logical part fits the heartbeat byte: past it the clock moves 1 ms on', async (t) => {
  const clock = new HybridClock(() => 1000)
  let last: Hlc = clock.tick()
  for (let i = 0; i < HLC_LOGICAL_MAX; i++) last = clock.tick()
  t.same(last, { wallMs: 1000, logical: HLC_LOGICAL_MAX })
  t.same(clock.tick(), { wallMs: 1001, logical: 0 })
  t.same(clock.receive({ wallMs: 1001, logical: HLC_LOGICAL_MAX }), { wallMs: 1002, logical: 0 })
})

t.test('stamps as text and as stored pairs', async (t) => {
  t.equal(formatHlc({ wallMs: 1796298455072, logical: 3 }), '1796298455072.003')
  t.ok(isHlcPair([1796298455072, 3]))
  for (const bad of [[1], [1, 2, 3], [1, -1], [1.5, 0], ['1', 0], null, {}]) t.notOk(isHlcPair(bad), JSON.stringify(bad))
})

interface Entry extends Mergeable { what: string }
interface Message { id: number; from: number; to: number; sentAfter: number }

/** Nodes exchange messages at random; every journal entry carries the sender's local wall clock reading (skewed) and its stamp. */
function exchange(seed: number): { lists: Entry[][]; messages: Message[] } {
  const random = seeded(seed)
  const nodes = 2 + Math.floor(random() * 4)
  const now = { ms: 1_800_000_000_000 }
  const skew = Array.from({ length: nodes }, () => Math.round((random() - 0.5) * 20 * 60_000))
  const wall = (i: number): number => now.ms + skew[i]!
  const clocks = skew.map((_, i) => new HybridClock(() => wall(i)))
  const lists: Entry[][] = skew.map(() => [])
  const inFlight: (Message & { stamp: Hlc })[] = []
  const messages: Message[] = []
  const journal = (i: number, stamp: Hlc, what: string): void => { lists[i]!.push({ node: `n${i}`, seq: lists[i]!.length + 1, wallMs: wall(i), stamp, what }) }
  for (let step = 0; step < 200; step++) {
    now.ms += Math.floor(random() * 50)
    const i = Math.floor(random() * nodes)
    if (random() < 0.05) skew[i]! -= Math.floor(random() * 60_000) // an NTP step backwards
    const roll = random()
    if (roll < 0.35) journal(i, clocks[i]!.tick(), 'local')
    else if (roll < 0.7) {
      const to = (i + 1 + Math.floor(random() * (nodes - 1))) % nodes
      const message = { id: messages.length, from: i, to, sentAfter: lists[i]!.length, stamp: clocks[i]!.tick() }
      inFlight.push(message)
      messages.push(message)
    } else if (inFlight.length > 0) {
      const [m] = inFlight.splice(Math.floor(random() * inFlight.length), 1)
      journal(m!.to, clocks[m!.to]!.receive(m!.stamp), `receive ${m!.id}`)
    }
  }
  return { lists, messages }
}

/** Messages whose receive sorts before a record its sender wrote before sending it. */
function violations(lists: Entry[][], messages: Message[], order: MergeOrder): number {
  const merged = mergeTimelines(lists, order)
  const position = new Map(merged.map((e, k) => [`${e.node}#${e.seq}`, k]))
  let bad = 0
  for (const m of messages) {
    const receive = merged.findIndex((e) => e.what === `receive ${m.id}`)
    if (receive < 0 || m.sentAfter === 0) continue
    if (position.get(`n${m.from}#${m.sentAfter}`)! > receive) bad++
  }
  return bad
}

t.test('property: in the merged timeline a receive never sorts before its send (500 random exchanges)', async (t) => {
  let checked = 0
  let wallClockBroken = 0
  for (let seed = 1; seed <= 500; seed++) {
    const { lists, messages } = exchange(seed)
    t.equal(mergeOrder(lists), 'hybrid-clock')
    const bad = violations(lists, messages, 'hybrid-clock')
    if (bad > 0) { t.fail(`seed ${seed}: ${bad} receives sort before their send`); break }
    const merged = mergeTimelines(lists)
    for (const list of lists) {
      const inOrder = merged.filter((e) => e.node === list[0]?.node).map((e) => e.seq)
      if (inOrder.some((s, k) => s !== k + 1)) { t.fail(`seed ${seed}: a node's entries left journal order`); break }
    }
    for (let k = 1; k < merged.length; k++) {
      if (compareHlc(merged[k - 1]!.stamp!, merged[k]!.stamp!) > 0 && merged[k - 1]!.node === merged[k]!.node) t.fail(`seed ${seed}: stamps go back within a node`)
    }
    checked += messages.length
    if (violations(lists, messages, 'wall-clock') > 0) wallClockBroken++
  }
  t.ok(checked > 10_000, `${checked} messages checked`)
  t.ok(wallClockBroken > 100, `the check has teeth: ordered by the skewed wall clocks instead, ${wallClockBroken} of 500 exchanges put a receive first`)
})

t.test('journals without stamps merge by wall clock, and say so', async (t) => {
  const a: Entry[] = [{ node: 'a', seq: 1, wallMs: 10, stamp: null, what: '' }, { node: 'a', seq: 2, wallMs: 30, stamp: null, what: '' }]
  const b: Entry[] = [{ node: 'b', seq: 1, wallMs: 20, stamp: { wallMs: 20, logical: 0 }, what: '' }]
  t.equal(mergeOrder([a, b]), 'wall-clock')
  t.same(mergeTimelines([a, b]).map((e) => `${e.node}${e.seq}`), ['a1', 'b1', 'a2'])
})
