/**
 * "Disk Paxos: rules": the pure decisions (table tests), then the real proposer step
 * function run against an in-memory register: every interleaving of two proposers (with a
 * retry each, and a crash at any point), seeded random schedules of three proposers over many
 * instances with failed writes, and the classic "crashed after phase 2" recovery.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CarbError } from '../../src/errors.js'
import {
  backoffDelayMs, chooseValue, currentOf, nextBallot, phase1Block, phaseVerdict, startProposer, startVerdict, stepProposer,
  type BallotView, type ProposeResult, type ProposerAction, type ProposerState,
} from '../../src/disk/paxos-rules.js'
import { BALLOT_NODE_SPAN, payloadProblem, type LeaseBallot } from '../../src/disk/payloads.js'

const S = BALLOT_NODE_SPAN
const block = (fields: Partial<LeaseBallot> & { instance: number; mbal: number }): LeaseBallot => ({ v: 1, committed: null, bal: 0, inp: null, ...fields })
const ok = (nodeId: number, b: LeaseBallot): BallotView => ({ nodeId, state: 'ok', block: b })
const empty = (nodeId: number): BallotView => ({ nodeId, state: 'empty' })
const bad = (nodeId: number): BallotView => ({ nodeId, state: 'unreadable', error: new CarbError('CARB_ERR_DISK_BAD_CRC', 'flipped', `node ${nodeId}`) })

t.test('the rules are pure: no clock, timer, randomness or I/O, only their two sibling imports', async (t) => {
  const text = readFileSync(join(import.meta.dirname, '../../src/disk/paxos-rules.ts'), 'utf8')
  const imports = [...text.matchAll(/^import\s[^']*'([^']+)'/gm)].map((m) => m[1])
  t.same(imports, ['../errors.js', './payloads.js'])
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/`(?:\\.|[^`\\])*`|'(?:\\.|[^'\\])*'/g, "''")
  for (const forbidden of [/\bDate\b/, /\bperformance\b/, /\bprocess\b/, /\bsetTimeout\b/, /\bMath\.random\b/, /\bawait\b/, /\brequire\(/]) t.notMatch(code, forbidden, `no ${forbidden.source}`)
})

t.test('currentOf: the highest commit any readable block records', async (t) => {
  const table: [string, BallotView[], unknown][] = [
    ['nothing written', [empty(1), empty(2)], null],
    ['no commit yet', [ok(1, block({ instance: 1, mbal: S + 1 }))], null],
    ['highest wins', [ok(1, block({ instance: 3, mbal: S + 1, committed: { instance: 2, value: 'b' } })), ok(2, block({ instance: 3, mbal: S + 2, bal: S + 2, inp: 'c', committed: { instance: 3, value: 'c' } })), bad(3)], { instance: 3, value: 'c' }],
  ]
  for (const [name, views, want] of table) t.same(currentOf(views), want, name)
})

t.test('nextBallot: above every mbal of the instance, unique per node', async (t) => {
  const views = [ok(1, block({ instance: 2, mbal: 3 * S + 1 })), ok(2, block({ instance: 1, mbal: 9 * S + 2 })), empty(3)]
  const table: [string, number, number, number][] = [
    ['fresh instance: round 1', 5, 3, S + 3],
    ['above node 1 round 3', 2, 2, 4 * S + 2],
    ['above own round too', 2, 1, 4 * S + 1],
    ['ignores other instances', 1, 1, 10 * S + 1],
  ]
  for (const [name, instance, nodeId, want] of table) t.equal(nextBallot(views, instance, nodeId), want, name)
  t.throws(() => nextBallot(views, 1, 0), { code: 'CARB_ERR_USAGE' })
  t.throws(() => nextBallot(views, 1, S), { code: 'CARB_ERR_USAGE' })
})

t.test('chooseValue: the inp of the highest bal for the instance, else our own', async (t) => {
  const table: [string, BallotView[], unknown][] = [
    ['nobody accepted', [ok(1, block({ instance: 1, mbal: S + 1 })), empty(2)], { value: 'mine', adopted: false }],
    ['one accepted', [ok(2, block({ instance: 1, mbal: 2 * S + 2, bal: S + 2, inp: 'x' }))], { value: 'x', adopted: true }],
    ['highest bal wins', [ok(1, block({ instance: 1, mbal: 3 * S + 1, bal: 3 * S + 1, inp: 'y' })), ok(2, block({ instance: 1, mbal: 4 * S + 2, bal: 2 * S + 2, inp: 'x' }))], { value: 'y', adopted: true }],
    ['other instance ignored', [ok(2, block({ instance: 2, mbal: S + 2, bal: S + 2, inp: 'z', committed: { instance: 1, value: 'a' } }))], { value: 'mine', adopted: false }],
  ]
  for (const [name, views, want] of table) t.same(chooseValue(views, 1, 'mine'), want, name)
})

t.test('startVerdict and phaseVerdict', async (t) => {
  const mine = block({ instance: 2, mbal: 2 * S + 1, committed: { instance: 1, value: 'a' } })
  const c1 = { instance: 1, value: 'a' }
  const goal = { nodeId: 1, instance: 2, value: 'v' }
  const start: [string, BallotView[], number, unknown][] = [
    ['fresh register, instance 1', [empty(1), empty(2)], 1, { go: true }],
    ['instance taken', [ok(2, block({ instance: 1, mbal: S + 2, bal: S + 2, inp: 'a', committed: c1 }))], 1, { go: false, reason: 'stale', current: c1 }],
    ['goal ahead of the disk', [empty(1)], 2, { go: false, reason: 'stale', current: null }],
    ['unreadable peer', [empty(1), bad(2)], 1, { go: false, reason: 'io', current: null }],
    ['stale beats io', [bad(1), ok(2, block({ instance: 1, mbal: S + 2, bal: S + 2, inp: 'a', committed: c1 }))], 1, { go: false, reason: 'stale' }],
  ]
  for (const [name, views, instance, want] of start) t.match(startVerdict(views, { ...goal, instance }), want, `start: ${name}`)
  const phase: [string, BallotView[], unknown][] = [
    ['alone', [ok(1, mine), empty(2)], { go: true }],
    ['lower mbal elsewhere', [ok(1, mine), ok(2, block({ instance: 2, mbal: S + 2, committed: c1 }))], { go: true }],
    ['higher mbal', [ok(1, mine), ok(2, block({ instance: 2, mbal: 3 * S + 2, committed: c1 }))], { go: false, reason: 'contention' }],
    ['higher mbal of an older instance', [ok(1, mine), ok(2, block({ instance: 1, mbal: 9 * S + 2 }))], { go: true }],
    ['decided meanwhile', [ok(1, mine), ok(2, block({ instance: 2, mbal: S + 2, bal: S + 2, inp: 'b', committed: { instance: 2, value: 'b' } }))], { go: false, reason: 'stale', current: { instance: 2, value: 'b' } }],
    ['unreadable peer', [ok(1, mine), bad(2)], { go: false, reason: 'io', errors: [{ code: 'CARB_ERR_DISK_BAD_CRC' }] }],
    ['own block not as written', [ok(1, { ...mine, mbal: S + 1 }), empty(2)], { go: false, reason: 'io', errors: [{ code: 'CARB_ERR_PAXOS_OWN_BLOCK' }] }],
    ['own block missing', [empty(1)], { go: false, reason: 'io', errors: [{ code: 'CARB_ERR_PAXOS_OWN_BLOCK' }] }],
  ]
  for (const [name, views, want] of phase) t.match(phaseVerdict(views, 1, mine), want, `phase: ${name}`)
})

t.test('phase1Block keeps what we accepted in this instance only', async (t) => {
  const goal = { nodeId: 1, instance: 2, value: 'v' }
  const c1 = { instance: 1, value: 'a' }
  const accepted = block({ instance: 2, mbal: S + 1, bal: S + 1, inp: 'old', committed: c1 })
  t.same(phase1Block([ok(1, accepted)], goal, 3 * S + 1), { ...accepted, mbal: 3 * S + 1 })
  const older = block({ instance: 1, mbal: S + 1, bal: S + 1, inp: 'a', committed: c1 })
  t.same(phase1Block([ok(1, older)], goal, 3 * S + 1), { v: 1, committed: c1, instance: 2, mbal: 3 * S + 1, bal: 0, inp: null })
})

t.test('backoffDelayMs: full jitter under a doubling ceiling', async (t) => {
  const limits = { backoffBaseMs: 5, backoffMaxMs: 200 }
  const table: [number, number, number][] = [[1, 0, 0], [1, 0.5, 2.5], [2, 0.5, 5], [3, 0.999, 19.98], [7, 0.5, 100], [60, 0.5, 100]]
  for (const [attempt, random, want] of table) t.ok(Math.abs(backoffDelayMs(attempt, random, limits) - want) < 1e-9, `attempt ${attempt}, random ${random}`)
  t.throws(() => backoffDelayMs(0, 0.5, limits), { code: 'CARB_ERR_USAGE' })
  t.throws(() => backoffDelayMs(1, 1, limits), { code: 'CARB_ERR_USAGE' })
})

t.test('the step function refuses illegal inputs and null values', async (t) => {
  const [state] = startProposer({ nodeId: 1, instance: 1, value: 'v' })
  t.throws(() => stepProposer(state, { type: 'wrote', ok: true, errors: [] }), { code: 'CARB_ERR_USAGE', message: /wrote in step read-start/ })
  t.throws(() => startProposer({ nodeId: 1, instance: 1, value: null }), { code: 'CARB_ERR_USAGE' })
  t.throws(() => startProposer({ nodeId: 1, instance: 0, value: 'v' }), { code: 'CARB_ERR_USAGE' })
})

// ---- an in-memory register driving the real step function ---------------------------------

const NODES = 4
type Disk = ReadonlyMap<number, LeaseBallot>

function viewsOf(disk: Disk): BallotView[] {
  const views: BallotView[] = []
  for (let nodeId = 1; nodeId <= NODES; nodeId++) {
    const b = disk.get(nodeId)
    views.push(b === undefined ? empty(nodeId) : ok(nodeId, b))
  }
  return views
}

interface Proc {
  nodeId: number
  value: string
  attemptsLeft: number
  machine: [ProposerState, ProposerAction] | null
  results: ProposeResult[]
}

type WriteFate = 'ok' | 'failed-landed' | 'failed-lost'

/** One action of `proc` against `disk`; returns the new disk. A 'done' is recorded and the next attempt armed. */
function step(disk: Disk, proc: Proc, fate: WriteFate = 'ok'): Disk {
  const [state, action] = proc.machine!
  let next = disk
  let input
  if (action.type === 'read') input = { type: 'read' as const, views: viewsOf(disk) }
  else if (action.type === 'write') {
    if (payloadProblem('lease', action.block, proc.nodeId, '') !== undefined) throw new Error(`wrote a bad block: ${payloadProblem('lease', action.block, proc.nodeId, '')}`)
    if (fate !== 'failed-lost') next = new Map(disk).set(proc.nodeId, action.block)
    input = { type: 'wrote' as const, ok: fate === 'ok', errors: fate === 'ok' ? [] : [new CarbError('CARB_ERR_DISK_IO', 'EIO')] }
  } else throw new Error('stepping a finished proposer')
  proc.machine = stepProposer(state, input)
  const after = proc.machine[1]
  if (after.type === 'done') {
    proc.results.push(after.result)
    proc.attemptsLeft--
    const retry = !after.result.decided && after.result.reason !== 'stale' && proc.attemptsLeft > 0
    proc.machine = retry ? startProposer(state.goal) : null
  }
  return next
}

/** Values that are chosen: a proposer passed phase 2 (about to commit, or committed). */
function chosen(procs: readonly Proc[]): Set<unknown> {
  const values = new Set<unknown>()
  for (const p of procs) {
    if (p.machine?.[0].step === 'write-commit') values.add(p.machine[0].written!.inp)
    for (const r of p.results) if (r.decided) values.add(r.value)
  }
  return values
}

/** A fresh proposer (node 4) run alone to the end: what the register decides for instance 1. */
function recover(disk: Disk): unknown {
  const proc: Proc = { nodeId: 4, value: 'recovery', attemptsLeft: 3, machine: startProposer({ nodeId: 4, instance: 1, value: 'recovery' }), results: [] }
  for (let i = 0; i < 30 && proc.machine !== null; i++) disk = step(disk, proc)
  const last = proc.results.at(-1)!
  if (last.decided) return last.value
  if (last.reason === 'stale') return last.current?.value
  throw new Error(`recovery did not decide: ${last.reason}`)
}

function clone(procs: readonly Proc[]): Proc[] {
  return procs.map((p) => ({ ...p, results: [...p.results] }))
}

t.test('two proposers, every interleaving (a retry each, a crash anywhere): one value per instance', async (t) => {
  let schedules = 0
  let bothDecided = 0
  let adoptions = 0
  const failures: string[] = []
  function explore(disk: Disk, procs: Proc[], trace: string): void {
    const values = chosen(procs)
    if (values.size > 1) failures.push(`two values chosen: ${[...values].join(',')} after ${trace}`)
    for (const b of disk.values()) if (b.committed !== null && !values.has(b.committed.value)) failures.push(`commit of unchosen ${String(b.committed.value)} after ${trace}`)
    // Everyone crashes here: a newcomer must find the chosen value.
    const recovered = recover(disk)
    if (values.size === 1 && !values.has(recovered)) failures.push(`recovery decided ${String(recovered)}, not ${[...values].join()} after ${trace}`)
    const live = procs.filter((p) => p.machine !== null)
    if (live.length === 0) {
      schedules++
      if (procs.every((p) => p.results.some((r) => r.decided))) bothDecided++
      if (procs.some((p) => p.results.some((r) => r.decided && !r.mine))) adoptions++
      return
    }
    if (failures.length > 5) return
    for (const proc of live) {
      const nextProcs = clone(procs)
      const mover = nextProcs.find((p) => p.nodeId === proc.nodeId)!
      const nextDisk = step(disk, mover)
      explore(nextDisk, nextProcs, `${trace}${proc.nodeId}`)
    }
  }
  const start = (nodeId: number, attempts: number): Proc => ({ nodeId, value: `v${nodeId}`, attemptsLeft: attempts, machine: startProposer({ nodeId, instance: 1, value: `v${nodeId}` }), results: [] })
  explore(new Map(), [start(1, 2), start(2, 2)], '')
  t.same(failures, [])
  t.ok(schedules > 10_000, `${schedules} complete schedules explored`)
  t.ok(bothDecided > 0, `${bothDecided} schedules where both learned the decision by deciding it`)
  t.ok(adoptions > 0, `${adoptions} schedules where a proposer adopted the other's value`)
  t.comment(`${schedules} schedules, ${bothDecided} with two deciders, ${adoptions} with an adoption`)
})

t.test('a proposer that crashed after phase 2 has its value adopted and committed', async (t) => {
  const a: Proc = { nodeId: 1, value: 'a', attemptsLeft: 1, machine: startProposer({ nodeId: 1, instance: 1, value: 'a' }), results: [] }
  let disk: Disk = new Map()
  while (a.machine![0].step !== 'write-commit') disk = step(disk, a)
  t.match(disk.get(1), { instance: 1, bal: S + 1, inp: 'a', committed: null }, 'accepted, not committed')
  const b: Proc = { nodeId: 2, value: 'b', attemptsLeft: 1, machine: startProposer({ nodeId: 2, instance: 1, value: 'b' }), results: [] }
  while (b.machine !== null) disk = step(disk, b)
  t.same(b.results, [{ decided: true, instance: 1, value: 'a', mine: false }])
  t.same(disk.get(2)?.committed, { instance: 1, value: 'a' })
  t.same(currentOf(viewsOf(disk)), { instance: 1, value: 'a' })
})

/** mulberry32: a small seeded generator, so a failing schedule can be replayed from its seed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

function randomRun(seed: number): { learned: Map<number, Set<unknown>>; decisions: number; aborts: number } {
  const random = seeded(seed)
  let disk: Disk = new Map()
  const learned = new Map<number, Set<unknown>>()
  const learn = (instance: number, value: unknown): void => { learned.set(instance, (learned.get(instance) ?? new Set()).add(value)) }
  const procs: Proc[] = [1, 2, 3].map((nodeId) => ({ nodeId, value: '', attemptsLeft: 0, machine: null, results: [] }))
  let decisions = 0
  let aborts = 0
  for (let tick = 0; tick < 600; tick++) {
    const proc = procs[Math.floor(random() * procs.length)]!
    if (proc.machine === null) {
      const current = currentOf(viewsOf(disk))
      if (current !== null) learn(current.instance, current.value)
      const instance = (current?.instance ?? 0) + 1
      proc.value = `n${proc.nodeId}@${tick}`
      proc.attemptsLeft = 1
      proc.machine = startProposer({ nodeId: proc.nodeId, instance, value: proc.value })
      continue
    }
    const roll = random()
    const fate: WriteFate = roll < 0.04 ? 'failed-landed' : roll < 0.08 ? 'failed-lost' : 'ok'
    const before = proc.results.length
    disk = step(disk, proc, fate)
    for (const r of proc.results.slice(before)) {
      if (r.decided) { decisions++; learn(r.instance, r.value) } else { aborts++; if (r.current !== null) learn(r.current.instance, r.current.value) }
    }
  }
  for (const b of disk.values()) if (b.committed !== null) learn(b.committed.instance, b.committed.value)
  return { learned, decisions, aborts }
}

t.test('three proposers, random schedules over many instances, with failed writes', async (t) => {
  let decisions = 0
  let aborts = 0
  let instances = 0
  for (let seed = 1; seed <= 300; seed++) {
    const run = randomRun(seed)
    decisions += run.decisions
    aborts += run.aborts
    const conflicts = [...run.learned].filter(([, values]) => values.size > 1)
    if (conflicts.length > 0) { t.fail(`seed=${seed}: instance ${conflicts[0]![0]} learned as ${[...conflicts[0]![1]].join(' and ')}`); return }
    const numbers = [...run.learned.keys()].sort((a, b) => a - b)
    if (numbers.some((n, i) => n !== i + 1)) { t.fail(`seed=${seed}: instances not contiguous: ${numbers.join(',')}`); return }
    instances += numbers.length
  }
  t.ok(decisions > 1000 && aborts > 100, `${decisions} decisions and ${aborts} aborts over ${instances} instances in 300 seeds`)
  t.comment(`${decisions} decisions, ${aborts} aborts, ${instances} instances`)
})
