/**
 * Fuzzing the journal's readers with the checked-in sample journals (test/journals/) as seeds:
 * single records mutated as msgpack bytes and as value trees (codec.ts, records.ts), keys of
 * any length (codec.ts decodeKey), and whole export files mutated as bytes or with records
 * changed and packed again (export-file.ts readExportFile, openJournalSource), then replayed
 * with the real machines (replay.ts). Every failure must be a CarbError with a
 * CARB_ERR_JOURNAL_* code; replay of whatever was accepted never throws anything but a CarbError.
 */
import t from 'tap'
import { readdirSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeKey, decodeRecord, encodeRecord, journalPackr } from '../../journal/codec.js'
import { checkRecord, type StoredRecord } from '../../journal/records.js'
import { openJournalSource, readExportFile } from '../../journal/export-file.js'
import { replayRecords } from '../../journal/replay.js'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'
import { isCarbError } from '../../src/errors.js'
import { budget, codeOf, describeFailure, FuzzFinding, fuzz, shown, type Mutator } from './mutate.js'

const SAMPLES = join(import.meta.dirname, '..', 'journals')

async function sampleExports(): Promise<{ path: string; records: StoredRecord[] }[]> {
  const out: { path: string; records: StoredRecord[] }[] = []
  for (const version of readdirSync(SAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(SAMPLES, version.name)).filter((f) => f.endsWith('.journal'))) {
      const path = join(SAMPLES, version.name, file)
      out.push({ path, records: (await readExportFile(path)).records })
    }
  }
  return out
}

/** The outcome of a reader: `accepted` or its code, which must be a journal code. */
function journalCode(error: unknown, input: () => string): string {
  const code = codeOf(error, input)
  if (!code.startsWith('CARB_ERR_JOURNAL_')) throw new FuzzFinding(`${code} is not a journal code: ${(error as Error).message}\ninput: ${input()}`)
  return code
}

t.test('single records and keys: only CARB_ERR_JOURNAL_* errors', async (t) => {
  const samples = await sampleExports()
  const records = samples.flatMap((s) => s.records.map((r) => r.record))
  t.ok(records.length > 100, `${records.length} sample records`)
  const result = await fuzz('journal-records', budget(20_000), (m) => {
    const record = m.pick(records)
    const which = m.int(3)
    if (which === 0) {
      const key = m.chance(0.5) ? m.bytes(m.pick([0, 7, 8, 9])) : m.mutateBytes(Buffer.from('0000000000000007', 'hex'))
      try { decodeKey(key); return 'key:accepted' } catch (error) { return `key:${journalCode(error, () => shown(key))}` }
    }
    if (which === 1) {
      const bytes = m.mutateBytes(encodeRecord(record))
      try { decodeRecord(bytes, 'fuzz'); return 'bytes:accepted' } catch (error) { return `bytes:${journalCode(error, () => shown(bytes))}` }
    }
    const value = m.mutateValue(record)
    try { checkRecord(value, 'fuzz'); return 'value:accepted' } catch (error) { return `value:${journalCode(error, () => shown(value))}` }
  })
  if (result.failure !== null) t.fail(describeFailure('journal-records', result.failure))
  const { tally } = result
  t.comment(`journal-records: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  for (const outcome of ['bytes:CARB_ERR_JOURNAL_CORRUPT', 'value:CARB_ERR_JOURNAL_CORRUPT', 'value:CARB_ERR_JOURNAL_VERSION', 'key:CARB_ERR_JOURNAL_CORRUPT', 'value:accepted']) {
    t.ok(tally.get(outcome) > 0, `outcome ${outcome} was seen`)
  }
})

/** A mutated export file: its bytes changed, or some records changed and the file packed again. */
function mutatedExport(m: Mutator, records: StoredRecord[], original: Buffer): { bytes: Buffer; how: string } {
  if (m.chance(0.4)) return { bytes: m.mutateBytes(original, 6), how: 'bytes' }
  const items: unknown[] = [{ magic: 'carbonado-journal', v: 1, exportedAtWallMs: 1, node: 'a', records: records.length }, ...records.map((r) => ({ seq: r.seq, record: r.record }))]
  const changes = 1 + m.int(4)
  for (let i = 0; i < changes; i++) {
    const at = m.chance(0.1) ? 0 : 1 + m.int(items.length - 1)
    const action = m.int(8)
    const item = items[at] as { seq: number; record: Record<string, unknown> }
    const plain = typeof item?.record === 'object' && item.record !== null && typeof item.record.e === 'object' && item.record.e !== null
    if (action === 0) items.splice(at, 1)
    else if (action === 1) items.splice(at, 0, items[m.int(items.length)])
    else if (action === 2) items[at] = m.mutateValue(items[at])
    else if (plain && item.record.t === 'input' && action < 6) items[at] = { ...item, record: { ...item.record, e: { ...(m.mutateValue(item.record.e) as object), type: (item.record.e as { type: string }).type, at: (item.record.e as { at: number }).at } } }
    else if (typeof item?.record === 'object' && item.record !== null) items[at] = { ...item, record: { ...(m.mutateValue(item.record) as object), v: 1, t: item.record.t } }
    else items[at] = m.mutateValue(item)
  }
  const packed: Buffer[] = []
  for (const item of items) {
    try { packed.push(journalPackr.pack(item)) } catch { packed.push(Buffer.from([0xc1])) }
  }
  return { bytes: Buffer.concat(packed), how: 'values' }
}

t.test('export files: mutated files are refused with a journal code, and replay of what is read never throws but a CarbError', async (t) => {
  const samples = await sampleExports()
  const originals = await Promise.all(samples.map(async (s) => ({ ...s, bytes: await readFile(s.path) })))
  const path = join(t.testdir(), 'mutated.journal')
  const result = await fuzz('journal-export', budget(800), async (m) => {
    const sample = m.pick(originals)
    const { bytes, how } = mutatedExport(m, sample.records, sample.bytes)
    await writeFile(path, bytes)
    const input = () => `${how} mutation of ${sample.path}: ${shown(bytes)}`
    let records: StoredRecord[]
    try {
      const source = await openJournalSource(path)
      records = source.records as StoredRecord[]
      await source.close()
    } catch (error) {
      return `${how}:${journalCode(error, input)}`
    }
    try {
      const replayed = await replayRecords(records, MACHINES, REPLAYABLE_CODE_VERSIONS)
      return `${how}:read:${replayed.ok ? 'replays' : 'diverges'}`
    } catch (error) {
      if (!isCarbError(error)) throw new FuzzFinding(`replay threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\ninput: ${input()}`, { cause: error })
      return `${how}:read:replay-${error.code}`
    }
  })
  if (result.failure !== null) t.fail(describeFailure('journal-export', result.failure))
  const { tally } = result
  t.comment(`journal-export: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  t.ok(tally.get('bytes:CARB_ERR_JOURNAL_CORRUPT') > 0, 'mutated bytes are refused as corrupt')
  t.ok(tally.get('values:read:diverges') + tally.get('values:read:replays') > 0, 'some mutated files were read and replayed')
})
