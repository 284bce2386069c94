/**
 * The heartbeat service: sends sealed heartbeats on every channel and turns received
 * datagrams into typed, time-stamped inputs (STYLE.md §3: RxJS stops at the edge).
 *
 * A received datagram is delivered only if it passes, in order: decode (length, magic,
 * HMAC, version, cluster), not from this node, a known sender, the replay guard (a
 * replayed or stale packet is named as such wherever it comes from), and the sender's
 * configured address on the channel it arrived on, with the packet naming that channel
 * (catches crossed channels and two nodes configured with one id). Each failure
 * increments exactly one drop counter and is emitted on `dropped$`; only a delivered
 * packet is recorded by the replay guard, so a dropped one cannot advance a sender's
 * sequence. Send errors are counted, never thrown.
 */
import { Subject, type Observable, type Subscription } from 'rxjs'
import type { Clock } from '../clock.js'
import type { HostPort } from './address.js'
import { HeartbeatChannel, type Datagram, type DatagramChannel } from './heartbeat-channel.js'
import { KEY_BYTES_MIN } from './key-file.js'
import { CLUSTER_UUID_BYTES, decodeHeartbeat, encodeHeartbeat, type DecodeFailure, type HeartbeatFields, type HeartbeatState } from './packet.js'
import { PeerTable, type HeartbeatPeer } from './peer-table.js'
import { ReplayGuard } from './replay-guard.js'
import type { HybridClock } from '../../journal/hlc.js'

export type { HeartbeatPeer } from './peer-table.js'
export type { HeartbeatState } from './packet.js'

/** Each accepted key costs one more HMAC per packet that fails the first: the old and the next key are enough. */
export const ACCEPT_KEYS_MAX = 2

/** A packet byte carries the channel index. */
export const HEARTBEAT_CHANNELS_MAX = 255

export interface HeartbeatOptions {
  clusterUuid: Buffer
  key: Buffer
  /** Keys also accepted on receipt (never sent with): the window of a key rotation. */
  acceptKeys?: readonly Buffer[]
  localNodeId: number
  /** Address i is this node's end of channel i. Port 0 binds an ephemeral port (tests). */
  localAddresses: HostPort[]
  peers: HeartbeatPeer[]
  clock: Clock
  /**
   * The node's hybrid clock: each send is stamped with a tick of it (journal/hlc.ts). Without
   * one (tools, tests) packets carry the wall clock and logical 0.
   */
  hlc?: HybridClock
  /** Opens channel `index` bound to `address`: a UDP socket (HeartbeatChannel.open) unless the simulator gives its own. */
  openChannel?: (index: number, address: HostPort) => Promise<DatagramChannel>
}

export interface HeartbeatReceived {
  /** clock.monotonicMs() when the datagram arrived. */
  at: number
  channel: number
  senderId: number
  incarnation: number
  seq: number
  state: HeartbeatState
  /** The sender's hybrid clock at the send: the receiver moves its own past it. */
  senderWallMs: number
  senderLogical: number
  senderMonotonicMs: number
  from: string
}

export type DropReason = DecodeFailure | 'unknown-sender' | 'wrong-address' | 'replayed' | 'stale-incarnation' | 'from-self'

export interface HeartbeatDropped {
  reason: DropReason
  /** Source `ip:port` (`[ip]:port` for IPv6). */
  from: string
  /** clock.monotonicMs() when the datagram arrived. */
  at: number
  channel: number
}

export interface HeartbeatCounters {
  /** Datagrams handed to the kernel successfully. */
  sent: number
  /** Sends that failed (unreachable network, closed socket, …). */
  sendErrors: number
  /** Datagrams received on any channel, before any check. */
  received: number
  delivered: number
  /** Delivered packets sealed with one of acceptKeys, not the sending key: 0 on every node ends a key rotation's window. */
  acceptedWithOtherKey: number
  dropped: {
    malformed: number; badVersion: number; foreignCluster: number; unauthenticated: number; unknownSender: number
    wrongAddress: number; replayed: number; staleIncarnation: number; fromSelf: number
  }
}

const DROP_COUNTER: Record<DropReason, keyof HeartbeatCounters['dropped']> = {
  'malformed': 'malformed', 'bad-version': 'badVersion', 'foreign-cluster': 'foreignCluster',
  'unauthenticated': 'unauthenticated', 'unknown-sender': 'unknownSender', 'wrong-address': 'wrongAddress',
  'replayed': 'replayed', 'stale-incarnation': 'staleIncarnation', 'from-self': 'fromSelf',
}

function zeroCounters(): HeartbeatCounters {
  return {
    sent: 0, sendErrors: 0, received: 0, delivered: 0, acceptedWithOtherKey: 0,
    dropped: { malformed: 0, badVersion: 0, foreignCluster: 0, unauthenticated: 0, unknownSender: 0, wrongAddress: 0, replayed: 0, staleIncarnation: 0, fromSelf: 0 },
  }
}

/** Every key at least KEY_BYTES_MIN; a rotation's window holds at most a few. */
function assertKeys(key: Buffer, acceptKeys: readonly Buffer[]): void {
  for (const k of [key, ...acceptKeys]) if (k.length < KEY_BYTES_MIN) throw new RangeError(`heartbeats: key must be at least ${KEY_BYTES_MIN} bytes`)
  if (acceptKeys.length > ACCEPT_KEYS_MAX) throw new RangeError(`heartbeats: at most ${ACCEPT_KEYS_MAX} accepted keys besides the sending one`)
}

function assertOptions(opts: HeartbeatOptions): void {
  if (opts.clusterUuid.length !== CLUSTER_UUID_BYTES) throw new RangeError(`heartbeats: cluster uuid must be ${CLUSTER_UUID_BYTES} bytes`)
  assertKeys(opts.key, opts.acceptKeys ?? [])
  if (opts.localAddresses.length < 1 || opts.localAddresses.length > HEARTBEAT_CHANNELS_MAX) {
    throw new RangeError(`heartbeats: 1..${HEARTBEAT_CHANNELS_MAX} local addresses needed, got ${opts.localAddresses.length}`)
  }
  if (opts.peers.some((p) => p.nodeId === opts.localNodeId)) throw new RangeError(`heartbeats: node ${opts.localNodeId} is listed as its own peer`)
}

async function openChannels(addresses: HostPort[], open: (index: number, address: HostPort) => Promise<DatagramChannel>): Promise<DatagramChannel[]> {
  const channels: DatagramChannel[] = []
  try {
    for (const [index, address] of addresses.entries()) channels.push(await open(index, address))
  } catch (error) {
    await Promise.allSettled(channels.map((c) => c.close()))
    throw error
  }
  return channels
}

export class Heartbeats {
  readonly received$: Observable<HeartbeatReceived>
  readonly dropped$: Observable<HeartbeatDropped>
  private readonly receivedSubject = new Subject<HeartbeatReceived>()
  private readonly droppedSubject = new Subject<HeartbeatDropped>()
  private readonly subscriptions: Subscription[] = []
  private readonly count = zeroCounters()
  private keys: { key: Buffer; acceptKeys: readonly Buffer[] }
  private readonly guard: ReplayGuard
  private incarnation: number | undefined
  private seq = 0
  private closed = false

  private constructor(
    private readonly opts: HeartbeatOptions,
    private readonly channels: DatagramChannel[],
    private readonly peers: PeerTable,
  ) {
    this.received$ = this.receivedSubject.asObservable()
    this.dropped$ = this.droppedSubject.asObservable()
    this.keys = { key: opts.key, acceptKeys: opts.acceptKeys ?? [] }
    this.guard = new ReplayGuard(peers.size, channels.length)
    for (const channel of channels) {
      this.subscriptions.push(channel.datagrams$.subscribe((d) => this.onDatagram(channel.index, d)))
    }
  }

  /** Binds one socket per local address. Throws CARB_ERR_NET_BIND / CARB_ERR_NET_RESOLVE naming the address. */
  static async open(opts: HeartbeatOptions): Promise<Heartbeats> {
    assertOptions(opts)
    const channels = await openChannels(opts.localAddresses, opts.openChannel ?? ((index, address) => HeartbeatChannel.open(index, address)))
    try {
      const peers = await PeerTable.resolve(opts.peers, channels.map((c) => c.local.family))
      return new Heartbeats(opts, channels, peers)
    } catch (error) {
      await Promise.allSettled(channels.map((c) => c.close()))
      throw error
    }
  }

  /** Where each channel is bound, in channel order (real ports, even when 0 was asked). */
  localAddresses(): { ip: string; port: number; family: 4 | 6 }[] {
    return this.channels.map((c) => ({ ...c.local }))
  }

  /**
   * Sends one heartbeat on every channel to every peer's address of the same channel
   * index. The sequence increments per call and restarts at 1 when the incarnation
   * changes; an incarnation that goes backwards is a bug and throws RangeError.
   */
  async send(fields: { incarnation: number; state: HeartbeatState }): Promise<void> {
    if (this.closed) return
    this.advanceSeq(fields.incarnation)
    const base = {
      state: fields.state, clusterUuid: this.opts.clusterUuid, senderId: this.opts.localNodeId, incarnation: fields.incarnation, seq: this.seq,
      ...this.stamp(), senderMonotonicMs: this.opts.clock.monotonicMs(),
    }
    const sends: Promise<void>[] = []
    for (const channel of this.channels) {
      const packet = encodeHeartbeat({ ...base, channel: channel.index }, this.keys.key)
      for (const target of this.peers.targets(channel.index)) sends.push(this.sendOne(channel, packet, target.ip, target.port))
    }
    await Promise.all(sends)
  }

  counters(): HeartbeatCounters {
    return { ...this.count, dropped: { ...this.count.dropped } }
  }

  /** Closes every socket and completes both streams. A second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const s of this.subscriptions) s.unsubscribe()
    await Promise.allSettled(this.channels.map((c) => c.close()))
    this.receivedSubject.complete()
    this.droppedSubject.complete()
  }

  private advanceSeq(incarnation: number): void {
    if (!Number.isSafeInteger(incarnation) || incarnation < 0 || incarnation > 0xffff_ffff) {
      throw new RangeError(`heartbeats: incarnation must be a u32, got ${incarnation}`)
    }
    if (this.incarnation !== undefined && incarnation < this.incarnation) {
      throw new RangeError(`heartbeats: incarnation went backwards (${this.incarnation} → ${incarnation})`)
    }
    if (incarnation !== this.incarnation) {
      this.incarnation = incarnation
      this.seq = 0
    }
    this.seq += 1
  }

  private stamp(): { senderWallMs: number; senderLogical: number } {
    const hlc = this.opts.hlc?.tick() ?? { wallMs: Math.floor(this.opts.clock.wallMs()), logical: 0 }
    return { senderWallMs: hlc.wallMs, senderLogical: hlc.logical }
  }

  private async sendOne(channel: DatagramChannel, packet: Buffer, ip: string, port: number): Promise<void> {
    try {
      await channel.send(packet, ip, port)
      this.count.sent += 1
    } catch {
      this.count.sendErrors += 1
    }
  }

  private onDatagram(channel: number, d: Datagram): void {
    const at = this.opts.clock.monotonicMs()
    this.count.received += 1
    const verdict = this.judge(channel, d)
    if (typeof verdict === 'string') {
      this.count.dropped[DROP_COUNTER[verdict]] += 1
      this.droppedSubject.next({ reason: verdict, from: d.from, at, channel })
      return
    }
    this.count.delivered += 1
    const { senderId, incarnation, seq, state, senderWallMs, senderMonotonicMs } = verdict
    this.receivedSubject.next({ at, channel, senderId, incarnation, seq, state, senderWallMs, senderLogical: verdict.senderLogical ?? 0, senderMonotonicMs, from: d.from })
  }

  /**
   * Key rotation (README "Rotating the cluster key"): from now on packets are sealed with `key`
   * and accepted with it or any of `acceptKeys`. Both are checked like the ones at open.
   */
  setKeys(key: Buffer, acceptKeys: readonly Buffer[]): void {
    assertKeys(key, acceptKeys)
    this.keys = { key, acceptKeys }
  }

  /** The packet authenticated by the sending key, else by an accepted one (counted), else why it failed. */
  private decode(msg: Buffer): ReturnType<typeof decodeHeartbeat> {
    const first = decodeHeartbeat(msg, this.keys.key, this.opts.clusterUuid)
    if (first.ok || first.reason !== 'unauthenticated') return first
    for (const key of this.keys.acceptKeys) {
      const other = decodeHeartbeat(msg, key, this.opts.clusterUuid)
      if (other.ok) { this.count.acceptedWithOtherKey += 1; return other }
    }
    return first
  }

  /** The packet if it passes every check, else the one reason it is dropped. */
  private judge(channel: number, d: Datagram): HeartbeatFields | DropReason {
    const decoded = this.decode(d.msg)
    if (!decoded.ok) return decoded.reason
    const p = decoded.packet
    if (p.senderId === this.opts.localNodeId) return 'from-self'
    if (this.peers.get(p.senderId) === undefined) return 'unknown-sender'
    const replay = this.guard.check(p.senderId, p.incarnation, channel, p.seq)
    if (replay !== 'ok') return replay
    if (p.channel !== channel || !this.peers.isSourceOf(p.senderId, channel, d.ip, d.port)) return 'wrong-address'
    this.guard.accept(p.senderId, p.incarnation, channel, p.seq)
    return p
  }
}
