/**
 * LSB init scripts, with a fake service whose state is a file. Its stop returns 1 when the
 * service is already stopped, as Red Hat 7.3's scripts did (Kimberlite's init-script trap):
 * Carbonado follows with `status`, and status 3 makes the stop a success.
 */
import t from 'tap'
import { chmod, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runAgent } from '../../src/agents/run.js'
import type { ResourceSpec } from '../../src/agents/types.js'
import { OPTIONS, script, tempDir } from './fixtures/system.js'

/** An init script for a fake service; `statusWhenStopped` and `stopFails` bend it. */
async function initScript(dir: string, opts: { statusWhenStopped?: number; stopFails?: boolean } = {}): Promise<string> {
  const state = join(dir, 'running')
  return script(dir, 'fake-service', [
    `echo "$1" >> ${dir}/calls`,
    'case "$1" in',
    `start) touch ${state}; echo "Starting fake-service: [  OK  ]"; exit 0 ;;`,
    opts.stopFails === true
      ? 'stop) echo "Stopping fake-service: [FAILED]"; exit 1 ;;'
      : `stop) if [ -f ${state} ]; then rm ${state}; exit 0; else echo "Stopping fake-service: [FAILED]"; exit 1; fi ;;`,
    `status) if [ -f ${state} ]; then echo running; exit 0; fi; echo stopped; exit ${opts.statusWhenStopped ?? 3} ;;`,
    '*) echo "Usage: $0 {start|stop|status}"; exit 2 ;;',
    'esac',
  ].join('\n'))
}

const spec = (path: string): ResourceSpec => ({ type: 'script', name: 'web', path })
const calls = async (dir: string): Promise<string[]> => (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n')

t.test('start, status, stop; stop of a stopped service succeeds through status 3', async (t) => {
  const dir = await tempDir(t)
  const path = await initScript(dir)
  t.match(await runAgent(spec(path), 'validate', OPTIONS), { outcome: 'ok', exitCode: null })
  t.match(await runAgent(spec(path), 'monitor', OPTIONS), { outcome: 'not-running', exitCode: 3, detail: 'web monitor: status: exit 3 (not running)' })
  const start = await runAgent(spec(path), 'start', OPTIONS)
  t.match(start, { op: 'start', outcome: 'ok', exitCode: 0, signal: null, output: 'Starting fake-service: [  OK  ]' })
  t.ok(start.durationMs >= 0 && start.durationMs < 5000)
  t.match(await runAgent(spec(path), 'monitor', OPTIONS), { outcome: 'ok', exitCode: 0 })
  t.match(await runAgent(spec(path), 'stop', OPTIONS), { outcome: 'ok', exitCode: 0 })
  t.notOk(existsSync(join(dir, 'running')))
  const again = await runAgent(spec(path), 'stop', OPTIONS)
  t.match(again, { outcome: 'ok', exitCode: 3 })
  t.match(again.detail, /stop: exit 1, then status: exit 3 \(not running\): already stopped counts as stopped/)
  t.match(again.output, /\[FAILED\]\nstopped/, 'both commands\' output is reported')
  t.same(await calls(dir), ['status', 'start', 'status', 'stop', 'stop', 'status'])
})

t.test('a failed stop of a service that still runs is a failure', async (t) => {
  const dir = await tempDir(t)
  const path = await initScript(dir, { stopFails: true })
  await runAgent(spec(path), 'start', OPTIONS)
  const stop = await runAgent(spec(path), 'stop', OPTIONS)
  t.match(stop, { outcome: 'failed', exitCode: 0 })
  t.match(stop.detail, /stop: exit 1, then status: exit 0 \(running\)$/)
})

t.test('LSB status 1, 2 and 4 are failures, named in the detail', async (t) => {
  for (const [code, meaning] of [[1, 'dead, but the pid file exists'], [2, 'dead, but the lock file exists'], [4, 'status unknown']] as const) {
    const dir = await tempDir(t)
    const path = await initScript(dir, { statusWhenStopped: code })
    const monitor = await runAgent(spec(path), 'monitor', OPTIONS)
    t.match(monitor, { outcome: 'failed', exitCode: code, detail: `web monitor: status: exit ${code} (${meaning})` })
    t.equal((await runAgent(spec(path), 'stop', OPTIONS)).outcome, 'failed', `stop with status ${code} after is not "already stopped"`)
  }
})

t.test('a start that exits non-zero fails; args go before the action', async (t) => {
  const dir = await tempDir(t)
  const path = await script(dir, 'broken', 'echo "cannot bind port 80" >&2; exit 1')
  t.match(await runAgent(spec(path), 'start', OPTIONS), { outcome: 'failed', exitCode: 1, output: 'cannot bind port 80', detail: 'web start: start: exit 1' })
  // `service httpd start` style: the script is an argument of an interpreter.
  const viaShell = await runAgent({ type: 'script', name: 'web', path: '/bin/sh', args: [await initScript(dir)] }, 'start', OPTIONS)
  t.match(viaShell, { outcome: 'ok', output: /Starting fake-service/ })
})

t.test('validate and every operation: a missing or non-executable script is misconfigured', async (t) => {
  const dir = await tempDir(t)
  const missing = join(dir, 'nope')
  for (const op of ['validate', 'start', 'stop', 'monitor'] as const) {
    t.match(await runAgent(spec(missing), op, OPTIONS), { outcome: 'misconfigured', exitCode: null, detail: new RegExp(`${missing} does not exist`) }, op)
  }
  const path = await initScript(dir)
  await chmod(path, 0o644)
  t.match(await runAgent(spec(path), 'validate', OPTIONS), { outcome: 'misconfigured', detail: /is not executable/ })
  t.match(await runAgent(spec(dir), 'validate', OPTIONS), { outcome: 'misconfigured', detail: /is not a regular file/ })
})
