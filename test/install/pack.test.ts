/**
 * The npm package: `npm pack` ships the built code and the README, not the tests; the tarball
 * installs globally into a temporary prefix and its `carbonado` runs.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { packageRoot } from '../helpers/cluster.js'

const root = packageRoot(import.meta.dirname)
/** Errors that mean "no registry here", not "the package is broken". */
const OFFLINE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|network/i

function npm(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 120_000 })
}

t.test('npm pack ships dist/src, dist/machines, dist/journal and the README, and no test', async (t) => {
  const r = npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root)
  t.equal(r.status, 0, `npm pack --dry-run: ${r.stderr.split('\n').filter((l) => !l.startsWith('npm notice')).join(' ')}`)
  const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path) ?? []
  for (const needed of ['package.json', 'README.md', 'dist/src/cli/main.js', 'dist/src/install/unit.js', 'dist/src/install/install.js', 'dist/machines/membership.js', 'dist/journal/store.js']) {
    t.ok(files.includes(needed), `ships ${needed}`)
  }
  t.same(files.filter((f) => !/^dist\/(src|machines|journal)\//.test(f) && f !== 'README.md' && f !== 'package.json'), [], 'nothing else')
  t.notOk(files.some((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('test/')), 'no tests or benchmarks')
})

t.test('npm install -g of the tarball gives a carbonado that runs', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-pack-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pack = npm(['pack', '--ignore-scripts', '--pack-destination', dir], root)
  t.equal(pack.status, 0, `npm pack: ${pack.stderr.split('\n').filter((l) => !l.startsWith('npm notice')).join(' ')}`)
  const tarball = join(dir, 'carbonado-0.1.0.tgz')
  t.ok(existsSync(tarball), tarball)
  const prefix = join(dir, 'prefix')
  const install = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], dir)
  if (install.status !== 0 && OFFLINE.test(install.stderr)) {
    t.comment(`skipped: no npm registry reachable for the dependencies: ${install.stderr.split('\n')[0]}`)
    return
  }
  t.equal(install.status, 0, install.stderr)
  const help = spawnSync(join(prefix, 'bin/carbonado'), ['--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
  t.equal(help.status, 0, help.stderr)
  t.match(help.stdout, /^ {2}install /m)
  const unit = spawnSync(join(prefix, 'bin/carbonado'), ['install', '--print-unit'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })
  t.match(unit.stdout, new RegExp(`^ExecStart=${process.execPath} ${prefix}/lib/node_modules/carbonado/dist/src/cli/main\\.js node run`, 'm'), 'the unit runs the installed copy')
})
