/** startAll stops at the first failure; stopAll goes in reverse and past failures. */
import t from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startAll, stopAll } from '../../src/agents/sequence.js'
import type { ResourceSpec } from '../../src/agents/types.js'
import { OPTIONS, script, tempDir } from './fixtures/system.js'

/** Three script resources logging to one file; `failStart` / `failStop` name the ones that fail. */
async function resources(dir: string, failStart: string[], failStop: string[]): Promise<ResourceSpec[]> {
  await writeFile(join(dir, 'log'), '')
  const specs: ResourceSpec[] = []
  for (const name of ['ip', 'fs', 'app']) {
    const path = await script(dir, name, [
      `echo "${name} $1" >> ${dir}/log`,
      `[ "$1" = start ] && exit ${failStart.includes(name) ? 1 : 0}`,
      `[ "$1" = stop ] && exit ${failStop.includes(name) ? 1 : 0}`,
      'exit 0', // status says running: a failed stop stays failed
    ].join('\n'))
    specs.push({ type: 'script', name, path })
  }
  return specs
}

const log = async (dir: string): Promise<string[]> => (await readFile(join(dir, 'log'), 'utf8')).trim().split('\n')

t.test('startAll runs in order and stops at the first failure', async (t) => {
  const dir = await tempDir(t)
  const ok = await startAll(await resources(dir, [], []), OPTIONS)
  t.match(ok, { ok: true, failedIndex: null })
  t.same(ok.steps.map((s) => [s.index, s.name, s.result.outcome]), [[0, 'ip', 'ok'], [1, 'fs', 'ok'], [2, 'app', 'ok']])
  const failing = await startAll(await resources(dir, ['fs'], []), OPTIONS)
  t.match(failing, { ok: false, failedIndex: 1 })
  t.same(failing.steps.map((s) => s.result.outcome), ['ok', 'failed'])
  t.same(await log(dir), ['ip start', 'fs start'], 'app was never started')
})

t.test('stopAll runs in reverse, past failures, and reports each', async (t) => {
  const dir = await tempDir(t)
  const result = await stopAll(await resources(dir, [], ['fs']), OPTIONS)
  t.match(result, { ok: false, failedIndexes: [1] })
  t.same(result.steps.map((s) => [s.index, s.name, s.result.outcome]), [[2, 'app', 'ok'], [1, 'fs', 'failed'], [0, 'ip', 'ok']])
  t.same(await log(dir), ['app stop', 'fs stop', 'fs status', 'ip stop'], 'ip was stopped after fs failed')
  t.match(await stopAll([], OPTIONS), { ok: true, failedIndexes: [], steps: [] })
})
