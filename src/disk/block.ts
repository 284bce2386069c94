/**
 * The codec of one quorum-disk block (pure). Every block, of every kind:
 *
 *   offset  size  field
 *        0     4  magic 'CARB'
 *        4     2  layout version (u16 BE, = 2)
 *        6     2  block kind (u16 BE: header 1, status 2, mailbox 3, lease 4, config 5, scratch 6)
 *        8    16  cluster uuid
 *       24     2  writer node id (u16 BE; 0 = written by `disk init`)
 *       26     2  payload length in bytes (u16 BE)
 *       28     4  block index within its copy (u32 BE; detects misdirected writes)
 *       32     8  sequence number (u64 BE; the writer's own counter)
 *       40     n  payload (msgpack), then zero padding
 *   size-4     4  CRC32 of every byte before it (u32 BE)
 *
 * A never-written block (all zeros, as `disk init` leaves every non-header block) decodes to
 * `{ ok: false, empty: true }` with code CARB_ERR_DISK_BAD_MAGIC and message "never written",
 * so a caller that only looks at `ok` treats it as unreadable, and one that cares (a peer that
 * never started) can tell it apart. A block that fails any check is unreadable, never valid.
 */
import { crc32 } from 'node:zlib'
import { Packr } from 'msgpackr'
import { CarbError, type CarbErrorCode } from '../errors.js'
import type { BlockKind } from './layout.js'
import { payloadProblem } from './payloads.js'

export const MAGIC = Buffer.from('CARB', 'latin1')
/** 2: per-node lease ballot blocks and per-node double-buffered configuration (layout.ts). */
export const LAYOUT_VERSION = 2
export const BLOCK_HEADER_BYTES = 40
export const CRC_BYTES = 4
export const CLUSTER_UUID_BYTES = 16
/** The largest sequence number the API accepts: u64 on disk. */
export const SEQ_MAX = (1n << 64n) - 1n

export const KIND_CODES: Record<BlockKind, number> = { header: 1, status: 2, mailbox: 3, lease: 4, config: 5, scratch: 6 }

/** Same options on both sides (STACK.md): plain maps, no shared record structures. */
const packr = new Packr({ useRecords: false, mapsAsObjects: true })

export interface BlockFields {
  kind: BlockKind
  clusterUuid: Buffer
  writer: number
  index: number
  seq: bigint
  payload: unknown
}

export interface EncodeInput extends BlockFields {
  blockSize: number
}

export interface DecodeExpect {
  blockSize: number
  kind: BlockKind
  /** Omitted only when reading a header, which is where the cluster uuid comes from. */
  clusterUuid?: Buffer
  index: number
  writer?: number
  /** Names the block in error messages; default `<kind> block <index>`. */
  where?: string
}

export type DecodeResult =
  | { ok: true; block: BlockFields }
  | { ok: false; error: CarbError; empty?: true }

export function payloadCapacity(blockSize: number): number {
  return blockSize - BLOCK_HEADER_BYTES - CRC_BYTES
}

export function encodeBlock(input: EncodeInput): Buffer {
  const { blockSize, kind, clusterUuid, writer, index, seq } = input
  const payload = packr.pack(input.payload)
  const where = `${kind} block ${index}`
  if (payload.length > payloadCapacity(blockSize)) {
    throw new CarbError('CARB_ERR_DISK_BAD_PAYLOAD', `payload of ${payload.length} bytes exceeds the ${payloadCapacity(blockSize)} a ${blockSize}-byte block holds`, where)
  }
  if (clusterUuid.length !== CLUSTER_UUID_BYTES) throw new CarbError('CARB_ERR_USAGE', `cluster uuid must be ${CLUSTER_UUID_BYTES} bytes, got ${clusterUuid.length}`, where)
  if (seq < 0n || seq > SEQ_MAX) throw new CarbError('CARB_ERR_USAGE', `sequence ${seq} is outside u64`, where)
  const buf = Buffer.alloc(blockSize)
  MAGIC.copy(buf, 0)
  buf.writeUInt16BE(LAYOUT_VERSION, 4)
  buf.writeUInt16BE(KIND_CODES[kind], 6)
  clusterUuid.copy(buf, 8)
  buf.writeUInt16BE(writer, 24)
  buf.writeUInt16BE(payload.length, 26)
  buf.writeUInt32BE(index, 28)
  buf.writeBigUInt64BE(seq, 32)
  payload.copy(buf, BLOCK_HEADER_BYTES)
  buf.writeUInt32BE(crc32(buf.subarray(0, blockSize - CRC_BYTES)), blockSize - CRC_BYTES)
  return buf
}

function fail(code: CarbErrorCode, message: string, where: string): DecodeResult {
  return { ok: false, error: CarbError.value(code, message, where) }
}

function isAllZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}

/** Checks that need no knowledge of the cluster: size, emptiness, magic, version, checksum. */
function checkFrame(buf: Buffer, blockSize: number, where: string): DecodeResult | undefined {
  if (buf.length < blockSize) return fail('CARB_ERR_DISK_SHORT', `got ${buf.length} bytes of a ${blockSize}-byte block`, where)
  const block = buf.subarray(0, blockSize)
  if (isAllZero(block)) return { ok: false, empty: true, error: CarbError.value('CARB_ERR_DISK_BAD_MAGIC', 'never written', where) }
  if (!block.subarray(0, 4).equals(MAGIC)) return fail('CARB_ERR_DISK_BAD_MAGIC', `magic is 0x${block.subarray(0, 4).toString('hex')}, not a Carbonado block ('CARB')`, where)
  const version = block.readUInt16BE(4)
  if (version !== LAYOUT_VERSION) return fail('CARB_ERR_DISK_BAD_VERSION', `layout version ${version}, this build reads version ${LAYOUT_VERSION}`, where)
  const stored = block.readUInt32BE(blockSize - CRC_BYTES)
  const computed = crc32(block.subarray(0, blockSize - CRC_BYTES))
  if (stored !== computed) return fail('CARB_ERR_DISK_BAD_CRC', `checksum 0x${stored.toString(16)} stored, 0x${computed.toString(16)} computed`, where)
  return undefined
}

/** Checks of the block's identity against where it was read from and who should have written it. */
function checkIdentity(block: Buffer, expect: DecodeExpect, where: string): DecodeResult | undefined {
  const kindCode = block.readUInt16BE(6)
  if (kindCode !== KIND_CODES[expect.kind]) return fail('CARB_ERR_DISK_WRONG_KIND', `block kind ${kindCode}, expected ${KIND_CODES[expect.kind]} (${expect.kind})`, where)
  const uuid = block.subarray(8, 8 + CLUSTER_UUID_BYTES)
  if (expect.clusterUuid !== undefined && !uuid.equals(expect.clusterUuid)) {
    return fail('CARB_ERR_DISK_FOREIGN_CLUSTER', `cluster uuid ${uuid.toString('hex')}, this disk's cluster is ${expect.clusterUuid.toString('hex')}`, where)
  }
  const index = block.readUInt32BE(28)
  if (index !== expect.index) return fail('CARB_ERR_DISK_MISPLACED', `block records index ${index} but was read at index ${expect.index} (misdirected write)`, where)
  const writer = block.readUInt16BE(24)
  if (expect.writer !== undefined && writer !== expect.writer) return fail('CARB_ERR_DISK_WRONG_WRITER', `written by node ${writer}, only node ${expect.writer} may write it`, where)
  return undefined
}

function decodePayload(block: Buffer, kind: BlockKind, where: string): { payload: unknown } | { failure: DecodeResult } {
  const length = block.readUInt16BE(26)
  if (length === 0 || length > payloadCapacity(block.length)) return { failure: fail('CARB_ERR_DISK_BAD_PAYLOAD', `payload length ${length} is outside 1..${payloadCapacity(block.length)}`, where) }
  let payload: unknown
  try {
    payload = packr.unpack(block.subarray(BLOCK_HEADER_BYTES, BLOCK_HEADER_BYTES + length))
  } catch (error) {
    return { failure: fail('CARB_ERR_DISK_BAD_PAYLOAD', `payload does not decode: ${(error as Error).message}`, where) }
  }
  const problem = payloadProblem(kind, payload, block.readUInt16BE(24), block.subarray(8, 8 + CLUSTER_UUID_BYTES).toString('hex'))
  return problem === undefined ? { payload } : { failure: fail('CARB_ERR_DISK_BAD_PAYLOAD', problem, where) }
}

export function decodeBlock(buf: Buffer, expect: DecodeExpect): DecodeResult {
  const where = expect.where ?? `${expect.kind} block ${expect.index}`
  const frameFailure = checkFrame(buf, expect.blockSize, where)
  if (frameFailure !== undefined) return frameFailure
  const block = buf.subarray(0, expect.blockSize)
  const identityFailure = checkIdentity(block, expect, where)
  if (identityFailure !== undefined) return identityFailure
  const decoded = decodePayload(block, expect.kind, where)
  if ('failure' in decoded) return decoded.failure
  return {
    ok: true,
    block: {
      kind: expect.kind,
      clusterUuid: Buffer.from(block.subarray(8, 8 + CLUSTER_UUID_BYTES)),
      writer: block.readUInt16BE(24),
      index: block.readUInt32BE(28),
      seq: block.readBigUInt64BE(32),
      payload: decoded.payload,
    },
  }
}
