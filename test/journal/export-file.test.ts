import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { JournalStore } from '../../journal/store.js'
import { journalPackr } from '../../journal/codec.js'
import { openJournalSource, readExportFile, writeExportFile, type ExportHeader } from '../../journal/export-file.js'
import type { StoredRecord } from '../../journal/records.js'
import { heartbeatInput, transition } from './fixtures/records.js'
import { collect, tempDir } from './fixtures/temp.js'

const header: ExportHeader = { magic: 'carbonado-journal', v: 1, exportedAtWallMs: 1_700_000_000_000, node: 'a' }

async function filledStore(dir: string, count: number): Promise<JournalStore> {
  const store = await JournalStore.open(dir)
  for (let i = 1; i <= count; i++) store.append(i % 3 === 0 ? transition(i) : heartbeatInput(i))
  await store.flush()
  return store
}

t.test('export round trip: from a store (async iterable) and from an array', async (t) => {
  const dir = await tempDir(t)
  const store = await filledStore(join(dir, 'j'), 2500)
  const fromStore = join(dir, 'a.journal')
  t.equal(await writeExportFile(fromStore, { ...header, records: 2500 }, store.read()), 2500)
  const expected = await collect(store.read())
  await store.close()
  const read = await readExportFile(fromStore)
  t.same(read.header, { ...header, records: 2500 })
  t.same(read.records, expected)

  const fromArray = join(dir, 'b.journal')
  await writeExportFile(fromArray, header, expected.slice(0, 10))
  t.equal((await readExportFile(fromArray)).header.records, 10, 'an array fills in the count')
  const items = journalPackr.unpackMultiple(await readFile(fromArray)) as unknown[]
  t.same(items[1], expected[0], 'any msgpack decoder reads it: header, then { seq, record } maps')
})

t.test('an export without a count still reads', async (t) => {
  const path = join(await tempDir(t), 'x.journal')
  async function* two(): AsyncIterable<StoredRecord> { yield { seq: 4, record: heartbeatInput(4) }; yield { seq: 9, record: transition(9) } }
  await writeExportFile(path, header, two())
  const read = await readExportFile(path)
  t.equal(read.header.records, undefined)
  t.same(read.records.map((r) => r.seq), [4, 9])
})

t.test('files that are not a readable export are named errors naming the file', async (t) => {
  const dir = await tempDir(t)
  const good = join(dir, 'good.journal')
  await writeExportFile(good, header, [1, 2, 3].map((seq) => ({ seq, record: heartbeatInput(seq) })))
  const bytes = await readFile(good)
  const cases: [string, Buffer | string, string, RegExp][] = [
    ['empty', '', 'CARB_ERR_JOURNAL_CORRUPT', /empty file/],
    ['text', 'seq,record\n1,hello\n', 'CARB_ERR_JOURNAL_CORRUPT', /no "carbonado-journal" header/],
    ['garbage', Buffer.from([0xc1, 0xc1]), 'CARB_ERR_JOURNAL_CORRUPT', /not .*export/],
    ['cut mid-record', bytes.subarray(0, bytes.length - 5), 'CARB_ERR_JOURNAL_CORRUPT', /cut short after 2 records/],
    ['cut at a record boundary', bytes.subarray(0, bytes.length - journalPackr.pack({ seq: 3, record: heartbeatInput(3) }).length), 'CARB_ERR_JOURNAL_CORRUPT', /announces 3 records but the file holds 2/],
    ['newer export format', journalPackr.pack({ ...header, v: 2 }), 'CARB_ERR_JOURNAL_VERSION', /export format version 2/],
    ['seqs out of order', Buffer.concat([journalPackr.pack(header), journalPackr.pack({ seq: 2, record: heartbeatInput(2) }), journalPackr.pack({ seq: 1, record: heartbeatInput(1) })]), 'CARB_ERR_JOURNAL_CORRUPT', /seq 1 follows seq 2/],
    ['record of a newer version', Buffer.concat([journalPackr.pack(header), journalPackr.pack({ seq: 7, record: { ...heartbeatInput(7), v: 2 } })]), 'CARB_ERR_JOURNAL_VERSION', /seq 7.*version 2|version 2/],
  ]
  for (const [name, content, code, message] of cases) {
    const path = join(dir, `${name}.journal`)
    await writeFile(path, content)
    await t.rejects(readExportFile(path), { code, message }, name)
    const error = await readExportFile(path).catch((e: { where?: string; oneLine(): string }) => e)
    t.match((error as { where: string }).where, path, `${name}: names the file`)
    t.notMatch((error as { oneLine(): string }).oneLine(), /\n/, `${name}: one line`)
  }
  await t.rejects(readExportFile(join(dir, 'absent.journal')), { code: 'CARB_ERR_JOURNAL_OPEN', message: /ENOENT/ })
})

t.test('openJournalSource reads a journal directory or an export file', async (t) => {
  const dir = await tempDir(t)
  const store = await filledStore(join(dir, 'j'), 20)
  const expected = await collect(store.read())
  await writeExportFile(join(dir, 'e.journal'), header, expected)
  await t.rejects(openJournalSource(join(dir, 'j')), { code: 'CARB_ERR_JOURNAL_OPEN', message: /in use by another process/ }, 'while its node holds it')
  await store.close()
  for (const path of [join(dir, 'j'), join(dir, 'e.journal')]) {
    const source = await openJournalSource(path)
    t.same(await collect(source.records), expected, path)
    await source.close()
  }
  await t.rejects(openJournalSource(join(dir, 'nothing')), { code: 'CARB_ERR_JOURNAL_OPEN', where: join(dir, 'nothing') })
})

// Found by test/fuzz/journal.test.ts: an export header whose "v" was a map with a `toString`
// key threw a TypeError while the version error named it.
t.test('an export header version that cannot be printed is a version error, never a crash', async (t) => {
  const path = join(t.testdir(), 'odd.journal')
  await writeFile(path, journalPackr.pack({ magic: 'carbonado-journal', v: { toString: 1 }, exportedAtWallMs: 1, node: 'a' }))
  await t.rejects(readExportFile(path), { code: 'CARB_ERR_JOURNAL_VERSION', message: /export format version \[object Object\]/ })
})
