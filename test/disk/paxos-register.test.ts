/**
 * "Disk Paxos: register on a disk file": proposals through QuorumDisk, one contiguous read per
 * copy, adoption of an accepted value, and every way a read or write can fail: an unreadable
 * or malformed block is never believed (the proposal aborts 'io'), a write that missed a copy
 * is never "decided", contention backs off with the injected random and sleep.
 */
import t from 'tap'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { QuorumDisk, type WriteResult } from '../../src/disk/quorum-disk.js'
import { blockOffset, leaseSlot, type Geometry } from '../../src/disk/layout.js'
import { CarbError } from '../../src/errors.js'
import { proposeAt, proposeOnce, readRegister, readViews, updateRegister, type BallotDisk } from '../../src/disk/paxos-register.js'
import { BALLOT_NODE_SPAN as S, serviceLeaseProblem } from '../../src/disk/payloads.js'

const small: Partial<Geometry> = { blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 }
const R = 2

async function openFresh(t: { testdir(): string; teardown(fn: () => unknown): void }): Promise<{ disk: QuorumDisk; path: string }> {
  const path = join(t.testdir(), 'quorum.disk')
  await QuorumDisk.init(path, { clusterName: 'web', geometry: small })
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  return { disk, path }
}

async function flipByte(path: string, position: number): Promise<void> {
  const handle = await fs.open(path, 'r+')
  const one = Buffer.alloc(1)
  await handle.read(one, 0, 1, position)
  one[0] = one[0]! ^ 0xff
  await handle.write(one, 0, 1, position)
  await handle.close()
}

/** Deterministic retries: the delays asked for are recorded, nothing sleeps. */
function fakeRetry(maxAttempts = 3): { sleeps: number[]; options: { maxAttempts: number; random: () => number; sleepMs: (ms: number) => Promise<void> } } {
  const sleeps: number[] = []
  return { sleeps, options: { maxAttempts, random: () => 0.5, sleepMs: async (ms) => { sleeps.push(ms) } } }
}

/** The disk with a hook run after each of this process's writes (tests interleave a rival there). */
function withHook(disk: QuorumDisk, afterWrite: (writes: number, payload: unknown) => Promise<void>, fakeWrite?: (writes: number) => WriteResult | undefined): BallotDisk {
  let writes = 0
  return {
    geometry: disk.geometry,
    readLeaseRegister: (register) => disk.readLeaseRegister(register),
    async writeBlock(kind, slot, writer, payload) {
      writes++
      const fake = fakeWrite?.(writes)
      const result = fake ?? await disk.writeBlock(kind, slot, writer, payload)
      await afterWrite(writes, payload)
      return result
    },
  }
}

t.test('a fresh register: every block never written, value unknown = instance 0', async (t) => {
  const { disk } = await openFresh(t)
  const reads = await disk.readLeaseRegister(R)
  t.same(reads.map((r) => [r.nodeId, r.ok, !r.ok && r.empty]), [[1, false, true], [2, false, true], [3, false, true], [4, false, true]])
  t.same(await readRegister(disk, R), { instance: 0, value: null })
  await t.rejects(disk.readLeaseRegister(5), { code: 'CARB_ERR_USAGE' }, 'register beyond maxServices')
})

t.test('propose, learn, and compare-and-set of the next instance', async (t) => {
  const { disk, path } = await openFresh(t)
  t.same(await proposeAt(disk, R, 1, 1, { x: 'a' }), { decided: true, instance: 1, value: { x: 'a' }, mine: true })
  t.same(await readRegister(disk, R), { instance: 1, value: { x: 'a' } })
  t.match(await proposeAt(disk, R, 2, 1, { x: 'b' }), { decided: false, reason: 'stale', current: { instance: 1, value: { x: 'a' } } }, 'instance 1 is taken')
  t.match(await proposeAt(disk, R, 2, 3, { x: 'b' }), { decided: false, reason: 'stale' }, 'instance 3 cannot skip 2')
  t.match(await proposeAt(disk, R, 2, 2, { x: 'b' }), { decided: true, instance: 2, mine: true })
  const reads = await disk.readLeaseRegister(R)
  t.match(reads, [
    { nodeId: 1, ok: true, source: 'primary', seq: 3n, payload: { instance: 1, mbal: S + 1, bal: S + 1, committed: { instance: 1 } } },
    { nodeId: 2, ok: true, seq: 3n, payload: { instance: 2, mbal: S + 2, committed: { instance: 2, value: { x: 'b' } } } },
    { nodeId: 3, ok: false, empty: true },
    { nodeId: 4, ok: false, empty: true },
  ], 'three writes per proposal, each node in its own block')
  await disk.close()
  const again = await QuorumDisk.open(path)
  t.teardown(() => again.close())
  t.match(await proposeAt(again, R, 1, 3, 'c'), { decided: true, instance: 3 }, 'after a restart')
  t.match((await again.readLeaseRegister(R))[0], { seq: 6n, payload: { instance: 3, committed: { instance: 3, value: 'c' } } }, 'the sequence continues from the disk')
  t.equal((await readRegister(again, 1)).instance, 0, 'other registers untouched')
})

t.test('an accepted, uncommitted value is adopted and committed by the next proposer', async (t) => {
  const { disk } = await openFresh(t)
  await disk.writeBlock('lease', leaseSlot(disk.geometry, R, 3), 3, { v: 1, committed: null, instance: 1, mbal: 2 * S + 3, bal: 2 * S + 3, inp: 'crashed' })
  t.same(await readRegister(disk, R), { instance: 0, value: null }, 'not a decision yet')
  t.same(await proposeAt(disk, R, 1, 1, 'mine'), { decided: true, instance: 1, value: 'crashed', mine: false })
  t.match((await disk.readLeaseRegister(R))[0], { payload: { mbal: 3 * S + 1, bal: 3 * S + 1, committed: { instance: 1, value: 'crashed' } } }, 'with a ballot above the crashed one')
})

t.test('a block unreadable in both copies is never treated as absent', async (t) => {
  const { disk, path } = await openFresh(t)
  await proposeAt(disk, R, 3, 1, 'three')
  const slot = leaseSlot(disk.geometry, R, 3)
  await flipByte(path, blockOffset(disk.geometry, 0, 'lease', slot) + 50)
  t.same(await readRegister(disk, R), { instance: 1, value: 'three' }, 'a bad primary falls back to the shadow')
  await flipByte(path, blockOffset(disk.geometry, 1, 'lease', slot) + 60)
  await t.rejects(readRegister(disk, R), { code: 'CARB_ERR_DISK_BAD_CRC', message: /1 unreadable ballot block.*value is unknown/ })
  const { sleeps, options } = fakeRetry(3)
  t.match(await proposeAt(disk, R, 1, 2, 'one', options), { decided: false, reason: 'io', errors: [{ code: 'CARB_ERR_DISK_BAD_CRC' }] })
  t.same(sleeps, [2.5, 5], 'retried with backoff, then gave up')
  t.match(await readViews(disk, R), { current: null, errors: [{ code: 'CARB_ERR_DISK_BAD_CRC' }] }, 'nothing was written meanwhile')
  t.match((await disk.readLeaseRegister(R))[0], { ok: false, empty: true })
  t.match(await proposeAt(disk, R, 3, 1, 'again', fakeRetry(1).options), { decided: false, reason: 'io' }, 'not even its writer writes over it: what it had accepted is lost (operator recovery)')
})

t.test('a malformed lease payload is unreadable (CARB_ERR_DISK_BAD_PAYLOAD), and propose refuses it', async (t) => {
  const { disk } = await openFresh(t)
  const slot = leaseSlot(disk.geometry, R, 2)
  const table: [string, unknown, RegExp][] = [
    ['not a map', 'hello', /not a map/],
    ['bal above mbal', { v: 1, committed: null, instance: 1, mbal: S + 2, bal: 2 * S + 2, inp: 'x' }, /bal .* at most mbal/],
    ['ballot of another node', { v: 1, committed: null, instance: 1, mbal: S + 3, bal: 0, inp: null }, /not a ballot of the block's writer 2/],
    ['value without a ballot', { v: 1, committed: null, instance: 1, mbal: S + 2, bal: 0, inp: 'x' }, /disagree/],
    ['commit of a far instance', { v: 1, committed: { instance: 1, value: 'x' }, instance: 5, mbal: S + 2, bal: 0, inp: null }, /neither instance 5 nor the one before/],
    ['unknown version', { v: 2, committed: null, instance: 1, mbal: S + 2, bal: 0, inp: null }, /version 2/],
  ]
  for (const [name, payload, message] of table) {
    await disk.writeBlock('lease', slot, 2, payload)
    t.match((await disk.readLeaseRegister(R))[1], { ok: false, error: { code: 'CARB_ERR_DISK_BAD_PAYLOAD', message } }, name)
    await t.rejects(readRegister(disk, R), { code: 'CARB_ERR_DISK_BAD_PAYLOAD' }, `${name}: no value is reported`)
    t.match(await proposeOnce(disk, { register: R, nodeId: 1 }, { instance: 1, value: 'v' }), { decided: false, reason: 'io', errors: [{ code: 'CARB_ERR_DISK_BAD_PAYLOAD' }] }, `${name}: propose aborts`)
  }
  await disk.writeBlock('lease', slot, 2, { v: 1, committed: null, instance: 1, mbal: S + 2, bal: S + 2, inp: { holder: 99 } })
  t.same(await readRegister(disk, R), { instance: 0, value: null }, 'a well-formed ballot passes the block check')
  await t.rejects(readRegister(disk, R, { valueProblem: serviceLeaseProblem }), { code: 'CARB_ERR_DISK_BAD_PAYLOAD', message: /inp: service lease holder 99/ }, 'the register owner\'s value check refuses it')
  t.match(await proposeAt(disk, R, 1, 1, { holder: 1, incarnation: 1, failedOn: [] }, { valueProblem: serviceLeaseProblem, ...fakeRetry(1).options }), { decided: false, reason: 'io' })
})

t.test('a write that misses a copy is never "decided"', async (t) => {
  const { disk } = await openFresh(t)
  for (const failing of [1, 2, 3]) {
    const broken = withHook(disk, async () => undefined, (writes) => writes === failing ? { seq: 0n, primaryOk: true, shadowOk: false, errors: [new CarbError('CARB_ERR_DISK_IO', 'EIO', 'shadow')] } : undefined)
    t.match(await proposeOnce(broken, { register: failing, nodeId: 1 }, { instance: 1, value: 'v' }), { decided: false, reason: 'io', errors: [{ code: 'CARB_ERR_DISK_IO' }] }, `write ${failing} of 3 fails`)
  }
  const throwing = withHook(disk, async () => undefined, () => { throw new Error('device gone') })
  t.match(await proposeOnce(throwing, { register: 4, nodeId: 1 }, { instance: 1, value: 'v' }), { decided: false, reason: 'io', errors: [{ code: 'CARB_ERR_DISK_IO', message: /device gone/ }] })
  t.match(await proposeOnce(disk, { register: 3, nodeId: 2 }, { instance: 1, value: 'w' }), { decided: true, value: 'v', mine: false }, 'a value whose commit write failed may still be adopted: "io" means unknown')
})

t.test('contention: a rival with a higher ballot makes us back off and retry above it', async (t) => {
  const { disk } = await openFresh(t)
  const rivalBlock = { v: 1, committed: null, instance: 1, mbal: 5 * S + 2, bal: 0, inp: null }
  const racing = withHook(disk, async (writes) => {
    if (writes === 1) await disk.writeBlock('lease', leaseSlot(disk.geometry, R, 2), 2, rivalBlock)
  })
  const { sleeps, options } = fakeRetry(4)
  t.same(await proposeAt(racing, R, 1, 1, 'one', options), { decided: true, instance: 1, value: 'one', mine: true })
  t.same(sleeps, [2.5], 'one backoff')
  t.match((await disk.readLeaseRegister(R))[0], { payload: { mbal: 6 * S + 1 } }, 'second ballot above the rival\'s round 5')

  const decidedMeanwhile = withHook(disk, async (writes) => {
    if (writes === 1) t.match(await proposeAt(disk, R, 2, 2, 'two'), { decided: true })
  })
  t.match(await proposeAt(decidedMeanwhile, R, 1, 2, 'late', options), { decided: false, reason: 'stale', current: { instance: 2, value: 'two' } }, 'the rival finished first')
})

t.test('our own block changed behind our back: another writer with our node id', async (t) => {
  const { disk } = await openFresh(t)
  const twin = withHook(disk, async (writes) => {
    if (writes === 1) await disk.writeBlock('lease', leaseSlot(disk.geometry, R, 1), 1, { v: 1, committed: null, instance: 1, mbal: 7 * S + 1, bal: 0, inp: null })
  })
  t.match(await proposeOnce(twin, { register: R, nodeId: 1 }, { instance: 1, value: 'v' }), { decided: false, reason: 'io', errors: [{ code: 'CARB_ERR_PAXOS_OWN_BLOCK' }] })
})

t.test('proposals of one node on one register queue in its process', async (t) => {
  const { disk } = await openFresh(t)
  const ref = { register: R, nodeId: 1 }
  const next = (current: { instance: number; value: unknown } | null) => ({ propose: `after ${current?.instance ?? 0}` })
  const results = await Promise.all([1, 2, 3, 4].map(() => updateRegister(disk, ref, next, fakeRetry(1).options)))
  t.same(results.map((r) => r.kind === 'decided' && [r.instance, r.value]), [[1, 'after 0'], [2, 'after 1'], [3, 'after 2'], [4, 'after 3']], 'each decided in turn, no own-block conflicts')
  const raced = await Promise.all([proposeAt(disk, R, 2, 5, 'x', fakeRetry(1).options), proposeAt(disk, R, 2, 5, 'y', fakeRetry(1).options)])
  t.match(raced, [{ decided: true, value: 'x', mine: true }, { decided: false, reason: 'stale', current: { instance: 5, value: 'x' } }])
})

t.test('updateRegister: plan from the current value, finish or propose, bounded', async (t) => {
  const { disk } = await openFresh(t)
  const ref = { register: R, nodeId: 1 }
  const increment = (current: { instance: number; value: unknown } | null) => (current !== null && (current.value as number) >= 3 ? { finish: 'enough' } : { propose: ((current?.value as number | undefined) ?? 0) + 1 })
  t.match(await updateRegister(disk, ref, increment, fakeRetry().options), { kind: 'decided', instance: 1, value: 1, attempts: 1 })
  await updateRegister(disk, ref, increment, fakeRetry().options)
  await updateRegister(disk, ref, increment, fakeRetry().options)
  t.match(await updateRegister(disk, ref, increment, fakeRetry().options), { kind: 'finished', answer: 'enough', current: { instance: 3, value: 3 } })
  const contended = withHook(disk, async (_writes, payload) => {
    const mbal = (payload as { mbal: number }).mbal
    await disk.writeBlock('lease', leaseSlot(disk.geometry, R, 2), 2, { v: 1, committed: { instance: 3, value: 3 }, instance: 4, mbal: mbal + S + 1, bal: 0, inp: null })
  })
  const { sleeps, options } = fakeRetry(3)
  t.match(await updateRegister(contended, ref, () => ({ propose: 9 }), options), { kind: 'gave-up', reason: 'contention', attempts: 3 })
  t.same(sleeps, [2.5, 5], 'backoff between attempts, none after the last')
  await t.rejects(updateRegister(disk, ref, increment, { maxAttempts: 0 }), { code: 'CARB_ERR_USAGE' })
})
