import t from 'tap'
import { createHmac } from 'node:crypto'
import { isCarbError } from '../../src/errors.js'
import { Heartbeats, type DropReason, type HeartbeatOptions, type HeartbeatReceived } from '../../src/net/heartbeats.js'
import { HEARTBEAT_BODY_BYTES, encodeHeartbeat, type HeartbeatFields } from '../../src/net/packet.js'
import { HybridClock } from '../../journal/hlc.js'
import { HandClock, Injector, freePort, ipv6LoopbackWorks, nextDeliveries, nextEvent } from './fixtures/loopback.js'

const uuid = Buffer.from('0123456789abcdef0123456789abcdef', 'hex')
const otherUuid = Buffer.from('fedcba9876543210fedcba9876543210', 'hex')
const key = Buffer.alloc(32, 0x11)
const otherKey = Buffer.alloc(32, 0x22)
const lo = (port: number) => ({ host: '127.0.0.1', port })

type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

function forged(overrides: Partial<HeartbeatFields>, withKey = key): Buffer {
  return encodeHeartbeat({
    state: 'up', channel: 0, clusterUuid: uuid, senderId: 3, incarnation: 5, seq: 1,
    senderWallMs: 1_700_000_000_000, senderMonotonicMs: 1.5, ...overrides,
  }, withKey)
}

async function open(t: TapTest, opts: HeartbeatOptions): Promise<Heartbeats> {
  const hb = await Heartbeats.open(opts)
  t.teardown(() => hb.close())
  return hb
}

/** Node a (1) and b (2) on two IPv4 loopback channels; c (3) is the injector, on channel 0 only. */
async function threeNodes(t: TapTest) {
  const clock = new HandClock()
  const injector = await Injector.open()
  t.teardown(() => injector.close())
  const [a0, a1, b0, b1] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const c = { nodeId: 3, name: 'c', addresses: [lo(injector.port)] }
  const a = await open(t, { clusterUuid: uuid, key, localNodeId: 1, localAddresses: [lo(a0!), lo(a1!)], clock,
    peers: [{ nodeId: 2, name: 'b', addresses: [lo(b0!), lo(b1!)] }, c] })
  const b = await open(t, { clusterUuid: uuid, key, localNodeId: 2, localAddresses: [lo(b0!), lo(b1!)], clock,
    peers: [{ nodeId: 1, name: 'a', addresses: [lo(a0!), lo(a1!)] }, c] })
  return { clock, injector, a, b, ports: { a0: a0!, a1: a1!, b0: b0!, b1: b1! } }
}

const byChannel = (list: HeartbeatReceived[]) => [...list].sort((x, y) => x.channel - y.channel)

t.test('two nodes exchange heartbeats on two channels', async (t) => {
  const { clock, a, b, ports } = await threeNodes(t)
  clock.monotonic = 2500
  clock.wall = 1_700_000_000_999
  const aGets = nextDeliveries(a, 2)
  const bGets = nextDeliveries(b, 2)
  await b.send({ incarnation: 7, state: 'joining' })
  await a.send({ incarnation: 1, state: 'up' })
  const [fromB0, fromB1] = byChannel(await aGets)
  t.match(fromB0, { at: 2500, channel: 0, senderId: 2, incarnation: 7, seq: 1, state: 'joining', senderWallMs: 1_700_000_000_999, senderMonotonicMs: 2500, from: `127.0.0.1:${ports.b0}` })
  t.match(fromB1, { channel: 1, senderId: 2, seq: 1, from: `127.0.0.1:${ports.b1}` })
  const [fromA0, fromA1] = byChannel(await bGets)
  t.match(fromA0, { channel: 0, senderId: 1, incarnation: 1, seq: 1, state: 'up', from: `127.0.0.1:${ports.a0}` })
  t.match(fromA1, { channel: 1, senderId: 1, seq: 1, from: `127.0.0.1:${ports.a1}` })

  const again = nextDeliveries(a, 2)
  await b.send({ incarnation: 7, state: 'up' })
  t.same((await again).map((p) => [p.seq, p.state]), [[2, 'up'], [2, 'up']], 'seq increments per call')
  const restarted = nextDeliveries(a, 2)
  await b.send({ incarnation: 8, state: 'joining' })
  t.same((await restarted).map((p) => [p.incarnation, p.seq]), [[8, 1], [8, 1]], 'a new incarnation restarts at seq 1')
  await t.rejects(b.send({ incarnation: 7, state: 'up' }), RangeError, 'incarnation going backwards is a bug')

  t.same(b.counters(), { sent: 9, sendErrors: 0, received: 2, delivered: 2, acceptedWithOtherKey: 0, dropped: { malformed: 0, badVersion: 0, foreignCluster: 0, unauthenticated: 0, unknownSender: 0, wrongAddress: 0, replayed: 0, staleIncarnation: 0, fromSelf: 0 } }, '3 targets × 3 sends')
  t.equal(a.localAddresses().length, 2)
  t.same(a.localAddresses()[0], { ip: '127.0.0.1', family: 4, port: ports.a0 })
})

// Each injection goes to node a's channel-0 socket (or the named channel) from the injector,
// which is node c's configured channel-0 address; the next event on a must be `expect`.
type Injection = [name: string, packet: () => Buffer | string, expect: DropReason | 'delivered', channel?: 0 | 1]

t.test('injected packets: each dropped, counted and never delivered, except good ones', async (t) => {
  const { clock, injector, a, b, ports } = await threeNodes(t)
  const delivered: HeartbeatReceived[] = []
  a.received$.subscribe((p) => delivered.push(p))
  const bootstrap = nextDeliveries(a, 4)
  await b.send({ incarnation: 7, state: 'up' })
  await b.send({ incarnation: 7, state: 'up' })
  await bootstrap
  const capturedFromB = await injector.capture((m) => m.readUInt16BE(24) === 2 && m.readBigUInt64BE(30) === 2n)

  const versionTwo = () => { const p = forged({}); p[4] = 2; createHmac('sha256', key).update(p.subarray(0, HEARTBEAT_BODY_BYTES)).digest().copy(p, HEARTBEAT_BODY_BYTES); return p }
  const injections: Injection[] = [
    ["b's captured seq-2 packet, replayed", () => capturedFromB, 'replayed'],
    ['a packet signed with another key', () => forged({}, otherKey), 'unauthenticated'],
    ['garbage text', () => 'hello, heartbeat', 'malformed'],
    ['garbage with the magic and the right length', () => Buffer.concat([Buffer.from('CBHB'), Buffer.alloc(82, 0xee)]), 'unauthenticated'],
    ['a foreign cluster', () => forged({ clusterUuid: otherUuid }), 'foreign-cluster'],
    ['version 2', versionTwo, 'bad-version'],
    ['an unknown sender id 9', () => forged({ senderId: 9 }), 'unknown-sender'],
    ["a's own id", () => forged({ senderId: 1, seq: 50 }), 'from-self'],
    ["b's id, fresh seq, from c's address", () => forged({ senderId: 2, incarnation: 7, seq: 100 }), 'wrong-address'],
    ['c, incarnation 5 seq 1', () => forged({ incarnation: 5, seq: 1 }), 'delivered'],
    ['c, incarnation 5 seq 1 again', () => forged({ incarnation: 5, seq: 1 }), 'replayed'],
    ['c, old incarnation 4 after 5', () => forged({ incarnation: 4, seq: 2 }), 'stale-incarnation'],
    ['c, naming channel 1 but sent on channel 0', () => forged({ incarnation: 5, seq: 2, channel: 1 }), 'wrong-address'],
    ['c on channel 1, where c has no address', () => forged({ incarnation: 5, seq: 2, channel: 1 }), 'wrong-address', 1],
    ['c, incarnation 5 seq 2 (the dropped seq 2s did not count)', () => forged({ incarnation: 5, seq: 2 }), 'delivered'],
  ]
  for (const [i, [name, packet, expect, channel]] of injections.entries()) {
    clock.monotonic = 10_000 + i
    const event = nextEvent(a)
    await injector.send(packet(), channel === 1 ? ports.a1 : ports.a0)
    const got = await event
    const reason = got.kind === 'dropped' ? got.drop.reason : 'delivered'
    t.equal(reason, expect, name)
    if (got.kind === 'dropped') t.same(got.drop, { reason: expect, from: `127.0.0.1:${injector.port}`, at: 10_000 + i, channel: channel ?? 0 }, `${name}: drop record`)
  }

  const resumed = nextDeliveries(a, 2)
  await b.send({ incarnation: 7, state: 'up' })
  t.same((await resumed).map((p) => p.seq), [3, 3], "b's seq 3 still delivered: the forged seq 100 advanced nothing")

  t.same(delivered.filter((p) => p.senderId !== 2).map((p) => [p.senderId, p.incarnation, p.seq]), [[3, 5, 1], [3, 5, 2]], 'only the two good packets of c')
  t.ok(delivered.filter((p) => p.senderId === 2).every((p) => p.from === `127.0.0.1:${p.channel === 0 ? ports.b0 : ports.b1}`), "b's packets came from b")
  t.same(a.counters(), {
    sent: 0, sendErrors: 0, received: 4 + injections.length + 2, delivered: 4 + 2 + 2, acceptedWithOtherKey: 0,
    dropped: { malformed: 1, badVersion: 1, foreignCluster: 1, unauthenticated: 2, unknownSender: 1, wrongAddress: 3, replayed: 2, staleIncarnation: 1, fromSelf: 1 },
  })
})

t.test('send errors are counted, not thrown', async (t) => {
  const port = await freePort()
  // An IPv4 socket cannot send to an IPv6 peer: EINVAL, locally, nothing leaves the host.
  const hb = await open(t, { clusterUuid: uuid, key, localNodeId: 1, localAddresses: [lo(await freePort())], clock: new HandClock(),
    peers: [{ nodeId: 2, name: 'b', addresses: [{ host: '::1', port }] }] })
  await hb.send({ incarnation: 1, state: 'up' })
  await hb.send({ incarnation: 1, state: 'up' })
  t.match(hb.counters(), { sent: 0, sendErrors: 2 })
})

t.test('bind errors name the address; channels already bound are released', async (t) => {
  const injector = await Injector.open()
  t.teardown(() => injector.close())
  const first = await freePort()
  const error = await Heartbeats.open({ clusterUuid: uuid, key, localNodeId: 1, localAddresses: [lo(first), lo(injector.port)], peers: [], clock: new HandClock() })
    .then(() => undefined, (e: unknown) => e)
  if (!isCarbError(error)) throw new Error(`expected a CarbError, got ${String(error)}`)
  t.equal(error.code, 'CARB_ERR_NET_BIND')
  t.equal(error.where, `127.0.0.1:${injector.port}`)
  t.match(error.oneLine(), /^CARB_ERR_NET_BIND: 127\.0\.0\.1:\d+: cannot bind heartbeat channel 1 \(EADDRINUSE\)$/)
  const again = await open(t, { clusterUuid: uuid, key, localNodeId: 1, localAddresses: [lo(first)], peers: [], clock: new HandClock() })
  t.equal(again.localAddresses()[0]!.port, first, 'channel 0 was closed after channel 1 failed')
})

t.test('options that cannot work are refused', async (t) => {
  const base: HeartbeatOptions = { clusterUuid: uuid, key, localNodeId: 1, localAddresses: [lo(0)], peers: [], clock: new HandClock() }
  await t.rejects(Heartbeats.open({ ...base, clusterUuid: Buffer.alloc(8) }), RangeError)
  await t.rejects(Heartbeats.open({ ...base, key: Buffer.alloc(16) }), RangeError)
  await t.rejects(Heartbeats.open({ ...base, localAddresses: [] }), RangeError)
  await t.rejects(Heartbeats.open({ ...base, peers: [{ nodeId: 1, name: 'me', addresses: [lo(7)] }] }), RangeError)
  await t.rejects(Heartbeats.open({ ...base, peers: [{ nodeId: 2, name: 'b', addresses: [lo(7)] }, { nodeId: 2, name: 'b2', addresses: [lo(8)] }] }), RangeError)
})

t.test('close: streams complete, second close and later sends do nothing', async (t) => {
  const hb = await Heartbeats.open({ clusterUuid: uuid, key, localNodeId: 1, localAddresses: [lo(0)], peers: [{ nodeId: 2, name: 'b', addresses: [lo(await freePort())] }], clock: new HandClock() })
  let completed = 0
  hb.received$.subscribe({ complete: () => { completed += 1 } })
  hb.dropped$.subscribe({ complete: () => { completed += 1 } })
  await hb.close()
  await hb.close()
  await hb.send({ incarnation: 1, state: 'out' })
  t.equal(completed, 2)
  t.match(hb.counters(), { sent: 0, sendErrors: 0 })
})

t.test('IPv6 loopback and a host name', { skip: (await ipv6LoopbackWorks()) ? false : '::1 is not available here' }, async (t) => {
  const clock = new HandClock()
  const [a0, a1, b0, b1] = [await freePort('::1'), await freePort(), await freePort('::1'), await freePort()]
  const six = (port: number) => ({ host: '::1', port })
  const named = (port: number) => ({ host: 'localhost', port })
  const a = await open(t, { clusterUuid: uuid, key, localNodeId: 1, localAddresses: [six(a0!), named(a1!)], clock, peers: [{ nodeId: 2, name: 'b', addresses: [six(b0!), named(b1!)] }] })
  const b = await open(t, { clusterUuid: uuid, key, localNodeId: 2, localAddresses: [six(b0!), named(b1!)], clock, peers: [{ nodeId: 1, name: 'a', addresses: [six(a0!), named(a1!)] }] })
  const aGets = nextDeliveries(a, 2)
  await b.send({ incarnation: 1, state: 'up' })
  const [on6, onName] = byChannel(await aGets)
  t.equal(on6!.from, `[::1]:${b0}`)
  t.match(onName!.from, new RegExp(`:${b1}$`))
  t.equal(a.localAddresses()[0]!.family, 6)
})

t.test('with a hybrid clock, every send is stamped with a tick of it and the receiver gets the stamp', async (t) => {
  const clock = new HandClock()
  clock.wall = 1_700_000_000_000
  const hlc = new HybridClock(() => clock.wall)
  hlc.receive({ wallMs: 1_800_000_000_000, logical: 4 }) // a peer far ahead pulled this clock forward
  const [a0, b0] = [await freePort(), await freePort()]
  const a = await open(t, { clusterUuid: uuid, key, localNodeId: 1, localAddresses: [lo(a0!)], clock, peers: [{ nodeId: 2, name: 'b', addresses: [lo(b0!)] }] })
  const b = await open(t, { clusterUuid: uuid, key, localNodeId: 2, localAddresses: [lo(b0!)], clock, hlc, peers: [{ nodeId: 1, name: 'a', addresses: [lo(a0!)] }] })
  const first = nextDeliveries(a, 1)
  await b.send({ incarnation: 1, state: 'up' })
  t.match((await first)[0], { senderWallMs: 1_800_000_000_000, senderLogical: 6 }, 'the clock ticked once past its last stamp (5) for this send')
  const second = nextDeliveries(a, 1)
  await b.send({ incarnation: 1, state: 'up' })
  t.match((await second)[0], { senderWallMs: 1_800_000_000_000, senderLogical: 7 })
  t.same(hlc.peek(), { wallMs: 1_800_000_000_000, logical: 7 })
  const plain = nextDeliveries(b, 1)
  await a.send({ incarnation: 1, state: 'up' })
  t.match((await plain)[0], { senderWallMs: 1_700_000_000_000, senderLogical: 0 }, 'without one: the wall clock and logical 0')
})
