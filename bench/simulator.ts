/**
 * Simulator throughput: full seeds (`npm run sim` runs, a quarter at the shipped timing) run
 * one after another; virtual seconds simulated per real second, runs per second, and events
 * per real second (every disk operation, datagram, timer and agent call is one event).
 */
import { runSeeds } from '../test/sim/run-seed.js'

export interface SimulatorBench { seeds: number; runsPerSec: number; virtualPerRealSec: number; eventsPerSec: number; failed: number }

export async function benchSimulator(seeds: number, from = 1): Promise<SimulatorBench> {
  const total = await runSeeds(from, seeds, {})
  const realSec = total.realMs / 1000
  return {
    seeds, failed: total.failed,
    runsPerSec: Math.round((seeds / realSec) * 100) / 100,
    virtualPerRealSec: Math.round((total.virtualMs / 1000 / realSec) * 10) / 10,
    eventsPerSec: Math.round(total.events / realSec),
  }
}
