/**
 * `config init` at a terminal: the real CLI on a real pseudo-terminal (test/helpers/pty-drive.py,
 * python's pty module), answering Kimberlite's member_config questions one by one, with bad
 * answers that must be re-asked with their reason, then the confirmation. The file it writes
 * loads with loadConfig and the disk holds the same text. Declining the confirmation, or
 * ending the input, writes nothing.
 */
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, runCli } from '../helpers/cluster.js'
import { loadConfig } from '../../src/config/load.js'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { readConfig } from '../../src/config/config-store.js'
import { readStoredClusterFile } from '../../src/config/cluster-file-store.js'

const DRIVER = join(import.meta.dirname, '../helpers/pty-drive.py')
/** Per prompt: a CLI start-up on a loaded 2-core machine takes a few seconds at worst. */
const STEP_TIMEOUT_S = 30

interface Step { expect: string; send?: string; eof?: boolean }
interface Driven { ok: boolean; exitCode: number | null; failedStep: number | null; error: string | null; transcript: string }

/** Terminal control sequences readline writes (cursor moves, line clears), removed for reading. */
const plain = (text: string): string => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')
const quote = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

async function drive(dir: string, steps: Step[], args: string[]): Promise<Driven> {
  const script = join(dir, `pty-script-${Math.random().toString(36).slice(2)}.json`)
  await writeFile(script, JSON.stringify({ stepTimeoutS: STEP_TIMEOUT_S, steps }))
  return new Promise((resolve, reject) => {
    execFile('python3', [DRIVER, script, '--', process.execPath, CLI, 'config', 'init', ...args], { encoding: 'utf8', cwd: dir, timeout: 100_000 }, (error, stdout, stderr) => {
      if (error !== null) { reject(new Error(`pty driver failed: ${error.message}\n${stderr}`)); return }
      resolve(JSON.parse(stdout) as Driven)
    })
  })
}

async function lab(t: Test): Promise<{ dir: string; disk: string; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-config-init-pty-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const disk = join(dir, 'quorum.disk')
  const r = runCli(['disk', 'init', '--disk', disk, '--cluster', 'web', '--block-size', '512'])
  if (r.code !== 0) throw new Error(r.stderr)
  return { dir, disk, out: join(dir, 'cluster.yaml') }
}

/** Shown only when the assertion fails: where the dialogue stopped, and the whole screen. */
const diagnostics = (r: Driven): Record<string, unknown> => ({ failedStep: r.failedStep, error: r.error, exitCode: r.exitCode, transcript: plain(r.transcript) })

t.test('every question answered at a terminal, bad answers re-asked with the reason, confirmed: the file loads and is on the disk', async (t) => {
  const { dir, disk, out } = await lab(t)
  const steps: Step[] = [
    { expect: 'Cluster name: ', send: 'Web Cluster' },
    { expect: 'the cluster name must be a lower-case name .*got "Web Cluster"; try again' },
    { expect: 'Cluster name: ', send: 'web' },
    { expect: 'Number of nodes \\[2\\]: ', send: '17' },
    { expect: 'the number of nodes must be an integer from 2 to 16, got "17"; try again' },
    { expect: 'Number of nodes \\[2\\]: ', send: '' },
    { expect: 'Host name of node 1( \\[[^\\]]*\\])?: ', send: 'alpha' },
    { expect: 'Node id of alpha \\(1\\.\\.16, its slot on the quorum disk\\) \\[1\\]: ', send: '' },
    { expect: 'Heartbeat addresses of alpha .*\\[alpha:5405\\]: ', send: '127.0.0.1, 127.0.1.1' },
    { expect: 'Host name of node 2: ', send: 'alpha' },
    { expect: 'a node name "alpha" is already used; try again' },
    { expect: 'Host name of node 2: ', send: 'beta' },
    { expect: 'Node id of beta .*\\[2\\]: ', send: '1' },
    { expect: 'node id 1 is already used; try again' },
    { expect: 'Node id of beta .*\\[2\\]: ', send: '' },
    { expect: 'Heartbeat addresses of beta \\(.*\\+i\\): ', send: '127.0.0.2' },
    { expect: 'give 2 addresses, like the first node.*; try again' },
    { expect: 'Heartbeat addresses of beta \\(.*\\+i\\): ', send: '127.0.0.2, 127.0.1.2:6000' },
    { expect: 'Quorum disk \\(.*\\): ', send: 'quorum.disk' },
    { expect: 'Fence methods of alpha .*\\[none\\]: ', send: 'fence_ipmilan' },
    { expect: 'a fence method is "poison-pill" or the absolute path of a fence agent.*; try again' },
    { expect: 'Fence methods of alpha .*\\[none\\]: ', send: '/usr/sbin/fence_ipmilan:ip=10.0.0.11,username=admin; poison-pill' },
    { expect: 'Fence methods of beta .*\\[none\\]: ', send: '' },
    { expect: 'Authentication key file .*\\[/etc/carbonado/authkey\\]: ', send: 'authkey' },
    { expect: `--- ${quote(out)}[\\s\\S]*cluster: web[\\s\\S]*name: beta[\\s\\S]*---` },
    { expect: `Write this to ${quote(out)} and to the quorum disk ${quote(disk)}\\? \\[yes\\]: `, send: 'maybe' },
    { expect: 'answer yes or no, got "maybe"; try again' },
    { expect: 'Write this to .*\\[yes\\]: ', send: 'yes' },
    { expect: 'stored the cluster file on .* as configuration version 1' },
  ]
  const r = await drive(dir, steps, ['--out', out])
  t.ok(r.ok, 'the dialogue went as scripted', diagnostics(r))
  t.equal(r.exitCode, 0, 'exit 0', diagnostics(r))
  t.match(plain(r.transcript), /written .*cluster\.yaml\nthe authentication key .*authkey is not on the quorum disk/)
  const config = await loadConfig(out)
  t.equal(config.cluster, 'web')
  t.equal(config.disk, disk, 'the relative answer became the absolute path')
  t.equal(config.authKeyFile, join(dir, 'authkey'))
  t.same(config.nodes.map((n) => [n.name, n.id, n.heartbeat.map((h) => `${h.host}:${h.port}`)]), [['alpha', 1, ['127.0.0.1:5405', '127.0.1.1:5406']], ['beta', 2, ['127.0.0.2:5405', '127.0.1.2:6000']]])
  t.match(config.nodes[0]!.fence, [{ method: 'agent', agent: '/usr/sbin/fence_ipmilan', params: { ip: '10.0.0.11', username: 'admin' } }, { method: 'poison-pill' }])
  t.same(config.nodes[1]!.fence, [])
  const q = await QuorumDisk.open(disk)
  t.teardown(() => q.close())
  const { record } = await readStoredClusterFile(q)
  t.equal(record.text, await readFile(out, 'utf8'), 'the disk holds the file as written')
  t.match(record.writtenBy, /^config init on node (alpha|beta) \(host /, 'written through one of its nodes (this host\'s, else the lowest id)')
})

t.test('flags answer their questions; declining the confirmation writes nothing', async (t) => {
  const { dir, disk, out } = await lab(t)
  const steps: Step[] = [
    { expect: 'Fence methods of a .*\\[none\\]: ', send: '' },
    { expect: 'Fence methods of b .*\\[none\\]: ', send: 'poison-pill' },
    { expect: 'Authentication key file .*: ', send: '' },
    { expect: 'Write this to .*\\[yes\\]: ', send: 'no' },
    { expect: 'nothing written' },
  ]
  const r = await drive(dir, steps, ['--out', out, '--cluster', 'web', '--disk', disk, '--node', 'a:1:127.0.0.1:7400', '--node', 'b:2:127.0.0.2:7400'])
  t.ok(r.ok, 'the dialogue went as scripted', diagnostics(r))
  t.equal(r.exitCode, 1)
  t.notMatch(plain(r.transcript), /Cluster name|Host name|Quorum disk/, 'nothing the flags gave was asked')
  await t.rejects(stat(out), 'no file')
  const q = await QuorumDisk.open(disk)
  t.teardown(() => q.close())
  t.equal((await readConfig(q, [])).doc.version, 0, 'nothing on the disk')
})

t.test('end of input (Ctrl-D) at a question: one line, exit 2, nothing written', async (t) => {
  const { dir, out } = await lab(t)
  const r = await drive(dir, [{ expect: 'Cluster name: ', send: 'web' }, { expect: 'Number of nodes \\[2\\]: ', eof: true }], ['--out', out])
  t.ok(r.ok, 'the dialogue went as scripted', diagnostics(r))
  t.equal(r.exitCode, 2)
  t.match(plain(r.transcript), /carbonado: CARB_ERR_USAGE: config init: input ended at "Number of nodes"; nothing written/)
  await t.rejects(stat(out), 'no file')
})
