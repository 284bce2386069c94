/**
 * `config init` and `config join` without a terminal, as a script runs them: every answer a
 * flag, --yes to confirm. The written file loads with the real loader; join on the same disk
 * writes an identical file; bad flags, a missing answer, an existing file and a disk that is
 * not ready each give one named line and a non-zero exit with nothing written.
 */
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { CLI, runCli } from '../helpers/cluster.js'
import { loadConfig } from '../../src/config/load.js'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { proposeConfig, readConfig } from '../../src/config/config-store.js'
import { addService } from '../../src/config/service-edit.js'
import { readStoredClusterFile } from '../../src/config/cluster-file-store.js'

const oneLine = (s: string): boolean => s.trim().split('\n').length === 1
/** Bad-input calls run side by side, this many at once (each is a whole node start-up). */
const PARALLEL = 4

function runCliAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}

interface Lab { dir: string; disk: string; out: string; flags: string[] }

async function lab(t: Test, initialized = true): Promise<Lab> {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-config-init-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const disk = join(dir, 'quorum.disk')
  if (initialized) {
    const r = runCli(['disk', 'init', '--disk', disk, '--cluster', 'web', '--block-size', '512'])
    if (r.code !== 0) throw new Error(r.stderr)
  }
  const out = join(dir, 'cluster.yaml')
  const flags = [
    '--out', out, '--cluster', 'web', '--disk', disk, '--key-file', join(dir, 'authkey'),
    '--node', 'a:1:127.0.0.1:7400,127.0.1.1:7401', '--node', 'b:2:127.0.0.2:7400,127.0.1.2:7401',
    '--fence', 'a=/usr/sbin/fence_ipmilan:ip=10.0.0.11,username=admin,port=a-plug', '--fence', 'a=poison-pill', '--fence', 'b=poison-pill',
    '--timing', 'diskIntervalMs=500', '--timing', 'selfFenceAfterMs=4000', '--timing', 'diskDeadAfterMs=5000', '--yes',
  ]
  return { dir, disk, out, flags }
}

t.test('non-interactive init: the file loads with loadConfig and is stored on the disk', async (t) => {
  const { disk, out, flags } = await lab(t)
  const r = runCli(['config', 'init', ...flags])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /stored the cluster file on .*quorum\.disk as configuration version 1 \(first cluster file; no services yet\)/)
  t.match(r.stdout, /not on the quorum disk .*config join --disk/)
  const config = await loadConfig(out)
  t.equal(config.cluster, 'web')
  t.equal(config.disk, disk)
  t.same(config.nodes.map((n) => [n.name, n.id, n.heartbeat.map((h) => `${h.host}:${h.port}`)]), [['a', 1, ['127.0.0.1:7400', '127.0.1.1:7401']], ['b', 2, ['127.0.0.2:7400', '127.0.1.2:7401']]])
  t.match(config.nodes[0]!.fence, [{ method: 'agent', agent: '/usr/sbin/fence_ipmilan', params: { ip: '10.0.0.11', username: 'admin' }, port: 'a-plug' }, { method: 'poison-pill' }])
  t.match(config.timing, { diskIntervalMs: 500, selfFenceAfterMs: 4000, diskDeadAfterMs: 5000 })
  t.equal((await stat(out)).mode & 0o777, 0o600, 'fence agent parameters may hold a password: 0600')
  const q = await QuorumDisk.open(disk)
  t.teardown(() => q.close())
  t.equal((await readStoredClusterFile(q)).record.text, await readFile(out, 'utf8'), 'the disk holds the same text')
})

t.test('join on the same disk writes an identical file; again says unchanged; a different file needs --force', async (t) => {
  const { dir, disk, out, flags } = await lab(t)
  t.equal(runCli(['config', 'init', ...flags]).code, 0)
  const joined = join(dir, 'joined.yaml')
  const r = runCli(['config', 'join', '--disk', disk, '--out', joined, '--node', 'b'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^written .*joined\.yaml \(cluster web, stored as configuration version 1 by config init on node a .*\); this is node b \(id 2\)/)
  t.match(r.stdout, /copy the authentication key to .*authkey \(mode 0600\).*never stored on the quorum disk/)
  t.equal(await readFile(joined, 'utf8'), await readFile(out, 'utf8'), 'identical to the file init wrote')
  t.match(runCli(['config', 'join', '--disk', disk, '--out', joined, '--node', 'b']).stdout, /^unchanged /)
  await writeFile(joined, 'cluster: other\n')
  const refused = runCli(['config', 'join', '--disk', disk, '--out', joined, '--node', 'b'])
  t.equal(refused.code, 2)
  t.equal(refused.stderr.trim(), `carbonado: CARB_ERR_CONFIG_EXISTS: ${joined}: already exists with other content; config join replaces it only with --force`)
  t.equal(await readFile(joined, 'utf8'), 'cluster: other\n', 'left alone')
  t.match(runCli(['config', 'join', '--disk', disk, '--out', joined, '--node', 'b', '--force']).stdout, /^replaced /)
  t.equal(await readFile(joined, 'utf8'), await readFile(out, 'utf8'))
})

t.test('a later services change through the real config store keeps the cluster file for join', async (t) => {
  const { dir, disk, out, flags } = await lab(t)
  t.equal(runCli(['config', 'init', ...flags]).code, 0)
  const q = await QuorumDisk.open(disk)
  t.teardown(() => q.close())
  const { doc } = await readConfig(q, ['a', 'b'])
  const ctx = { where: 'test', nodeNames: ['a', 'b'], maxServices: 8 }
  await proposeConfig(q, 2, doc.version, addService(doc, { name: 'web', domain: ['b', 'a'], resources: [{ type: 'script', name: 'app', path: '/etc/init.d/app' }] }, ctx), ['a', 'b'])
  const joined = join(dir, 'joined.yaml')
  const r = runCli(['config', 'join', '--disk', disk, '--out', joined, '--node', 'a'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /stored as configuration version 1 .*; the disk is now at version 2\)/)
  t.equal(await readFile(joined, 'utf8'), await readFile(out, 'utf8'))
  // init again (--force): the next version, the service kept
  const again = runCli(['config', 'init', ...flags, '--force'])
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /as configuration version 3 \(replacing the one of version 1; 1 services kept\)/)
  t.same((await readConfig(q, ['a', 'b'])).doc.services.map((s) => s.name), ['web'])
})

t.test('bad flags and missing answers: one line naming the flag, exit 2, nothing written', async (t) => {
  const { disk, out, flags } = await lab(t)
  const without = (name: string): string[] => flags.filter((f, i) => f !== name && flags[i - 1] !== name)
  const cases: [string[], RegExp][] = [
    [[...flags, '--node', 'c:3:127.0.0.3:99999,127.0.1.3:7401'], /--node "c:3:127\.0\.0\.3:99999,127\.0\.1\.3:7401": channel 0: port must be 1\.\.65535, got 99999/],
    [[...without('--node'), '--node', 'a:1:127.0.0.1:7400'], /--node is required without a terminal \(at least 2 nodes/],
    [[...flags, '--node', 'a:3:127.0.0.3:7400,127.0.1.3:7401'], /--node "a:3:.*": a node name "a" is already used/],
    [[...flags, '--node', 'c:2:127.0.0.3:7400,127.0.1.3:7401'], /--node "c:2:.*": node id 2 is already used/],
    [[...flags, '--node', 'c:3:127.0.0.3:7400'], /--node "c:3:127.0.0.3:7400": give 2 addresses, like the first node/],
    [[...flags, '--node', 'C:3:h:1,h:2'], /--node "C:3:h:1,h:2": a node name must be a lower-case name/],
    [without('--cluster'), /--cluster is required without a terminal/],
    [without('--disk'), /--disk is required without a terminal/],
    [[...flags, '--cluster', 'Web'], /--cluster "Web": the cluster name must be a lower-case name/],
    [[...flags, '--fence', 'c=poison-pill'], /--fence c=\.\.\.: no node named "c"/],
    [[...flags, '--fence', 'b=fence_ipmilan'], /--fence "b=fence_ipmilan": a fence method is "poison-pill" or the absolute path/],
    [[...flags, '--fence', 'b=/usr/sbin/fence_x:action=off'], /--fence .*action: is set by the cluster on every call/],
    [[...flags, '--timing', 'diskIntervalMs=fast'], /--timing "diskIntervalMs=fast": diskIntervalMs must be an integer/],
    [[...flags, '--timing', 'pollMs=5'], /--timing "pollMs=5": "pollMs" is not a timing/],
    [without('--yes'), /--yes is required without a terminal/],
    [[...flags, '--bogus'], /config init: Unknown option '--bogus'/],
  ]
  const results: { code: number; stderr: string }[] = []
  for (let i = 0; i < cases.length; i += PARALLEL) results.push(...await Promise.all(cases.slice(i, i + PARALLEL).map(([args]) => runCliAsync(['config', 'init', ...args]))))
  for (const [i, [, message]] of cases.entries()) {
    const r = results[i]!
    t.equal(r.code, 2, `exit 2: ${r.stderr.trim()}`)
    t.match(r.stderr, /^carbonado: CARB_ERR_USAGE: config init: /)
    t.match(r.stderr, message)
    t.ok(oneLine(r.stderr), 'one line')
  }
  // a relation between timings: the loader's verdict, before anything is written
  const relation = runCli(['config', 'init', ...flags, '--timing', 'diskDeadAfterMs=4100'])
  t.equal(relation.code, 2)
  t.match(relation.stderr, /^carbonado: CARB_ERR_CONFIG_RELATION: .*cluster\.yaml \(not written\): timing\.diskDeadAfterMs vs timing\.selfFenceAfterMs/)
  await t.rejects(stat(out), 'no file was written')
  const q = await QuorumDisk.open(disk)
  t.teardown(() => q.close())
  t.equal((await readConfig(q, [])).doc.version, 0, 'nothing was stored on the disk')
})

t.test('an existing --out is refused without --force; --no-disk-write leaves the disk alone', async (t) => {
  const { disk, out, flags } = await lab(t)
  await writeFile(out, '# mine\n')
  const r = runCli(['config', 'init', ...flags])
  t.equal(r.code, 2)
  t.equal(r.stderr.trim(), `carbonado: CARB_ERR_CONFIG_EXISTS: ${out}: already exists; config init replaces it only with --force`)
  t.equal(await readFile(out, 'utf8'), '# mine\n')
  const local = runCli(['config', 'init', ...flags, '--force', '--no-disk-write'])
  t.equal(local.code, 0, local.stderr)
  t.notMatch(local.stdout, /stored the cluster file/)
  await loadConfig(out)
  const q = await QuorumDisk.open(disk)
  t.teardown(() => q.close())
  t.equal((await readConfig(q, [])).doc.version, 0, 'the disk holds no configuration')
  const join2 = runCli(['config', 'join', '--disk', disk, '--out', `${out}.b`, '--node', 'b'])
  t.equal(join2.code, 1)
  t.equal(join2.stderr.trim(), `carbonado: CARB_ERR_DISK_NO_CLUSTER_FILE: ${disk}: holds no cluster file (no configuration at all); run \`carbonado config init --disk ${disk}\` on the first node`)
})

t.test('a disk that is not initialized: one line naming it; --init-disk initializes it first', async (t) => {
  const { disk, out, flags } = await lab(t, false)
  await writeFile(disk, Buffer.alloc(1 << 20))
  const r = runCli(['config', 'init', ...flags])
  t.equal(r.code, 1)
  t.equal(r.stderr.trim(), `carbonado: CARB_ERR_DISK_BAD_MAGIC: ${disk}: not a Carbonado quorum disk yet (no header in either copy); run \`carbonado disk init --disk ${disk} --cluster web\` first, or add --init-disk`)
  await t.rejects(stat(out), 'no file was written')
  const join2 = runCli(['config', 'join', '--disk', disk, '--out', `${out}.b`])
  t.equal(join2.code, 1)
  t.match(join2.stderr, /^carbonado: CARB_ERR_DISK_BAD_MAGIC: .*quorum\.disk: not a Carbonado quorum disk/)
  t.ok(oneLine(join2.stderr))
  const init = runCli(['config', 'init', ...flags, '--init-disk'])
  t.equal(init.code, 0, init.stderr)
  t.match(init.stdout, /^initialized .*quorum\.disk for cluster web; stored the cluster file/)
  const other = runCli(['config', 'init', ...flags, '--force', '--cluster', 'db'])
  t.equal(other.code, 1)
  t.match(other.stderr, /^carbonado: CARB_ERR_DISK_FOREIGN_CLUSTER: .*belongs to cluster "web", not "db"/)
})

t.test('join: a host that is not a node of the file, an unknown --node, no --disk', async (t) => {
  const { dir, disk, flags } = await lab(t)
  t.equal(runCli(['config', 'init', ...flags]).code, 0)
  const joined = join(dir, 'joined.yaml')
  const host = runCli(['config', 'join', '--disk', disk, '--out', joined])
  t.equal(host.code, 2)
  t.match(host.stderr, /^carbonado: CARB_ERR_USAGE: config join: this host ".*" is not a node of the cluster file stored on .* \(nodes: a, b\); give --node NAME/)
  const unknown = runCli(['config', 'join', '--disk', disk, '--out', joined, '--node', 'c'])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /^carbonado: CARB_ERR_NODE_UNKNOWN: config join: --node c: not a node/)
  const none = runCli(['config', 'join', '--out', joined])
  t.equal(none.code, 2)
  t.match(none.stderr, /^carbonado: CARB_ERR_USAGE: config join: --disk is required/)
  await t.rejects(stat(joined), 'nothing written')
})
