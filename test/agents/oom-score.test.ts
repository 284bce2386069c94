/**
 * Agents start at OOM score 0 whatever the daemon's own (carbonado.service: -1000), including
 * what a shell agent forks at once. Run with the daemon stand-in at +500: lowering a score to
 * -1000 needs CAP_SYS_RESOURCE, which a test container may not have; the mechanism is the same.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { packageRoot } from '../helpers/cluster.js'

const runProcessModule = pathToFileURL(join(packageRoot(import.meta.dirname), 'dist/src/agents/run-process.js')).href
const skip = spawnSync('choom', ['--help']).status === 0 ? false : 'choom (util-linux) is not installed'

t.test('an agent and what it forks first run at score 0; the daemon keeps its own', { skip }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-oom-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const script = join(dir, 'daemon.mjs')
  await writeFile(script, `
import { readFileSync } from 'node:fs'
import { runProcess } from '${runProcessModule}'
const chunks = []
const capture = { push: (_stream, chunk) => chunks.push(chunk), flush: () => {} }
await runProcess(['sh', '-c', 'cat /proc/self/oom_score_adj; sh -c "cat /proc/self/oom_score_adj"'], { timeoutMs: 10000, env: { PATH: '/usr/bin:/bin' }, capture })
process.stdout.write(JSON.stringify({ agent: Buffer.concat(chunks).toString().trim().split('\\n'), own: readFileSync('/proc/self/oom_score_adj', 'utf8').trim() }))
`)
  const r = spawnSync('choom', ['-n', '500', '--', process.execPath, script], { encoding: 'utf8', timeout: 20_000 })
  t.equal(r.status, 0, r.stderr)
  const result = JSON.parse(r.stdout) as { agent: string[]; own: string }
  t.same(result.agent, ['0', '0'], 'the agent and the command it forked at once')
  t.equal(result.own, '500', 'the daemon is back at its own score')
})
