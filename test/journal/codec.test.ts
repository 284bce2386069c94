import t from 'tap'
import { decodeKey, decodeRecord, encodeKey, encodeRecord, journalPackr } from '../../journal/codec.js'
import { checkRecord, type JournalRecord } from '../../journal/records.js'
import { heartbeatInput, transition } from './fixtures/records.js'

t.test('keys are 8-byte big-endian seqs whose byte order is numeric order', async (t) => {
  const seqs = [0, 1, 255, 256, 65_535, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]
  for (const seq of seqs) {
    t.equal(encodeKey(seq).length, 8)
    t.equal(decodeKey(encodeKey(seq)), seq)
  }
  const sorted = seqs.map(encodeKey).sort(Buffer.compare).map((k) => decodeKey(k))
  t.same(sorted, seqs)
  t.throws(() => encodeKey(-1), RangeError)
  t.throws(() => encodeKey(1.5), RangeError)
  t.throws(() => decodeKey(Buffer.alloc(4), 'j'), { code: 'CARB_ERR_JOURNAL_CORRUPT', where: 'j' })
  t.throws(() => decodeKey(Buffer.alloc(8, 0xff)), { code: 'CARB_ERR_JOURNAL_CORRUPT' })
})

t.test('every record kind round-trips', async (t) => {
  const records: JournalRecord[] = [
    { v: 1, t: 'start', node: 'a', nodeId: 1, incarnation: 4, codeVersion: 'c1', wallMs: 1_700_000_000_000, atMs: 12.5, cluster: 'test' },
    { v: 1, t: 'create', m: 'peer:b', type: 'peer', input: { peer: 'b', timing: { peerDeadAfterMs: 5000 } }, atMs: 0 },
    { v: 1, t: 'create', m: 'local', type: 'local', input: undefined, atMs: 0 },
    heartbeatInput(3),
    transition(4),
    { v: 1, t: 'note', text: 'operator: relocating web → b', atMs: 1, wallMs: 2 },
  ]
  for (const r of records) t.same(decodeRecord(encodeRecord(r), 'x'), r, r.t)
})

t.test('records are plain msgpack maps (no records extension)', async (t) => {
  const bytes = encodeRecord(heartbeatInput(1))
  t.ok(bytes[0]! >= 0x80 && (bytes[0]! <= 0x8f || bytes[0] === 0xde || bytes[0] === 0xdf), 'a msgpack map')
})

t.test('shape errors are named and say where', async (t) => {
  const table: [string, unknown, string, RegExp][] = [
    ['not an object', 42, 'CARB_ERR_JOURNAL_CORRUPT', /not an object/],
    ['no version', { t: 'note' }, 'CARB_ERR_JOURNAL_CORRUPT', /no format version/],
    ['newer version', { v: 2, t: 'note', text: '', atMs: 0, wallMs: 0 }, 'CARB_ERR_JOURNAL_VERSION', /version 2 is not supported/],
    ['unknown kind', { v: 1, t: 'snapshot' }, 'CARB_ERR_JOURNAL_VERSION', /kind "snapshot"/],
    ['inherited kind name', { v: 1, t: 'toString' }, 'CARB_ERR_JOURNAL_VERSION', /kind "toString"/],
    ['wrong field type', { v: 1, t: 'note', text: 3, atMs: 0, wallMs: 0 }, 'CARB_ERR_JOURNAL_CORRUPT', /field "text" is not a string/],
    ['input without at', { v: 1, t: 'input', m: 'x', e: { type: 'HEARTBEAT' } }, 'CARB_ERR_JOURNAL_CORRUPT', /no numeric "at"/],
    ['effects not array', { v: 1, t: 'transition', m: 'x', from: 'a', to: 'b', event: 'E', effects: {} }, 'CARB_ERR_JOURNAL_CORRUPT', /"effects" is not an array/],
  ]
  for (const [name, value, code, message] of table) t.throws(() => checkRecord(value, 'j seq 9'), { code, where: 'j seq 9', message }, name)
  t.throws(() => decodeRecord(Buffer.from([0xc1]), 'j seq 3'), { code: 'CARB_ERR_JOURNAL_CORRUPT', where: 'j seq 3' })
  t.throws(() => decodeRecord(Buffer.concat([journalPackr.pack({ v: 1 }), journalPackr.pack(1)]), 'j seq 4'), { code: 'CARB_ERR_JOURNAL_CORRUPT', message: /2 msgpack values/ })
})
