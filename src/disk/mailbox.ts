/**
 * Poison pills on the quorum disk (SBD's "poison pill", Kimberlite's power switch without
 * the switch). One writer per block (DESIGN.md): mailbox block N is node N's *outbox*, the
 * messages node N sends, at most one per target:
 *
 *   { v: 1, from: N, fromIncarnation, messages: [{ to, incarnation, action, sentWallMs }] }
 *
 * Every node reads the whole mailbox area each disk cycle (one read, like the status area)
 * and obeys a message addressed to its own id *and* its own incarnation: a pill for an
 * earlier incarnation stops nobody (that incarnation is gone), so a restarted node is never
 * stopped by an old pill. The sender takes its pill back once the target runs as a later
 * incarnation.
 *
 * The outbox also carries the sender's *fence notices*: the newest successful fencing of each
 * node it fenced (or an administrator acknowledged off through it). Every node reads them,
 * so the node that takes a service over needs no fencing of its own when another member
 * already fenced the holder's incarnation (machines/takeover-proof.ts "fenced").
 *
 * A block that fails any check is unreadable, never believed; a read that fails with an I/O
 * error is the reader's own disk trouble (node.ts counts it against the self-fence deadline:
 * a node that cannot see its pills must fence itself as one that cannot write).
 */
import { CarbError } from '../errors.js'
import { isHlcPair, type HlcPair } from '../../journal/hlc.js'
import { safeString } from '../safe-string.js'
import type { QuorumDisk } from './quorum-disk.js'

export const PILL_ACTIONS = ['off', 'reset'] as const
export type PillAction = (typeof PILL_ACTIONS)[number]

export interface PillMessage {
  /** The target's node id. */
  to: number
  /** The target incarnation the pill stops. */
  incarnation: number
  action: PillAction
  sentWallMs: number
}

export interface FenceNotice {
  /** The fenced node's id. */
  node: number
  /** The incarnation fenced; null when unknown (an acknowledgement covers every incarnation before it). */
  incarnation: number | null
  method: string
  detail: string
  wallMs: number
}

export interface Outbox {
  from: number
  fromIncarnation: number
  messages: PillMessage[]
  fenced: FenceNotice[]
  /** The writer's hybrid clock at the write (journal/hlc.ts): readers move theirs past it. */
  hlc?: HlcPair
}

export type OutboxRead =
  | { from: number; ok: true; outbox: Outbox }
  | { from: number; ok: false; empty: boolean; error: CarbError }

/** Node ids are at most 64 (layout.ts MAX_NODES_LIMIT): one message per target. */
export const OUTBOX_MESSAGES_MAX = 64
const MAILBOX_VERSION = 1

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

function messageProblem(m: unknown, i: number): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return `mailbox message ${i} is not a map`
  const f = m as Record<string, unknown>
  if (!isCount(f.to) || f.to < 1 || f.to > OUTBOX_MESSAGES_MAX) return `mailbox message ${i} "to" ${safeString(f.to)} is not a node id 1..${OUTBOX_MESSAGES_MAX}`
  if (!isCount(f.incarnation) || f.incarnation < 1) return `mailbox message ${i} incarnation ${safeString(f.incarnation)} is not a positive integer`
  if (!PILL_ACTIONS.includes(f.action as PillAction)) return `mailbox message ${i} action ${safeString(f.action)} is not one of ${PILL_ACTIONS.join('|')}`
  if (!isCount(f.sentWallMs)) return `mailbox message ${i} sentWallMs is not a time`
  return undefined
}

const TEXT_MAX = 512

function noticeProblem(n: unknown, i: number): string | undefined {
  if (typeof n !== 'object' || n === null || Array.isArray(n)) return `fence notice ${i} is not a map`
  const f = n as Record<string, unknown>
  if (!isCount(f.node) || f.node < 1 || f.node > OUTBOX_MESSAGES_MAX) return `fence notice ${i} node ${safeString(f.node)} is not a node id 1..${OUTBOX_MESSAGES_MAX}`
  if (f.incarnation !== null && (!isCount(f.incarnation) || f.incarnation < 1)) return `fence notice ${i} incarnation ${safeString(f.incarnation)} is neither null nor a positive integer`
  if (typeof f.method !== 'string' || f.method === '' || f.method.length > TEXT_MAX) return `fence notice ${i} method is not a short non-empty string`
  if (typeof f.detail !== 'string' || f.detail.length > TEXT_MAX) return `fence notice ${i} detail is not a string of at most ${TEXT_MAX}`
  if (!isCount(f.wallMs)) return `fence notice ${i} wallMs is not a time`
  return undefined
}

function listProblem(list: unknown, name: string, check: (item: unknown, i: number) => string | undefined, key: (item: never) => number): string | undefined {
  if (!Array.isArray(list) || list.length > OUTBOX_MESSAGES_MAX) return `mailbox ${name} is not a list of at most ${OUTBOX_MESSAGES_MAX}`
  for (const [i, item] of list.entries()) {
    const problem = check(item, i)
    if (problem !== undefined) return problem
  }
  const keys = list.map((item) => key(item as never))
  return new Set(keys).size === keys.length ? undefined : `mailbox ${name} names one node twice`
}

/** What is wrong with a mailbox payload written by `writer`, or undefined (pure). */
export function outboxProblem(payload: unknown, writer: number): string | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'mailbox payload is not a map'
  const p = payload as Record<string, unknown>
  if (p.v !== MAILBOX_VERSION) return `mailbox payload version ${safeString(p.v)} is not ${MAILBOX_VERSION}`
  if (p.from !== writer) return `mailbox from ${safeString(p.from)} differs from the block's writer ${writer}`
  if (!isCount(p.fromIncarnation)) return `mailbox fromIncarnation ${safeString(p.fromIncarnation)} is not a non-negative integer`
  if (p.hlc !== undefined && !isHlcPair(p.hlc)) return 'mailbox hlc is not a clock stamp [wallMs, logical]'
  return listProblem(p.messages, 'messages', messageProblem, (m: PillMessage) => m.to)
    ?? listProblem(p.fenced, 'fence notices', noticeProblem, (n: FenceNotice) => n.node)
}

/** The outbox with `message` in place of any earlier one to the same target (pure). */
export function withPill(outbox: Outbox, message: PillMessage): Outbox {
  return { ...outbox, messages: [...outbox.messages.filter((m) => m.to !== message.to), message] }
}

/** The outbox without a message to `to` (pure). */
export function withoutPill(outbox: Outbox, to: number): Outbox {
  return { ...outbox, messages: outbox.messages.filter((m) => m.to !== to) }
}

/** The outbox with `notice` in place of any earlier notice about the same node (pure). */
export function withNotice(outbox: Outbox, notice: FenceNotice): Outbox {
  return { ...outbox, fenced: [...outbox.fenced.filter((n) => n.node !== notice.node), notice] }
}

/** Fence notices about node `nodeId` from every other node's readable outbox (pure). */
export function noticesAbout(reads: readonly OutboxRead[], selfId: number, nodeId: number): { from: number; notice: FenceNotice }[] {
  const out: { from: number; notice: FenceNotice }[] = []
  for (const read of reads) {
    if (!read.ok || read.from === selfId) continue
    for (const notice of read.outbox.fenced) if (notice.node === nodeId) out.push({ from: read.from, notice })
  }
  return out
}

/**
 * Writes this node's outbox to both copies. Both must succeed: a reader believes the primary
 * when it is good, so a pill that reached only the shadow would never be read.
 */
export async function writeOutbox(disk: QuorumDisk, selfId: number, outbox: Outbox): Promise<void> {
  if (outbox.from !== selfId) throw new CarbError('CARB_ERR_USAGE', `node ${selfId} may write only its own mailbox, got one from node ${outbox.from}`)
  const payload = { v: MAILBOX_VERSION, ...outbox }
  const problem = outboxProblem(payload, selfId)
  if (problem !== undefined) throw new CarbError('CARB_ERR_USAGE', `refusing to write a bad mailbox: ${problem}`)
  const result = await disk.writeBlock('mailbox', selfId, selfId, payload)
  if (!result.primaryOk || !result.shadowOk) {
    throw result.errors[0] ?? new CarbError('CARB_ERR_DISK_IO', `mailbox of node ${selfId}: written to ${result.primaryOk ? 'the primary only' : result.shadowOk ? 'the shadow only' : 'neither copy'}`)
  }
}

/** Every node's outbox, checked; entry for node id i + 1 at index i. */
export async function readOutboxes(disk: QuorumDisk): Promise<OutboxRead[]> {
  const reads = await disk.readMailboxArea()
  return reads.map((r): OutboxRead => {
    if (!r.ok) return { from: r.nodeId, ok: false, empty: r.empty === true, error: r.error }
    const problem = outboxProblem(r.payload, r.nodeId)
    if (problem !== undefined) return { from: r.nodeId, ok: false, empty: false, error: new CarbError('CARB_ERR_DISK_BAD_PAYLOAD', problem, `mailbox of node ${r.nodeId}`) }
    const { from, fromIncarnation, messages, fenced } = r.payload as Outbox
    return { from, ok: true, outbox: { from, fromIncarnation, messages, fenced } }
  })
}

/** Pills addressed to node `selfId` as incarnation `incarnation` (pure). */
export function pillsFor(reads: readonly OutboxRead[], selfId: number, incarnation: number): { from: number; message: PillMessage }[] {
  const out: { from: number; message: PillMessage }[] = []
  for (const read of reads) {
    if (!read.ok || read.from === selfId) continue
    for (const message of read.outbox.messages) if (message.to === selfId && message.incarnation === incarnation) out.push({ from: read.from, message })
  }
  return out
}

/**
 * The code of a read that failed for I/O (the reader could not see its mailbox), or null.
 * Never-written and corrupt blocks are the writer's business: they are reported, not counted
 * against the reader.
 */
export function mailboxReadFailure(reads: readonly OutboxRead[]): string | null {
  const failed = reads.find((r) => !r.ok && !r.empty && (r.error.code === 'CARB_ERR_DISK_IO' || r.error.code === 'CARB_ERR_DISK_SHORT'))
  return failed === undefined || failed.ok ? null : failed.error.code
}
