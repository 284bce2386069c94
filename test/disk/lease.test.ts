/**
 * "Service leases": the pure acquire/release plans (table tests), then leases on a disk file:
 * acquire a free lease, refuse a live holder's, take a proven-gone holder's, re-acquire after
 * a restart, release only what you hold, failedOn across holders; a malformed lease value is
 * never believed; the largest lease payload fits a 512-byte block.
 */
import t from 'tap'
import { join } from 'node:path'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { leaseSlot, MAX_NODES_LIMIT, serviceRegister, type Geometry } from '../../src/disk/layout.js'
import { encodeBlock, payloadCapacity } from '../../src/disk/block.js'
import { acquireLease, planAcquire, planRelease, readLease, releaseLease, type LeaseView } from '../../src/disk/lease.js'
import { BALLOT_NODE_SPAN as S, serviceLeaseProblem } from '../../src/disk/payloads.js'

const small: Partial<Geometry> = { blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 }
const lease = (holder: number, incarnation: number, failedOn: number[] = [], instance = 5): LeaseView => ({ instance, holder, incarnation, failedOn })
const self = { nodeId: 2, incarnation: 7 }
const refuseAll = (current: LeaseView): string => `node ${current.holder} is alive`
const allowAll = (): null => null
const quick = { maxAttempts: 3, random: () => 0.5, sleepMs: async () => undefined }

t.test('planAcquire', async (t) => {
  const table: [string, LeaseView, (c: LeaseView) => string | null, unknown][] = [
    ['free', lease(0, 0, [3]), refuseAll, { propose: { holder: 2, incarnation: 7, failedOn: [3] } }],
    ['never acquired', lease(0, 0, [], 0), refuseAll, { propose: { holder: 2, incarnation: 7, failedOn: [] } }],
    ['held by this incarnation', lease(2, 7), refuseAll, { finish: { refused: false, instance: 5 } }],
    ['held by an earlier incarnation of this node', lease(2, 6, [2]), refuseAll, { propose: { holder: 2, incarnation: 7, failedOn: [2] } }],
    ['held by a live node', lease(1, 3), refuseAll, { finish: { refused: true, holder: 1, reason: 'node 1 is alive', code: 'CARB_ERR_LEASE_HELD' } }],
    ['held by a node proven gone', lease(1, 3, [4]), allowAll, { propose: { holder: 2, incarnation: 7, failedOn: [4] } }],
  ]
  for (const [name, current, mayTakeFrom, want] of table) t.same(planAcquire(current, self, mayTakeFrom), want, name)
  let asked = 0
  planAcquire(lease(0, 0), self, () => { asked++; return null })
  planAcquire(lease(2, 1), self, () => { asked++; return null })
  t.equal(asked, 0, 'mayTakeFrom is asked only about another holder')
})

t.test('planRelease', async (t) => {
  const table: [string, LeaseView, boolean, unknown][] = [
    ['held, failed here', lease(2, 7, [1]), true, { propose: { holder: 0, incarnation: 0, failedOn: [1, 2] } }],
    ['held, failed here again: most recent last', lease(2, 7, [2, 1]), true, { propose: { holder: 0, incarnation: 0, failedOn: [1, 2] } }],
    ['held, clean stop clears this node', lease(2, 7, [2, 1]), false, { propose: { holder: 0, incarnation: 0, failedOn: [1] } }],
    ['held by an earlier incarnation', lease(2, 1), false, { propose: { holder: 0, incarnation: 0, failedOn: [] } }],
    ['free', lease(0, 0), false, { finish: { refused: true, holder: 0, reason: 'cannot release: the lease is free', code: 'CARB_ERR_LEASE_NOT_HELD' } }],
    ['held by another', lease(3, 1), true, { finish: { refused: true, holder: 3, reason: 'cannot release: the lease is held by node 3', code: 'CARB_ERR_LEASE_NOT_HELD' } }],
  ]
  for (const [name, current, failedHere, want] of table) t.same(planRelease(current, self, failedHere, 4), want, name)
  t.same(planRelease(lease(2, 7, [1, 3, 4]), self, true, 3), { propose: { holder: 0, incarnation: 0, failedOn: [3, 4, 2] } }, 'capped at maxNodes, oldest dropped')
})

t.test('serviceLeaseProblem', async (t) => {
  const table: [unknown, RegExp | undefined][] = [
    [{ holder: 0, incarnation: 0, failedOn: [] }, undefined],
    [{ holder: 64, incarnation: 9, failedOn: [1, 64] }, undefined],
    [{ holder: 65, incarnation: 1, failedOn: [] }, /holder 65/],
    [{ holder: 1, incarnation: -1, failedOn: [] }, /incarnation -1/],
    [{ holder: 1, incarnation: 1, failedOn: [0] }, /failedOn/],
    [{ holder: 1, incarnation: 1, failedOn: [2, 2] }, /repeats/],
    [{ holder: 1, incarnation: 1 }, /failedOn/],
    [[1, 2], /not a map/],
  ]
  for (const [value, want] of table) {
    const problem = serviceLeaseProblem(value)
    if (want === undefined) t.equal(problem, undefined, JSON.stringify(value))
    else t.match(problem, want, JSON.stringify(value))
  }
})

t.test('the largest lease ballot fits a 512-byte block', async (t) => {
  const value = { holder: MAX_NODES_LIMIT, incarnation: Number.MAX_SAFE_INTEGER, failedOn: Array.from({ length: MAX_NODES_LIMIT }, (_, i) => i + 1) }
  const ballot = (Math.floor(Number.MAX_SAFE_INTEGER / S) - 1) * S + 64
  const payload = { v: 1, committed: { instance: Number.MAX_SAFE_INTEGER, value }, instance: Number.MAX_SAFE_INTEGER, mbal: ballot, bal: ballot, inp: value }
  const block = encodeBlock({ blockSize: 512, kind: 'lease', clusterUuid: Buffer.alloc(16), writer: 64, index: 0, seq: 1n, payload })
  t.equal(block.length, 512)
  t.comment(`room for ${payloadCapacity(512)} payload bytes`)
})

async function openFresh(t: { testdir(): string; teardown(fn: () => unknown): void }): Promise<QuorumDisk> {
  const path = join(t.testdir(), 'quorum.disk')
  await QuorumDisk.init(path, { clusterName: 'web', geometry: small })
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  return disk
}

t.test('acquire, refuse, take over, restart, release', async (t) => {
  const disk = await openFresh(t)
  t.same(await readLease(disk, 0), { instance: 0, holder: 0, incarnation: 0, failedOn: [] }, 'never acquired: free')
  t.same(await acquireLease(disk, 0, { nodeId: 1, incarnation: 1 }, refuseAll, quick), { acquired: true, instance: 1 })
  t.same(await readLease(disk, 0), { instance: 1, holder: 1, incarnation: 1, failedOn: [] })
  t.same(await acquireLease(disk, 0, { nodeId: 1, incarnation: 1 }, refuseAll, quick), { acquired: true, instance: 1 }, 'already held: no new instance')
  t.same(await acquireLease(disk, 0, { nodeId: 2, incarnation: 1 }, refuseAll, quick), { acquired: false, holder: 1, reason: 'node 1 is alive', code: 'CARB_ERR_LEASE_HELD' })
  t.same(await releaseLease(disk, 0, { nodeId: 2, incarnation: 1 }, { failedHere: false }, quick), { released: false, holder: 1, reason: 'cannot release: the lease is held by node 1', code: 'CARB_ERR_LEASE_NOT_HELD' })
  t.same(await acquireLease(disk, 0, { nodeId: 1, incarnation: 2 }, refuseAll, quick), { acquired: true, instance: 2 }, 'node 1 restarted: a new instance')
  const seen: LeaseView[] = []
  t.same(await acquireLease(disk, 0, { nodeId: 2, incarnation: 1 }, (current) => { seen.push(current); return null }, quick), { acquired: true, instance: 3 }, 'node 1 proven gone')
  t.same(seen, [{ instance: 2, holder: 1, incarnation: 2, failedOn: [] }], 'mayTakeFrom saw the holder it replaced')
  t.same(await releaseLease(disk, 0, { nodeId: 2, incarnation: 1 }, { failedHere: true }, quick), { released: true, instance: 4 })
  t.same(await readLease(disk, 0), { instance: 4, holder: 0, incarnation: 0, failedOn: [2] })
  t.same(await releaseLease(disk, 0, { nodeId: 2, incarnation: 1 }, { failedHere: false }, quick), { released: false, holder: 0, reason: 'cannot release: the lease is free', code: 'CARB_ERR_LEASE_NOT_HELD' })
  t.same(await acquireLease(disk, 0, { nodeId: 3, incarnation: 1 }, refuseAll, quick), { acquired: true, instance: 5 })
  t.same(await readLease(disk, 0), { instance: 5, holder: 3, incarnation: 1, failedOn: [2] }, 'failedOn survives an acquisition')
  t.same(await readLease(disk, 1), { instance: 0, holder: 0, incarnation: 0, failedOn: [] }, 'each service has its own register')
  await t.rejects(readLease(disk, 4), { code: 'CARB_ERR_USAGE' }, 'service index beyond maxServices')
})

t.test('an accepted acquisition of a crashed node is adopted: the next acquirer is refused with that holder', async (t) => {
  const disk = await openFresh(t)
  const value = { holder: 3, incarnation: 4, failedOn: [] }
  await disk.writeBlock('lease', leaseSlot(disk.geometry, serviceRegister(0), 3), 3, { v: 1, committed: null, instance: 1, mbal: S + 3, bal: S + 3, inp: value })
  t.same(await readLease(disk, 0), { instance: 0, holder: 0, incarnation: 0, failedOn: [] }, 'not decided yet: reads free')
  t.same(await acquireLease(disk, 0, { nodeId: 1, incarnation: 1 }, refuseAll, quick), { acquired: false, holder: 3, reason: 'node 3 is alive', code: 'CARB_ERR_LEASE_HELD' })
  t.same(await readLease(disk, 0), { instance: 1, ...value }, 'node 1 committed node 3\'s acquisition')
})

t.test('a malformed lease value is never believed', async (t) => {
  const disk = await openFresh(t)
  await acquireLease(disk, 0, { nodeId: 1, incarnation: 1 }, refuseAll, quick)
  const forged = { holder: 2, incarnation: 1, failedOn: 'everywhere' }
  await disk.writeBlock('lease', leaseSlot(disk.geometry, serviceRegister(0), 2), 2, { v: 1, committed: { instance: 2, value: forged }, instance: 2, mbal: S + 2, bal: S + 2, inp: forged })
  await t.rejects(readLease(disk, 0), { code: 'CARB_ERR_DISK_BAD_PAYLOAD', message: /failedOn/ })
  t.match(await acquireLease(disk, 0, { nodeId: 3, incarnation: 1 }, allowAll, quick), { acquired: false, code: 'CARB_ERR_DISK_BAD_PAYLOAD', reason: /failedOn/ })
  t.match(await releaseLease(disk, 0, { nodeId: 1, incarnation: 1 }, { failedHere: false }, quick), { released: false, code: 'CARB_ERR_DISK_BAD_PAYLOAD' })
})
