/**
 * Fuzzing the heartbeat receive path through the real `Heartbeats` object (its channels are
 * in-memory, through the `openChannel` seam): random datagrams, mutated sealed packets, and
 * mutated bodies re-sealed with the cluster key (so the checks after the MAC are reached),
 * from the right and the wrong addresses. For every datagram exactly one counter moves; a
 * datagram is delivered exactly when an independent oracle (written here from the packet
 * layout, not from packet.ts) says it is a new, well-formed packet of a known peer from its
 * address; and after every case a fresh valid heartbeat of the peer is still delivered, so no
 * garbage poisoned the replay guard.
 */
import t from 'tap'
import { createHmac } from 'node:crypto'
import { Subject } from 'rxjs'
import type { Datagram, DatagramChannel } from '../../src/net/heartbeat-channel.js'
import { Heartbeats, type HeartbeatCounters, type HeartbeatReceived } from '../../src/net/heartbeats.js'
import { encodeHeartbeat, HEARTBEAT_BODY_BYTES, HEARTBEAT_PACKET_BYTES, type HeartbeatFields } from '../../src/net/packet.js'
import { budget, describeFailure, FuzzFinding, fuzz, shown, type Mutator } from './mutate.js'

const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex')
const key = Buffer.alloc(32, 0x5a)
const SELF = 1
/** Peer id → its address on channel 0 and 1. */
const PEERS: Record<number, [string, string]> = { 2: ['10.0.0.2', '10.0.1.2'], 3: ['10.0.0.3', '10.0.1.3'] }
const PORT = 7400

class MemoryChannel implements DatagramChannel {
  readonly subject = new Subject<Datagram>()
  readonly datagrams$ = this.subject.asObservable()
  readonly local: { ip: string; port: number; family: 4 }
  constructor(readonly index: number, ip: string) { this.local = { ip, port: PORT, family: 4 } }
  async send(): Promise<void> {}
  async close(): Promise<void> { this.subject.complete() }
}

/** What the oracle knows of accepted packets: per sender the incarnation and, per channel, the last seq. */
class Oracle {
  readonly incarnation = new Map<number, number>()
  readonly lastSeq = new Map<string, number>()

  /** True when the packet must be delivered (and records it). */
  judge(msg: Buffer, channel: number, ip: string, port: number): boolean {
    if (msg.length !== HEARTBEAT_PACKET_BYTES || msg.toString('latin1', 0, 4) !== 'CBHB') return false
    const mac = createHmac('sha256', key).update(msg.subarray(0, HEARTBEAT_BODY_BYTES)).digest()
    if (!mac.equals(msg.subarray(HEARTBEAT_BODY_BYTES))) return false
    if (msg[4] !== 1 || !msg.subarray(8, 24).equals(uuid) || msg[5]! > 3) return false
    const seq = msg.readBigUInt64BE(30)
    if (seq > BigInt(Number.MAX_SAFE_INTEGER) || msg.readBigUInt64BE(38) > BigInt(Number.MAX_SAFE_INTEGER) || !Number.isFinite(msg.readDoubleBE(46))) return false
    const sender = msg.readUInt16BE(24)
    const incarnation = msg.readUInt32BE(26)
    const addresses = PEERS[sender]
    if (sender === SELF || addresses === undefined) return false
    const known = this.incarnation.get(sender)
    if (known !== undefined && incarnation < known) return false
    const last = known === incarnation ? this.lastSeq.get(`${sender}/${channel}`) : undefined
    if (last !== undefined && Number(seq) <= last) return false
    if (msg[6] !== channel || addresses[channel] !== ip || port !== PORT) return false
    if (known !== incarnation) for (const c of [0, 1]) this.lastSeq.delete(`${sender}/${c}`)
    this.incarnation.set(sender, incarnation)
    this.lastSeq.set(`${sender}/${channel}`, Number(seq))
    return true
  }

  /** The next heartbeat peer 2 would send on `channel`, or undefined when its counters are exhausted. */
  next(channel: number): HeartbeatFields | undefined {
    const incarnation = this.incarnation.get(2) ?? 1
    const seq = (this.lastSeq.get(`2/${channel}`) ?? 0) + 1
    if (seq > Number.MAX_SAFE_INTEGER) return undefined
    return { state: 'up', channel, clusterUuid: uuid, senderId: 2, incarnation, seq, senderWallMs: 1_700_000_000_000, senderMonotonicMs: 12.5 }
  }
}

const sumDropped = (c: HeartbeatCounters): number => Object.values(c.dropped).reduce((a, b) => a + b, 0)

/** One random datagram: garbage, a mutated sealed packet, or a mutated body sealed again. */
function datagram(m: Mutator, oracle: Oracle): { msg: Buffer; sealed: boolean } {
  const channel = m.int(2)
  const base = encodeHeartbeat(oracle.next(channel) ?? { state: 'up', channel, clusterUuid: uuid, senderId: 2, incarnation: 1, seq: 1, senderWallMs: 0, senderMonotonicMs: 0 }, key)
  switch (m.int(4)) {
    case 0: return { msg: m.bytes(m.pick([0, 1, 4, 53, 85, 86, 87, 200, 1500])), sealed: false }
    case 1: return { msg: m.mutateBytes(base), sealed: false }
    default: {
      const body = m.mutateBytes(base.subarray(0, HEARTBEAT_BODY_BYTES), 3)
      const reseal = m.chance(0.85) ? body.subarray(0, HEARTBEAT_BODY_BYTES) : body
      const mac = createHmac('sha256', key).update(reseal).digest()
      return { msg: Buffer.concat([reseal, mac]), sealed: true }
    }
  }
}

function source(m: Mutator, channel: number): { ip: string; port: number } {
  if (m.chance(0.8)) return { ip: PEERS[2]![channel]!, port: PORT }
  return { ip: m.pick(['10.0.0.3', '10.0.1.2', '192.0.2.9', '::1']), port: m.pick([PORT, 7401, 1]) }
}

t.test('heartbeat receive path: garbage is dropped and counted, never delivered, never poisons the guard', async (t) => {
  const channels: MemoryChannel[] = []
  const hb = await Heartbeats.open({
    clusterUuid: uuid, key, localNodeId: SELF, clock: { monotonicMs: () => 1000, wallMs: () => 1_700_000_000_000 } as never,
    localAddresses: [{ host: '10.0.0.1', port: PORT }, { host: '10.0.1.1', port: PORT }],
    peers: Object.entries(PEERS).map(([id, [a, b]]) => ({ nodeId: Number(id), name: `n${id}`, addresses: [{ host: a, port: PORT }, { host: b, port: PORT }] })),
    openChannel: async (index, address) => { const c = new MemoryChannel(index, address.host); channels.push(c); return c },
  })
  t.teardown(() => hb.close())
  const delivered: HeartbeatReceived[] = []
  hb.received$.subscribe((r) => delivered.push(r))
  const oracle = new Oracle()

  const feed = (msg: Buffer, channel: number, ip: string, port: number): boolean => {
    const before = hb.counters()
    const count = delivered.length
    channels[channel]!.subject.next({ msg, ip, port, from: `${ip}:${port}` })
    const after = hb.counters()
    if (after.received !== before.received + 1) throw new FuzzFinding('received counter did not move by one')
    const moved = (after.delivered - before.delivered) + (sumDropped(after) - sumDropped(before))
    if (moved !== 1) throw new FuzzFinding(`${moved} counters moved for one datagram`)
    return delivered.length > count
  }

  const result = await fuzz('packets', budget(40_000), (m) => {
    const channel = m.int(2)
    const { msg, sealed } = datagram(m, oracle)
    const { ip, port } = source(m, channel)
    const before = hb.counters()
    const expected = oracle.judge(msg, channel, ip, port)
    const got = feed(msg, channel, ip, port)
    if (got !== expected) throw new FuzzFinding(`delivered=${got}, oracle says ${expected}: ${shown(msg)} on channel ${channel} from ${ip}:${port}`)
    const valid = oracle.next(channel)
    if (valid !== undefined) {
      const fresh = encodeHeartbeat(valid, key)
      oracle.judge(fresh, channel, PEERS[2]![channel]!, PORT)
      if (!feed(fresh, channel, PEERS[2]![channel]!, PORT)) throw new FuzzFinding(`a valid heartbeat after ${shown(msg)} was dropped: ${JSON.stringify(hb.counters().dropped)}`)
    }
    if (got) return 'accepted'
    const after = hb.counters().dropped
    const reason = (Object.keys(after) as (keyof typeof after)[]).find((k) => after[k] > before.dropped[k])
    return `${sealed ? 'sealed' : 'raw'}:${reason ?? '?'}`
  })
  if (result.failure !== null) t.fail(describeFailure('packets', result.failure))
  const { tally } = result
  t.comment(`packets: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  const c = hb.counters()
  t.equal(c.received, c.delivered + sumDropped(c), 'every datagram is either delivered or counted as one drop')
  t.ok(tally.rejected() > tally.cases * 0.7, 'mutated datagrams are overwhelmingly dropped')
  for (const reason of ['raw:malformed', 'raw:unauthenticated', 'sealed:malformed', 'sealed:badVersion', 'sealed:foreignCluster', 'sealed:wrongAddress']) {
    t.ok(tally.get(reason) > 0, `some datagrams were dropped as ${reason}`)
  }
  t.equal(tally.get('raw:?') + tally.get('sealed:?'), 0, 'every drop names its counter')
})
