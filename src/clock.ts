/**
 * The one real clock (STYLE.md §2). Shell code takes a Clock; decision code never reads
 * time at all: it receives readings inside events.
 */
export interface Clock {
  /** Monotonic milliseconds: never jumps with the wall clock; the only time decisions use. */
  monotonicMs(): number
  /** Wall-clock milliseconds since the epoch: only for display and for the journal's record headers. */
  wallMs(): number
}

export const realClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
}
