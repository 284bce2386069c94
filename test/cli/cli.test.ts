/** The executable as an administrator meets it: help, one-line errors, exit codes, no side effects. */
import t from 'tap'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { mkdtemp, readFile, rm, writeFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, TestCluster } from '../helpers/cluster.js'
import { CONFIG_REFERENCE } from '../../src/config/load.js'
import { SERVICE_DEFAULTS } from '../../src/config/services.js'
import { COMMANDS } from '../../src/cli/commands.js'
import { readExportFile, writeExportFile } from '../../journal/export-file.js'

const oneLine = (s: string): boolean => s.trim().split('\n').length === 1

t.test('--help lists every command with its Kimberlite equivalent in the per-command help', async (t) => {
  const r = runCli(['--help'])
  t.equal(r.code, 0)
  for (const c of ['node run', 'status', 'disk init', 'disk test', 'disk print', 'journal export', 'replay', 'demo']) t.match(r.stdout, c)
  const disk = runCli(['disk', '--help'])
  t.match(disk.stdout, /Kimberlite: diskutil -I/)
  t.match(runCli(['status', '--help']).stdout, /Kimberlite: clustat -i 2/)
})

t.test('usage errors: one line, exit 2', async (t) => {
  for (const args of [['frobnicate'], ['status', '--bogus'], ['status'], ['replay'], ['disk', 'init', '--disk', '/tmp/x'], ['demo', '--nodes', '40']]) {
    const r = runCli(args)
    t.equal(r.code, 2, `carbonado ${args.join(' ')} exits 2`)
    t.match(r.stderr, /^carbonado: CARB_ERR_USAGE: /)
    t.ok(oneLine(r.stderr), `one line: ${r.stderr.trim()}`)
  }
})

t.test('disk init --max-services: room for more services than the default 64, bad values refused in one line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'quorum.disk')
  const r = runCli(['disk', 'init', '--disk', path, '--cluster', 'big', '--block-size', '512', '--max-services', '100'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /room for 100 services/)
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  t.equal(disk.geometry.maxServices, 100, 'the header says 100 lease registers')
  for (const bad of ['0', '1.5', '257', 'many']) {
    const e = runCli(['disk', 'init', '--disk', join(dir, `bad-${bad}.disk`), '--cluster', 'big', '--max-services', bad])
    t.equal(e.code, 2, `--max-services ${bad} exits 2`)
    t.match(e.stderr, /^carbonado: CARB_ERR_USAGE: disk init: --max-services must be/)
    t.ok(oneLine(e.stderr), e.stderr.trim())
    await t.rejects(stat(join(dir, `bad-${bad}.disk`)), 'no disk file was created')
  }
})

t.test('a bad cluster file: one line naming file and field, exit 2, nothing created', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'cluster.yaml')
  await writeFile(file, 'cluster: x\ndisk: quorum.disk\nnodes:\n  - {name: a, id: 1, heartbeat: ["127.0.0.1:1"]}\n  - {name: b, id: 99, heartbeat: ["127.0.0.1:2"]}\n')
  for (const args of [['disk', 'init', '-c', file], ['node', 'run', '-c', file, '--node', 'a'], ['status', '-c', file]]) {
    const r = runCli(args)
    t.equal(r.code, 2, `carbonado ${args[0]} exits 2`)
    t.equal(r.stderr.trim(), `carbonado: CARB_ERR_CONFIG_FIELD: ${file}: nodes[1].id: must be an integer from 1 to 16, got 99`)
  }
  await t.rejects(stat(join(dir, 'quorum.disk')), 'no disk file was created')
})

t.test('node run refuses an unknown node, a missing key and a world-readable key', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(() => c.destroy())
  const unknown = runCli(['node', 'run', '-c', c.file, '--node', 'zz'])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /^carbonado: CARB_ERR_NODE_UNKNOWN: .*no node named "zz" \(nodes: a, b\)/)
  const { chmod } = await import('node:fs/promises')
  await chmod(join(c.dir, 'authkey'), 0o644)
  const open = runCli(['node', 'run', '-c', c.file, '--node', 'a'])
  t.equal(open.code, 1)
  t.match(open.stderr, /CARB_ERR_KEY_FILE: .*authkey/)
  t.ok(oneLine(open.stderr))
  await rm(join(c.dir, 'authkey'))
  const missing = runCli(['node', 'run', '-c', c.file, '--node', 'a'])
  t.match(missing.stderr, /CARB_ERR_KEY_FILE: .*authkey/)
  await t.rejects(stat(join(c.dir, 'journal', 'a')), 'no journal was created')
})

t.test('status and export without a running node say so in one line', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(() => c.destroy())
  const r = runCli(['status', '-c', c.file, '--node', 'a'])
  t.equal(r.code, 1)
  t.match(r.stderr, /CARB_ERR_CONTROL_CONNECT: .*a\.sock: cannot connect .*node run/)
  const e = runCli(['journal', 'export', '-c', c.file, '--node', 'a', '--out', join(c.dir, 'x')])
  t.equal(e.code, 1)
  t.ok(oneLine(e.stderr))
})

t.test('replay of something that is not a journal is a named error', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'junk'), 'not a journal at all')
  const r = runCli(['replay', '--journal', join(dir, 'junk')])
  t.equal(r.code, 1)
  t.match(r.stderr, /CARB_ERR_JOURNAL_CORRUPT: .*junk/)
  t.ok(oneLine(r.stderr))
})

t.test('replay refuses a journal written by a decision-code version this build does not know', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const sample = await readExportFile(join(import.meta.dirname, '../journals/membership-1/a.journal'))
  const records = sample.records.map((s) => (s.record.t === 'start' ? { ...s, record: { ...s.record, codeVersion: 'membership-0' } } : s))
  await writeExportFile(join(dir, 'old.journal'), sample.header, records)
  const r = runCli(['replay', '--journal', join(dir, 'old.journal')])
  t.not(r.code, 0)
  t.match(r.stderr, /CARB_ERR_JOURNAL_VERSION: .*old\.journal: seq \d+: written by decision code membership-0; this build replays membership-1, services-1/)
  t.ok(oneLine(r.stderr))
  t.equal(r.stdout, '', 'no verdict printed')
})

t.test('the README documents every configuration field and every command', async (t) => {
  const readme = await readFile(join(import.meta.dirname, '../../README.md'), 'utf8')
  for (const r of CONFIG_REFERENCE) t.match(readme, `| \`${r.field}\` | ${r.default} |`, `README documents ${r.field} with its default`)
  for (const c of COMMANDS) t.match(readme, `carbonado ${c.name}`, `README shows carbonado ${c.name}`)
  for (const d of SERVICE_DEFAULTS) t.match(readme, `| \`${d.field}\` | ${String(d.value)} |`, `README documents service field ${d.field} with its default`)
})
