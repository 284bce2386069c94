/** carbonado.service: every directive has its reason, systemd-analyze verify accepts it, the CLI prints the same text. */
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, runCli } from '../helpers/cluster.js'
import { UNIT_MARKER, WATCHDOG_SEC, execCommand, renderUnit, unitDirectives } from '../../src/install/unit.js'
import { DEFAULT_TIMING } from '../../src/config/timing.js'
import { SERVICE_DEFAULTS } from '../../src/config/services.js'

const execStart = execCommand([process.execPath, realpathSync(CLI)])

t.test('the unit: notify, watchdog, restart, stop and kill policy, each directive under its reason', async (t) => {
  const unit = renderUnit(execStart)
  t.ok(unit.startsWith(UNIT_MARKER))
  for (const line of ['Type=notify', 'NotifyAccess=all', `WatchdogSec=${WATCHDOG_SEC}s`, 'Restart=on-failure', 'KillMode=mixed', 'Wants=network-online.target',
    'RuntimeDirectory=carbonado', 'OOMScoreAdjust=-1000', 'TasksMax=infinity', 'WantedBy=multi-user.target', `ExecStart=${execStart} node run -c /etc/carbonado/cluster.yaml`]) {
    t.ok(unit.split('\n').includes(line), line)
  }
  t.match(unit, /^After=network-online\.target/m)
  const lines = unit.split('\n')
  lines.forEach((line, i) => {
    if (/^[A-Za-z]+=/.test(line)) t.match(lines[i - 1], /^# \S/, `${line.split('=')[0]} has its reason above it`)
  })
  for (const forbidden of ['ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'PrivateNetwork', 'MountFlags', 'NoNewPrivileges', 'StateDirectory=', 'ProtectKernel']) {
    t.notMatch(unit.replace(/^#.*$/gm, ''), forbidden, `no ${forbidden}: it would hide mounts from the host or bind every service`)
  }
})

t.test('the unit timings follow the defaults they are derived from', async (t) => {
  const seconds = (key: string): number => {
    const value = unitDirectives(execStart).find((d) => d.key === key)?.value ?? ''
    const m = /^(\d+)(s|min)$/.exec(value)
    if (m === null) throw new Error(`${key}=${value}`)
    return Number(m[1]) * (m[2] === 'min' ? 60 : 1)
  }
  t.ok(seconds('WatchdogSec') * 1000 < DEFAULT_TIMING.selfFenceAfterMs, 'a frozen daemon is killed before its own self-fence deadline')
  const stopMs = Number(SERVICE_DEFAULTS.find((d) => d.field === 'resources[].stopTimeoutMs')?.value)
  const oneServiceOfThree = 3 * stopMs + 5000 + 1000 // ServiceShell.stopBudgetMs for one service of three resources
  t.ok(seconds('TimeoutStopSec') * 1000 >= 5 * oneServiceOfThree, 'systemd never cuts a clean stop of five typical services short')
  t.ok(seconds('RestartSec') * 1000 + seconds('WatchdogSec') * 1000 < DEFAULT_TIMING.diskDeadAfterMs, 'a killed daemon is back for its clean-up before peers count it dead')
})

t.test('systemd-analyze verify accepts the unit without a warning', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-unit-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'carbonado.service')
  await writeFile(file, renderUnit(execStart))
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 20_000 })
  const output = `${r.stdout}${r.stderr}`
  const ours = output.split('\n').filter((line) => line.includes('carbonado'))
  for (const other of output.split('\n').filter((line) => line.trim() !== '' && !line.includes('carbonado'))) t.comment(`systemd-analyze (about another unit): ${other}`)
  t.same(ours, [], 'no warning about carbonado.service')
  t.equal(r.status, 0, output)
})

t.test('systemd-analyze verify would see a broken unit (the check is real)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-unit-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'carbonado.service')
  await writeFile(file, renderUnit(execStart).replace('KillMode=mixed', 'KillMode=mixd').replace(process.execPath, '/nonexistent/node'))
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 20_000 })
  t.match(`${r.stdout}${r.stderr}`, /kill mode/i)
  t.match(`${r.stdout}${r.stderr}`, /not executable/)
})

t.test('install --print-unit prints the unit for this CLI without root; --exec names another command', async (t) => {
  const r = runCli(['install', '--print-unit'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, renderUnit(execStart))
  const sh = execFileSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).trim()
  const e = runCli(['install', '--print-unit', '--exec', sh])
  t.match(e.stdout, new RegExp(`^ExecStart=${sh} node run -c /etc/carbonado/cluster.yaml$`, 'm'))
})

t.test('paths with spaces are quoted for systemd', async (t) => {
  t.equal(execCommand(['/usr/bin/node', '/opt/my apps/main.js']), '/usr/bin/node "/opt/my apps/main.js"')
})

t.test('the README has the unit table: every directive with its reason, and what is left out and why', async (t) => {
  const { readFile } = await import('node:fs/promises')
  const { UNIT_LEFT_OUT } = await import('../../src/install/unit.js')
  const readme = await readFile(join(import.meta.dirname, '../../README.md'), 'utf8')
  for (const d of unitDirectives('NODE …/carbonado/dist/src/cli/main.js')) t.ok(readme.includes(`| \`${d.key}=${d.value}\` | ${d.reason} |`), `README: ${d.key}`)
  for (const d of UNIT_LEFT_OUT) t.ok(readme.includes(` | ${d.reason} |`), `README: ${d.key.split(',')[0]} left out`)
})
