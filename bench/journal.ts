/**
 * Journal store throughput on the real LevelDB: append + group-commit flush of realistic
 * records (a peer's HEARTBEAT input) with a synced batch every 1000 and every 100 records,
 * then a full read of the journal. Run alone: `node dist/bench/journal.js [--records N]`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { JournalStore } from '../journal/store.js'
import type { JournalRecord } from '../journal/records.js'

export interface JournalBench {
  /** Records/s appended and made durable, flushing every `flushBatchSize` records. */
  appendPerSec: number
  flushBatchSize: number
  /** The same with a flush every 100 records (a busier commit cadence). */
  appendPerSecFlushEvery100: number
  /** Records/s read back in order, decoded and shape-checked. */
  replayReadPerSec: number
  /** Encoded key + value bytes per record. */
  bytesPerRecord: number
  /** Bytes of the LevelDB directory per record after close (tables, log, manifest). */
  diskBytesPerRecord: number
}

const FLUSH_EVERY_RECORDS = [1000, 100] as const

function heartbeat(i: number): JournalRecord {
  return { v: 1, t: 'input', m: 'peer:b', e: { type: 'HEARTBEAT', at: 1_000_000 + i * 250, channel: i % 2, from: 'b', incarnation: 3, seq: i, sentWallMs: 1_700_000_000_000 + i * 250 } }
}

const perSec = (count: number, ms: number): number => Math.round(count / (ms / 1000))

async function appendRun(dir: string, records: number, flushEvery: number): Promise<{ perSec: number; bytesPerRecord: number; diskBytesPerRecord: number }> {
  const store = await JournalStore.open(dir, { maxBatchRecords: flushEvery })
  const startMs = performance.now()
  for (let i = 1; i <= records; i++) {
    store.append(heartbeat(i))
    if (i % flushEvery === 0) await store.flush()
  }
  await store.flush()
  const elapsedMs = performance.now() - startMs
  const { bytesWritten } = store.stats()
  await store.close()
  const reopened = await JournalStore.open(dir)
  const diskBytes = await reopened.approximateSizeBytes()
  await reopened.close()
  return { perSec: perSec(records, elapsedMs), bytesPerRecord: Math.round(bytesWritten / records), diskBytesPerRecord: Math.round(diskBytes / records) }
}

async function readRun(dir: string, records: number): Promise<number> {
  const store = await JournalStore.open(dir, { createIfMissing: false })
  const startMs = performance.now()
  let count = 0
  for await (const _ of store.read()) count++
  const elapsedMs = performance.now() - startMs
  await store.close()
  if (count !== records) throw new Error(`bench journal read ${count} records, wrote ${records}`)
  return perSec(count, elapsedMs)
}

export async function benchJournal(opts: { records: number }): Promise<JournalBench> {
  const root = await mkdtemp(join(tmpdir(), 'carbonado-bench-journal-'))
  try {
    const [every1000, every100] = [FLUSH_EVERY_RECORDS[0], FLUSH_EVERY_RECORDS[1]]
    const big = await appendRun(join(root, `every-${every1000}`), opts.records, every1000)
    const small = await appendRun(join(root, `every-${every100}`), opts.records, every100)
    const replayReadPerSec = await readRun(join(root, `every-${every1000}`), opts.records)
    return {
      appendPerSec: big.perSec, flushBatchSize: every1000, appendPerSecFlushEvery100: small.perSec,
      replayReadPerSec, bytesPerRecord: big.bytesPerRecord, diskBytesPerRecord: big.diskBytesPerRecord,
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

const runDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (runDirectly) {
  const flag = process.argv.indexOf('--records')
  const records = flag === -1 ? 100_000 : Number(process.argv[flag + 1])
  process.stdout.write(`${JSON.stringify({ records, ...(await benchJournal({ records })) })}\n`)
}
