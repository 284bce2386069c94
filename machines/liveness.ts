/**
 * Kimberlite's rule as one pure function: the disk is the primary evidence and the
 * tie-breaker, the heartbeat the second opinion.
 *   - a missed disk update (no new write for diskSuspectAfterMs) makes a peer suspect;
 *   - a peer is dead only when the disk has been silent for diskDeadAfterMs AND every
 *     heartbeat channel has been silent for peerDeadAfterMs;
 *   - a peer whose disk shows it writing is alive, heartbeats or not (network partition).
 */
export interface LivenessTiming {
  diskSuspectAfterMs: number
  diskDeadAfterMs: number
  peerDeadAfterMs: number
  /**
   * membership-3: the observer's own disk cycle. A peer's disk silence is counted only up to
   * one cycle after this observer's last completed read of its block: when the observer's own
   * reads run late (a busy machine, a slow path), the peer is not blamed for it. Absent in
   * older journals: silence counted up to now, as they decided.
   */
  diskReadIntervalMs?: number
}

export interface LivenessEvidence {
  /** Monotonic time (reader's clock) at which the peer's disk sequence was last seen to change, or first seen. */
  diskChangedAt: number | null
  /** Monotonic time of the last authenticated heartbeat, per channel index. */
  heartbeatAt: (number | null)[]
  /** Monotonic time this observer last completed a read of the peer's status block (undefined in older contexts). */
  diskReadAt?: number | null
}

export type Liveness = 'alive' | 'suspect' | 'dead'

export interface Assessment {
  liveness: Liveness
  diskAgeMs: number
  heartbeatAgeMs: number
}

export function lastHeartbeatAt(evidence: LivenessEvidence): number | null {
  let last: number | null = null
  for (const at of evidence.heartbeatAt) if (at !== null && (last === null || at > last)) last = at
  return last
}

/** Up to when the disk's silence is counted: now, or (membership-3) one disk cycle after the last completed read. */
export function diskSilenceUntil(evidence: LivenessEvidence, timing: LivenessTiming, atMs: number): number {
  const readAt = evidence.diskReadAt ?? null
  if (timing.diskReadIntervalMs === undefined || readAt === null) return atMs
  return Math.min(atMs, readAt + timing.diskReadIntervalMs)
}

/** `sinceMs` is when this observer started watching: the age of evidence never seen counts from there. */
export function assessLiveness(evidence: LivenessEvidence, timing: LivenessTiming, atMs: number, sinceMs: number): Assessment {
  const diskAgeMs = diskSilenceUntil(evidence, timing, atMs) - (evidence.diskChangedAt ?? sinceMs)
  const heartbeat = lastHeartbeatAt(evidence)
  const heartbeatAgeMs = atMs - (heartbeat ?? sinceMs)
  const heartbeatFresh = heartbeat !== null && heartbeatAgeMs <= timing.peerDeadAfterMs
  if (diskAgeMs > timing.diskDeadAfterMs && !heartbeatFresh && heartbeatAgeMs > timing.peerDeadAfterMs) {
    return { liveness: 'dead', diskAgeMs, heartbeatAgeMs }
  }
  if (diskAgeMs > timing.diskSuspectAfterMs) return { liveness: 'suspect', diskAgeMs, heartbeatAgeMs }
  return { liveness: 'alive', diskAgeMs, heartbeatAgeMs }
}
