import t from 'tap'
import { promises as fs } from 'node:fs'
import { dirname, join } from 'node:path'
import { QuorumDisk, type NodeStatus } from '../../src/disk/quorum-disk.js'
import { blockOffset, requiredBytes, type Geometry } from '../../src/disk/layout.js'
import { diskInit, diskPrint, diskTest } from '../../src/disk/commands.js'

const small: Partial<Geometry> = { blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 }
const smallBytes = requiredBytes({ blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 })
const statusOf = (nodeId: number, name: string, state: NodeStatus['state'] = 'up'): NodeStatus => ({ nodeId, name, incarnation: 1, state, wallMs: 1_700_000_000_000 + nodeId })

async function flipByte(path: string, position: number): Promise<void> {
  const handle = await fs.open(path, 'r+')
  try {
    const one = Buffer.alloc(1)
    await handle.read(one, 0, 1, position)
    one[0] = one[0]! ^ 0xff
    await handle.write(one, 0, 1, position)
  } finally {
    await handle.close()
  }
}

async function bytesAt(path: string, position: number, length: number): Promise<Buffer> {
  const handle = await fs.open(path, 'r')
  try {
    const buf = Buffer.alloc(length)
    await handle.read(buf, 0, length, position)
    return buf
  } finally {
    await handle.close()
  }
}

async function freshDisk(dir: string, geometry: Partial<Geometry> = small): Promise<string> {
  const path = join(dir, 'quorum.disk')
  await QuorumDisk.init(path, { clusterName: 'web', geometry })
  return path
}

t.test('init creates the file, open reads the header back', async (t) => {
  const path = join(t.testdir(), 'quorum.disk')
  const header = await QuorumDisk.init(path, { clusterName: 'web', geometry: small })
  t.equal((await fs.stat(path)).size, smallBytes)
  t.match(header, { clusterName: 'web', blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 })
  t.match(header.clusterUuid, /^[0-9a-f]{32}$/)
  const disk = await QuorumDisk.open(path, { expectClusterName: 'web' })
  t.teardown(() => disk.close())
  t.same(disk.header, header)
  t.equal(disk.clusterUuid.toString('hex'), header.clusterUuid)
  t.equal(disk.headerSource, 'primary')
  t.type(disk.directIo, 'boolean')
})

t.test('init extends a plain file to createSizeBytes, and defaults to 4096-byte blocks', async (t) => {
  const path = join(t.testdir(), 'quorum.disk')
  const header = await QuorumDisk.init(path, { clusterName: 'web', createSizeBytes: 16 << 20 })
  t.equal(header.blockSize, 4096)
  t.equal((await fs.stat(path)).size, 16 << 20)
})

t.test('init refuses an initialized disk unless forced', async (t) => {
  const path = await freshDisk(t.testdir())
  const first = (await QuorumDisk.open(path))
  await first.close()
  await t.rejects(QuorumDisk.init(path, { clusterName: 'db', geometry: small }), { code: 'CARB_ERR_DISK_ALREADY_INITIALIZED', message: /cluster "web"/ })
  const again = await QuorumDisk.init(path, { clusterName: 'db', geometry: { ...small, blockSize: 4096 }, force: true })
  t.equal(again.clusterName, 'db')
  t.not(again.clusterUuid, first.header.clusterUuid, 'a new cluster uuid')
  const disk = await QuorumDisk.open(path, { expectClusterName: 'db' })
  t.equal(disk.geometry.blockSize, 4096)
  await disk.close()
})

t.test('open refuses what is not our disk, with named errors', async (t) => {
  const path = await freshDisk(t.testdir())
  await t.rejects(QuorumDisk.open(path, { expectClusterName: 'db' }), { code: 'CARB_ERR_DISK_FOREIGN_CLUSTER', message: /"web".*"db"/ })
  const dir = dirname(path)
  await fs.writeFile(join(dir, 'zeros'), Buffer.alloc(64 * 1024))
  await t.rejects(QuorumDisk.open(join(dir, 'zeros')), { code: 'CARB_ERR_DISK_BAD_MAGIC', message: /never initialized/ })
  await fs.writeFile(join(dir, 'text'), Buffer.alloc(64 * 1024, 'not a disk '))
  await t.rejects(QuorumDisk.open(join(dir, 'text')), { code: 'CARB_ERR_DISK_BAD_MAGIC' })
  await fs.writeFile(join(dir, 'tiny'), Buffer.alloc(100))
  await t.rejects(QuorumDisk.open(join(dir, 'tiny')), { code: 'CARB_ERR_DISK_SHORT' })
  await t.rejects(QuorumDisk.open(join(dir, 'missing')), { code: 'CARB_ERR_DISK_OPEN' })
  await fs.copyFile(path, join(dir, 'truncated'))
  await fs.truncate(join(dir, 'truncated'), smallBytes - 512)
  await t.rejects(QuorumDisk.open(join(dir, 'truncated')), { code: 'CARB_ERR_DISK_SHORT', message: /needs/ })
})

t.test('status: write both copies, read back, sequence continues across opens', async (t) => {
  const path = await freshDisk(t.testdir())
  let disk = await QuorumDisk.open(path)
  const before = await disk.readStatus(1)
  t.match(before, { nodeId: 1, ok: false, empty: true })
  t.same(await disk.writeStatus(1, statusOf(1, 'a')), { seq: 1n, primaryOk: true, shadowOk: true, errors: [] })
  t.equal((await disk.writeStatus(1, statusOf(1, 'a'))).seq, 2n)
  t.match(await disk.readStatus(1), { nodeId: 1, ok: true, seq: 2n, source: 'primary', status: statusOf(1, 'a') })
  await t.rejects(disk.writeStatus(1, statusOf(2, 'b')), { code: 'CARB_ERR_USAGE' }, 'only its own block')
  await t.rejects(disk.writeStatus(5, statusOf(5, 'e')), { code: 'CARB_ERR_USAGE' }, 'beyond maxNodes')
  await disk.close()
  disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  t.equal((await disk.writeStatus(1, statusOf(1, 'a', 'leaving'))).seq, 3n, 'continues from the disk')
  await disk.writeStatus(3, statusOf(3, 'c'))
  const all = await disk.readAllStatus()
  t.equal(all.length, 4)
  t.match(all, [
    { nodeId: 1, ok: true, seq: 3n, status: { state: 'leaving' }, source: 'primary' },
    { nodeId: 2, ok: false, empty: true },
    { nodeId: 3, ok: true, seq: 1n, status: { name: 'c' } },
    { nodeId: 4, ok: false, empty: true },
  ])
})

t.test('a corrupt primary falls back to the shadow; only the writer repairs it', async (t) => {
  const path = await freshDisk(t.testdir())
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  await disk.writeStatus(2, statusOf(2, 'b'))
  const primaryAt = blockOffset(disk.geometry, 0, 'status', 2)
  const shadowAt = blockOffset(disk.geometry, 1, 'status', 2)
  await flipByte(path, primaryAt + 50)
  t.match(await disk.readStatus(2), { ok: true, seq: 1n, source: 'shadow', status: { name: 'b' } })
  t.match((await disk.readAllStatus())[1], { ok: true, source: 'shadow' })
  await disk.readStatus(2, { repairAs: 1 })
  t.notSame(await bytesAt(path, primaryAt, 512), await bytesAt(path, shadowAt, 512), 'a reader that is not the writer does not repair')
  t.match(await disk.readStatus(2, { repairAs: 2 }), { ok: true, source: 'shadow' })
  t.same(await bytesAt(path, primaryAt, 512), await bytesAt(path, shadowAt, 512), 'the writer repaired its primary')
  t.match(await disk.readStatus(2), { ok: true, source: 'primary' })
})

t.test('both copies corrupt: unreadable, with the error; the next write repairs', async (t) => {
  const path = await freshDisk(t.testdir())
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  await disk.writeStatus(2, statusOf(2, 'b'))
  await flipByte(path, blockOffset(disk.geometry, 0, 'status', 2) + 50)
  await flipByte(path, blockOffset(disk.geometry, 1, 'status', 2) + 60)
  const read = await disk.readStatus(2)
  t.match(read, { nodeId: 2, ok: false, error: { code: 'CARB_ERR_DISK_BAD_CRC', message: /primary .*shadow/ } })
  t.not((read as { empty?: boolean }).empty, true)
  t.match((await disk.readAllStatus())[1], { ok: false, error: { code: 'CARB_ERR_DISK_BAD_CRC' } })
  t.match(await disk.writeStatus(2, statusOf(2, 'b')), { seq: 2n, primaryOk: true, shadowOk: true })
  t.match(await disk.readStatus(2), { ok: true, seq: 2n, source: 'primary' })
})

t.test('a misdirected write is detected', async (t) => {
  const path = await freshDisk(t.testdir())
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  await disk.writeStatus(1, statusOf(1, 'a'))
  const block = await bytesAt(path, blockOffset(disk.geometry, 0, 'status', 1), 512)
  const handle = await fs.open(path, 'r+')
  await handle.write(block, 0, 512, blockOffset(disk.geometry, 0, 'status', 2))
  await handle.write(block, 0, 512, blockOffset(disk.geometry, 1, 'status', 2))
  await handle.close()
  t.match(await disk.readStatus(2), { ok: false, error: { code: 'CARB_ERR_DISK_MISPLACED' } })
})

t.test('a lost primary header: open and init find the shadow header', async (t) => {
  const path = await freshDisk(t.testdir())
  await flipByte(path, 60)
  const disk = await QuorumDisk.open(path, { expectClusterName: 'web' })
  t.equal(disk.headerSource, 'shadow')
  t.equal(disk.geometry.maxNodes, 4)
  await disk.close()
  await t.rejects(QuorumDisk.init(path, { clusterName: 'web', geometry: small }), { code: 'CARB_ERR_DISK_ALREADY_INITIALIZED', message: /shadow/ })
  await flipByte(path, blockOffset(disk.geometry, 1, 'header', 0) + 60)
  await t.rejects(QuorumDisk.open(path), { code: 'CARB_ERR_DISK_BAD_CRC' })
})

t.test('generic blocks and the scratch test', async (t) => {
  const path = await freshDisk(t.testdir())
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  const ballot = { v: 1, committed: null, instance: 1, mbal: 65536 + 2, bal: 0, inp: null }
  t.match(await disk.writeBlock('lease', 3, 2, ballot), { seq: 1n, primaryOk: true, shadowOk: true })
  t.match(await disk.readBlock('lease', 3), { ok: true, source: 'primary', block: { writer: 2, seq: 1n, payload: ballot } })
  t.match(await disk.readBlock('lease', 3, { writer: 1 }), { ok: false, error: { code: 'CARB_ERR_DISK_WRONG_WRITER' } })
  t.match(await disk.readBlock('mailbox', 1), { ok: false, empty: true })
  await t.rejects(disk.writeBlock('header', 0, 0, {}), { code: 'CARB_ERR_USAGE' })
  const scratch = await disk.testScratch(3)
  t.match(scratch, { ok: true, primaryOk: true, shadowOk: true, seq: 1n, errors: [] })
  t.ok(scratch.writeMs >= 0 && scratch.readMs >= 0)
  t.equal((await disk.testScratch(3)).seq, 2n)
})

t.test('commands: init, test, print (text and JSON)', async (t) => {
  const path = join(t.testdir(), 'quorum.disk')
  const header = await diskInit(path, { clusterName: 'web', geometry: small })
  const disk = await QuorumDisk.open(path)
  await disk.writeStatus(1, statusOf(1, 'servidor1'))
  await disk.writeStatus(2, statusOf(2, 'servidor2', 'down'))
  await disk.writeStatus(4, statusOf(4, 'servidor4'))
  await disk.close()
  await flipByte(path, blockOffset(disk.geometry, 0, 'status', 4) + 50)
  await flipByte(path, blockOffset(disk.geometry, 1, 'status', 4) + 50)
  const test = await diskTest(path, 1, { expectClusterName: 'web' })
  t.match(test, { ok: true, nodeId: 1, clusterName: 'web', primaryOk: true, shadowOk: true, errors: [] })
  t.match(test.text, /disk test .* as node 1: ok/)
  t.doesNotThrow(() => JSON.stringify(test))
  const print = await diskPrint(path, { expectClusterName: 'web' })
  t.match(print.header, { clusterName: 'web', clusterUuid: header.clusterUuid, headerSource: 'primary' })
  t.match(print.nodes, [
    { nodeId: 1, ok: true, name: 'servidor1', state: 'up', seq: 1, source: 'primary', writtenAt: '2023-11-14T22:13:20.001Z' },
    { nodeId: 2, ok: true, state: 'down' },
    { nodeId: 3, ok: false, empty: true },
    { nodeId: 4, ok: false, empty: false, error: { code: 'CARB_ERR_DISK_BAD_CRC' } },
  ])
  t.same(JSON.parse(JSON.stringify({ header: print.header, nodes: print.nodes })).nodes[0].seq, 1)
  const lines = print.text.split('\n')
  t.match(print.text, /cluster +web \(uuid [0-9a-f]{32}\)/)
  t.match(lines.find((l) => l.startsWith('1 ')), /^1 +servidor1 +up +1 +1 +2023-11-14T22:13:20\.001Z +primary$/)
  t.match(lines.find((l) => l.startsWith('2 ')), /servidor2 +down/)
  t.match(lines.find((l) => l.startsWith('3 ')), /^3 +- +empty$/)
  t.match(lines.find((l) => l.startsWith('4 ')), /^4 +- +CARB_ERR_DISK_BAD_CRC +unreadable in both copies/)
  await t.rejects(diskPrint(path, { expectClusterName: 'db' }), { code: 'CARB_ERR_DISK_FOREIGN_CLUSTER' })
  t.comment(print.text)
})
