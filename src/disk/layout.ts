/**
 * Where each block of the quorum area lives (pure). One copy is:
 *
 *   block 0                              header
 *   maxNodes blocks                      status, one per node id 1..maxNodes
 *   maxNodes blocks                      mailbox, one per node id 1..maxNodes
 *   (maxServices + 1) * maxNodes blocks  lease ballots: for each register, one block per node
 *   maxNodes * 2 * configBlocks blocks   configuration: per node, two buffers of configBlocks
 *   maxNodes blocks                      scratch for `disk test`, one per node id
 *
 * One writer per block (DESIGN.md): a lease register is a disk-Paxos register whose state is
 * spread over one ballot block per node, each written only by its node; register 0 decides the
 * cluster configuration's version, register 1 + i the lease of service index i. A node writes
 * a candidate configuration into its own buffer (version parity picks the buffer, so the
 * current version is never overwritten by the next candidate) and register 0 decides whose
 * candidate becomes the next version.
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
/** 16 config blocks: 64 KiB per configuration at 4096-byte blocks, about a hundred services. */
export const DEFAULT_GEOMETRY: Geometry = { blockSize: 4096, maxNodes: 16, maxServices: 64, configBlocks: 16 }

/** Node ids are u16 on disk, but a status scan of more than 64 slots per cycle buys nothing. */
export const MAX_NODES_LIMIT = 64
/**
 * Bounds that keep one copy at most 1 + 3*64 + 257*64 + 2*64*64 blocks (about 100 MB at
 * 4096 bytes), so that a reader whose primary header is lost can find the shadow header by a
 * bounded scan (see header-scan.ts).
 */
export const MAX_SERVICES_LIMIT = 256
export const CONFIG_BLOCKS_LIMIT = 64

/** Lease register 0 decides the configuration version; service index i uses register 1 + i. */
export const CONFIG_REGISTER = 0
export const serviceRegister = (serviceIndex: number): number => 1 + serviceIndex

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
  return 1 + 3 * g.maxNodes + leaseBlocks(g) + configAreaBlocks(g)
}

function leaseBlocks(g: Geometry): number {
  return (g.maxServices + 1) * g.maxNodes
}

function configAreaBlocks(g: Geometry): number {
  return g.maxNodes * 2 * g.configBlocks
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
    case 'lease': return { first: 0, last: leaseBlocks(g) - 1 }
    case 'config': return { first: 0, last: configAreaBlocks(g) - 1 }
  }
}

/** First block (within a copy) of each kind's area. */
function areaStart(g: Geometry, kind: BlockKind): number {
  switch (kind) {
    case 'header': return 0
    case 'status': return 1
    case 'mailbox': return 1 + g.maxNodes
    case 'lease': return 1 + 2 * g.maxNodes
    case 'config': return 1 + 2 * g.maxNodes + leaseBlocks(g)
    case 'scratch': return 1 + 2 * g.maxNodes + leaseBlocks(g) + configAreaBlocks(g)
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

/** The lease slot of `register` written by node `nodeId` (its own ballot block). */
export function leaseSlot(g: Geometry, register: number, nodeId: number): number {
  if (!Number.isInteger(register) || register < 0 || register > g.maxServices) {
    throw new CarbError('CARB_ERR_USAGE', `lease register must be 0..${g.maxServices}, got ${register}`)
  }
  checkNodeId(g, nodeId)
  return register * g.maxNodes + nodeId - 1
}

/** The config slot of part `part` of node `nodeId`'s buffer `buffer` (0 or 1). */
export function configSlot(g: Geometry, nodeId: number, buffer: 0 | 1, part: number): number {
  checkNodeId(g, nodeId)
  if (!Number.isInteger(part) || part < 0 || part >= g.configBlocks) {
    throw new CarbError('CARB_ERR_USAGE', `config part must be 0..${g.configBlocks - 1}, got ${part}`)
  }
  return ((nodeId - 1) * 2 + buffer) * g.configBlocks + part
}

function checkNodeId(g: Geometry, nodeId: number): void {
  if (!inRange(nodeId, 1, g.maxNodes)) throw new CarbError('CARB_ERR_USAGE', `node id must be 1..${g.maxNodes}, got ${nodeId}`)
}

/** Byte offset of a block on the device. */
export function blockOffset(g: Geometry, copy: Copy, kind: BlockKind, slot: number): number {
  return (copy * copyBlocks(g) + blockIndex(g, kind, slot)) * g.blockSize
}
