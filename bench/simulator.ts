/**
 * Simulator throughput: full seeds (`npm run sim` runs, a quarter at the shipped timing) run
 * one after another; virtual seconds simulated per real second, runs per second, and events
 * per real second (every disk operation, datagram, timer and agent call is one event).
 */
import { runSeed } from '../test/sim/run-seed.js'

export interface SimulatorBench { seeds: number; runsPerSec: number; virtualPerRealSec: number; eventsPerSec: number; failed: number }

export async function benchSimulator(seeds: number, from = 1): Promise<SimulatorBench> {
  const started = performance.now()
  let virtualMs = 0
  let events = 0
  let failed = 0
  for (let seed = from; seed < from + seeds; seed++) {
    const r = await runSeed(seed)
    virtualMs += r.virtualMs
    events += r.events
    if (!r.ok) failed++
  }
  const realSec = (performance.now() - started) / 1000
  return {
    seeds, failed,
    runsPerSec: Math.round((seeds / realSec) * 100) / 100,
    virtualPerRealSec: Math.round((virtualMs / 1000 / realSec) * 10) / 10,
    eventsPerSec: Math.round(events / realSec),
  }
}
