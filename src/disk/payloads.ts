/**
 * The typed payloads of header and status blocks, and their shape checks (pure). A payload
 * that decodes but has the wrong shape makes its block unreadable (CARB_ERR_DISK_BAD_PAYLOAD).
 */
import type { BlockKind, BlockSize } from './layout.js'

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
  if (p.clusterUuid !== blockUuidHex) return `header clusterUuid ${String(p.clusterUuid)} differs from the block's ${blockUuidHex}`
  if (p.blockSize !== 512 && p.blockSize !== 4096) return `header blockSize ${String(p.blockSize)} is not 512 or 4096`
  for (const field of ['maxNodes', 'maxServices', 'configBlocks'] as const) {
    if (!isCount(p[field]) || p[field] === 0) return `header ${field} ${String(p[field])} is not a positive integer`
  }
  if (!isCount(p.createdAtWallMs)) return 'header createdAtWallMs is not a time'
  return undefined
}

function statusProblem(p: Fields, writer: number): string | undefined {
  if (p.nodeId !== writer) return `status nodeId ${String(p.nodeId)} differs from the block's writer ${writer}`
  if (typeof p.name !== 'string') return 'status name is not a string'
  if (!isCount(p.incarnation)) return `status incarnation ${String(p.incarnation)} is not a non-negative integer`
  if (!NODE_STATES.includes(p.state as NodeState)) return `status state ${String(p.state)} is not one of ${NODE_STATES.join('|')}`
  if (!isCount(p.wallMs)) return 'status wallMs is not a time'
  if (p.heartbeatSeq !== undefined && !isCount(p.heartbeatSeq)) return 'status heartbeatSeq is not a non-negative integer'
  return undefined
}

/** What is wrong with a decoded payload for its kind, or undefined when it is fine. */
export function payloadProblem(kind: BlockKind, payload: unknown, writer: number, blockUuidHex: string): string | undefined {
  if (kind !== 'header' && kind !== 'status') return undefined
  if (!isObject(payload)) return `${kind} payload is not a map`
  return kind === 'header' ? headerProblem(payload, blockUuidHex) : statusProblem(payload, writer)
}
