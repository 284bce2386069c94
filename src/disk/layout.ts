/**
 * Where each block of the quorum area lives (pure). One copy is:
 *
 *   block 0                 header
 *   maxNodes blocks         status, one per node id 1..maxNodes
 *   maxNodes blocks         mailbox, one per node id 1..maxNodes
 *   maxServices blocks      lease, one per service index 0..maxServices-1
 *   configBlocks blocks     cluster configuration, index 0..configBlocks-1
 *   maxNodes blocks         scratch for `disk test`, one per node id (one writer per block)
 *
 * The shadow copy (copy 1) follows the primary (copy 0) immediately, with the same layout.
 */
import { CarbError } from '../errors.js'

export type BlockSize = 512 | 4096
export type BlockKind = 'header' | 'status' | 'mailbox' | 'lease' | 'config' | 'scratch'
export type Copy = 0 | 1

export interface Geometry {
  blockSize: BlockSize
  maxNodes: number
  maxServices: number
  configBlocks: number
}

/** 4096: the physical sector of modern disks, so one block is one atomic device write. */
export const DEFAULT_GEOMETRY: Geometry = { blockSize: 4096, maxNodes: 16, maxServices: 64, configBlocks: 64 }

/** Node ids are u16 on disk, but a status scan of more than 64 slots per cycle buys nothing. */
export const MAX_NODES_LIMIT = 64
/**
 * Bounds that keep one copy at most 1 + 3*64 + 1024 + 1024 blocks, so that a reader whose
 * primary header is lost can find the shadow header by a bounded scan (see header-scan.ts).
 */
export const MAX_SERVICES_LIMIT = 1024
export const CONFIG_BLOCKS_LIMIT = 1024

export function geometryWithDefaults(partial: Partial<Geometry> = {}): Geometry {
  const g: Geometry = { ...DEFAULT_GEOMETRY, ...partial }
  const problem = geometryProblem(g)
  if (problem !== undefined) throw new CarbError('CARB_ERR_USAGE', `disk geometry: ${problem}`)
  return g
}

/** The first thing wrong with a geometry, or undefined. */
export function geometryProblem(g: Geometry): string | undefined {
  if (g.blockSize !== 512 && g.blockSize !== 4096) return `blockSize must be 512 or 4096, got ${String(g.blockSize)}`
  if (!inRange(g.maxNodes, 1, MAX_NODES_LIMIT)) return `maxNodes must be an integer 1..${MAX_NODES_LIMIT}, got ${g.maxNodes}`
  if (!inRange(g.maxServices, 1, MAX_SERVICES_LIMIT)) return `maxServices must be an integer 1..${MAX_SERVICES_LIMIT}, got ${g.maxServices}`
  if (!inRange(g.configBlocks, 1, CONFIG_BLOCKS_LIMIT)) return `configBlocks must be an integer 1..${CONFIG_BLOCKS_LIMIT}, got ${g.configBlocks}`
  return undefined
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max
}

/** Blocks in one copy. */
export function copyBlocks(g: Geometry): number {
  return 1 + 3 * g.maxNodes + g.maxServices + g.configBlocks
}

/** Bytes both copies need. */
export function requiredBytes(g: Geometry): number {
  return 2 * copyBlocks(g) * g.blockSize
}

/** Number of slots of a kind, and whether its slots are node ids (1-based) or indexes (0-based). */
export function slotRange(g: Geometry, kind: BlockKind): { first: number; last: number } {
  switch (kind) {
    case 'header': return { first: 0, last: 0 }
    case 'status':
    case 'mailbox':
    case 'scratch': return { first: 1, last: g.maxNodes }
    case 'lease': return { first: 0, last: g.maxServices - 1 }
    case 'config': return { first: 0, last: g.configBlocks - 1 }
  }
}

/** First block (within a copy) of each kind's area. */
function areaStart(g: Geometry, kind: BlockKind): number {
  switch (kind) {
    case 'header': return 0
    case 'status': return 1
    case 'mailbox': return 1 + g.maxNodes
    case 'lease': return 1 + 2 * g.maxNodes
    case 'config': return 1 + 2 * g.maxNodes + g.maxServices
    case 'scratch': return 1 + 2 * g.maxNodes + g.maxServices + g.configBlocks
  }
}

/**
 * Block number within its copy: what a block records as its own index, so a write that
 * landed in the wrong place is detected. Throws on a slot outside the kind's range.
 */
export function blockIndex(g: Geometry, kind: BlockKind, slot: number): number {
  const { first, last } = slotRange(g, kind)
  if (!Number.isInteger(slot) || slot < first || slot > last) {
    throw new CarbError('CARB_ERR_USAGE', `${kind} slot must be ${first}..${last}, got ${slot}`)
  }
  return areaStart(g, kind) + slot - first
}

/** Byte offset of a block on the device. */
export function blockOffset(g: Geometry, copy: Copy, kind: BlockKind, slot: number): number {
  return (copy * copyBlocks(g) + blockIndex(g, kind, slot)) * g.blockSize
}
