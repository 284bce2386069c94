/**
 * Disk Paxos on the quorum disk (pure): the decisions of one proposer of one register, as a
 * step function that asks for reads and writes and never does them (paxos-register.ts does).
 *
 * The register decides a sequence of values, one per instance 1, 2, 3…; its current value is
 * the highest committed instance. Every node n owns one ballot block per register (layout.ts
 * leaseSlot) and is its only writer (DESIGN.md); a block holds { committed, instance, mbal,
 * bal, inp } (payloads.ts LeaseBallot). This is Gafni & Lamport's Disk Paxos with one disk
 * (written as two copies, a write counting only when both are synced), as sanlock's paxos
 * leases use it, minus sanlock's shared leader block: the decision lives in the `committed`
 * field of the deciders' own blocks, so no block ever has two writers.
 *
 * A proposer for instance i (i = current.instance + 1, the caller says which):
 *   0. reads every block of the register;
 *   1. picks a ballot b above every mbal any block shows for instance i (ballots are
 *      round * 65536 + nodeId, so unique per node), writes its own block with mbal b (keeping
 *      its own bal/inp if they were for instance i) and reads every block again: it aborts if
 *      some block has mbal > b for instance i (contention) or records a commit of instance ≥ i
 *      (stale); otherwise it chooses v = the inp of the highest bal > 0 seen for instance i,
 *      else its own value;
 *   2. writes bal b, inp v and reads every block again, with the same abort rules;
 *   3. v is decided for instance i: it writes committed = { i, v } in its own block.
 *
 * Why two proposers never decide different values for one instance. Let p decide v with
 * ballot b: p wrote (mbal b, bal b, inp v), then read every block and saw no mbal > b. Take
 * any q with ballot b' > b that gets through phase 1: q wrote mbal b' and then read. Each
 * block is an atomic register (one writer; a write returns after both copies are synced;
 * a read takes the primary, else the shadow), and each proposer writes before it reads, so
 * either p's phase-2 read saw q's mbal b' (and p aborted: contradiction) or q's phase-1 read
 * saw p's block at or after p's phase-2 write. Every later write of p keeps bal ≥ b with the
 * value its own higher ballots chose, or records the commit of i, or moves to instance > i
 * carrying committed ≥ i. So q either stops (stale) or sees some bal ≥ b; by induction on
 * ballots every bal ≥ b for instance i holds v, and q chooses v. A commit record is written
 * only by a decider or copied from one, so every node learns the same value per instance,
 * and a proposer that crashed after phase 2 has its value adopted by the next one.
 *
 * Unreadable blocks. A block that fails its checks (CRC, misplaced, bad payload…) may hold an
 * accepted value; treating it as absent could let q miss p's bal b above. So any unreadable
 * block that is not "never written" aborts the attempt with 'io': safety never suffers,
 * liveness does. A crash in the middle of a write cannot cause it (the primary is written
 * and synced before the shadow, so one copy is always whole); only media corruption of both
 * copies or a foreign writer can, and then the register stays stuck, for its own writer too
 * (rewriting the block would forget what it accepted), until an operator clears it, with
 * every node stopped (not built yet). A commit seen in a readable block is believed whatever
 * the unreadable ones say (it is true regardless), so 'stale' wins over 'io'. A write that
 * did not reach both copies is 'io' too: the outcome is then unknown (the value may still be
 * adopted later), never "decided".
 *
 * No leader block. sanlock's paxos lease also writes the decision into a shared leader
 * block, which every host may write; here each node writes only its own blocks (DESIGN.md),
 * at the price of one contiguous read of maxNodes blocks instead of one, and a decision that
 * lives in `committed` fields (a node moving on to instance i + 1 carries committed = i, so
 * the newest decision is never lost when older ones are overwritten).
 *
 * Assumed, not checked here: one process per node id (the own-block check below catches most
 * violations: CARB_ERR_PAXOS_OWN_BLOCK), and within it one proposal per register at a time
 * (paxos-register.ts queues them).
 */
import { CarbError } from '../errors.js'
import { BALLOT_NODE_SPAN, type LeaseBallot, type LeaseCommitted } from './payloads.js'

export type BallotView =
  | { nodeId: number; state: 'ok'; block: LeaseBallot }
  | { nodeId: number; state: 'empty' }
  | { nodeId: number; state: 'unreadable'; error: CarbError }

export type AbortReason = 'contention' | 'stale' | 'io'

export type ProposeResult =
  /** `mine`: v is the value this call proposed, not one it adopted from an earlier ballot. */
  | { decided: true; instance: number; value: unknown; mine: boolean }
  /** `current`: the highest decision seen (newer than the goal's base when 'stale'). */
  | { decided: false; reason: AbortReason; current: LeaseCommitted | null; errors: CarbError[] }

export interface ProposeGoal {
  nodeId: number
  /** The instance to decide: the caller's current.instance + 1. */
  instance: number
  /** Any msgpack value except null (null means "no value" in a block). */
  value: unknown
}

/** Reads and writes a proposal needs at most: read, then (write, read) × 2, then the commit write. */
export const PROPOSER_ACTIONS_MAX = 6

/** The highest decision any readable block records, or null. */
export function currentOf(views: readonly BallotView[]): LeaseCommitted | null {
  let best: LeaseCommitted | null = null
  for (const view of views) {
    const committed = view.state === 'ok' ? view.block.committed : null
    if (committed !== null && (best === null || committed.instance > best.instance)) best = committed
  }
  return best
}

function blocksFor(views: readonly BallotView[], instance: number): LeaseBallot[] {
  const blocks: LeaseBallot[] = []
  for (const view of views) if (view.state === 'ok' && view.block.instance === instance) blocks.push(view.block)
  return blocks
}

/** A ballot of `nodeId` above every mbal the views show for `instance`. */
export function nextBallot(views: readonly BallotView[], instance: number, nodeId: number): number {
  assertNodeId(nodeId)
  let round = 0
  for (const block of blocksFor(views, instance)) round = Math.max(round, Math.floor(block.mbal / BALLOT_NODE_SPAN))
  const ballot = (round + 1) * BALLOT_NODE_SPAN + nodeId
  if (!Number.isSafeInteger(ballot)) throw new CarbError('CARB_ERR_USAGE', `ballot round ${round + 1} is beyond the safe integers`)
  return ballot
}

/**
 * The value phase 2 must propose: the inp of the highest accepted ballot for the instance, else
 * our own. Adopting a value equal to our own (accepted in an earlier attempt of ours, or
 * carried on by a rival) is not adopting: the decision is still ours to report as `mine`.
 */
export function chooseValue(views: readonly BallotView[], instance: number, own: unknown): { value: unknown; adopted: boolean } {
  let best: LeaseBallot | undefined
  for (const block of blocksFor(views, instance)) if (block.bal > 0 && (best === undefined || block.bal > best.bal)) best = block
  return best === undefined ? { value: own, adopted: false } : { value: best.inp, adopted: !sameValue(best.inp, own) }
}

/** Values are plain msgpack data; two are the same when their canonical JSON is. */
function sameValue(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): string => JSON.stringify(v, (_key, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x))
  return canonical(a) === canonical(b)
}

function unreadableErrors(views: readonly BallotView[]): CarbError[] {
  const errors: CarbError[] = []
  for (const view of views) if (view.state === 'unreadable') errors.push(view.error)
  return errors
}

type Verdict = { go: true } | { go: false; reason: AbortReason; current: LeaseCommitted | null; errors: CarbError[] }

/**
 * What the read after a phase's write says (the same rule closes phases 1 and 2): stale when
 * the instance is decided, io when a block is unreadable or our own block is not what we
 * wrote, contention when a block shows a higher mbal for the instance, else go on.
 */
export function phaseVerdict(views: readonly BallotView[], nodeId: number, written: LeaseBallot): Verdict {
  const current = currentOf(views)
  if (current !== null && current.instance >= written.instance) return { go: false, reason: 'stale', current, errors: [] }
  const errors = unreadableErrors(views)
  if (errors.length > 0) return { go: false, reason: 'io', current, errors }
  const own = views.find((view) => view.nodeId === nodeId)
  if (own === undefined || own.state !== 'ok' || !sameBallot(own.block, written)) {
    const error = new CarbError('CARB_ERR_PAXOS_OWN_BLOCK', `node ${nodeId}'s own ballot block does not read back as written (instance ${written.instance}, mbal ${written.mbal}): another writer with the same node id?`)
    return { go: false, reason: 'io', current, errors: [error] }
  }
  const higher = blocksFor(views, written.instance).some((block) => block.mbal > written.mbal)
  return higher ? { go: false, reason: 'contention', current, errors: [] } : { go: true }
}

function sameBallot(a: LeaseBallot, b: LeaseBallot): boolean {
  return a.instance === b.instance && a.mbal === b.mbal && a.bal === b.bal && a.committed?.instance === b.committed?.instance
}

/** The verdict on the first read: whether a proposal for goal.instance may start at all. */
export function startVerdict(views: readonly BallotView[], goal: ProposeGoal): Verdict {
  const current = currentOf(views)
  const base = current?.instance ?? 0
  if (base >= goal.instance) return { go: false, reason: 'stale', current, errors: [] }
  const errors = unreadableErrors(views)
  if (errors.length > 0) return { go: false, reason: 'io', current, errors }
  if (base + 1 !== goal.instance) return { go: false, reason: 'stale', current, errors: [] }
  return { go: true }
}

/** Our phase-1 block: the new mbal, keeping what we accepted earlier in this instance. */
export function phase1Block(views: readonly BallotView[], goal: ProposeGoal, ballot: number): LeaseBallot {
  const own = views.find((view) => view.nodeId === goal.nodeId)
  const kept = own?.state === 'ok' && own.block.instance === goal.instance ? own.block : undefined
  return { v: 1, committed: currentOf(views), instance: goal.instance, mbal: ballot, bal: kept?.bal ?? 0, inp: kept?.inp ?? null }
}

/** Exponential backoff with full jitter: uniform in [0, min(maxMs, baseMs * 2^(attempt-1))). */
export function backoffDelayMs(attempt: number, unitRandom: number, limits: { backoffBaseMs: number; backoffMaxMs: number }): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new CarbError('CARB_ERR_USAGE', `attempt must be a positive integer, got ${attempt}`)
  if (!(unitRandom >= 0 && unitRandom < 1)) throw new CarbError('CARB_ERR_USAGE', `random must be in [0, 1), got ${unitRandom}`)
  const ceilingMs = Math.min(limits.backoffMaxMs, limits.backoffBaseMs * 2 ** Math.min(attempt - 1, 30))
  return unitRandom * ceilingMs
}

function assertNodeId(nodeId: number): void {
  if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId >= BALLOT_NODE_SPAN) throw new CarbError('CARB_ERR_USAGE', `node id must be 1..${BALLOT_NODE_SPAN - 1}, got ${nodeId}`)
}

// ---- the proposer as a step function ------------------------------------------------------

export type ProposerStep = 'read-start' | 'write-phase1' | 'read-phase1' | 'write-phase2' | 'read-phase2' | 'write-commit' | 'done'

export interface ProposerState {
  readonly goal: ProposeGoal
  readonly step: ProposerStep
  /** The block we are writing or last wrote (null before phase 1). */
  readonly written: LeaseBallot | null
  readonly adopted: boolean
}

export type ProposerInput =
  | { type: 'read'; views: readonly BallotView[] }
  /** `ok`: both copies written. */
  | { type: 'wrote'; ok: boolean; errors: readonly CarbError[] }

export type ProposerAction =
  | { type: 'read' }
  | { type: 'write'; block: LeaseBallot }
  | { type: 'done'; result: ProposeResult }

export function startProposer(goal: ProposeGoal): [ProposerState, ProposerAction] {
  assertNodeId(goal.nodeId)
  if (!Number.isSafeInteger(goal.instance) || goal.instance < 1) throw new CarbError('CARB_ERR_USAGE', `instance must be a positive integer, got ${goal.instance}`)
  if (goal.value === null || goal.value === undefined) throw new CarbError('CARB_ERR_USAGE', 'a register cannot decide null (null means "no value" in a ballot block)')
  return [{ goal, step: 'read-start', written: null, adopted: false }, { type: 'read' }]
}

function done(state: ProposerState, result: ProposeResult): [ProposerState, ProposerAction] {
  return [{ ...state, step: 'done' }, { type: 'done', result }]
}

function write(state: ProposerState, step: ProposerStep, block: LeaseBallot, adopted = state.adopted): [ProposerState, ProposerAction] {
  return [{ ...state, step, written: block, adopted }, { type: 'write', block }]
}

function aborted(verdict: Verdict & { go: false }): ProposeResult {
  return { decided: false, reason: verdict.reason, current: verdict.current, errors: verdict.errors }
}

function afterRead(state: ProposerState, views: readonly BallotView[]): [ProposerState, ProposerAction] {
  const { goal, written } = state
  if (state.step === 'read-start') {
    const verdict = startVerdict(views, goal)
    if (!verdict.go) return done(state, aborted(verdict))
    return write(state, 'write-phase1', phase1Block(views, goal, nextBallot(views, goal.instance, goal.nodeId)))
  }
  if (written === null) throw new CarbError('CARB_ERR_USAGE', `proposer in step ${state.step} has written nothing`)
  const verdict = phaseVerdict(views, goal.nodeId, written)
  if (!verdict.go) return done(state, aborted(verdict))
  if (state.step === 'read-phase1') {
    const { value, adopted } = chooseValue(views, goal.instance, goal.value)
    return write(state, 'write-phase2', { ...written, bal: written.mbal, inp: value }, adopted)
  }
  return write(state, 'write-commit', { ...written, committed: { instance: goal.instance, value: written.inp } })
}

const AFTER_WRITE: Partial<Record<ProposerStep, ProposerStep>> = { 'write-phase1': 'read-phase1', 'write-phase2': 'read-phase2' }

/** One step: the proposer's next action given the result of its last one. */
export function stepProposer(state: ProposerState, input: ProposerInput): [ProposerState, ProposerAction] {
  const expects = state.step.startsWith('read-') ? 'read' : state.step.startsWith('write-') ? 'wrote' : 'nothing'
  if (input.type !== expects) throw new CarbError('CARB_ERR_USAGE', `invalid proposer input: ${input.type} in step ${state.step}`)
  if (input.type === 'read') return afterRead(state, input.views)
  const written = state.written
  if (written === null) throw new CarbError('CARB_ERR_USAGE', `proposer in step ${state.step} has written nothing`)
  if (!input.ok) return done(state, { decided: false, reason: 'io', current: written.committed, errors: [...input.errors] })
  const next = AFTER_WRITE[state.step]
  if (next !== undefined) return [{ ...state, step: next }, { type: 'read' }]
  return done(state, { decided: true, instance: state.goal.instance, value: written.inp, mine: !state.adopted })
}
