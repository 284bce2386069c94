import t, { type Test } from 'tap'
import { ATTEMPTS_MAX, NO_METHOD_REASON, backoffMs, fencingMachine, roundsMaxOf, type FencingContext } from '../../machines/fencing.js'
import type { FenceEvent, FenceInput, FenceOutcome } from '../../machines/fencing-events.js'
import { step, type PlainEvent } from '../../machines/step.js'
import { drive, type Drive } from '../helpers/drive.js'
import { seeded } from '../helpers/random.js'

const base: FenceInput = {
  target: 'b', targetId: 2, targetIncarnation: 3, requestedBy: 'lease', reason: 'lease of web held by b',
  methods: [{ name: 'ipmi', kind: 'agent' }, { name: 'pill', kind: 'poison-pill' }],
  delayMs: 0, retry: { baseMs: 1000, maxMs: 3000, roundsMax: 3 }, startedAt: 100,
}
const over = (o: Partial<FenceInput>): FenceInput => ({ ...base, ...o })
const retry = (o: Partial<FenceInput['retry']>): FenceInput => ({ ...base, retry: { ...base.retry, ...o } })

// Inputs, named for reading rows aloud.
const check = (at: number): FenceEvent => ({ type: 'CHECK', at })
const done = (at: number, call: number, method: number, outcome: FenceOutcome = 'ok'): FenceEvent =>
  ({ type: 'METHOD_DONE', at, call, method, outcome, detail: outcome === 'ok' ? 'off' : `${outcome} after 20 s` })
const ack = (at: number, who = 'root'): FenceEvent => ({ type: 'ACK', at, who })
const cancel = (at: number): FenceEvent => ({ type: 'CANCEL', at, reason: 'b restarted as incarnation 4' })

/** Effects as short words: `run ipmi r1`, `failed ipmi timeout`, `retry r1 1000`, `gave up 3`, `fenced pill`, `cancelled`. */
function word(e: PlainEvent): string {
  switch (e.type) {
    case 'effect.fenceMethod': return `run ${String(e.name)} r${String(e.round)}`
    case 'effect.fenceMethodFailed': return `failed ${String(e.name)} ${String(e.outcome)}`
    case 'effect.fenceRetry': return `retry r${String(e.round)} ${String(e.waitMs)}`
    case 'effect.fenceGaveUp': return `gave up ${String(e.rounds)}`
    case 'effect.fenced': return `fenced ${String((e.proof as { name: string }).name)}`
    case 'effect.fenceCancelled': return 'cancelled'
    default: return e.type
  }
}

/**
 * `rounds` failing rounds of both methods from the first CHECK at 100: the round's results 10
 * and 20 ms after it starts, the next round's CHECK exactly at the backoff deadline (waits[r]).
 */
function failingRounds(rounds: number, waits: number[], outcome: FenceOutcome = 'failed'): FenceEvent[] {
  const events = [check(100)]
  let at = 100
  for (let r = 0; r < rounds; r++) {
    events.push(done(at + 10, 2 * r + 1, 0, outcome), done(at + 20, 2 * r + 2, 1, outcome))
    at += 20 + (waits[r] ?? 0)
    if (r < rounds - 1) events.push(check(at))
  }
  return events
}
/** The effect words of those rounds: the last one ends in `last` (a retry or a give-up). */
const roundWords = (r: number, outcome = 'failed'): string[] => [`run ipmi r${r}`, `failed ipmi ${outcome}`, `run pill r${r}`, `failed pill ${outcome}`]

// After failingRounds(1, …): round 1 failed at 120, backoff deadline 1120.
const ROUND1 = failingRounds(1, [])
const ROUND1_WORDS = [...roundWords(1), 'retry r1 1000']
// With roundsMax 3: three rounds failed, given up at 120 + 1020 + 2020 = 3160.
const GAVE_UP = failingRounds(3, [1000, 2000])
const GAVE_UP_WORDS = [...roundWords(1), 'retry r1 1000', ...roundWords(2), 'retry r2 2000', ...roundWords(3), 'gave up 3']

function run(input: FenceInput, events: FenceEvent[]): Drive {
  const d = drive(fencingMachine, input)
  for (const e of events) d.send(e as PlainEvent)
  return d
}
const effectsOf = (d: Drive, from = 0) => d.transitions.slice(from).flatMap((tr) => tr.effects.map(word))
const ctx = (d: Drive) => d.snapshot.context as FencingContext

// Every transition of the fencing machine: [name, input, events, expected state, expected effect words]
type Row = [string, FenceInput, FenceEvent[], string, string[]]
const table: Row[] = [
  // fencing: methods in order
  ['created: fencing, nothing asked before the first CHECK', base, [], 'fencing', []],
  ['first CHECK asks the first method', base, [check(100)], 'fencing', ['run ipmi r1']],
  ['first method ok → succeeded', base, [check(100), done(110, 1, 0)], 'succeeded', ['run ipmi r1', 'fenced ipmi']],
  ['first fails, second ok → succeeded by the second', base, [check(100), done(110, 1, 0, 'failed'), done(120, 2, 1)], 'succeeded',
    ['run ipmi r1', 'failed ipmi failed', 'run pill r1', 'fenced pill']],
  ['timeout is a failure: next method', base, [check(100), done(110, 1, 0, 'timeout')], 'fencing', ['run ipmi r1', 'failed ipmi timeout', 'run pill r1']],
  ['misconfigured is a failure: next method', base, [check(100), done(110, 1, 0, 'misconfigured'), done(120, 2, 1)], 'succeeded',
    ['run ipmi r1', 'failed ipmi misconfigured', 'run pill r1', 'fenced pill']],
  ['CHECK while a method is in flight asks nothing more', base, [check(100), check(200), check(5000)], 'fencing', ['run ipmi r1']],
  // backoff and rounds
  ['every method fails → backoff', base, ROUND1, 'backoff', ROUND1_WORDS],
  ['backoff: CHECK before the deadline does nothing', base, [...ROUND1, check(1119)], 'backoff', ROUND1_WORDS],
  ['backoff: CHECK at the deadline starts round 2 at the first method', base, [...ROUND1, check(1119), check(1120)], 'fencing', [...ROUND1_WORDS, 'run ipmi r2']],
  ['backoff: a late CHECK past the deadline starts round 2 too', base, [...ROUND1, check(9000)], 'fencing', [...ROUND1_WORDS, 'run ipmi r2']],
  ['round 2 succeeds', base, [...ROUND1, check(1120), done(1130, 3, 0)], 'succeeded', [...ROUND1_WORDS, 'run ipmi r2', 'fenced ipmi']],
  ['waitMs doubles per round and is capped at maxMs', retry({ roundsMax: 5 }), failingRounds(5, [1000, 2000, 3000, 3000]), 'failed',
    [...roundWords(1), 'retry r1 1000', ...roundWords(2), 'retry r2 2000', ...roundWords(3), 'retry r3 3000', ...roundWords(4), 'retry r4 3000', ...roundWords(5), 'gave up 5']],
  ['timeouts in every round give up the same way', base, failingRounds(3, [1000, 2000], 'timeout'), 'failed',
    [...roundWords(1, 'timeout'), 'retry r1 1000', ...roundWords(2, 'timeout'), 'retry r2 2000', ...roundWords(3, 'timeout'), 'gave up 3']],
  ['roundsMax 1: the first failed round gives up', retry({ roundsMax: 1 }), failingRounds(1, []), 'failed', [...roundWords(1), 'gave up 1']],
  ['a single method: its failure ends the round', over({ methods: [{ name: 'pdu', kind: 'agent' }] }), [check(100), done(110, 1, 0, 'failed')], 'backoff',
    ['run pdu r1', 'failed pdu failed', 'retry r1 1000']],
  // failed
  ['gave up after roundsMax rounds → failed', base, GAVE_UP, 'failed', GAVE_UP_WORDS],
  ['failed: CHECKs retry nothing', base, [...GAVE_UP, check(10000), check(100000)], 'failed', GAVE_UP_WORDS],
  ['no methods → failed at once', over({ methods: [] }), [], 'failed', []],
  ['no methods: the first CHECK says so once', over({ methods: [] }), [check(100), check(200)], 'failed', ['gave up 0']],
  ['no methods and a race delay: failed at once all the same', over({ methods: [], delayMs: 5000 }), [check(100)], 'failed', ['gave up 0']],
  // race delay
  ['race delay: delaying, nothing asked', over({ delayMs: 5000 }), [check(100), check(5099)], 'delaying', []],
  ['race delay: a CHECK at startedAt + delayMs starts fencing', over({ delayMs: 5000 }), [check(100), check(5099), check(5100)], 'fencing', ['run ipmi r1']],
  ['race delay: a CHECK past it starts fencing', over({ delayMs: 5000 }), [check(7000), done(7010, 1, 0)], 'succeeded', ['run ipmi r1', 'fenced ipmi']],
  // ACK
  ['ACK from delaying → succeeded, manual-ack', over({ delayMs: 5000 }), [check(100), ack(200)], 'succeeded', ['fenced manual-ack']],
  ['ACK from fencing before the first CHECK', base, [ack(100), check(100)], 'succeeded', ['fenced manual-ack']],
  ['ACK from fencing with a method in flight → succeeded', base, [check(100), ack(150)], 'succeeded', ['run ipmi r1', 'fenced manual-ack']],
  ['late METHOD_DONE after ACK changes nothing (not fenced twice)', base, [check(100), ack(150), done(160, 1, 0), done(170, 1, 0, 'failed')], 'succeeded',
    ['run ipmi r1', 'fenced manual-ack']],
  ['ACK from backoff', base, [...ROUND1, ack(500), check(2000)], 'succeeded', [...ROUND1_WORDS, 'fenced manual-ack']],
  ['ACK from failed', base, [...GAVE_UP, ack(9000)], 'succeeded', [...GAVE_UP_WORDS, 'fenced manual-ack']],
  ['ACK with no method configured', over({ methods: [] }), [check(100), ack(200)], 'succeeded', ['gave up 0', 'fenced manual-ack']],
  // CANCEL
  ['CANCEL from delaying', over({ delayMs: 5000 }), [check(100), cancel(200), check(6000)], 'cancelled', ['cancelled']],
  ['CANCEL from fencing with a method in flight; its late result is ignored', base, [check(100), cancel(150), done(160, 1, 0)], 'cancelled', ['run ipmi r1', 'cancelled']],
  ['CANCEL from backoff', base, [...ROUND1, cancel(500), check(2000)], 'cancelled', [...ROUND1_WORDS, 'cancelled']],
  ['CANCEL from failed', base, [...GAVE_UP, cancel(9000)], 'cancelled', [...GAVE_UP_WORDS, 'cancelled']],
  // final states
  ['succeeded ignores everything', base, [check(100), done(110, 1, 0), check(200), ack(300), cancel(400), done(500, 2, 1, 'failed')], 'succeeded', ['run ipmi r1', 'fenced ipmi']],
  ['cancelled ignores everything', base, [cancel(50), check(100), ack(300), done(500, 1, 0)], 'cancelled', ['cancelled']],
  // stale and illegal inputs
  ['METHOD_DONE of another call is rejected; the call in flight is still awaited', base, [check(100), done(110, 7, 0), done(120, 1, 0, 'failed')], 'fencing',
    ['run ipmi r1', 'failed ipmi failed', 'run pill r1']],
  ['METHOD_DONE of the right call but another method is rejected', base, [check(100), done(110, 1, 1)], 'fencing', ['run ipmi r1']],
  ['METHOD_DONE repeated after the machine moved on is rejected', base, [check(100), done(110, 1, 0, 'failed'), done(111, 1, 0)], 'fencing',
    ['run ipmi r1', 'failed ipmi failed', 'run pill r1']],
  ['METHOD_DONE with nothing asked yet is rejected', base, [done(50, 1, 0)], 'fencing', []],
  ['METHOD_DONE in backoff is rejected', base, [...ROUND1, done(500, 2, 1, 'ok')], 'backoff', ROUND1_WORDS],
  ['METHOD_DONE in delaying is rejected', over({ delayMs: 5000 }), [done(500, 1, 0)], 'delaying', []],
]

for (const [name, input, events, state, effects] of table) {
  t.test(name, async (t) => {
    const d = drive(fencingMachine, input)
    for (const e of events) {
      d.send(e as PlainEvent)
      t.same(JSON.parse(JSON.stringify(d.snapshot.context)), d.snapshot.context, `context round-trips through JSON after ${e.type}`)
    }
    t.equal(d.state(), state)
    t.same(effectsOf(d), effects)
  })
}

// backoff.ts: [name, baseMs, maxMs, round, waitMs]
type BackoffRow = [string, number, number, number, number]
const backoffTable: BackoffRow[] = [
  ['round 1 waits baseMs', 2000, 30000, 1, 2000],
  ['round 2 doubles', 2000, 30000, 2, 4000],
  ['round 4', 2000, 30000, 4, 16000],
  ['round 5 would be 32000: capped at maxMs', 2000, 30000, 5, 30000],
  ['a huge round does not overflow: maxMs', 2000, 30000, 100000, 30000],
  ['baseMs equal to maxMs: always maxMs', 5000, 5000, 3, 5000],
  ['baseMs 0: no wait', 0, 30000, 7, 0],
  ['round 0 (absurd) reads as round 1', 2000, 30000, 0, 2000],
]
for (const [name, baseMs, maxMs, round, waitMs] of backoffTable) {
  t.test(`backoff: ${name}`, async (t) => {
    t.equal(backoffMs({ baseMs, maxMs }, round), waitMs)
  })
}

t.test('roundsMax below 1 or fractional is read as a whole number, at least 1', async (t) => {
  t.same([0, -3, 0.5, 2.7, 20, Number.NaN].map((roundsMax) => roundsMaxOf({ baseMs: 1, maxMs: 1, roundsMax })), [1, 1, 1, 2, 20, 1])
  const d = run(retry({ roundsMax: 0 }), failingRounds(1, []))
  t.equal(d.state(), 'failed', 'roundsMax 0 still tries one round, then gives up')
})

t.test('effects carry exactly what the shell reads', async (t) => {
  const d = run(base, [check(100), done(110, 1, 0, 'timeout'), done(120, 2, 1, 'failed')])
  t.same(d.transitions.flatMap((tr) => tr.effects), [
    { type: 'effect.fenceMethod', call: 1, method: 0, name: 'ipmi', kind: 'agent', target: 'b', targetId: 2, targetIncarnation: 3, round: 1 },
    { type: 'effect.fenceMethodFailed', target: 'b', name: 'ipmi', outcome: 'timeout', detail: 'timeout after 20 s', round: 1 },
    { type: 'effect.fenceMethod', call: 2, method: 1, name: 'pill', kind: 'poison-pill', target: 'b', targetId: 2, targetIncarnation: 3, round: 1 },
    { type: 'effect.fenceMethodFailed', target: 'b', name: 'pill', outcome: 'failed', detail: 'failed after 20 s', round: 1 },
    { type: 'effect.fenceRetry', target: 'b', round: 1, waitMs: 1000 },
  ])
  d.send(check(1120) as PlainEvent)
  d.send(done(1130, 3, 0) as PlainEvent)
  t.same(d.transitions.at(-1)?.effects, [{ type: 'effect.fenced', target: 'b', targetId: 2, targetIncarnation: 3, proof: { name: 'ipmi', detail: 'off' } }])
  t.same(ctx(d).proof, { name: 'ipmi', detail: 'off' })

  const unknown = run(over({ targetIncarnation: null }), [check(100), ack(200, 'alice')])
  t.same(unknown.transitions.at(-1)?.effects, [{ type: 'effect.fenced', target: 'b', targetId: 2, targetIncarnation: null, proof: { name: 'manual-ack', detail: 'acknowledged off by alice' } }])

  const gone = run(base, [check(100), cancel(150)])
  t.same(gone.transitions.at(-1)?.effects, [{ type: 'effect.fenceCancelled', target: 'b', reason: 'b restarted as incarnation 4' }])
  t.equal(ctx(gone).cancelReason, 'b restarted as incarnation 4')
  t.equal(ctx(gone).inFlight, null)
})

t.test('giving up names the rounds and the last error', async (t) => {
  const d = run(base, GAVE_UP)
  t.same(d.transitions.at(-1)?.effects.at(-1), {
    type: 'effect.fenceGaveUp', target: 'b', rounds: 3,
    reason: 'every method failed in 3 rounds (last: pill failed: failed after 20 s): waiting for carbonado fence ack',
  })
  t.equal(ctx(d).lastError, 'pill failed: failed after 20 s')
  t.equal(ctx(d).nextAt, null)
  const none = run(over({ methods: [] }), [check(100)])
  t.same(none.transitions[0]?.effects, [{ type: 'effect.fenceGaveUp', target: 'b', rounds: 0, reason: NO_METHOD_REASON }])
  t.equal(ctx(none).lastError, NO_METHOD_REASON)
})

t.test('context: the input, the round, the call in flight, deadlines and attempts', async (t) => {
  const d = run(over({ delayMs: 5000 }), [])
  t.match(ctx(d), { target: 'b', targetId: 2, targetIncarnation: 3, requestedBy: 'lease', reason: 'lease of web held by b', methods: base.methods, delayMs: 5000, retry: base.retry, startedAt: 100 })
  t.match(ctx(d), { round: 1, methodIndex: 0, inFlight: null, calls: 0, nextAt: 5100, lastError: null, attempts: [], rejected: { count: 0, last: null }, proof: null })
  t.notOk('evidence' in ctx(d), 'no evidence: every field is a decision input')
  d.send(check(5100) as PlainEvent)
  t.match(ctx(d), { inFlight: { call: 1, method: 0 }, calls: 1, nextAt: null })
  d.send(done(5110, 1, 0, 'failed') as PlainEvent)
  t.match(ctx(d), { methodIndex: 1, inFlight: { call: 2, method: 1 }, calls: 2, lastError: 'ipmi failed: failed after 20 s' })
  t.same(ctx(d).attempts, [{ round: 1, method: 0, name: 'ipmi', outcome: 'failed', detail: 'failed after 20 s', at: 5110 }])
  d.send(done(5120, 2, 1, 'timeout') as PlainEvent)
  t.match(ctx(d), { round: 1, inFlight: null, nextAt: 6120 })
  d.send(check(6120) as PlainEvent)
  t.match(ctx(d), { round: 2, methodIndex: 0, inFlight: { call: 3, method: 0 }, nextAt: null })
  t.equal(ctx(d).reason, 'lease of web held by b', 'the reason for fencing stays the input one')
})

t.test('a wrong call is rejected, counted and described; nothing else changes', async (t) => {
  const d = run(base, [check(100)])
  const before = JSON.stringify([d.snapshot.value, { ...ctx(d), rejected: null }])
  const r = step(fencingMachine, d.snapshot, done(110, 7, 0) as PlainEvent)
  t.equal(r.transition, null, 'no transition, no effect')
  t.notOk(r.noop, 'but journaled: the rejection is recorded')
  d.send(done(110, 7, 0) as PlainEvent)
  d.send(done(111, 1, 1, 'ok') as PlainEvent)
  t.equal(ctx(d).rejected.count, 2)
  t.equal(ctx(d).rejected.last, 'METHOD_DONE at 111: stale result of call 1 method 1 (ok): call 1 method 0 in flight')
  t.equal(JSON.stringify([d.snapshot.value, { ...ctx(d), rejected: null }]), before)
  const idle = run(base, [done(50, 1, 0)])
  t.equal(ctx(idle).rejected.last, 'METHOD_DONE at 50: stale result of call 1 method 0 (ok): no method in flight')
})

t.test('irrelevant inputs are no-ops (nothing to journal)', async (t) => {
  const cases: [string, FenceInput, FenceEvent[], FenceEvent][] = [
    ['CHECK in flight', base, [check(100)], check(200)],
    ['CHECK before the race deadline', over({ delayMs: 5000 }), [], check(200)],
    ['CHECK before the backoff deadline', base, ROUND1, check(500)],
    ['CHECK in failed once announced', base, GAVE_UP, check(99999)],
    ['anything in succeeded', base, [check(100), done(110, 1, 0)], ack(200)],
    ['a late result in cancelled', base, [check(100), cancel(110)], done(120, 1, 0)],
  ]
  for (const [name, input, prefix, event] of cases) {
    const d = run(input, prefix)
    t.ok(step(fencingMachine, d.snapshot, event as PlainEvent).noop, name)
  }
})

t.test(`attempts stay bounded to the last ATTEMPTS_MAX (${ATTEMPTS_MAX})`, async (t) => {
  const rounds = ATTEMPTS_MAX
  const waits = Array.from({ length: rounds }, () => 0)
  const d = run(retry({ roundsMax: rounds, baseMs: 0, maxMs: 0 }), failingRounds(rounds, waits))
  t.equal(d.state(), 'failed')
  t.equal(ctx(d).calls, 2 * rounds)
  t.equal(ctx(d).attempts.length, ATTEMPTS_MAX)
  t.match(ctx(d).attempts.at(-1), { round: rounds, method: 1, name: 'pill' })
  t.match(ctx(d).attempts[0], { round: rounds - ATTEMPTS_MAX / 2 + 1, method: 0 })
})

/**
 * Property: over random input sequences from a seeded, sometimes misbehaving shell (stale and
 * duplicate results, ACK and CANCEL at any time, results after the end), the machine never has
 * two methods in flight, says fenced at most once and only for an 'ok' result of the call in
 * flight or an ACK, keeps attempts bounded, and its context survives JSON.
 */
interface Shell {
  at: number
  outstanding: { call: number; method: number } | null
  calls: number
  fenced: number
  ended: boolean
}
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const OUTCOMES: FenceOutcome[] = ['ok', 'failed', 'failed', 'timeout', 'misconfigured']

function randomInput(random: () => number): FenceInput {
  const methods = [{ name: 'ipmi', kind: 'agent' as const }, { name: 'pdu', kind: 'agent' as const }, { name: 'pill', kind: 'poison-pill' as const }].slice(0, Math.floor(random() * 4))
  const baseMs = pick(random, [0, 500, 2000])
  return { ...base, methods, delayMs: pick(random, [0, 0, 3000]), retry: { baseMs, maxMs: baseMs * pick(random, [1, 4]), roundsMax: 1 + Math.floor(random() * 4) }, startedAt: 0 }
}

function nextEvent(random: () => number, shell: Shell): FenceEvent {
  shell.at += Math.floor(random() * 1500)
  const at = shell.at
  if (shell.outstanding !== null && random() < 0.6) {
    const { call, method } = shell.outstanding
    return { type: 'METHOD_DONE', at, call, method, outcome: pick(random, OUTCOMES), detail: 'answer' }
  }
  const r = random()
  if (r < 0.15) return { type: 'METHOD_DONE', at, call: Math.floor(random() * (shell.calls + 2)), method: Math.floor(random() * 3), outcome: pick(random, OUTCOMES), detail: 'stray' }
  if (r < 0.18) return ack(at, 'root')
  if (r < 0.21) return cancel(at)
  return check(at)
}

function observe(t: Test, shell: Shell, event: FenceEvent, effects: PlainEvent[], d: Drive, where: string): void {
  const o = shell.outstanding
  const answersCall = event.type === 'METHOD_DONE' && o !== null && event.call === o.call && event.method === o.method
  if (shell.ended && effects.length > 0) t.fail(`${where}: effects after the operation ended`)
  for (const e of effects) {
    if (e.type === 'effect.fenceMethod' && shell.outstanding !== null && !answersCall) t.fail(`${where}: a second method while call ${shell.outstanding.call} is in flight`)
    if (e.type === 'effect.fenced') {
      shell.fenced += 1
      if (shell.fenced > 1) t.fail(`${where}: fenced twice`)
      const byMethod = answersCall && event.type === 'METHOD_DONE' && event.outcome === 'ok'
      if (!byMethod && event.type !== 'ACK') t.fail(`${where}: fenced without an ok result of the call in flight or an ACK`)
    }
  }
  if (answersCall) shell.outstanding = null
  for (const e of effects) {
    if (e.type === 'effect.fenceMethod') {
      shell.outstanding = { call: e.call as number, method: e.method as number }
      shell.calls = e.call as number
    }
  }
  const c = ctx(d)
  if (c.attempts.length > ATTEMPTS_MAX) t.fail(`${where}: ${c.attempts.length} attempts kept`)
  const inFlight = ['succeeded', 'cancelled'].includes(String(d.state())) ? null : shell.outstanding
  if (JSON.stringify(c.inFlight) !== JSON.stringify(inFlight)) t.fail(`${where}: context.inFlight ${JSON.stringify(c.inFlight)}, shell expects ${JSON.stringify(inFlight)}`)
  if (c.inFlight !== null && d.state() !== 'fencing') t.fail(`${where}: a method in flight in ${String(d.state())}`)
  shell.ended = d.snapshot.status === 'done'
}

t.test('property: one method at a time, fenced at most once and only with proof (seeded)', async (t) => {
  const SEEDS = 300
  const STEPS = 120
  const visited = new Set<string>()
  let fenced = 0
  let rejected = 0
  for (let seed = 1; seed <= SEEDS; seed++) {
    const random = seeded(seed)
    const d = drive(fencingMachine, randomInput(random))
    visited.add(String(d.state()))
    const shell: Shell = { at: 0, outstanding: null, calls: 0, fenced: 0, ended: false }
    for (let i = 0; i < STEPS; i++) {
      const event = nextEvent(random, shell)
      const where = `seed=${seed} step ${i} ${JSON.stringify(event)} in ${String(d.state())}`
      const restored = fencingMachine.resolveState({ value: d.snapshot.value as string, context: JSON.parse(JSON.stringify(d.snapshot.context)) as FencingContext })
      const replayed = step(fencingMachine, restored, event as PlainEvent)
      const tr = d.send(event as PlainEvent)
      if (JSON.stringify(replayed.transition) !== JSON.stringify(tr) || JSON.stringify(replayed.snapshot.value) !== JSON.stringify(d.snapshot.value)) {
        t.fail(`${where}: a snapshot restored from JSON decides differently`)
      }
      observe(t, shell, event, tr?.effects ?? [], d, where)
      visited.add(String(d.state()))
    }
    fenced += shell.fenced
    rejected += ctx(d).rejected.count
  }
  t.same([...visited].sort(), ['backoff', 'cancelled', 'delaying', 'failed', 'fencing', 'succeeded'], 'the generator reaches every state')
  t.ok(fenced > 100 && rejected > 50, `exercised: ${fenced} fenced, ${rejected} rejected`)
})

t.test('determinism: the same inputs give the same transitions and context twice', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = seeded(seed * 7919)
    const input = randomInput(random)
    const shell: Shell = { at: 0, outstanding: null, calls: 0, fenced: 0, ended: false }
    const first = drive(fencingMachine, input)
    const events: FenceEvent[] = []
    for (let i = 0; i < 80; i++) {
      const event = nextEvent(random, shell)
      events.push(event)
      const tr = first.send(event as PlainEvent)
      for (const e of tr?.effects ?? []) if (e.type === 'effect.fenceMethod') shell.outstanding = { call: e.call as number, method: e.method as number }
    }
    const second = run(input, events)
    t.same(second.transitions, first.transitions, `seed=${seed * 7919}: same transitions`)
    t.equal(JSON.stringify([second.snapshot.value, second.snapshot.context]), JSON.stringify([first.snapshot.value, first.snapshot.context]), `seed=${seed * 7919}: same end`)
  }
})
