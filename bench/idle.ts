/**
 * A 3-node cluster left alone at the given timings: journal growth (records and bytes) per
 * node, extrapolated to a day, and each daemon's RSS and CPU share over the window.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { TestCluster, runCli } from '../test/helpers/cluster.js'
import { DEFAULT_TIMING, type Timing } from '../src/config/timing.js'

export interface IdleResult { windowS: number; recordsPerDay: number; bytesPerDay: number; rssMiB: number[]; cpuPercent: number[] }

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}

function journalCount(c: TestCluster, name: string, out: string): { records: number; bytes: number } {
  const r = runCli(['journal', 'export', '-c', c.file, '--node', name, '--out', out])
  if (r.code !== 0) throw new Error(r.stderr)
  return { records: Number(/exported (\d+) records/.exec(r.stdout)![1]), bytes: readFileSync(out).length }
}

export async function benchIdle(windowS: number, timing: Timing = DEFAULT_TIMING): Promise<IdleResult> {
  const c = await TestCluster.create(['a', 'b', 'c'], { timing: { ...timing } })
  try {
    c.startAll()
    for (const o of c.names) for (const p of c.names) if (o !== p) await c.waitPeer(o, p, 'up', 30_000)
    await new Promise((r) => setTimeout(r, 2000))
    const pids = c.names.map((n) => c.node(n).child.pid!)
    const before = c.names.map((n) => journalCount(c, n, join(c.dir, `${n}-before.journal`)))
    const cpuBefore = pids.map(cpuSeconds)
    await new Promise((r) => setTimeout(r, windowS * 1000))
    const cpuAfter = pids.map(cpuSeconds)
    const after = c.names.map((n) => journalCount(c, n, join(c.dir, `${n}-after.journal`)))
    const perDay = 86400 / windowS
    const records = Math.max(...after.map((a, i) => a.records - before[i]!.records))
    const bytes = Math.max(...after.map((a, i) => a.bytes - before[i]!.bytes))
    return {
      windowS, recordsPerDay: Math.round(records * perDay), bytesPerDay: Math.round(bytes * perDay),
      rssMiB: pids.map((p) => Math.round(rssMiB(p) * 10) / 10),
      cpuPercent: cpuAfter.map((a, i) => Math.round(((a - cpuBefore[i]!) / windowS) * 1000) / 10),
    }
  } finally {
    await c.destroy()
  }
}
