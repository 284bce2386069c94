/**
 * One timeline from several nodes' journals. Each node's entries stay in their journal order;
 * across nodes the entry with the smallest hybrid-clock stamp goes first (hlc.ts: a record
 * journaled after a message arrived sorts after everything its sender journaled before
 * sending it). Journals written before the stamps existed fall back to the wall clock
 * estimated from their start records, and the result says so: then a receive may sort before
 * its send by as much as the nodes' clocks disagreed.
 */
import { compareHlc, type Hlc } from './hlc.js'

export interface Mergeable {
  node: string
  seq: number
  wallMs: number
  /** The record's stamp, null in journals written before stamps. */
  stamp: Hlc | null
}

export type MergeOrder = 'hybrid-clock' | 'wall-clock'

function compare(a: Mergeable, b: Mergeable, order: MergeOrder): number {
  const byClock = order === 'hybrid-clock' && a.stamp !== null && b.stamp !== null ? compareHlc(a.stamp, b.stamp) : a.wallMs - b.wallMs
  return byClock || (a.node < b.node ? -1 : a.node > b.node ? 1 : a.seq - b.seq)
}

/** The order every merge of these lists uses: the hybrid clock only when every entry carries a stamp. */
export function mergeOrder(lists: readonly (readonly Mergeable[])[]): MergeOrder {
  return lists.every((list) => list.every((e) => e.stamp !== null)) ? 'hybrid-clock' : 'wall-clock'
}

/** k-way merge of per-node lists (each in its journal's order) into one timeline. */
export function mergeTimelines<T extends Mergeable>(lists: readonly (readonly T[])[], order: MergeOrder = mergeOrder(lists)): T[] {
  const heads = lists.map(() => 0)
  const out: T[] = []
  const total = lists.reduce((n, list) => n + list.length, 0)
  while (out.length < total) {
    let best = -1
    for (let i = 0; i < lists.length; i++) {
      const candidate = lists[i]![heads[i]!]
      if (candidate === undefined) continue
      if (best < 0 || compare(candidate, lists[best]![heads[best]!]!, order) < 0) best = i
    }
    out.push(lists[best]![heads[best]!]!)
    heads[best]!++
  }
  return out
}
