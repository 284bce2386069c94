/**
 * Detection time: SIGKILL of one node of three to the moment each survivor logs it dead,
 * at the given timings (shipped defaults unless told otherwise). Real processes, loopback.
 */
import { TestCluster } from '../test/helpers/cluster.js'
import { DEFAULT_TIMING, type Timing } from '../src/config/timing.js'

export interface Distribution { runs: number; minMs: number; p50Ms: number; p90Ms: number; maxMs: number; meanMs: number }

export function distribution(samples: number[]): Distribution {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!
  return { runs: s.length, minMs: s[0]!, p50Ms: at(0.5), p90Ms: at(0.9), maxMs: s[s.length - 1]!, meanMs: Math.round(s.reduce((a, b) => a + b, 0) / s.length) }
}

export async function benchDetection(runs: number, timing: Timing = DEFAULT_TIMING): Promise<Distribution> {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const c = await TestCluster.create(['a', 'b', 'c'], { timing: { ...timing } })
    try {
      c.startAll()
      for (const o of c.names) for (const p of c.names) if (o !== p) await c.waitPeer(o, p, 'up', 30_000)
      // Kill at a random phase of the disk cycle, as a real crash would.
      await new Promise((r) => setTimeout(r, Math.random() * timing.diskIntervalMs))
      const marks = ['a', 'b'].map((n) => c.node(n).lines.length)
      const killedAt = Date.now()
      c.node('c').child.kill('SIGKILL')
      for (const [i, s] of ['a', 'b'].entries()) {
        const line = await c.waitPeer(s, 'c', 'dead', timing.diskDeadAfterMs * 3, marks[i])
        samples.push(Date.parse(line.time) - killedAt)
      }
    } finally {
      await c.destroy()
    }
  }
  return distribution(samples)
}
