import t from 'tap'
import { crc32 } from 'node:zlib'
import { decodeBlock, encodeBlock, payloadCapacity, LAYOUT_VERSION, type EncodeInput } from '../../src/disk/block.js'
import type { NodeStatus } from '../../src/disk/payloads.js'

const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
const otherUuid = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex')
const status: NodeStatus = { nodeId: 3, name: 'servidor3', incarnation: 7, state: 'up', wallMs: 1_700_000_000_000, heartbeatSeq: 12 }

function input(blockSize: number, overrides: Partial<EncodeInput> = {}): EncodeInput {
  return { blockSize, kind: 'status', clusterUuid: uuid, writer: 3, index: 3, seq: 2n ** 60n + 5n, payload: status, ...overrides }
}
const expectFor = (blockSize: number) => ({ blockSize, kind: 'status' as const, clusterUuid: uuid, index: 3, writer: 3 })

/** Recompute the checksum, so that a later check (not the CRC) is the one that fails. */
function reseal(buf: Buffer): Buffer {
  buf.writeUInt32BE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4)
  return buf
}

for (const blockSize of [512, 4096]) {
  t.test(`round trip, ${blockSize}-byte blocks`, async (t) => {
    const buf = encodeBlock(input(blockSize))
    t.equal(buf.length, blockSize)
    t.equal(buf.subarray(0, 4).toString('latin1'), 'CARB')
    const result = decodeBlock(buf, expectFor(blockSize))
    if (!result.ok) throw result.error
    t.same(result.block.payload, status)
    t.equal(result.block.seq, 2n ** 60n + 5n)
    t.equal(result.block.writer, 3)
    t.equal(result.block.index, 3)
    t.ok(result.block.clusterUuid.equals(uuid))
  })

  // [name, make the bad buffer, expected code]
  const corruptions: [string, () => Buffer, string][] = [
    ['a flipped payload byte', () => { const b = encodeBlock(input(blockSize)); b[45] = b[45]! ^ 0x01; return b }, 'CARB_ERR_DISK_BAD_CRC'],
    ['a flipped padding byte', () => { const b = encodeBlock(input(blockSize)); b[blockSize - 10] = 0xff; return b }, 'CARB_ERR_DISK_BAD_CRC'],
    ['a flipped checksum byte', () => { const b = encodeBlock(input(blockSize)); b[blockSize - 1] = b[blockSize - 1]! ^ 0x80; return b }, 'CARB_ERR_DISK_BAD_CRC'],
    ['a flipped sequence byte', () => { const b = encodeBlock(input(blockSize)); b[39] = b[39]! ^ 0x01; return b }, 'CARB_ERR_DISK_BAD_CRC'],
    ['wrong magic', () => { const b = encodeBlock(input(blockSize)); b.write('XARB', 0, 'latin1'); return reseal(b) }, 'CARB_ERR_DISK_BAD_MAGIC'],
    ['wrong version', () => { const b = encodeBlock(input(blockSize)); b.writeUInt16BE(LAYOUT_VERSION + 1, 4); return reseal(b) }, 'CARB_ERR_DISK_BAD_VERSION'],
    ['wrong version, checksum not resealed', () => { const b = encodeBlock(input(blockSize)); b.writeUInt16BE(LAYOUT_VERSION + 1, 4); return b }, 'CARB_ERR_DISK_BAD_VERSION'],
    ['foreign cluster uuid', () => encodeBlock(input(blockSize, { clusterUuid: otherUuid })), 'CARB_ERR_DISK_FOREIGN_CLUSTER'],
    ['wrong kind', () => encodeBlock(input(blockSize, { kind: 'mailbox' })), 'CARB_ERR_DISK_WRONG_KIND'],
    ['wrong index (misdirected write)', () => encodeBlock(input(blockSize, { index: 4 })), 'CARB_ERR_DISK_MISPLACED'],
    ['wrong writer', () => encodeBlock(input(blockSize, { writer: 4, payload: { ...status, nodeId: 4 } })), 'CARB_ERR_DISK_WRONG_WRITER'],
    ['short buffer', () => encodeBlock(input(blockSize)).subarray(0, blockSize - 1), 'CARB_ERR_DISK_SHORT'],
    ['payload not msgpack', () => { const b = encodeBlock(input(blockSize)); b[40] = 0xc1; return reseal(b) }, 'CARB_ERR_DISK_BAD_PAYLOAD'],
    ['payload length beyond the block', () => { const b = encodeBlock(input(blockSize)); b.writeUInt16BE(blockSize, 26); return reseal(b) }, 'CARB_ERR_DISK_BAD_PAYLOAD'],
    ['payload length zero', () => { const b = encodeBlock(input(blockSize)); b.writeUInt16BE(0, 26); return reseal(b) }, 'CARB_ERR_DISK_BAD_PAYLOAD'],
    ['status of an unknown state', () => encodeBlock(input(blockSize, { payload: { ...status, state: 'zombie' } })), 'CARB_ERR_DISK_BAD_PAYLOAD'],
    ['status naming another node', () => encodeBlock(input(blockSize, { payload: { ...status, nodeId: 9 } })), 'CARB_ERR_DISK_BAD_PAYLOAD'],
    ['status without a name', () => encodeBlock(input(blockSize, { payload: { ...status, name: undefined } })), 'CARB_ERR_DISK_BAD_PAYLOAD'],
    ['status that is not a map', () => encodeBlock(input(blockSize, { payload: [1, 2, 3] })), 'CARB_ERR_DISK_BAD_PAYLOAD'],
  ]
  for (const [name, make, code] of corruptions) {
    t.test(`${blockSize}: ${name} → ${code}`, async (t) => {
      const result = decodeBlock(make(), expectFor(blockSize))
      t.equal(result.ok, false, 'unreadable, never valid')
      if (result.ok) return
      t.equal(result.error.code, code, result.error.oneLine())
      t.not(result.empty, true, 'not reported as never written')
      t.match(result.error.oneLine(), /^CARB_ERR_DISK_\w+: status block 3: /)
    })
  }

  t.test(`${blockSize}: a never-written (all-zero) block is its own result`, async (t) => {
    const result = decodeBlock(Buffer.alloc(blockSize), expectFor(blockSize))
    t.same(result.ok, false)
    if (result.ok) return
    t.equal(result.empty, true)
    t.equal(result.error.code, 'CARB_ERR_DISK_BAD_MAGIC')
    t.equal(result.error.message, 'never written')
  })

  t.test(`${blockSize}: the largest payload fits, one byte more is refused`, async (t) => {
    const fits = 'x'.repeat(payloadCapacity(blockSize) - 3) // str16 header is 3 bytes
    const result = decodeBlock(encodeBlock(input(blockSize, { kind: 'config', writer: 0, payload: fits })), { blockSize, kind: 'config', clusterUuid: uuid, index: 3 })
    t.ok(result.ok && result.block.payload === fits)
    t.throws(() => encodeBlock(input(blockSize, { payload: `${fits}x` })), { code: 'CARB_ERR_DISK_BAD_PAYLOAD' })
  })
}

t.test('a header payload must carry the block\'s own cluster uuid', async (t) => {
  const header = { clusterName: 'web', clusterUuid: otherUuid.toString('hex'), blockSize: 512, maxNodes: 16, maxServices: 64, configBlocks: 64, createdAtWallMs: 1 }
  const bad = decodeBlock(encodeBlock({ blockSize: 512, kind: 'header', clusterUuid: uuid, writer: 0, index: 0, seq: 1n, payload: header }), { blockSize: 512, kind: 'header', index: 0 })
  t.equal(bad.ok ? 'ok' : bad.error.code, 'CARB_ERR_DISK_BAD_PAYLOAD')
  const good = decodeBlock(encodeBlock({ blockSize: 512, kind: 'header', clusterUuid: otherUuid, writer: 0, index: 0, seq: 1n, payload: header }), { blockSize: 512, kind: 'header', index: 0 })
  t.ok(good.ok)
})

t.test('encode refuses a sequence outside u64 and a uuid of the wrong size', async (t) => {
  t.throws(() => encodeBlock(input(512, { seq: -1n })), { code: 'CARB_ERR_USAGE' })
  t.throws(() => encodeBlock(input(512, { seq: 2n ** 64n })), { code: 'CARB_ERR_USAGE' })
  t.throws(() => encodeBlock(input(512, { clusterUuid: Buffer.alloc(8) })), { code: 'CARB_ERR_USAGE' })
})

// Found by test/fuzz/disk-blocks.test.ts: a well-sealed status block whose nodeId was a map
// with a `toString` key made the payload check throw a TypeError while naming the bad value.
t.test('a payload field that cannot be printed is still refused by name, never thrown', async (t) => {
  const hostile = { toString: 1, valueOf: 2 }
  const cases: [EncodeInput['kind'], number, number, unknown][] = [
    ['status', 3, 3, { ...status, nodeId: hostile }],
    ['lease', 3, 3, { v: hostile, committed: null, instance: 1, mbal: 65536 + 3, bal: 0, inp: null }],
    ['header', 0, 0, { clusterName: 'web', clusterUuid: hostile, blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4, createdAtWallMs: 1 }],
  ]
  for (const [kind, writer, index, payload] of cases) {
    const result = decodeBlock(encodeBlock(input(512, { kind, writer, index, payload })), { blockSize: 512, kind, clusterUuid: uuid, index, writer })
    t.notOk(result.ok, kind)
    if (!result.ok) t.match(result.error, { code: 'CARB_ERR_DISK_BAD_PAYLOAD', message: /\[object Object\]/ }, kind)
  }
})
