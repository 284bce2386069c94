/**
 * The cluster file on the quorum disk, through the real config store: stored as the next
 * configuration version with the services kept, read back with its hash checked, carried
 * unchanged by later services changes (also after the JSON trip through the control socket),
 * refused on a version race, when too large, and while the writing node's daemon runs.
 */
import t, { type Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { proposeConfig, readConfig } from '../../src/config/config-store.js'
import { readServicesDoc, EMPTY_SERVICES } from '../../src/config/services.js'
import { addService, setEnabled } from '../../src/config/service-edit.js'
import { checkWriterIdle, readStoredClusterFile, statusLooksLive, storeClusterFile } from '../../src/config/cluster-file-store.js'
import { CLUSTER_FILE_BYTES_MAX, clusterFileRecord, sha256Text } from '../../src/config/cluster-file-record.js'

const names = ['a', 'b']
const ctx = { where: 'test', nodeNames: names, maxServices: 8 }
const web = { name: 'web', domain: ['a', 'b'], resources: [{ type: 'script', name: 'app', path: '/etc/init.d/app' }] }
const quick = { maxAttempts: 20, backoffBaseMs: 1, backoffMaxMs: 20 }
const TEXT = 'cluster: web\ndisk: /dev/sdb\nnodes:\n  - {name: a, id: 1, heartbeat: ["10.0.0.1:5405"]}\n  - {name: b, id: 2, heartbeat: ["10.0.0.2:5405"]}\n'

async function freshDisk(t: Test, configBlocks = 4): Promise<QuorumDisk> {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-config-init-'))
  const path = join(dir, 'quorum.disk')
  await QuorumDisk.init(path, { clusterName: 'web', geometry: { blockSize: 512, maxNodes: 4, maxServices: 8, configBlocks } })
  const disk = await QuorumDisk.open(path)
  t.teardown(async () => { await disk.close(); await rm(dir, { recursive: true, force: true }) })
  return disk
}

t.test('stored as the next version with the services kept; read back with its hash', async (t) => {
  const disk = await freshDisk(t)
  await t.rejects(readStoredClusterFile(disk), { code: 'CARB_ERR_DISK_NO_CLUSTER_FILE', message: /no configuration at all/ })
  await proposeConfig(disk, 2, 0, addService(EMPTY_SERVICES, web, ctx), names, quick)
  await t.rejects(readStoredClusterFile(disk), { code: 'CARB_ERR_DISK_NO_CLUSTER_FILE', message: /configuration version 1, services only/ })
  const stored = await storeClusterFile(disk, { nodeId: 1, text: TEXT, writtenBy: 'test', nodeNames: names }, quick)
  t.same(stored, { version: 2, previous: undefined, services: 1 })
  const { record, configVersion } = await readStoredClusterFile(disk)
  t.same(record, { text: TEXT, sha256: sha256Text(TEXT), writtenBy: 'test', version: 2 })
  t.equal(configVersion, 2)
  t.same((await readConfig(disk, names)).doc.services.map((s) => s.name), ['web'], 'the service is still there')
})

t.test('later services changes carry the cluster file, also after the JSON trip of the control socket', async (t) => {
  const disk = await freshDisk(t)
  await storeClusterFile(disk, { nodeId: 1, text: TEXT, writtenBy: 'test', nodeNames: names }, quick)
  let { doc } = await readConfig(disk, names)
  // as `service add` does it: the doc went out as JSON, was edited, came back as JSON to the node
  const edited = JSON.parse(JSON.stringify(addService(JSON.parse(JSON.stringify(doc)), web, ctx)))
  doc = await proposeConfig(disk, 2, doc.version, edited, names, quick)
  doc = await proposeConfig(disk, 1, doc.version, setEnabled(doc, 'web', false, ctx), names, quick)
  t.equal(doc.version, 3)
  const { record, configVersion } = await readStoredClusterFile(disk)
  t.equal(record.text, TEXT, 'the cluster file survived two services changes')
  t.equal(record.version, 1, 'it still says which version stored it')
  t.equal(configVersion, 3)
  const backup = readServicesDoc('backup.yaml', JSON.parse(JSON.stringify(doc)), names, 8)
  t.same(backup.clusterFile, record, 'a backup of the document holds it too')
})

t.test('a version race is refused and changes nothing', async (t) => {
  const disk = await freshDisk(t)
  await storeClusterFile(disk, { nodeId: 1, text: TEXT, writtenBy: 'first', nodeNames: names }, quick)
  await t.rejects(storeClusterFile(disk, { nodeId: 2, text: `${TEXT}# second\n`, writtenBy: 'second', nodeNames: names, expectVersion: 0 }, quick), { code: 'CARB_ERR_CONFIG_VERSION', message: /expected configuration version 0, but the disk is at version 1/ })
  // two writers at once, each from its own handle, as two hosts would: one wins
  const other = await QuorumDisk.open(disk.path)
  t.teardown(() => other.close())
  const results = await Promise.allSettled([
    storeClusterFile(disk, { nodeId: 1, text: `${TEXT}# from a\n`, writtenBy: 'a', nodeNames: names, expectVersion: 1 }, quick),
    storeClusterFile(other, { nodeId: 2, text: `${TEXT}# from b\n`, writtenBy: 'b', nodeNames: names, expectVersion: 1 }, quick),
  ])
  const won = results.filter((r) => r.status === 'fulfilled')
  t.equal(won.length, 1, 'exactly one writer took version 2')
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined
  t.match(lost?.reason, { code: 'CARB_ERR_CONFIG_VERSION' })
  const { record } = await readStoredClusterFile(disk)
  t.ok(record.text.endsWith(`# from ${record.writtenBy}\n`), `the stored text is the winner's (${record.writtenBy})`)
})

t.test('too large: over the cap, or over what this disk\'s buffer holds with the services', async (t) => {
  const disk = await freshDisk(t, 2)
  const big = `${TEXT}#${'x'.repeat(CLUSTER_FILE_BYTES_MAX)}\n`
  await t.rejects(storeClusterFile(disk, { nodeId: 1, text: big, writtenBy: 'test', nodeNames: names }, quick), { code: 'CARB_ERR_CONFIG_TOO_LARGE', message: /at most 16384/ })
  const medium = `${TEXT}#${'x'.repeat(2000)}\n`
  await t.rejects(storeClusterFile(disk, { nodeId: 1, text: medium, writtenBy: 'test', nodeNames: names }, quick), { code: 'CARB_ERR_CONFIG_TOO_LARGE', message: /configuration buffer holds \d+ \(2 blocks of 512\)/ })
  t.equal((await readConfig(disk, names)).doc.version, 0, 'nothing was written')
})

t.test('a stored file whose hash does not match is refused', async (t) => {
  const disk = await freshDisk(t)
  const forged = { ...clusterFileRecord(TEXT, 'test', 1), text: `${TEXT}# edited\n` }
  await proposeConfig(disk, 1, 0, { ...EMPTY_SERVICES, clusterFile: forged }, names, quick)
  await t.rejects(readStoredClusterFile(disk), { code: 'CARB_ERR_DISK_UNREADABLE', message: /does not match its sha256/ })
})

t.test('the writing node must not be running: a recent live status refuses, a stale or down one does not', async (t) => {
  const disk = await freshDisk(t)
  const now = 1_000_000
  await checkWriterIdle(disk, 1, 'a', now, 10_000)
  await disk.writeStatus(1, { nodeId: 1, name: 'a', incarnation: 1, state: 'up', wallMs: now - 500 })
  await t.rejects(checkWriterIdle(disk, 1, 'a', now, 10_000), { code: 'CARB_ERR_NODE_RUNNING', message: /node a \(id 1\) looks running \(status "up" written 0\.5 s ago\)/ })
  await checkWriterIdle(disk, 1, 'a', now + 20_000, 10_000)
  const down = { nodeId: 2, ok: true as const, seq: 1n, source: 'primary' as const, status: { nodeId: 2, name: 'b', incarnation: 1, state: 'down' as const, wallMs: now } }
  t.notOk(statusLooksLive(down, now, 10_000), 'a node that left cleanly is not running')
})
