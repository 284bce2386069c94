/**
 * Every scenario under test/scenarios/ runs on the simulator and must reproduce its checked-in
 * transcript exactly (refresh one with `npm run sim -- --scenario FILE --rewrite`, then read
 * the diff). A failed expectation or safety checker also fails the test by name.
 */
import './low-priority.js'
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { packageRoot } from '../helpers/cluster.js'
import { runScenario } from './scenario.js'

const dir = join(packageRoot(import.meta.dirname), 'test/scenarios')
const files = (await readdir(dir)).filter((f) => f.endsWith('.scenario')).sort()

t.ok(files.length >= 10, `scenario files found (${files.length})`)
for (const file of files) {
  t.test(file, async (t) => {
    const path = join(dir, file)
    const result = await runScenario(await readFile(path, 'utf8'), `test/scenarios/${file}`)
    t.same(result.failures, [], 'every expectation and safety checker holds')
    const expected = await readFile(path.replace(/\.scenario$/, '.expected'), 'utf8').catch(() => null)
    t.not(expected, null, `${file} has its expected transcript (npm run sim -- --scenario test/scenarios/${file} --rewrite)`)
    if (expected !== null) t.equal(result.transcript, expected, 'the transcript is the checked-in one')
  })
}
