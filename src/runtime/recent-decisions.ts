/**
 * The last decisions this node carried out, for the live dashboard: a bounded ring (STYLE.md
 * §8), newest last, with the wall time each was carried out; listeners hear of each new one.
 * The journal keeps them all; this is only what a page shows at a glance.
 */
import type { Decision } from './machine-host.js'

/** A screenful: enough to see a failover's whole story (suspect, dead, fence, lease, start). */
export const RECENT_DECISIONS_MAX = 50
/** Dashboards connected at once are capped (src/web); a few more listeners is a bug. */
export const DECISION_LISTENERS_MAX = 8

export interface RecentDecision extends Decision { wallMs: number }

export class RecentDecisions {
  private readonly ring: RecentDecision[] = []
  private readonly listeners = new Set<() => void>()

  constructor(private readonly max = RECENT_DECISIONS_MAX) {}

  record(decision: Decision, wallMs: number): void {
    this.ring.push({ ...decision, wallMs })
    if (this.ring.length > this.max) this.ring.splice(0, this.ring.length - this.max)
    for (const listener of this.listeners) listener()
  }

  /** Newest first. */
  list(): RecentDecision[] {
    return [...this.ring].reverse()
  }

  /** Calls `listener` after each new decision; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    if (this.listeners.size >= DECISION_LISTENERS_MAX) throw new Error(`more than ${DECISION_LISTENERS_MAX} decision listeners`)
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}
