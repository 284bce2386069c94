/**
 * A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014) for ordering the
 * journals of several nodes into one timeline. Each node stamps every journal record with
 * its clock; every heartbeat and disk status it sends carries the clock; a node that receives
 * one moves its clock past the sender's before it journals anything the message caused. So a
 * record written after a receive always sorts after every record the sender wrote before the
 * send, whatever the machines' wall clocks say, while stamps stay close to wall time.
 *
 * Stamps are only for merging journals: no decision reads them (machines use the monotonic
 * readings inside their inputs), so replay does not depend on them.
 */

export interface Hlc {
  /** The largest wall-clock reading (ms since the epoch) this node has seen, its own or a peer's. */
  wallMs: number
  /** Orders events within one wallMs. */
  logical: number
}

/**
 * The heartbeat packet carries the logical part in one byte. Beyond it the clock moves to the
 * next millisecond instead (a stamp at most 1 ms ahead of wall time per 256 events in one ms).
 */
export const HLC_LOGICAL_MAX = 255

export const HLC_ZERO: Hlc = { wallMs: 0, logical: 0 }

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wallMs - b.wallMs || a.logical - b.logical
}

function next(wallMs: number, logical: number): Hlc {
  return logical > HLC_LOGICAL_MAX ? { wallMs: wallMs + 1, logical: 0 } : { wallMs, logical }
}

export class HybridClock {
  private last: Hlc = HLC_ZERO

  /** `wallMs` is the node's wall clock (the platform's: real, or the simulator's). */
  constructor(private readonly wallMs: () => number) {}

  /** The stamp of a local event or a send: later than every stamp before it. */
  tick(): Hlc {
    const physical = Math.floor(this.wallMs())
    this.last = physical > this.last.wallMs ? { wallMs: physical, logical: 0 } : next(this.last.wallMs, this.last.logical + 1)
    return this.last
  }

  /** A message stamped `remote` arrived: the clock moves past it (and past its own last stamp). */
  receive(remote: Hlc): Hlc {
    const physical = Math.floor(this.wallMs())
    const wallMs = Math.max(physical, this.last.wallMs, remote.wallMs)
    let logical = 0
    if (wallMs === this.last.wallMs && wallMs === remote.wallMs) logical = Math.max(this.last.logical, remote.logical) + 1
    else if (wallMs === this.last.wallMs) logical = this.last.logical + 1
    else if (wallMs === remote.wallMs) logical = remote.logical + 1
    this.last = next(wallMs, logical)
    return this.last
  }

  peek(): Hlc {
    return this.last
  }
}

/** As stored in a journal record or a disk status: [wallMs, logical]. */
export type HlcPair = [number, number]

export const toPair = (h: Hlc): HlcPair => [h.wallMs, h.logical]
export const fromPair = (p: HlcPair): Hlc => ({ wallMs: p[0], logical: p[1] })

export function isHlcPair(value: unknown): value is HlcPair {
  return Array.isArray(value) && value.length === 2 && value.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
}

/** "1796298455072.003": sorts as text among stamps of the same era; readable as wall ms. */
export function formatHlc(h: Hlc): string {
  return `${h.wallMs}.${String(h.logical).padStart(3, '0')}`
}
