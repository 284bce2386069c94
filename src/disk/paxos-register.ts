/**
 * A disk-Paxos register on the quorum disk: the I/O around the pure proposer of
 * paxos-rules.ts (which explains the protocol and why it is safe).
 *
 * - A read is one contiguous read of the register's maxNodes ballot blocks per copy
 *   (QuorumDisk.readLeaseRegister); a block that fails any check, including the register
 *   owner's check of the values it holds (`valueProblem`, CARB_ERR_DISK_BAD_PAYLOAD), is
 *   unreadable and never believed. "Never written" is the only failure read as "absent".
 * - A write is this node's own ballot block, both copies, each synced (O_DSYNC); it counts
 *   only when both copies were written.
 * - `proposeAt` is compare-and-set of one instance, `updateRegister` read-decide-propose;
 *   both make a bounded number of attempts with randomized exponential backoff, the
 *   randomness and the sleep injectable (tests pass deterministic ones).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CarbError } from '../errors.js'
import { leaseSlot, type Geometry } from './layout.js'
import {
  backoffDelayMs, currentOf, PROPOSER_ACTIONS_MAX, startProposer, stepProposer,
  type AbortReason, type BallotView, type ProposeResult, type ProposerAction, type ProposerInput, type ProposerState,
} from './paxos-rules.js'
import type { LeaseBallot, LeaseCommitted } from './payloads.js'
import type { LeaseBlockRead, WriteResult } from './quorum-disk.js'

export type { BallotView, ProposeResult, AbortReason } from './paxos-rules.js'
export type { LeaseCommitted } from './payloads.js'

/** What a register needs of the quorum disk (QuorumDisk has it; tests wrap it to inject faults). */
export interface BallotDisk {
  readonly geometry: Geometry
  readLeaseRegister(register: number): Promise<LeaseBlockRead[]>
  writeBlock(kind: 'lease', slot: number, writer: number, payload: unknown): Promise<WriteResult>
}

export interface RegisterRef {
  register: number
  /** This node: it writes only its own ballot block of the register. */
  nodeId: number
  /** What is wrong with a value of this register (inp or committed), or undefined. */
  valueProblem?: (value: unknown) => string | undefined
}

/** The register's blocks as one read saw them. */
export interface RegisterViews {
  /** The highest decision in a readable block; only a lower bound when `errors` is not empty. */
  current: LeaseCommitted | null
  views: BallotView[]
  /** One per unreadable block ("never written" is not an error). */
  errors: CarbError[]
}

/** A register's current decision: instance 0 and value null before the first. */
export interface RegisterValue {
  instance: number
  value: unknown
}

/** Pure: the register's blocks as the rules see them, values checked by the register's owner. */
export function ballotViews(reads: readonly LeaseBlockRead[], valueProblem?: (value: unknown) => string | undefined): BallotView[] {
  return reads.map((read): BallotView => {
    if (!read.ok) return read.empty === true ? { nodeId: read.nodeId, state: 'empty' } : { nodeId: read.nodeId, state: 'unreadable', error: read.error }
    const block = read.payload as LeaseBallot
    const problem = valueProblem === undefined ? undefined : blockValueProblem(block, valueProblem)
    if (problem === undefined) return { nodeId: read.nodeId, state: 'ok', block }
    return { nodeId: read.nodeId, state: 'unreadable', error: new CarbError('CARB_ERR_DISK_BAD_PAYLOAD', problem, `lease ballot block of node ${read.nodeId}`) }
  })
}

function blockValueProblem(block: LeaseBallot, valueProblem: (value: unknown) => string | undefined): string | undefined {
  if (block.inp !== null) {
    const problem = valueProblem(block.inp)
    if (problem !== undefined) return `inp: ${problem}`
  }
  if (block.committed !== null) {
    const problem = valueProblem(block.committed.value)
    if (problem !== undefined) return `committed.value: ${problem}`
  }
  return undefined
}

/** Every block of the register, unreadable ones included (never throws for a bad block). */
export async function readViews(disk: BallotDisk, register: number, valueProblem?: (value: unknown) => string | undefined): Promise<RegisterViews> {
  const views = ballotViews(await disk.readLeaseRegister(register), valueProblem)
  const errors: CarbError[] = []
  for (const view of views) if (view.state === 'unreadable') errors.push(view.error)
  return { current: currentOf(views), views, errors }
}

/** Unreadable ballot blocks named in one error; a disk path that fails them all would name every node slot. */
const REGISTER_ERRORS_NAMED_MAX = 2

/**
 * The register's current decision. Throws when a block is unreadable (not "never written"):
 * that block may record a newer decision, so what the others say is only a lower bound and
 * is not reported as the value. The error keeps the first bad block's code.
 */
export async function readRegister(disk: BallotDisk, register: number, options: { valueProblem?: (value: unknown) => string | undefined } = {}): Promise<RegisterValue> {
  const read = await readViews(disk, register, options.valueProblem)
  const first = read.errors[0]
  if (first !== undefined) {
    // One line an administrator can read: the first blocks named, the rest counted.
    const named = read.errors.slice(0, REGISTER_ERRORS_NAMED_MAX).map((e) => `${e.where ?? ''} ${e.code} ${e.message}`.trim())
    const more = read.errors.length - named.length
    const detail = `${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`
    throw new CarbError(first.code, `lease register ${register} has ${read.errors.length} unreadable ballot block(s), its value is unknown: ${detail}`, first.where)
  }
  return read.current === null ? { instance: 0, value: null } : { instance: read.current.instance, value: read.current.value }
}

async function writeOwn(disk: BallotDisk, ref: RegisterRef, block: LeaseBallot): Promise<ProposerInput> {
  try {
    const result = await disk.writeBlock('lease', leaseSlot(disk.geometry, ref.register, ref.nodeId), ref.nodeId, block)
    return { type: 'wrote', ok: result.primaryOk && result.shadowOk, errors: result.errors }
  } catch (error) {
    if (error instanceof CarbError && error.code === 'CARB_ERR_USAGE') throw error
    return { type: 'wrote', ok: false, errors: [error instanceof CarbError ? error : new CarbError('CARB_ERR_DISK_IO', String(error))] }
  }
}

/**
 * One proposal at a time per (disk, register, node) in this process. Two proposals of one
 * node interleaving on its one ballot block could overwrite its own acceptance with a stale
 * phase-1 block and decide two values; the daemon can be asked for two configuration changes
 * at once, so its calls queue here. (Two processes with one node id are a misconfiguration
 * this cannot prevent; the own-block check, CARB_ERR_PAXOS_OWN_BLOCK, catches most of it.)
 */
const proposerQueues = new WeakMap<BallotDisk, Map<string, Promise<unknown>>>()

function exclusive<T>(disk: BallotDisk, ref: RegisterRef, run: () => Promise<T>): Promise<T> {
  let queues = proposerQueues.get(disk)
  if (queues === undefined) proposerQueues.set(disk, queues = new Map())
  const key = `${ref.register}:${ref.nodeId}`
  const result = (queues.get(key) ?? Promise.resolve()).then(run)
  const tail = result.catch(() => undefined)
  queues.set(key, tail)
  void tail.then(() => { if (queues.get(key) === tail) queues.delete(key) })
  return result
}

/**
 * Try once to decide `goal.value` for instance `goal.instance` (= current.instance + 1 as the
 * caller read it; anything else ends 'stale'): no retry.
 */
export function proposeOnce(disk: BallotDisk, ref: RegisterRef, goal: { instance: number; value: unknown }): Promise<ProposeResult> {
  return exclusive(disk, ref, () => proposeUnqueued(disk, ref, goal))
}

/**
 * The proposer's reads and writes. `firstRead` saves the first read when the caller has just
 * read the register inside the same queue turn (an older read could miss what this node
 * itself accepted since, and phase 1 would then write over it).
 */
async function proposeUnqueued(disk: BallotDisk, ref: RegisterRef, goal: { instance: number; value: unknown }, firstRead?: RegisterViews): Promise<ProposeResult> {
  let [state, action]: [ProposerState, ProposerAction] = startProposer({ nodeId: ref.nodeId, ...goal })
  let pendingRead = firstRead
  for (let actions = 0; actions <= PROPOSER_ACTIONS_MAX; actions++) {
    if (action.type === 'done') return action.result
    let input: ProposerInput
    if (action.type === 'read') {
      const read = pendingRead ?? (await readViews(disk, ref.register, ref.valueProblem))
      pendingRead = undefined
      input = { type: 'read', views: read.views }
    } else {
      input = await writeOwn(disk, ref, action.block)
    }
    ;[state, action] = stepProposer(state, input)
  }
  throw new CarbError('CARB_ERR_USAGE', `proposer took more than ${PROPOSER_ACTIONS_MAX} actions`)
}

export interface RetryOptions {
  /** Proposals (or plan rounds) before giving up. */
  maxAttempts: number
  backoffBaseMs: number
  backoffMaxMs: number
  /** Uniform in [0, 1): a seeded source in tests. */
  random: () => number
  sleepMs: (ms: number) => Promise<void>
}

/**
 * 8 attempts, 5 ms doubling to 200 ms: one proposal is 3 synced writes of 2 copies and 3
 * reads (a few ms on a SAN), so the first backoff separates two colliding proposers by about
 * one round, and 8 attempts bound one call to about a second of sleeping. The runtime's
 * randomness and sleep are Math.random and a timer (this is shell code, STYLE.md §2).
 */
export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 8,
  backoffBaseMs: 5,
  backoffMaxMs: 200,
  random: Math.random,
  sleepMs: (ms) => sleep(ms),
}

function retryWith(options: Partial<RetryOptions>): RetryOptions {
  const retry = { ...DEFAULT_RETRY, ...options }
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) throw new CarbError('CARB_ERR_USAGE', `maxAttempts must be a positive integer, got ${retry.maxAttempts}`)
  return retry
}

function backOff(retry: RetryOptions, attempt: number): Promise<void> {
  return attempt < retry.maxAttempts ? retry.sleepMs(backoffDelayMs(attempt, retry.random(), retry)) : Promise.resolve()
}

export interface ProposeOptions extends Partial<RetryOptions> {
  valueProblem?: (value: unknown) => string | undefined
}

/**
 * Decide `value` for exactly `instance` (the caller's current.instance + 1): compare-and-set.
 * Retries contention and I/O failures up to maxAttempts with backoff; returns the first
 * decision (ours, or a value adopted from an earlier ballot: `mine` tells) or 'stale' once
 * the instance is decided by someone else or the register is past it.
 */
export async function proposeAt(disk: BallotDisk, register: number, nodeId: number, instance: number, value: unknown, options: ProposeOptions = {}): Promise<ProposeResult> {
  const retry = retryWith(options)
  const ref: RegisterRef = { register, nodeId, ...(options.valueProblem === undefined ? {} : { valueProblem: options.valueProblem }) }
  return exclusive(disk, ref, () => proposeWithRetries(disk, ref, { instance, value }, retry))
}

async function proposeWithRetries(disk: BallotDisk, ref: RegisterRef, goal: { instance: number; value: unknown }, retry: RetryOptions): Promise<ProposeResult> {
  let result: ProposeResult | undefined
  for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
    result = await proposeUnqueued(disk, ref, goal)
    if (result.decided || result.reason === 'stale') return result
    await backOff(retry, attempt)
  }
  if (result === undefined) throw new CarbError('CARB_ERR_USAGE', 'no attempt was made')
  return result
}

/** What the caller wants given the register's current decision. */
export type Plan<T> = { propose: unknown } | { finish: T }

export type UpdateResult<T> =
  | { kind: 'finished'; answer: T; current: LeaseCommitted | null; attempts: number }
  | { kind: 'decided'; instance: number; value: unknown; attempts: number }
  | { kind: 'gave-up'; reason: AbortReason; current: LeaseCommitted | null; errors: CarbError[]; attempts: number }

/**
 * Read-decide-propose until `plan` finishes or our own proposal is decided, at most
 * maxAttempts rounds. A round whose proposal lost to an adopted value, or found the instance
 * decided meanwhile, plans again from the newer current at once; contention and I/O failures
 * back off first. An unreadable register is an I/O failure: plan never sees a lower bound.
 */
export async function updateRegister<T>(disk: BallotDisk, ref: RegisterRef, plan: (current: LeaseCommitted | null) => Plan<T>, options: Partial<RetryOptions> = {}): Promise<UpdateResult<T>> {
  const retry = retryWith(options)
  return exclusive(disk, ref, () => updateUnqueued(disk, ref, plan, retry))
}

async function updateUnqueued<T>(disk: BallotDisk, ref: RegisterRef, plan: (current: LeaseCommitted | null) => Plan<T>, retry: RetryOptions): Promise<UpdateResult<T>> {
  let last: { reason: AbortReason; current: LeaseCommitted | null; errors: CarbError[] } = { reason: 'contention', current: null, errors: [] }
  for (let attempt = 1; attempt <= retry.maxAttempts; attempt++) {
    const read = await readViews(disk, ref.register, ref.valueProblem)
    let result: ProposeResult
    if (read.errors.length > 0) {
      result = { decided: false, reason: 'io', current: read.current, errors: read.errors }
    } else {
      const wanted = plan(read.current)
      if ('finish' in wanted) return { kind: 'finished', answer: wanted.finish, current: read.current, attempts: attempt }
      result = await proposeUnqueued(disk, ref, { instance: (read.current?.instance ?? 0) + 1, value: wanted.propose }, read)
    }
    if (result.decided && result.mine) return { kind: 'decided', instance: result.instance, value: result.value, attempts: attempt }
    last = result.decided
      ? { reason: 'contention', current: { instance: result.instance, value: result.value }, errors: [] }
      : { reason: result.reason, current: result.current, errors: result.errors }
    if (!result.decided && result.reason !== 'stale') await backOff(retry, attempt)
  }
  return { kind: 'gave-up', ...last, attempts: retry.maxAttempts }
}
