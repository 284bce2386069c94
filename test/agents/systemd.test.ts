/**
 * systemd units. systemd does not run on the test machines, so a fake `systemctl` first on
 * the agent's PATH (RunOptions.env) plays it: it records each call and keeps unit state in
 * files. What is tested is what Carbonado asks systemctl and how it reads the answers.
 */
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runAgent } from '../../src/agents/run.js'
import { AGENT_PATH, type RunOptions, type SystemdSpec } from '../../src/agents/types.js'
import { script, tempDir, type Teardown } from './fixtures/system.js'

/**
 * Units: web.service behaves; failed.service is failed; stuck.service will not stop;
 * gone.service is not loaded (stop exits 5, as systemctl does).
 */
async function fakeSystemd(t: Teardown): Promise<{ dir: string; options: RunOptions; calls: () => Promise<string[]> }> {
  const dir = await tempDir(t)
  await script(dir, 'systemctl', [
    `echo "$*" >> ${dir}/calls`,
    'unit=$(eval echo \\${$#})',
    `state=${dir}/$unit.active`,
    'case "$1" in',
    'start) touch "$state"; exit 0 ;;',
    'stop) case "$unit" in gone.service) echo "Failed to stop $unit: Unit $unit not loaded." >&2; exit 5 ;; stuck.service) exit 1 ;; esac; rm -f "$state"; exit 0 ;;',
    'is-active) if [ -f "$state" ]; then echo active; exit 0; fi; case "$unit" in failed.service) echo failed; exit 3 ;; stuck.service) echo active; exit 0 ;; esac; echo inactive; exit 3 ;;',
    'show) case "$unit" in gone.service) echo not-found ;; *) echo loaded ;; esac; exit 0 ;;',
    'esac',
    'exit 1',
  ].join('\n'))
  await writeFile(join(dir, 'calls'), '')
  const calls = async (): Promise<string[]> => (await readFile(join(dir, 'calls'), 'utf8')).trim().split('\n').filter((l) => l !== '')
  return { dir, options: { timeoutMs: 5000, env: { PATH: `${dir}:${AGENT_PATH}` } }, calls }
}

const unit = (name: string): SystemdSpec => ({ type: 'systemd', name: 'svc', unit: name })

t.test('start, is-active, stop of a unit, with exactly these systemctl calls', async (t) => {
  const { options, calls } = await fakeSystemd(t)
  t.match(await runAgent(unit('web.service'), 'validate', options), { outcome: 'ok', detail: /\(loaded\)/ })
  t.match(await runAgent(unit('web.service'), 'monitor', options), { outcome: 'not-running', exitCode: 3, detail: /is-active: exit 3 \(inactive\)/ })
  t.match(await runAgent(unit('web.service'), 'start', options), { outcome: 'ok', exitCode: 0 })
  t.match(await runAgent(unit('web.service'), 'monitor', options), { outcome: 'ok', detail: /\(active\)/ })
  t.match(await runAgent(unit('web.service'), 'stop', options), { outcome: 'ok' })
  t.match(await runAgent(unit('web.service'), 'stop', options), { outcome: 'ok' }, 'stop of an inactive unit')
  t.same(await calls(), [
    'show --property=LoadState --value web.service', 'is-active web.service', 'start web.service', 'is-active web.service',
    'stop web.service', 'stop web.service',
  ])
})

t.test('a failed unit is failed, not stopped; a unit that is not loaded is stopped but misconfigured', async (t) => {
  const { options, calls } = await fakeSystemd(t)
  t.match(await runAgent(unit('failed.service'), 'monitor', options), { outcome: 'failed', detail: /exit 3 \(failed\)/ })
  const stop = await runAgent(unit('gone.service'), 'stop', options)
  t.match(stop, { outcome: 'ok', detail: /stop: exit 5, then is-active: exit 3 \(inactive\): not active counts as stopped/ })
  t.match(stop.output, /not loaded/)
  t.match(await runAgent(unit('gone.service'), 'validate', options), { outcome: 'misconfigured', detail: /\(not-found\)/ })
  const stuck = await runAgent(unit('stuck.service'), 'stop', options)
  t.match(stuck, { outcome: 'failed', detail: /stop: exit 1, then is-active: exit 0 \(active\)$/ })
  t.same((await calls()).slice(1, 3), ['stop gone.service', 'is-active gone.service'])
})

t.test('without systemctl on the PATH the unit is misconfigured, not a crash', async (t) => {
  const dir = await tempDir(t)
  const result = await runAgent(unit('web.service'), 'start', { timeoutMs: 2000, env: { PATH: dir } })
  t.match(result, { outcome: 'misconfigured', exitCode: null, detail: /could not start \(systemctl: ENOENT\)/ })
})
