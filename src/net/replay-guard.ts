/**
 * Replay guard for authenticated heartbeats: pure, no clock, bounded memory.
 *
 * Per sender it keeps the highest incarnation seen; per (sender, channel) the highest
 * sequence accepted in that incarnation. A higher incarnation (the sender restarted)
 * forgets the old sequences. Memory is one entry per sender × channel, and both are
 * capped at construction: the caller passes only senders it already knows (at most
 * the cluster's node count) and channels it listens on, so a flood of authentic but
 * unexpected ids cannot grow the tables.
 */
export type ReplayVerdict = 'ok' | 'replayed' | 'stale-incarnation'

interface SenderRecord {
  incarnation: number
  /** channel index → highest accepted sequence in `incarnation` */
  lastSeqByChannel: Map<number, number>
}

export class ReplayGuard {
  private readonly senders = new Map<number, SenderRecord>()

  constructor(
    /** At most this many distinct senders (the cluster's peer count). */
    readonly sendersMax: number,
    /** Channel indexes are 0..channelsMax-1. */
    readonly channelsMax: number,
  ) {
    if (!Number.isSafeInteger(sendersMax) || sendersMax < 0) throw new RangeError(`sendersMax must be a non-negative integer, got ${sendersMax}`)
    if (!Number.isSafeInteger(channelsMax) || channelsMax < 1) throw new RangeError(`channelsMax must be a positive integer, got ${channelsMax}`)
  }

  /** Judges one authenticated packet without recording it. */
  check(sender: number, incarnation: number, channel: number, seq: number): ReplayVerdict {
    this.assertChannel(channel)
    const record = this.senders.get(sender)
    if (record === undefined || incarnation > record.incarnation) return 'ok'
    if (incarnation < record.incarnation) return 'stale-incarnation'
    const last = record.lastSeqByChannel.get(channel)
    return last !== undefined && seq <= last ? 'replayed' : 'ok'
  }

  /** Judges one authenticated packet and, when it is 'ok', records it. */
  accept(sender: number, incarnation: number, channel: number, seq: number): ReplayVerdict {
    const verdict = this.check(sender, incarnation, channel, seq)
    if (verdict !== 'ok') return verdict
    const record = this.senders.get(sender) ?? this.admit(sender, incarnation)
    if (incarnation > record.incarnation) {
      record.incarnation = incarnation
      record.lastSeqByChannel.clear()
    }
    record.lastSeqByChannel.set(channel, seq)
    return 'ok'
  }

  /** Number of (sender, channel) entries held: at most sendersMax × channelsMax. */
  entries(): number {
    let count = 0
    for (const record of this.senders.values()) count += record.lastSeqByChannel.size
    return count
  }

  private assertChannel(channel: number): void {
    if (!Number.isInteger(channel) || channel < 0 || channel >= this.channelsMax) {
      throw new RangeError(`replay guard: channel ${channel} outside 0..${this.channelsMax - 1}`)
    }
  }

  private admit(sender: number, incarnation: number): SenderRecord {
    if (this.senders.size >= this.sendersMax) {
      throw new RangeError(`replay guard: sender ${sender} would exceed sendersMax ${this.sendersMax}; filter unknown senders first`)
    }
    const record: SenderRecord = { incarnation, lastSeqByChannel: new Map() }
    this.senders.set(sender, record)
    return record
  }
}
