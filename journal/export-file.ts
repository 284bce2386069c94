/**
 * A journal as one file, for offline replay on another machine (LevelDB admits one process
 * per journal, so a running node's journal is exported through its control socket).
 * Layout: a header map, then one `{ seq, record }` map per record, msgpack values back to
 * back with the journal's own Packr options, so any msgpack decoder reads it.
 */
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { CarbError } from '../src/errors.js'
import { safeString } from '../src/safe-string.js'
import { journalPackr } from './codec.js'
import { checkRecord, type StoredRecord } from './records.js'
import { JournalStore } from './store.js'

export const EXPORT_MAGIC = 'carbonado-journal'
export const EXPORT_FORMAT_VERSION = 1

export interface ExportHeader {
  magic: typeof EXPORT_MAGIC
  v: 1
  exportedAtWallMs: number
  node: string
  /** How many records follow; lets a reader tell a file cut at a record boundary. */
  records?: number
}

/** Encoded items gathered before one write call: few syscalls, bounded memory. */
const WRITE_CHUNK_BYTES = 1 << 20

/**
 * Writes the header and the records to `path` through a temporary file that is synced and
 * renamed, so a reader never sees half an export. With an array, the header's count is filled in.
 */
export async function writeExportFile(path: string, header: ExportHeader, records: AsyncIterable<StoredRecord> | StoredRecord[]): Promise<number> {
  const fullHeader = Array.isArray(records) && header.records === undefined ? { ...header, records: records.length } : header
  const temporary = `${path}.tmp-${process.pid}`
  const file = await open(temporary, 'w')
  let count = 0
  try {
    let chunk: Buffer[] = [journalPackr.pack(fullHeader)]
    let chunkBytes = chunk[0]!.length
    for await (const { seq, record } of records) {
      const item = journalPackr.pack({ seq, record })
      chunk.push(item)
      chunkBytes += item.length
      count++
      if (chunkBytes >= WRITE_CHUNK_BYTES) {
        await file.writev(chunk)
        chunk = []
        chunkBytes = 0
      }
    }
    if (chunk.length > 0) await file.writev(chunk)
    await file.sync()
  } catch (error) {
    await file.close()
    await rm(temporary, { force: true })
    throw error
  }
  await file.close()
  await rename(temporary, path)
  return count
}

/** Reads a whole export; every record is shape-checked and seqs must increase. */
export async function readExportFile(path: string): Promise<{ header: ExportHeader; records: StoredRecord[] }> {
  const bytes = await readWhole(path)
  const values = unpackAll(bytes, path)
  const header = checkHeader(values[0], path)
  const records: StoredRecord[] = []
  for (let i = 1; i < values.length; i++) records.push(checkItem(values[i], path, records.at(-1)?.seq ?? 0))
  if (header.records !== undefined && header.records !== records.length) {
    throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `header announces ${header.records} records but the file holds ${records.length} (truncated or appended to)`, path)
  }
  return { header, records }
}

async function readWhole(path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    throw new CarbError('CARB_ERR_JOURNAL_OPEN', `cannot read journal export (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path)
  }
}

function unpackAll(bytes: Buffer, path: string): unknown[] {
  if (bytes.length === 0) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', 'not a carbonado journal export (empty file)', path)
  try {
    return journalPackr.unpackMultiple(bytes) as unknown[]
  } catch (error) {
    const e = error as Error & { incomplete?: boolean; values?: unknown[] }
    const after = e.values === undefined ? '' : ` after ${Math.max(e.values.length - 1, 0)} records`
    const what = e.incomplete === true ? `file is cut short${after}` : `bytes are not msgpack${after} (${e.message})`
    throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `not a readable carbonado journal export: ${what}`, path)
  }
}

function checkHeader(value: unknown, path: string): ExportHeader {
  const h = value as Partial<Record<keyof ExportHeader, unknown>> | null
  if (typeof h !== 'object' || h === null || h.magic !== EXPORT_MAGIC) {
    throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `not a carbonado journal export (no "${EXPORT_MAGIC}" header)`, path)
  }
  if (h.v !== EXPORT_FORMAT_VERSION) throw new CarbError('CARB_ERR_JOURNAL_VERSION', `export format version ${safeString(h.v)} is not supported (this code reads version ${EXPORT_FORMAT_VERSION})`, path)
  if (typeof h.node !== 'string' || typeof h.exportedAtWallMs !== 'number' || (h.records !== undefined && !Number.isSafeInteger(h.records))) {
    throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', 'export header lacks a string "node", a numeric "exportedAtWallMs" or has a non-integer "records"', path)
  }
  return h as ExportHeader
}

function checkItem(value: unknown, path: string, previousSeq: number): StoredRecord {
  const item = value as { seq?: unknown; record?: unknown } | null
  if (typeof item !== 'object' || item === null || !Number.isSafeInteger(item.seq)) {
    throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `item after seq ${previousSeq} is not a { seq, record } pair`, path)
  }
  const seq = item.seq as number
  if (seq <= previousSeq) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `seq ${seq} follows seq ${previousSeq}; seqs must increase`, path)
  return { seq, record: checkRecord(item.record, `${path} seq ${seq}`) }
}

export interface JournalSource {
  records: AsyncIterable<StoredRecord> | StoredRecord[]
  /** How many records there are, when known without reading them (an export file). */
  count: number | null
  close(): Promise<void>
}

/**
 * A journal to replay: a directory is opened as a JournalStore (fails with
 * CARB_ERR_JOURNAL_OPEN while its node runs), a file is read as an export.
 */
export async function openJournalSource(pathOrDir: string): Promise<JournalSource> {
  let isDirectory: boolean
  try {
    isDirectory = (await stat(pathOrDir)).isDirectory()
  } catch (error) {
    throw new CarbError('CARB_ERR_JOURNAL_OPEN', `no journal directory or export file here (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, pathOrDir)
  }
  if (!isDirectory) {
    const { records } = await readExportFile(pathOrDir)
    return { records, count: records.length, close: async () => {} }
  }
  const store = await JournalStore.open(pathOrDir, { createIfMissing: false })
  return { records: store.read(), count: null, close: () => store.close() }
}
