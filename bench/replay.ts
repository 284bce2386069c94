/**
 * Replay rate. Faulty 10-minute peer streams are fed through the real MachineHost; the
 * records it journals are then copied many times under distinct machine ids (each copy is a
 * valid history of a fresh machine) to make a journal large enough to time, written to a
 * real LevelDB journal, and replayed twice: in memory by the replay engine, and end to end
 * by `carbonado replay --journal DIR` (process start, LevelDB read, decode, fold). The same
 * journal is then explained (`--explain --json`, every transition with its evidence) and
 * folded under other settings (`--what-if`), end to end, as ratios to the plain replay.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JournalStore } from '../journal/store.js'
import { CLI } from '../test/helpers/cluster.js'
import { MachineHost } from '../src/runtime/machine-host.js'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../machines/registry.js'
import { replayRecords } from '../journal/replay.js'
import type { StoredRecord } from '../journal/records.js'
import { peerStream } from '../test/helpers/peer-stream.js'

export interface ReplayBench {
  records: number; transitions: number; recordsPerSec: number; inputsOfferedPerSec: number; journaledShare: number
  cliRecords: number; cliSeconds: number; cliRecordsPerSec: number
  explainSeconds: number; explainRecordsPerSec: number; whatIfSeconds: number; whatIfRecordsPerSec: number
}

/** Seconds one CLI run takes; its stdout goes to /dev/null (the JSON of a big explanation is large). */
function timeCli(args: string[]): number {
  const start = performance.now()
  execFileSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
  return (performance.now() - start) / 1000
}

/** The same history under another machine id. */
function renamed(records: StoredRecord[], copy: number, firstSeq: number): StoredRecord[] {
  return records.map((r, i) => ({ seq: firstSeq + i, record: 'm' in r.record ? { ...r.record, m: `${r.record.m}/${copy}` } : r.record }))
}

export async function benchReplay(streams: number, copies: number): Promise<ReplayBench> {
  const records: StoredRecord[] = []
  const host = new MachineHost({ append: (record) => records.push({ seq: records.length + 1, record }) }, () => {})
  let offered = 0
  const hostStart = performance.now()
  for (let seed = 1; seed <= streams; seed++) {
    const id = `peer:s${seed}`
    host.create(id, 'peer', { peer: `s${seed}`, nodeId: 2, startedAt: 0, channels: 2, timing: { diskSuspectAfterMs: 2000, diskDeadAfterMs: 10000, peerDeadAfterMs: 5000 } }, 0)
    for (const e of peerStream(seed, 600_000)) {
      offered++
      host.deliver(id, e, e.type === 'DISK_STATUS' ? 'disk' : e.type === 'HEARTBEAT' ? `hb:${e.channel}` : undefined)
    }
  }
  const hostMs = performance.now() - hostStart
  const big: StoredRecord[] = []
  for (let copy = 0; copy < copies; copy++) big.push(...renamed(records, copy, big.length + 1))
  const start = performance.now()
  const result = await replayRecords(big, MACHINES, REPLAYABLE_CODE_VERSIONS)
  const elapsedMs = performance.now() - start
  if (!result.ok) throw new Error('bench journal did not replay')

  const dir = await mkdtemp(join(tmpdir(), 'carbonado-bench-replay-'))
  try {
    const store = await JournalStore.open(dir)
    for (const [i, r] of big.entries()) {
      store.append(r.record)
      if (i % 1000 === 999) await store.flush()
    }
    await store.flush()
    await store.close()
    const cliStart = performance.now()
    const out = execFileSync(process.execPath, [CLI, 'replay', '--journal', dir], { encoding: 'utf8' })
    const cliSeconds = (performance.now() - cliStart) / 1000
    if (!out.startsWith('replay ok')) throw new Error(`carbonado replay: ${out}`)
    const explainSeconds = timeCli(['replay', '--journal', dir, '--explain', '--json'])
    const settings = join(dir, 'what-if.yaml')
    await writeFile(settings, 'timing:\n  peerDeadAfterMs: 8000\n')
    const whatIfSeconds = timeCli(['replay', '--journal', dir, '--what-if', settings])
    const round = (x: number): number => Math.round(x * 100) / 100
    return {
      explainSeconds: round(explainSeconds), explainRecordsPerSec: Math.round(big.length / explainSeconds),
      whatIfSeconds: round(whatIfSeconds), whatIfRecordsPerSec: Math.round(big.length / whatIfSeconds),
      records: big.length, transitions: result.transitions,
      recordsPerSec: Math.round(big.length / (elapsedMs / 1000)),
      inputsOfferedPerSec: Math.round(offered / (hostMs / 1000)),
      journaledShare: Math.round((records.length / offered) * 10000) / 10000,
      cliRecords: big.length, cliSeconds: Math.round(cliSeconds * 100) / 100, cliRecordsPerSec: Math.round(big.length / cliSeconds),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
