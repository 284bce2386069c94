/**
 * The witness checker: from the lines services append ("<node> start|tick|stop <ns>"), the
 * intervals in which each node ran the service, and every moment two nodes ran it at once.
 * A run ends at its stop line, or (a node that died) at its last tick.
 */
import { readFileSync, existsSync } from 'node:fs'

export interface Run { node: string; fromNs: bigint; toNs: bigint; stopped: boolean }
export interface Overlap { a: Run; b: Run }

export function parseRuns(text: string): Run[] {
  const open = new Map<string, Run>()
  const runs: Run[] = []
  for (const line of text.split('\n')) {
    const [node, what, ns] = line.trim().split(' ')
    if (node === undefined || what === undefined || ns === undefined || !/^\d+$/.test(ns)) continue
    const at = BigInt(ns)
    const run = open.get(node)
    if (what === 'start') {
      if (run !== undefined) runs.push(run)
      open.set(node, { node, fromNs: at, toNs: at, stopped: false })
    } else if (run !== undefined && (what === 'tick' || what === 'stop')) {
      if (at > run.toNs) run.toNs = at
      if (what === 'stop') { run.stopped = true; runs.push(run); open.delete(node) }
    }
  }
  runs.push(...open.values())
  return runs.sort((x, y) => (x.fromNs < y.fromNs ? -1 : x.fromNs > y.fromNs ? 1 : 0))
}

export function overlaps(runs: Run[]): Overlap[] {
  const found: Overlap[] = []
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i]!
      const b = runs[j]!
      if (a.node !== b.node && a.fromNs <= b.toNs && b.fromNs <= a.toNs) found.push({ a, b })
    }
  }
  return found
}

export function readRuns(path: string): Run[] {
  return existsSync(path) ? parseRuns(readFileSync(path, 'utf8')) : []
}

export function describeRuns(runs: Run[]): string {
  if (runs.length === 0) return '(no runs)'
  const t0 = runs[0]!.fromNs
  return runs.map((r) => `${r.node} ${(Number(r.fromNs - t0) / 1e6).toFixed(0)}..${(Number(r.toNs - t0) / 1e6).toFixed(0)} ms${r.stopped ? '' : ' (died)'}`).join(', ')
}
