/**
 * The ownership checker of the chaos harness: the witness file (every run of the HTTP
 * server: "<node> start|tick|stop <ns>") turned into runs by test/helpers/witness.ts, and
 * every pair of runs of two nodes that overlap in time. One overlap is a split brain: two
 * nodes served the service at one instant.
 */
import { describeRuns, overlaps, readRuns, type Overlap, type Run } from '../helpers/witness.js'

export interface WitnessVerdict { runs: Run[]; overlaps: Overlap[] }

export function checkWitness(path: string): WitnessVerdict {
  const runs = readRuns(path)
  return { runs, overlaps: overlaps(runs) }
}

export function describeOverlap(o: Overlap): string {
  return `${o.a.node} and ${o.b.node} both ran the service: ${describeRuns([o.a, o.b])}`
}
