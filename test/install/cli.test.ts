/** carbonado install as an administrator meets it: refused without root, bad flags in one line, exit codes. */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, runCli } from '../helpers/cluster.js'

const oneLine = (s: string): boolean => s.trim().split('\n').length === 1

t.test('not root: refused in one line, nothing created; --print-unit still works', async (t) => {
  const user = `carbtest-${randomInt(100_000, 999_999)}`
  const added = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user], { encoding: 'utf8' })
  t.equal(added.status, 0, `useradd: ${added.stderr}`)
  t.teardown(() => { spawnSync('userdel', [user]) })
  const root = await mkdtemp(join(tmpdir(), 'carbonado-install-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  // tap re-injects its NODE_OPTIONS hooks into child environments (they would write tap's files
  // as that user); `env -i` strips them.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' }
  const cleanEnv = ['/usr/bin/env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]
  const asUser = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync('runuser', ['-u', user, '--', ...cleanEnv, process.execPath, CLI, ...args], { encoding: 'utf8', cwd: '/', env })
  for (const args of [['install', '--dry-run'], ['install', '--root', root]]) {
    const r = asUser(args)
    t.equal(r.status, 1, `carbonado ${args.join(' ')} exits 1`)
    t.match(r.stderr, /^carbonado: CARB_ERR_INSTALL_NOT_ROOT: install must run as root/)
    t.ok(oneLine(r.stderr), r.stderr.trim())
    t.equal(r.stdout, '')
  }
  t.same(await readdir(root), [], 'nothing created')
  const unit = asUser(['install', '--print-unit'])
  t.equal(unit.status, 0, unit.stderr)
  t.match(unit.stdout, /^Type=notify$/m)
})

t.test('bad flags: one line naming the flag, exit 2, nothing created', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'carbonado-install-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const cases: Array<[string[], RegExp]> = [
    [['install', '--bogus'], /install: Unknown option '--bogus'/],
    [['install', 'extra'], /install: .*extra/],
    [['install', '--root', join(root, 'missing')], /install: --root .*missing is not a directory/],
    [['install', '--root', root, '--group', 'Bad Group'], /install: --group must be a group name/],
    [['install', '--root', root, '--exec', 'bin/carbonado'], /install: --exec must be an absolute path/],
    [['install', '--root', root, '--exec', join(root, 'nothing')], /install: --exec .*nothing is not an executable file \(ENOENT\)/],
  ]
  for (const [args, message] of cases) {
    const r = runCli(args)
    t.equal(r.code, 2, `carbonado ${args.join(' ')} exits 2`)
    t.match(r.stderr, /^carbonado: CARB_ERR_USAGE: /)
    t.match(r.stderr, message)
    t.ok(oneLine(r.stderr), r.stderr.trim())
  }
  t.same(await readdir(root), [], 'nothing created')
})

t.test('install --help and the command list show it', async (t) => {
  t.match(runCli(['install', '--help']).stdout, /Usage: carbonado install \[--dry-run\] \[--root DIR\] \[--group NAME\] \[--force\]/)
  t.match(runCli(['--help']).stdout, /^ {2}install /m)
})
