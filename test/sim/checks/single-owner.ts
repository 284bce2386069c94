/**
 * Safety rule 1: a service runs on at most one machine at any virtual instant. The input is
 * the ground truth of the simulated resources (a resource counts from the moment its start
 * is called until a stop succeeds or its machine loses power), not what any node believes.
 */
import type { HoldChange } from '../resources.js'
import { verdict, type Verdict } from './verdict.js'

export function checkSingleOwner(changes: readonly HoldChange[]): Verdict {
  const holders = new Map<string, Set<string>>()
  const problems: string[] = []
  for (const change of changes) {
    const set = holders.get(change.service) ?? new Set<string>()
    holders.set(change.service, set)
    if (change.held) set.add(change.machine)
    else set.delete(change.machine)
    if (change.held && set.size > 1) {
      problems.push(`at ${Math.round(change.atMs)} ms service ${change.service} may run on ${[...set].sort().join(' and ')} (${change.machine} began a start while the other still held it)`)
    }
  }
  return verdict('single-owner', problems)
}
