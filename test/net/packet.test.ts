import t from 'tap'
import { createHmac } from 'node:crypto'
import {
  HEARTBEAT_BODY_BYTES, HEARTBEAT_PACKET_BYTES, HEARTBEAT_STATES, decodeHeartbeat, encodeHeartbeat, type HeartbeatFields,
} from '../../src/net/packet.js'

const key = Buffer.alloc(32, 0x5a)
const otherKey = Buffer.alloc(32, 0xa5)
const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
const otherUuid = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex')

function fields(overrides: Partial<HeartbeatFields> = {}): HeartbeatFields {
  return {
    state: 'up', channel: 1, clusterUuid: uuid, senderId: 3, incarnation: 7, seq: 42,
    senderWallMs: 1_700_000_000_123, senderMonotonicMs: 12_345.678, senderLogical: 5, ...overrides,
  }
}

/** Recomputes the MAC so that a later check (not the MAC) is the one that fails. */
function reseal(buf: Buffer, withKey = key): Buffer {
  createHmac('sha256', withKey).update(buf.subarray(0, HEARTBEAT_BODY_BYTES)).digest().copy(buf, HEARTBEAT_BODY_BYTES)
  return buf
}

t.test('layout: 86 bytes, magic, version, big-endian fields', async (t) => {
  const buf = encodeHeartbeat(fields(), key)
  t.equal(buf.length, HEARTBEAT_PACKET_BYTES)
  t.equal(buf.length, 86)
  t.equal(buf.toString('latin1', 0, 4), 'CBHB')
  t.equal(buf[4], 1, 'version')
  t.equal(buf[5], 1, 'state up')
  t.equal(buf[6], 1, 'channel')
  t.equal(buf[7], 5, 'hybrid clock logical part')
  t.ok(buf.subarray(8, 24).equals(uuid))
  t.equal(buf.readUInt16BE(24), 3)
  t.equal(buf.readUInt32BE(26), 7)
  t.equal(buf.readBigUInt64BE(30), 42n)
  t.equal(buf.readBigUInt64BE(38), 1_700_000_000_123n)
  t.equal(buf.readDoubleBE(46), 12_345.678)
})

// [name, fields]
const roundTrips: [string, HeartbeatFields][] = [
  ['typical', fields()],
  ...HEARTBEAT_STATES.map((state): [string, HeartbeatFields] => [`state ${state}`, fields({ state })]),
  ['all zero', fields({ channel: 0, senderId: 0, incarnation: 0, seq: 0, senderWallMs: 0, senderMonotonicMs: 0 })],
  ['maxima', fields({ channel: 255, senderId: 0xffff, incarnation: 0xffff_ffff, seq: Number.MAX_SAFE_INTEGER, senderWallMs: Number.MAX_SAFE_INTEGER, senderMonotonicMs: 1e15 + 0.5 })],
  ['negative monotonic reading', fields({ senderMonotonicMs: -3.25 })],
]
for (const [name, input] of roundTrips) {
  t.test(`round trip: ${name}`, async (t) => {
    const result = decodeHeartbeat(encodeHeartbeat(input, key), key, uuid)
    if (!result.ok) throw new Error(`decode failed: ${result.reason}`)
    t.same(result.packet, input)
  })
}

// Every byte range after the magic, flipped without resealing: the MAC catches it.
const regions: [string, number, number][] = [
  ['version', 4, 5], ['state', 5, 6], ['channel', 6, 7], ['hlc logical', 7, 8], ['cluster uuid', 8, 24],
  ['sender id', 24, 26], ['incarnation', 26, 30], ['sequence', 30, 38], ['wall ms', 38, 46],
  ['monotonic ms', 46, 54], ['mac', 54, 86],
]
for (const [name, start, end] of regions) {
  t.test(`tampered ${name} → unauthenticated (every byte)`, async (t) => {
    for (let i = start; i < end; i++) {
      const buf = encodeHeartbeat(fields(), key)
      buf[i] = buf[i]! ^ 0x01
      t.same(decodeHeartbeat(buf, key, uuid), { ok: false, reason: 'unauthenticated' }, `byte ${i}`)
    }
  })
}

// [name, make the bad buffer, expected reason]
const failures: [string, () => Buffer, string][] = [
  ['signed with another key', () => encodeHeartbeat(fields(), otherKey), 'unauthenticated'],
  ['signed with a key one byte longer', () => encodeHeartbeat(fields(), Buffer.concat([key, Buffer.from([1])])), 'unauthenticated'],
  ['empty', () => Buffer.alloc(0), 'malformed'],
  ['one byte short', () => encodeHeartbeat(fields(), key).subarray(0, 85), 'malformed'],
  ['one byte long', () => Buffer.concat([encodeHeartbeat(fields(), key), Buffer.from([0])]), 'malformed'],
  ['garbage of the right length', () => Buffer.alloc(86, 0x41), 'malformed'],
  ['bad magic, resealed', () => { const b = encodeHeartbeat(fields(), key); b.write('CBHX', 0, 'latin1'); return reseal(b) }, 'malformed'],
  ['bad magic, not resealed', () => { const b = encodeHeartbeat(fields(), key); b[0] = 0; return b }, 'malformed'],
  ['version 2, resealed', () => { const b = encodeHeartbeat(fields(), key); b[4] = 2; return reseal(b) }, 'bad-version'],
  ['version 0, resealed', () => { const b = encodeHeartbeat(fields(), key); b[4] = 0; return reseal(b) }, 'bad-version'],
  ['foreign cluster', () => encodeHeartbeat(fields({ clusterUuid: otherUuid }), key), 'foreign-cluster'],
  ['foreign cluster and another key', () => encodeHeartbeat(fields({ clusterUuid: otherUuid }), otherKey), 'unauthenticated'],
  ['unknown state 4, resealed', () => { const b = encodeHeartbeat(fields(), key); b[5] = 4; return reseal(b) }, 'malformed'],
  ['sequence above 2^53, resealed', () => { const b = encodeHeartbeat(fields(), key); b.writeBigUInt64BE(2n ** 53n, 30); return reseal(b) }, 'malformed'],
  ['wall ms above 2^53, resealed', () => { const b = encodeHeartbeat(fields(), key); b.writeBigUInt64BE(2n ** 64n - 1n, 38); return reseal(b) }, 'malformed'],
  ['monotonic NaN, resealed', () => { const b = encodeHeartbeat(fields(), key); b.writeDoubleBE(Number.NaN, 46); return reseal(b) }, 'malformed'],
  ['monotonic infinite, resealed', () => { const b = encodeHeartbeat(fields(), key); b.writeDoubleBE(Number.POSITIVE_INFINITY, 46); return reseal(b) }, 'malformed'],
]
for (const [name, make, reason] of failures) {
  t.test(`${name} → ${reason}`, async (t) => {
    t.same(decodeHeartbeat(make(), key, uuid), { ok: false, reason })
  })
}

t.test('byte 7 carries the hybrid clock logical part; an old sender\'s 0 reads as logical 0', async (t) => {
  const stamped = decodeHeartbeat(encodeHeartbeat(fields({ senderLogical: 9 }), key), key, uuid)
  t.match(stamped, { ok: true, packet: { senderWallMs: 1_700_000_000_123, senderLogical: 9 } })
  const old = encodeHeartbeat(fields({ senderLogical: undefined }), key)
  t.equal(old[7], 0)
  t.match(decodeHeartbeat(old, key, uuid), { ok: true, packet: { senderLogical: 0 } })
  t.throws(() => encodeHeartbeat(fields({ senderLogical: 256 }), key), /senderLogical must be an integer in 0..255/)
})

t.test('decoded uuid does not alias the packet buffer', async (t) => {
  const buf = encodeHeartbeat(fields(), key)
  const result = decodeHeartbeat(buf, key, uuid)
  if (!result.ok) throw new Error(result.reason)
  buf.fill(0)
  t.ok(result.packet.clusterUuid.equals(uuid))
})

// [name, bad fields]
const unencodable: [string, Partial<HeartbeatFields>][] = [
  ['channel 256', { channel: 256 }], ['sender id 65536', { senderId: 65536 }], ['negative sender id', { senderId: -1 }],
  ['incarnation 2^32', { incarnation: 2 ** 32 }], ['sequence 2^53', { seq: 2 ** 53 }], ['fractional sequence', { seq: 1.5 }],
  ['fractional wall ms', { senderWallMs: 1.5 }], ['NaN monotonic', { senderMonotonicMs: Number.NaN }],
  ['15-byte uuid', { clusterUuid: Buffer.alloc(15) }], ['unknown state', { state: 'zombie' as never }],
]
for (const [name, bad] of unencodable) {
  t.test(`encode refuses ${name}`, async (t) => {
    t.throws(() => encodeHeartbeat(fields(bad), key), RangeError)
  })
}
