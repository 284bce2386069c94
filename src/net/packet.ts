/**
 * Heartbeat packet codec: pure, fixed layout, big-endian, HMAC-SHA256 sealed.
 *
 * | offset | bytes | field                                               |
 * | -----: | ----: | --------------------------------------------------- |
 * |      0 |     4 | magic 'CBHB'                                        |
 * |      4 |     1 | version (= 1)                                       |
 * |      5 |     1 | sender's own state: 0 joining, 1 up, 2 leaving, 3 out |
 * |      6 |     1 | channel index the packet was sent on                |
 * |      7 |     1 | sender's hybrid clock, logical part (0 from old senders) |
 * |      8 |    16 | cluster uuid                                        |
 * |     24 |     2 | sender node id                                      |
 * |     26 |     4 | sender incarnation                                  |
 * |     30 |     8 | sequence (≤ 2^53 - 1 in the API)                    |
 * |     38 |     8 | sender's hybrid clock, wall ms (merging only)       |
 * |     46 |     8 | sender monotonic ms, float64                        |
 * |     54 |    32 | HMAC-SHA256 over bytes 0..53 with the cluster key   |
 *
 * Decoding trusts only the length and the magic before the HMAC has been verified in
 * constant time; every other field is read after that.
 *
 * Bytes 7 and 38..45 carry the sender's hybrid-logical-clock stamp (journal/hlc.ts), which
 * orders merged journals; no decision reads them. Byte 7 was "reserved, sent as 0, ignored":
 * packets of older senders read as logical 0, and older receivers ignore it, so the version
 * stays 1 and mixed versions keep exchanging heartbeats.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const HEARTBEAT_MAGIC = 'CBHB'
export const HEARTBEAT_VERSION = 1
export const HEARTBEAT_MAC_BYTES = 32
/** Bytes covered by the MAC. */
export const HEARTBEAT_BODY_BYTES = 54
export const HEARTBEAT_PACKET_BYTES = HEARTBEAT_BODY_BYTES + HEARTBEAT_MAC_BYTES
export const CLUSTER_UUID_BYTES = 16

export const HEARTBEAT_STATES = ['joining', 'up', 'leaving', 'out'] as const
export type HeartbeatState = (typeof HEARTBEAT_STATES)[number]

export interface HeartbeatFields {
  state: HeartbeatState
  channel: number
  clusterUuid: Buffer
  senderId: number
  incarnation: number
  seq: number
  senderWallMs: number
  senderMonotonicMs: number
  /** The logical part of the sender's hybrid clock (0..HLC_LOGICAL_MAX); 0 when left out. */
  senderLogical?: number
}

export type DecodeFailure = 'malformed' | 'bad-version' | 'foreign-cluster' | 'unauthenticated'
export type DecodeResult = { ok: true; packet: HeartbeatFields } | { ok: false; reason: DecodeFailure }

const OFFSET = {
  magic: 0, version: 4, state: 5, channel: 6, senderLogical: 7, clusterUuid: 8,
  senderId: 24, incarnation: 26, seq: 30, senderWallMs: 38, senderMonotonicMs: 46, mac: 54,
} as const

function macOf(body: Buffer, key: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest()
}

function assertUInt(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`heartbeat ${name} must be an integer in 0..${max}, got ${value}`)
  }
}

function assertEncodable(fields: HeartbeatFields): void {
  assertUInt('channel', fields.channel, 0xff)
  assertUInt('senderId', fields.senderId, 0xffff)
  assertUInt('incarnation', fields.incarnation, 0xffff_ffff)
  assertUInt('seq', fields.seq, Number.MAX_SAFE_INTEGER)
  assertUInt('senderWallMs', fields.senderWallMs, Number.MAX_SAFE_INTEGER)
  assertUInt('senderLogical', fields.senderLogical ?? 0, 0xff)
  if (!Number.isFinite(fields.senderMonotonicMs)) throw new RangeError('heartbeat senderMonotonicMs must be finite')
  if (fields.clusterUuid.length !== CLUSTER_UUID_BYTES) throw new RangeError(`cluster uuid must be ${CLUSTER_UUID_BYTES} bytes`)
  if (!HEARTBEAT_STATES.includes(fields.state)) throw new RangeError(`unknown heartbeat state ${String(fields.state)}`)
}

/** Encodes and seals one heartbeat. Throws RangeError on a field that does not fit its slot. */
export function encodeHeartbeat(fields: HeartbeatFields, key: Buffer): Buffer {
  assertEncodable(fields)
  const buf = Buffer.alloc(HEARTBEAT_PACKET_BYTES)
  buf.write(HEARTBEAT_MAGIC, OFFSET.magic, 'latin1')
  buf.writeUInt8(HEARTBEAT_VERSION, OFFSET.version)
  buf.writeUInt8(HEARTBEAT_STATES.indexOf(fields.state), OFFSET.state)
  buf.writeUInt8(fields.channel, OFFSET.channel)
  buf.writeUInt8(fields.senderLogical ?? 0, OFFSET.senderLogical)
  fields.clusterUuid.copy(buf, OFFSET.clusterUuid)
  buf.writeUInt16BE(fields.senderId, OFFSET.senderId)
  buf.writeUInt32BE(fields.incarnation, OFFSET.incarnation)
  buf.writeBigUInt64BE(BigInt(fields.seq), OFFSET.seq)
  buf.writeBigUInt64BE(BigInt(fields.senderWallMs), OFFSET.senderWallMs)
  buf.writeDoubleBE(fields.senderMonotonicMs, OFFSET.senderMonotonicMs)
  macOf(buf.subarray(0, OFFSET.mac), key).copy(buf, OFFSET.mac)
  return buf
}

/** Length and magic: the only checks made before the MAC. */
function framed(buf: Buffer): boolean {
  return buf.length === HEARTBEAT_PACKET_BYTES && buf.toString('latin1', OFFSET.magic, OFFSET.magic + 4) === HEARTBEAT_MAGIC
}

function authentic(buf: Buffer, key: Buffer): boolean {
  const expected = macOf(buf.subarray(0, OFFSET.mac), key)
  return timingSafeEqual(expected, buf.subarray(OFFSET.mac))
}

/** Reads an authenticated body; undefined when a field is out of its range. */
function readFields(buf: Buffer): HeartbeatFields | undefined {
  const state = HEARTBEAT_STATES[buf.readUInt8(OFFSET.state)]
  const seq = buf.readBigUInt64BE(OFFSET.seq)
  const senderWallMs = buf.readBigUInt64BE(OFFSET.senderWallMs)
  const senderMonotonicMs = buf.readDoubleBE(OFFSET.senderMonotonicMs)
  const max = BigInt(Number.MAX_SAFE_INTEGER)
  if (state === undefined || seq > max || senderWallMs > max || !Number.isFinite(senderMonotonicMs)) return undefined
  return {
    state,
    channel: buf.readUInt8(OFFSET.channel),
    clusterUuid: Buffer.from(buf.subarray(OFFSET.clusterUuid, OFFSET.clusterUuid + CLUSTER_UUID_BYTES)),
    senderId: buf.readUInt16BE(OFFSET.senderId),
    incarnation: buf.readUInt32BE(OFFSET.incarnation),
    seq: Number(seq),
    senderWallMs: Number(senderWallMs),
    senderMonotonicMs,
    senderLogical: buf.readUInt8(OFFSET.senderLogical),
  }
}

/**
 * Checks, in order: length and magic (malformed), MAC (unauthenticated), version
 * (bad-version), cluster uuid (foreign-cluster), field ranges (malformed).
 */
export function decodeHeartbeat(buf: Buffer, key: Buffer, clusterUuid: Buffer): DecodeResult {
  if (!framed(buf)) return { ok: false, reason: 'malformed' }
  if (!authentic(buf, key)) return { ok: false, reason: 'unauthenticated' }
  if (buf.readUInt8(OFFSET.version) !== HEARTBEAT_VERSION) return { ok: false, reason: 'bad-version' }
  if (!buf.subarray(OFFSET.clusterUuid, OFFSET.clusterUuid + CLUSTER_UUID_BYTES).equals(clusterUuid)) {
    return { ok: false, reason: 'foreign-cluster' }
  }
  const packet = readFields(buf)
  return packet === undefined ? { ok: false, reason: 'malformed' } : { ok: true, packet }
}
