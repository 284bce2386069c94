import t from 'tap'
import { join } from 'node:path'
import { Level } from 'level'
import { JournalStore } from '../../journal/store.js'
import { encodeKey, journalPackr } from '../../journal/codec.js'
import type { JournalRecord } from '../../journal/records.js'
import { heartbeatInput, transition } from './fixtures/records.js'
import { collect, tempDir } from './fixtures/temp.js'

const note = (text: string): JournalRecord => ({ v: 1, t: 'note', text, atMs: 1, wallMs: 2 })

t.test('append assigns seqs in order; read returns only durable records, in order', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'))
  t.equal(store.lastSeq(), 0)
  t.same([store.append(heartbeatInput(1)), store.append(transition(2)), store.append(note('x'))], [1, 2, 3])
  t.equal(store.pending(), 3)
  t.same(await collect(store.read()), [], 'nothing durable before flush')
  await store.flush()
  t.equal(store.pending(), 0)
  store.append(note('not yet durable'))
  const read = await collect(store.read())
  t.same(read.map((r) => r.seq), [1, 2, 3])
  t.same(read.map((r) => r.record), [heartbeatInput(1), transition(2), note('x')])
  t.same((await collect(store.read({ fromSeq: 2, toSeq: 3 }))).map((r) => r.seq), [2, 3])
  t.same(store.stats(), { appended: 4, flushedBatches: 1, flushedRecords: 3, bytesWritten: store.stats().bytesWritten })
  t.ok(store.stats().bytesWritten > 3 * 8)
  await store.close()
})

t.test('a record is encoded when appended: later mutation does not change it', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'))
  const record = heartbeatInput(1) as Extract<JournalRecord, { t: 'input' }>
  store.append(record)
  record.e.at = 999
  await store.close()
  const again = await JournalStore.open(store.dir)
  t.equal(((await collect(again.read()))[0]!.record as typeof record).e.at, 1000)
  await again.close()
})

t.test('reopening continues the sequence after the last durable record', async (t) => {
  const dir = join(await tempDir(t), 'j')
  const first = await JournalStore.open(dir)
  for (let i = 1; i <= 5; i++) first.append(heartbeatInput(i))
  await first.close()
  const second = await JournalStore.open(dir)
  t.equal(second.lastSeq(), 5)
  t.equal(second.lastDurableSeq(), 5)
  t.equal(second.append(note('after restart')), 6)
  await second.close()
  const third = await JournalStore.open(dir)
  t.same((await collect(third.read())).map((r) => r.seq), [1, 2, 3, 4, 5, 6])
  t.equal((await collect(third.read({ fromSeq: 6 })))[0]!.record.t, 'note')
  await third.close()
})

t.test('concurrent flushes coalesce into one write plus one follow-up', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'))
  for (let i = 1; i <= 10; i++) store.append(heartbeatInput(i))
  const a = store.flush()
  const b = store.flush()
  t.equal(a, b, 'nothing appended in between: the in-flight write serves both')
  store.append(note('during the write'))
  const c = store.flush()
  store.append(note('also during the write'))
  const d = store.flush()
  t.equal(c, d, 'one follow-up write serves every later request')
  await Promise.all([a, b, c, d])
  t.equal(store.lastDurableSeq(), 12)
  t.same(store.stats().flushedBatches, 2)
  await store.flush()
  t.same(store.stats().flushedBatches, 2, 'flush with nothing pending writes nothing')
  await store.close()
})

t.test('more than maxBatchRecords pending go in several batches, in order', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'), { maxBatchRecords: 7 })
  for (let i = 1; i <= 30; i++) store.append(heartbeatInput(i))
  await store.flush()
  t.equal(store.stats().flushedBatches, 5)
  t.same((await collect(store.read())).map((r) => r.seq), Array.from({ length: 30 }, (_, i) => i + 1))
  await store.close()
})

t.test('the pending queue is bounded; appends after close are refused', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'), { maxPendingRecords: 3 })
  for (let i = 1; i <= 3; i++) store.append(heartbeatInput(i))
  t.throws(() => store.append(heartbeatInput(4)), { code: 'CARB_ERR_JOURNAL_BACKLOG' })
  await store.flush()
  t.equal(store.append(heartbeatInput(4)), 4)
  await store.close()
  t.throws(() => store.append(heartbeatInput(5)), { code: 'CARB_ERR_JOURNAL_WRITE' })
  await t.rejects(JournalStore.open(store.dir, { maxBatchRecords: 0 }), RangeError)
})

t.test('append refuses a record a reader would refuse', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'))
  t.throws(() => store.append({ v: 1, t: 'input', m: 'peer:b' } as unknown as JournalRecord), { code: 'CARB_ERR_JOURNAL_CORRUPT', where: `${store.dir} seq 1` })
  t.equal(store.append(note('still seq 1')), 1)
  await store.close()
})

t.test('a second open of the same directory fails with the named error', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'))
  await t.rejects(JournalStore.open(store.dir), { code: 'CARB_ERR_JOURNAL_OPEN', where: store.dir, message: /in use by another process.*journal export/ })
  await store.close()
})

t.test('opening a missing journal without createIfMissing is a named error', async (t) => {
  await t.rejects(JournalStore.open(join(await tempDir(t), 'absent'), { createIfMissing: false }), { code: 'CARB_ERR_JOURNAL_OPEN', message: /no journal here/ })
})

t.test('stored records of an unknown version or kind, or not msgpack, are named errors with their seq', async (t) => {
  const cases: [string, Buffer, string, RegExp][] = [
    ['newer version', journalPackr.pack({ v: 2, t: 'input', m: 'x', e: { type: 'A', at: 1 } }), 'CARB_ERR_JOURNAL_VERSION', /format version 2/],
    ['unknown kind', journalPackr.pack({ v: 1, t: 'checkpoint', m: 'x' }), 'CARB_ERR_JOURNAL_VERSION', /kind "checkpoint"/],
    ['missing field', journalPackr.pack({ v: 1, t: 'transition', m: 'x', event: 'E' }), 'CARB_ERR_JOURNAL_CORRUPT', /field "effects"/],
    ['cut msgpack', Buffer.from([0xde, 0x00, 0x05, 0xa1]), 'CARB_ERR_JOURNAL_CORRUPT', /record of 4 bytes is not msgpack/],
  ]
  for (const [name, bytes, code, message] of cases) {
    const dir = join(await tempDir(t), 'j')
    const store = await JournalStore.open(dir)
    store.append(note('fine'))
    await store.close()
    const raw = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await raw.put(encodeKey(2), bytes)
    await raw.close()
    const again = await JournalStore.open(dir)
    t.equal(again.lastSeq(), 2, name)
    const seen: number[] = []
    await t.rejects((async () => { for await (const r of again.read()) seen.push(r.seq) })(), { code, where: `${dir} seq 2`, message }, name)
    t.same(seen, [1], `${name}: records before it were read`)
    await again.close()
  }
})

t.test('approximateSizeBytes grows with the journal', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'))
  const before = await store.approximateSizeBytes()
  for (let i = 1; i <= 1000; i++) store.append(heartbeatInput(i))
  await store.flush()
  t.ok((await store.approximateSizeBytes()) > before + 1000 * 50)
  await store.close()
})

t.test('a failed batch rejects its flush by name and is retried, in order, by the next', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'), { maxBatchRecords: 4 })
  const db = (store as unknown as { db: { batch: (...args: unknown[]) => Promise<void> } }).db
  const batch = db.batch.bind(db)
  let failures = 1
  db.batch = (...args) => (failures-- > 0 ? Promise.reject(new Error('EIO (simulated)')) : batch(...args))
  for (let i = 1; i <= 10; i++) store.append(heartbeatInput(i))
  await t.rejects(store.flush(), { code: 'CARB_ERR_JOURNAL_WRITE', where: store.dir, message: /seq 1\.\.4 failed \(EIO/ })
  t.equal(store.pending(), 10, 'nothing left the queue')
  t.equal(store.lastDurableSeq(), 0)
  await store.flush()
  t.equal(store.pending(), 0)
  t.same((await collect(store.read())).map((r) => r.seq), Array.from({ length: 10 }, (_, i) => i + 1))
  await store.close()
})

t.test('read covers the records durable when it is called, not when iteration starts', async (t) => {
  const store = await JournalStore.open(join(await tempDir(t), 'j'))
  store.append(heartbeatInput(1))
  await store.flush()
  const records = store.read()
  store.append(heartbeatInput(2))
  await store.flush()
  t.same((await collect(records)).map((r) => r.seq), [1])
  await store.close()
})
