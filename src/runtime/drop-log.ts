/**
 * Rate limit for "dropped heartbeat" log lines: a flood of forged or replayed packets must
 * be visible to the administrator without filling the log. The first drop of each
 * (source, reason) is logged at once; after that at most one line per `everyMs`, carrying
 * the number of drops it stands for. The counters in `carbonado status` count every drop.
 */
export const DROP_LOG_EVERY_MS = 10_000
/** Distinct (source, reason) keys remembered; a spoofed-source flood cannot grow memory past it. */
export const DROP_LOG_KEYS_MAX = 256

interface Entry { lastLoggedAt: number; suppressed: number }

export class DropLog {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly everyMs = DROP_LOG_EVERY_MS, private readonly keysMax = DROP_LOG_KEYS_MAX) {}

  /** The line to log for this drop, or null while it is being held back. */
  note(from: string, reason: string, nowMs: number): string | null {
    const key = `${reason} ${from}`
    const entry = this.entries.get(key)
    if (entry === undefined) {
      if (this.entries.size >= this.keysMax) this.forgetOldest()
      this.entries.set(key, { lastLoggedAt: nowMs, suppressed: 0 })
      return `dropped heartbeat from ${from}: ${reason}`
    }
    if (nowMs - entry.lastLoggedAt < this.everyMs) {
      entry.suppressed += 1
      return null
    }
    const count = entry.suppressed + 1
    entry.lastLoggedAt = nowMs
    entry.suppressed = 0
    return `dropped heartbeat from ${from}: ${reason} (${count} since the last line)`
  }

  private forgetOldest(): void {
    let oldest: string | undefined
    let at = Infinity
    for (const [key, e] of this.entries) if (e.lastLoggedAt < at) { at = e.lastLoggedAt; oldest = key }
    if (oldest !== undefined) this.entries.delete(oldest)
  }
}
