/**
 * The typed payloads of header, status and lease (disk-Paxos ballot) blocks, and their shape
 * checks (pure). A payload that decodes but has the wrong shape makes its block unreadable
 * (CARB_ERR_DISK_BAD_PAYLOAD): it is never believed.
 */
import { isHlcPair, type HlcPair } from '../../journal/hlc.js'
import { safeString } from '../safe-string.js'
import { MAX_NODES_LIMIT, type BlockKind, type BlockSize } from './layout.js'

export interface HeaderPayload {
  clusterName: string
  /** The 16-byte cluster uuid as 32 lower-case hex digits; must equal the block's own uuid. */
  clusterUuid: string
  blockSize: BlockSize
  maxNodes: number
  maxServices: number
  configBlocks: number
  createdAtWallMs: number
}

export const NODE_STATES = ['joining', 'up', 'leaving', 'down', 'out'] as const
export type NodeState = (typeof NODE_STATES)[number]

export interface NodeStatus {
  nodeId: number
  name: string
  incarnation: number
  state: NodeState
  wallMs: number
  heartbeatSeq?: number
  /** The writer's hybrid clock at the write (journal/hlc.ts): readers move theirs past it. */
  hlc?: HlcPair
}

/** A decision of one instance of a disk-Paxos register (paxos-rules.ts). */
export interface LeaseCommitted {
  instance: number
  value: unknown
}

/**
 * One node's ballot block in one disk-Paxos register (paxos-rules.ts explains the protocol).
 * `committed` is the highest decided instance this node knows; `instance` the one it is
 * deciding (committed.instance is instance - 1, or instance once it has decided it); `mbal`
 * the highest ballot it has started, `bal` the ballot in which it last accepted `inp`
 * (0 and null: nothing accepted in this instance).
 */
export interface LeaseBallot {
  v: 1
  committed: LeaseCommitted | null
  instance: number
  mbal: number
  bal: number
  inp: unknown
}

/**
 * Ballot numbers are round * BALLOT_NODE_SPAN + nodeId: unique per node (node ids are u16 on
 * disk), so two proposers never share a ballot, and a block's ballots name their writer.
 */
export const BALLOT_NODE_SPAN = 65536

/** The value of a service lease register (lease.ts). */
export interface ServiceLeaseValue {
  /** Node id of the holder; 0 = free. */
  holder: number
  /** The holder's incarnation when it acquired the lease (0 when free and never held). */
  incarnation: number
  /** Nodes where the service failed, oldest first, unique, at most MAX_NODES_LIMIT. */
  failedOn: number[]
}

type Fields = Record<string, unknown>

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function headerProblem(p: Fields, blockUuidHex: string): string | undefined {
  if (typeof p.clusterName !== 'string' || p.clusterName === '') return 'header clusterName is not a non-empty string'
  if (p.clusterUuid !== blockUuidHex) return `header clusterUuid ${safeString(p.clusterUuid)} differs from the block's ${blockUuidHex}`
  if (p.blockSize !== 512 && p.blockSize !== 4096) return `header blockSize ${safeString(p.blockSize)} is not 512 or 4096`
  for (const field of ['maxNodes', 'maxServices', 'configBlocks'] as const) {
    if (!isCount(p[field]) || p[field] === 0) return `header ${field} ${safeString(p[field])} is not a positive integer`
  }
  if (!isCount(p.createdAtWallMs)) return 'header createdAtWallMs is not a time'
  return undefined
}

function statusProblem(p: Fields, writer: number): string | undefined {
  if (p.nodeId !== writer) return `status nodeId ${safeString(p.nodeId)} differs from the block's writer ${writer}`
  if (typeof p.name !== 'string') return 'status name is not a string'
  if (!isCount(p.incarnation)) return `status incarnation ${safeString(p.incarnation)} is not a non-negative integer`
  if (!NODE_STATES.includes(p.state as NodeState)) return `status state ${safeString(p.state)} is not one of ${NODE_STATES.join('|')}`
  if (!isCount(p.wallMs)) return 'status wallMs is not a time'
  if (p.heartbeatSeq !== undefined && !isCount(p.heartbeatSeq)) return 'status heartbeatSeq is not a non-negative integer'
  if (p.hlc !== undefined && !isHlcPair(p.hlc)) return 'status hlc is not a clock stamp [wallMs, logical]'
  return undefined
}

function isBallot(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isInstance(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1
}

function committedProblem(committed: unknown, instance: number): string | undefined {
  if (committed === null) return instance === 1 ? undefined : `lease committed is null but instance is ${instance}, not 1`
  if (!isObject(committed)) return 'lease committed is neither null nor a map'
  if (!isInstance(committed.instance)) return `lease committed.instance ${safeString(committed.instance)} is not a positive integer`
  if (committed.instance !== instance && committed.instance !== instance - 1) return `lease committed.instance ${committed.instance} is neither instance ${instance} nor the one before`
  if (committed.value === null || committed.value === undefined) return 'lease committed.value is missing'
  return undefined
}

/** The shape of a ballot block; the values themselves are checked by the register's owner (lease.ts). */
function leaseProblem(p: Fields, writer: number): string | undefined {
  if (p.v !== 1) return `lease payload version ${safeString(p.v)} is not 1`
  if (!isInstance(p.instance)) return `lease instance ${safeString(p.instance)} is not a positive integer`
  if (!isBallot(p.mbal) || p.mbal === 0) return `lease mbal ${safeString(p.mbal)} is not a positive ballot`
  if (!isBallot(p.bal) || p.bal > p.mbal) return `lease bal ${safeString(p.bal)} is not a ballot at most mbal ${p.mbal}`
  if (writer < 1 || p.mbal % BALLOT_NODE_SPAN !== writer) return `lease mbal ${p.mbal} is not a ballot of the block's writer ${writer}`
  if (p.bal !== 0 && p.bal % BALLOT_NODE_SPAN !== writer) return `lease bal ${p.bal} is not a ballot of the block's writer ${writer}`
  if ((p.bal === 0) !== (p.inp === null)) return `lease bal ${p.bal} and inp ${p.inp === null ? 'null' : 'set'} disagree (a value is accepted exactly when bal > 0)`
  if (p.inp === undefined) return 'lease inp is missing'
  const problem = committedProblem(p.committed, p.instance)
  if (problem !== undefined) return problem
  if ((p.committed as LeaseCommitted | null)?.instance === p.instance && p.bal === 0) return `lease committed instance ${p.instance} without accepting a value`
  return undefined
}

function isNodeId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_NODES_LIMIT
}

/** What is wrong with a service lease value (lease.ts), or undefined. */
export function serviceLeaseProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'service lease value is not a map'
  if (value.holder !== 0 && !isNodeId(value.holder)) return `service lease holder ${safeString(value.holder)} is not 0 or a node id 1..${MAX_NODES_LIMIT}`
  if (!isCount(value.incarnation)) return `service lease incarnation ${safeString(value.incarnation)} is not a non-negative integer`
  const failedOn = value.failedOn
  if (!Array.isArray(failedOn) || failedOn.length > MAX_NODES_LIMIT) return `service lease failedOn is not a list of at most ${MAX_NODES_LIMIT} node ids`
  if (!failedOn.every(isNodeId)) return `service lease failedOn [${failedOn.map((n) => safeString(n)).join(',')}] holds something other than node ids 1..${MAX_NODES_LIMIT}`
  if (new Set(failedOn).size !== failedOn.length) return `service lease failedOn [${failedOn.join(',')}] repeats a node`
  return undefined
}

/** What is wrong with a decoded payload for its kind, or undefined when it is fine. */
export function payloadProblem(kind: BlockKind, payload: unknown, writer: number, blockUuidHex: string): string | undefined {
  if (kind !== 'header' && kind !== 'status' && kind !== 'lease') return undefined
  if (!isObject(payload)) return `${kind} payload is not a map`
  if (kind === 'lease') return leaseProblem(payload, writer)
  return kind === 'header' ? headerProblem(payload, blockUuidHex) : statusProblem(payload, writer)
}
