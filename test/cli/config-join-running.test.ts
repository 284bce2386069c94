/**
 * The stored cluster file on a running 2-node cluster: `service add` and `config restore`
 * through the real CLI and the nodes' control sockets propose new configuration versions, and
 * `config join` still reads back the file byte for byte afterwards. `config init` refuses to
 * write through the blocks of a node whose daemon is running (one writer per block).
 */
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { TestCluster, runCli } from '../helpers/cluster.js'
import { allUp, cli, destroyWithWorkers, installScript, scriptResource } from '../helpers/services.js'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { readStoredClusterFile, storeClusterFile } from '../../src/config/cluster-file-store.js'

t.test('services changes on a running cluster keep the stored cluster file; init refuses a running writer', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(destroyWithWorkers(c))
  const diskPath = join(c.dir, 'quorum.disk')
  const text = await readFile(c.file, 'utf8')
  const disk = await QuorumDisk.open(diskPath)
  t.teardown(() => disk.close())
  t.same(await storeClusterFile(disk, { nodeId: 1, text, writtenBy: 'test', nodeNames: c.names }), { version: 1, previous: undefined, services: 0 }, 'stored before the nodes start')
  const script = await installScript(c)
  c.startAll()
  await allUp(c)

  const added = cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,b', '--disabled', '--resource', scriptResource(script))
  t.equal(added.code, 0, added.stderr)
  t.match(added.stdout, /configuration version 2/)
  const joined = join(c.dir, 'joined.yaml')
  const join1 = runCli(['config', 'join', '--disk', diskPath, '--out', joined, '--node', 'b'])
  t.equal(join1.code, 0, join1.stderr)
  t.match(join1.stdout, /stored as configuration version 1 by test; the disk is now at version 2\)/)
  t.equal(await readFile(joined, 'utf8'), text, 'byte for byte after service add')

  // a backup without the cluster file (made by an older build, or edited) keeps the stored one
  const backup = join(c.dir, 'backup.yaml')
  t.equal(cli(c, 'b', 'config', 'backup', backup).code, 0)
  const saved = parse(await readFile(backup, 'utf8')) as Record<string, unknown>
  t.equal((saved.clusterFile as { text?: string } | undefined)?.text, text, 'the backup holds the cluster file too')
  delete saved.clusterFile
  await writeFile(backup, stringify(saved))
  const restored = cli(c, 'b', 'config', 'restore', backup)
  t.equal(restored.code, 0, restored.stderr)
  const after = await readStoredClusterFile(disk)
  t.equal(after.configVersion, 3)
  t.equal(after.record.text, text, 'still there after config restore')

  const init = runCli(['config', 'init', '--out', join(c.dir, 'new.yaml'), '--cluster', 'test', '--disk', diskPath, '--node', 'a:1:127.0.0.1:7400', '--node', 'b:2:127.0.0.2:7400', '--yes'])
  t.equal(init.code, 1)
  t.match(init.stderr, /^carbonado: CARB_ERR_NODE_RUNNING: .*quorum\.disk: node [ab] \(id [12]\) looks running \(status "up" written [\d.]+ s ago\)/)
  t.equal((await readStoredClusterFile(disk)).configVersion, 3, 'nothing written')
})
