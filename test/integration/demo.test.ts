/**
 * `carbonado demo` as an unprivileged user (nobody): three nodes come up, a SIGKILL of one
 * is seen as "dead" by the two others, the status table is printed, and Ctrl-C cleans up.
 */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { CLI } from '../helpers/cluster.js'
import { DEMO_TIMING } from '../../src/cli/demo.js'

const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups']
/** A user's environment, without the test runner's NODE_OPTIONS hooks (they write where nobody may not). */
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' }
/** The test runner re-injects its hooks into child environments; `env -i` strips them. */
const cleanEnv = ['/usr/bin/env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)]
const probe = spawnSync('setpriv', [...asNobody, ...cleanEnv, process.execPath, CLI, '--help'], { encoding: 'utf8', env })
const skip = probe.status === 0 ? false : `the package is not readable by user nobody here (${(probe.stderr || String(probe.error)).split('\n')[0]})`

t.test('the demo runs as a non-root user and shows a killed node declared dead', { skip }, async (t) => {
  const demo = spawn('setpriv', [...asNobody, ...cleanEnv, process.execPath, CLI, 'demo', '--interval', '2', '--duration', '60'], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let out = ''
  demo.stdout.on('data', (d: Buffer) => { out += d.toString() })
  demo.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)))
  t.teardown(() => { if (demo.exitCode === null) demo.kill('SIGKILL') })

  const waitFor = async (re: RegExp, ms: number): Promise<RegExpMatchArray> => {
    const until = Date.now() + ms
    for (;;) {
      const m = out.match(re)
      if (m !== null) return m
      if (Date.now() > until) throw new Error(`demo output never matched ${re} within ${ms} ms:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const started = await waitFor(/demo cluster in (\S+): a \(pid (\d+)\), b \(pid (\d+)\), c \(pid (\d+)\)/, 10_000)
  const dir = started[1]!
  const cPid = Number(started[4])
  for (const observer of ['a', 'b']) await waitFor(new RegExp(`\\[${observer}\\] .*decision peer:c#1 unknown -> up`), 10_000)
  await waitFor(/\n3\s+c\s+up\s+1\s/, 10_000)
  const owner = spawnSync('stat', ['-c', '%u', `${dir}/quorum.disk`], { encoding: 'utf8' }).stdout.trim()
  t.equal(owner, '65534', 'the demo disk belongs to the unprivileged user')

  process.kill(cPid, 'SIGKILL')
  const killedAt = Date.now()
  for (const observer of ['a', 'b']) await waitFor(new RegExp(`\\[${observer}\\] .*decision peer:c#1 \\w+ -> dead`), DEMO_TIMING.diskDeadAfterMs + 5000)
  t.ok(Date.now() - killedAt >= DEMO_TIMING.diskDeadAfterMs - DEMO_TIMING.diskIntervalMs, 'not declared dead before the disk deadline')
  await waitFor(/\n3\s+c\s+dead\s+1\s/, 5000)
  t.pass('the status table shows c dead')

  const interruptedAt = Date.now()
  demo.kill('SIGINT')
  t.equal(await exited, 0, 'the demo stops cleanly on Ctrl-C')
  t.ok(Date.now() - interruptedAt < 10_000, 'and at once, not when --duration runs out')
  t.match(out, /demo stopped\n$/)
  t.notOk(existsSync(dir), 'the temporary cluster directory is removed')
})
