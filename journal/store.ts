/**
 * The journal store: records appended in memory in sequence order, made durable by group
 * commit (one synced LevelDB batch for everything queued; STACK.md measured 84k records/s
 * in synced batches of 1000 against 3.3k/s for synced single puts), read back in order.
 *
 * The runtime appends the inputs and transitions of a step, calls flush(), and only when
 * flush() resolves carries out the effects those records decided (STYLE.md §1).
 * A record leaves the in-memory queue only after the batch holding it is synced, so a
 * failed batch is retried, in order, by the next flush (keys are seqs: rewriting is idempotent).
 */
import { mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { CarbError } from '../src/errors.js'
import { checkValue, decodeKey, encodeKey, encodeRecord, journalValueEncoding } from './codec.js'
import { checkRecord, type JournalRecord, type StoredRecord } from './records.js'
import { toPair, type HybridClock } from './hlc.js'

export interface JournalStoreOptions {
  /**
   * Records per synced LevelDB batch; more pending records go in several batches, in order.
   * 1000: synced batches of 1000 ran at 84k records/s and of 100 at 56k/s (STACK.md); larger
   * batches gain little and delay the first effect behind a long write.
   */
  maxBatchRecords?: number
  /**
   * Records appended but not yet durable. Beyond it append() throws CARB_ERR_JOURNAL_BACKLOG
   * rather than grow without bound. 100000: at the ~1k records/s of a busy node that is
   * 100 s of unsynced decisions, far past any self-fence deadline, so the disk is gone.
   */
  maxPendingRecords?: number
  /** false for readers (replay, export): a missing journal is an error, not a new empty one. */
  createIfMissing?: boolean
}

export interface JournalStats { appended: number; flushedBatches: number; flushedRecords: number; bytesWritten: number }

export const DEFAULT_MAX_BATCH_RECORDS = 1000
export const DEFAULT_MAX_PENDING_RECORDS = 100_000
/** Entries fetched from LevelDB per iterator step while reading. */
const READ_CHUNK_RECORDS = 1000

interface Pending { seq: number; bytes: Buffer }

/** The LevelDB operations the journal uses; the simulator gives an in-memory store (memory-level). */
export type JournalDb = Pick<Level<Buffer, unknown>, 'open' | 'close' | 'batch' | 'iterator' | 'keys'>

export class JournalStore {
  private readonly queue: Pending[] = []
  private nextSeq: number
  private durableSeq: number
  private writing: Promise<void> | null = null
  private writingToSeq = 0
  private waiting: Promise<void> | null = null
  private closing = false
  private readonly counters: JournalStats = { appended: 0, flushedBatches: 0, flushedRecords: 0, bytesWritten: 0 }
  private readonly maxBatchRecords: number
  private readonly maxPendingRecords: number
  private clock: HybridClock | null = null

  private constructor(readonly dir: string, private readonly db: JournalDb, lastSeq: number, options: JournalStoreOptions) {
    this.nextSeq = lastSeq + 1
    this.durableSeq = lastSeq
    this.maxBatchRecords = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS
    this.maxPendingRecords = options.maxPendingRecords ?? DEFAULT_MAX_PENDING_RECORDS
  }

  /** Opens (creating unless told not to) the journal in `dir`; the sequence continues after its last record. */
  static async open(dir: string, options: JournalStoreOptions = {}): Promise<JournalStore> {
    positiveInteger(options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS, 'maxBatchRecords')
    positiveInteger(options.maxPendingRecords ?? DEFAULT_MAX_PENDING_RECORDS, 'maxPendingRecords')
    const createIfMissing = options.createIfMissing ?? true
    if (createIfMissing) await mkdir(dir, { recursive: true })
    const db: JournalDb = new Level<Buffer, unknown>(dir, { keyEncoding: 'buffer', valueEncoding: journalValueEncoding, createIfMissing })
    try {
      await db.open()
    } catch (error) {
      throw openError(dir, error)
    }
    return JournalStore.openOn(dir, db, options)
  }

  /**
   * The journal on a database the caller opened (keys as buffers, values in
   * journalValueEncoding): the simulator's in-memory journals. Closing the journal closes it.
   */
  static async openOn(dir: string, db: JournalDb, options: JournalStoreOptions = {}): Promise<JournalStore> {
    try {
      return new JournalStore(dir, db, await lastStoredSeq(db, dir), options)
    } catch (error) {
      await db.close()
      throw error
    }
  }

  /** From now on every appended record carries this clock's stamp (`h`, for merging journals). */
  stampWith(clock: HybridClock): void {
    this.clock = clock
  }

  /** Assigns the next seq and queues the record (encoded now, so later mutation cannot change it). */
  append(unstamped: JournalRecord): number {
    const record = this.clock === null ? unstamped : { ...unstamped, h: toPair(this.clock.tick()) }
    if (this.closing) throw new CarbError('CARB_ERR_JOURNAL_WRITE', 'journal is closed; record not appended', this.dir)
    if (this.queue.length >= this.maxPendingRecords) {
      throw new CarbError('CARB_ERR_JOURNAL_BACKLOG', `${this.queue.length} records wait to be synced (maxPendingRecords ${this.maxPendingRecords}); the journal disk is not keeping up`, this.dir)
    }
    const seq = this.nextSeq
    checkRecord(record, `${this.dir} seq ${seq}`) // never write what a reader would refuse
    const bytes = encodeRecord(record)
    this.nextSeq++
    this.queue.push({ seq, bytes })
    this.counters.appended++
    return seq
  }

  /**
   * Resolves when every record appended before the call is durable. Calls coalesce: one
   * made while a write is in flight is served by that write if it covers it, else by a
   * single follow-up write that starts when the current one ends.
   */
  flush(): Promise<void> {
    const targetSeq = this.nextSeq - 1
    if (targetSeq <= this.durableSeq) return Promise.resolve()
    if (this.writing !== null && targetSeq <= this.writingToSeq) return this.writing
    if (this.waiting !== null) return this.waiting
    if (this.writing === null) return this.startWriting()
    const waiting = this.writing.catch(() => undefined).then(() => {
      this.waiting = null
      return this.startWriting()
    })
    this.waiting = waiting
    return waiting
  }

  private startWriting(): Promise<void> {
    this.writingToSeq = this.nextSeq - 1
    const writing = this.writeQueued(this.writingToSeq).finally(() => {
      if (this.writing === writing) this.writing = null
    })
    this.writing = writing
    return writing
  }

  /** Writes the queued records up to `toSeq` in batches of at most maxBatchRecords, in order. */
  private async writeQueued(toSeq: number): Promise<void> {
    while (this.queue.length > 0 && this.queue[0]!.seq <= toSeq) {
      let count = 0
      while (count < this.maxBatchRecords && count < this.queue.length && this.queue[count]!.seq <= toSeq) count++
      await this.writeBatch(this.queue.slice(0, count))
      this.queue.splice(0, count)
    }
  }

  private async writeBatch(entries: Pending[]): Promise<void> {
    let bytes = 0
    const operations = entries.map(({ seq, bytes: value }) => {
      bytes += value.length
      return { type: 'put' as const, key: encodeKey(seq), value, valueEncoding: 'buffer' }
    })
    const first = entries[0]!.seq
    const last = entries[entries.length - 1]!.seq
    try {
      await this.db.batch<Buffer, Buffer>(operations, { sync: true })
    } catch (error) {
      throw new CarbError('CARB_ERR_JOURNAL_WRITE', `synced batch of seq ${first}..${last} failed (${(error as Error).message}); the records stay queued for the next flush`, this.dir)
    }
    if (first !== this.durableSeq + 1) throw new Error(`journal invariant: batch starts at seq ${first} after durable seq ${this.durableSeq}`)
    this.durableSeq = last
    this.counters.flushedBatches++
    this.counters.flushedRecords += entries.length
    this.counters.bytesWritten += bytes + entries.length * 8
  }

  /** Records not yet durable (queued or in a batch being written). */
  pending(): number {
    return this.queue.length
  }

  /** The seq of the last record appended (durable or not); 0 for an empty journal. */
  lastSeq(): number {
    return this.nextSeq - 1
  }

  /** The seq of the last durable record; 0 for an empty journal. */
  lastDurableSeq(): number {
    return this.durableSeq
  }

  stats(): JournalStats {
    return { ...this.counters }
  }

  /** Durable records (as of the call) from `fromSeq` to `toSeq` inclusive, in sequence order. */
  read(range: { fromSeq?: number; toSeq?: number } = {}): AsyncIterable<StoredRecord> {
    const fromSeq = Math.max(range.fromSeq ?? 1, 0)
    const toSeq = Math.min(range.toSeq ?? this.durableSeq, this.durableSeq)
    return this.readRange(fromSeq, toSeq)
  }

  private async *readRange(fromSeq: number, toSeq: number): AsyncIterable<StoredRecord> {
    if (toSeq < fromSeq) return
    const iterator = this.db.iterator({ gte: encodeKey(fromSeq), lte: encodeKey(toSeq) })
    let previousSeq = fromSeq - 1
    try {
      for (;;) {
        const entries = await iterator.nextv(READ_CHUNK_RECORDS)
        if (entries.length === 0) return
        for (const [key, value] of entries) {
          const seq = decodeKey(key, this.dir)
          if (seq <= previousSeq) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `seq ${seq} read after seq ${previousSeq}`, this.dir)
          previousSeq = seq
          yield { seq, record: checkValue(value, `${this.dir} seq ${seq}`) }
        }
      }
    } finally {
      await iterator.close()
    }
  }

  /** Bytes of the journal's files (LevelDB tables, log, manifest): a du of the directory. */
  async approximateSizeBytes(): Promise<number> {
    let total = 0
    for (const name of await readdir(this.dir)) total += (await stat(join(this.dir, name))).size
    return total
  }

  /** Flushes what was appended, then closes; appends after close() is called are refused. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    try {
      await this.flush()
    } finally {
      await this.db.close()
    }
  }
}

async function lastStoredSeq(db: JournalDb, dir: string): Promise<number> {
  const keys = await db.keys({ reverse: true, limit: 1 }).all()
  return keys.length === 0 ? 0 : decodeKey(keys[0]!, dir)
}

function openError(dir: string, error: unknown): CarbError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  const code = cause?.code ?? (error as { code?: string }).code
  const detail = cause?.message ?? (error as Error).message
  if (code === 'LEVEL_LOCKED') {
    return new CarbError('CARB_ERR_JOURNAL_OPEN', 'journal is in use by another process (LevelDB allows one); use `carbonado journal export` through the control socket', dir)
  }
  if (code === 'LEVEL_CORRUPTION') return new CarbError('CARB_ERR_JOURNAL_CORRUPT', `LevelDB reports corruption: ${detail}`, dir)
  if (/does not exist/.test(detail)) return new CarbError('CARB_ERR_JOURNAL_OPEN', 'no journal here (directory missing or not a LevelDB journal)', dir)
  return new CarbError('CARB_ERR_JOURNAL_OPEN', `cannot open journal: ${detail}`, dir)
}

function positiveInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`JournalStore option ${name} must be a positive integer, got ${value}`)
}
