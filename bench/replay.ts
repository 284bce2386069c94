/** Replay rate: records of faulty runs (built by the real MachineHost) folded by the replay engine. */
import { MachineHost } from '../src/runtime/machine-host.js'
import { MACHINES } from '../machines/registry.js'
import { replayRecords } from '../journal/replay.js'
import type { StoredRecord } from '../journal/records.js'
import { peerStream } from '../test/helpers/peer-stream.js'

export interface ReplayBench { records: number; transitions: number; recordsPerSec: number; inputsOfferedPerSec: number; journaledShare: number }

export async function benchReplay(streams: number): Promise<ReplayBench> {
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
  const start = performance.now()
  const result = await replayRecords(records, MACHINES)
  const elapsedMs = performance.now() - start
  if (!result.ok) throw new Error('bench journal did not replay')
  return {
    records: records.length, transitions: result.transitions,
    recordsPerSec: Math.round(records.length / (elapsedMs / 1000)),
    inputsOfferedPerSec: Math.round(offered / (hostMs / 1000)),
    journaledShare: Math.round((records.length / offered) * 10000) / 10000,
  }
}
