/**
 * The service configuration on a disk file: versions follow each other, a change made against
 * an old version is refused, two nodes proposing the same next version at once (separate
 * disk handles, as separate processes would have) get exactly one winner, and a reader sees
 * what the winner wrote. A configuration that outgrows its buffer is refused.
 */
import t from 'tap'
import { join } from 'node:path'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { proposeConfig, readConfig } from '../../src/config/config-store.js'
import { EMPTY_SERVICES, type ServicesDoc } from '../../src/config/services.js'
import { addService } from '../../src/config/service-edit.js'

const names = ['a', 'b', 'c']
const ctx = { where: 'test', nodeNames: names, maxServices: 8 }
const service = (name: string): Record<string, unknown> => ({ name, domain: ['a', 'b'], resources: [{ type: 'script', name: 'app', path: '/etc/init.d/app' }] })
const quick = { maxAttempts: 20, backoffBaseMs: 1, backoffMaxMs: 20 }

async function freshDisk(dir: string): Promise<string> {
  const path = join(dir, 'quorum.disk')
  await QuorumDisk.init(path, { clusterName: 'test', geometry: { blockSize: 512, maxNodes: 4, maxServices: 8, configBlocks: 4 } })
  return path
}

t.test('versions follow each other; an edit against an old version is refused', async (t) => {
  const disk = await QuorumDisk.open(await freshDisk(t.testdir()))
  t.teardown(() => disk.close())
  t.same(await readConfig(disk, names), { doc: EMPTY_SERVICES, pointer: null }, 'a fresh disk has version 0 and no services')
  const v1 = await proposeConfig(disk, 1, 0, addService(EMPTY_SERVICES, service('web'), ctx), names, quick)
  t.equal(v1.version, 1)
  const v2 = await proposeConfig(disk, 2, 1, addService(v1, service('db'), ctx), names, quick)
  t.equal(v2.version, 2)
  const read = await readConfig(disk, names)
  t.same(read.doc.services.map((s) => s.name), ['web', 'db'])
  t.match(read.pointer, { version: 2, writer: 2, buffer: 0 })
  await t.rejects(proposeConfig(disk, 1, 1, addService(v1, service('mail'), ctx), names, quick), { code: 'CARB_ERR_CONFIG_VERSION', message: /made against version 1, but the cluster is at version 2/ })
  t.same((await readConfig(disk, names)).doc.services.map((s) => s.name), ['web', 'db'], 'the refused change changed nothing')
  const v3 = await proposeConfig(disk, 2, 2, addService(v2, service('mail'), ctx), names, quick)
  t.equal(v3.version, 3, 'node 2 writes its other buffer: version 2 stayed readable while it wrote')
})

t.test('two nodes propose version 1 at once: exactly one wins, every reader sees the winner', async (t) => {
  const path = await freshDisk(t.testdir())
  const disks = await Promise.all([1, 2, 3].map(() => QuorumDisk.open(path)))
  t.teardown(() => Promise.all(disks.map((d) => d.close())))
  for (let round = 0; round < 5; round++) {
    const { doc } = await readConfig(disks[0]!, names)
    const attempts = await Promise.allSettled([1, 2, 3].map((nodeId, i) => proposeConfig(disks[i]!, nodeId, doc.version, addService(doc, service(`s${round}-n${nodeId}`), ctx), names, quick)))
    const won = attempts.filter((a): a is PromiseFulfilledResult<ServicesDoc> => a.status === 'fulfilled')
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected')
    t.equal(won.length, 1, `round ${round}: one winner of 3: ${lost.map((l) => String(l.reason.message)).join(" | ")}`)
    for (const l of lost) t.match(l.reason, { code: 'CARB_ERR_CONFIG_VERSION' }, `round ${round}: the others get a version error`)
    const seen = await Promise.all(disks.map((d) => readConfig(d, names)))
    for (const s of seen) t.same(s.doc, won[0]!.value, `round ${round}: every node reads the winner's version ${doc.version + 1}`)
  }
})

t.test('a configuration larger than a buffer is refused and nothing changes', async (t) => {
  const disk = await QuorumDisk.open(await freshDisk(t.testdir()))
  t.teardown(() => disk.close())
  let doc = EMPTY_SERVICES
  for (let i = 0; i < 8; i++) doc = addService(doc, { ...service(`service-${i}`), resources: Array.from({ length: 16 }, (_, r) => ({ type: 'script', name: `r${r}`, path: `/opt/some/long/path/to/an/init/script-${r}` })) }, ctx)
  await t.rejects(proposeConfig(disk, 1, 0, doc, names, quick), { code: 'CARB_ERR_SERVICE_LIMIT', message: /a buffer of 4 blocks holds/ })
  t.equal((await readConfig(disk, names)).doc.version, 0)
})

// Found by test/fuzz/disk-blocks.test.ts: a decided configuration whose bytes hash right but are
// not one msgpack value threw msgpackr's plain Error; a pointer naming a node or a part count
// outside the geometry failed with CARB_ERR_USAGE; a part block holding nil threw a TypeError.
t.test('a decided configuration that cannot be followed or decoded is a bad payload, never a crash', async (t) => {
  const { createHash } = await import('node:crypto')
  const { leaseSlot, configSlot, CONFIG_REGISTER } = await import('../../src/disk/layout.js')
  const disk = await QuorumDisk.open(await freshDisk(t.testdir()))
  t.teardown(() => disk.close())
  const mbal = 65536 + 2
  const decide = (pointer: unknown) => disk.writeBlock('lease', leaseSlot(disk.geometry, CONFIG_REGISTER, 2), 2, { v: 1, committed: { instance: 1, value: pointer }, instance: 1, mbal, bal: mbal, inp: pointer })
  const data = Buffer.from('80c0', 'hex') // two msgpack values: {} and nil
  const pointer = { version: 1, writer: 2, buffer: 0, parts: 1, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') }
  await disk.writeBlock('config', configSlot(disk.geometry, 2, 0, 0), 2, { version: 1, part: 0, data })
  await decide(pointer)
  await t.rejects(readConfig(disk, names), { code: 'CARB_ERR_DISK_BAD_PAYLOAD', message: /does not decode/ })
  for (const bad of [{ ...pointer, writer: 99 }, { ...pointer, parts: 1000 }]) {
    await decide(bad)
    await t.rejects(readConfig(disk, names), { code: 'CARB_ERR_DISK_BAD_PAYLOAD', message: /no valid configuration pointer/ })
  }
  await disk.writeBlock('config', configSlot(disk.geometry, 2, 0, 0), 2, null)
  await decide(pointer)
  await t.rejects(readConfig(disk, names), { code: 'CARB_ERR_DISK_UNREADABLE' })
})
