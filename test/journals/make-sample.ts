/**
 * Produces the sample journals under test/journals/<decision code version>/ from real
 * `carbonado node run` processes (run after `npm run build`, as root):
 *
 *   node dist/test/journals/make-sample.js
 *
 * The incident: three nodes come up; c is SIGKILLed and declared dead; a is SIGSTOPped past
 * its self-fence deadline, declared dead by b, resumed, fences itself and rejoins as
 * incarnation 2; everyone stops cleanly. Each node's journal is exported with a manifest of
 * what replay reproduced at the time; replay.test.ts holds every later build to it.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TestCluster, TEST_TIMING } from '../helpers/cluster.js'
import { openJournalSource, writeExportFile } from '../../journal/export-file.js'
import type { StoredRecord } from '../../journal/records.js'
import { replayRecords } from '../../journal/replay.js'
import { DECISION_CODE_VERSION, MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'

const outDir = join(import.meta.dirname, '../../../test/journals', DECISION_CODE_VERSION)
const c = await TestCluster.create(['a', 'b', 'c'])
try {
  c.startAll()
  for (const o of c.names) for (const p of c.names) if (o !== p) await c.waitPeer(o, p, 'up', 15_000)
  let mark = c.node('b').lines.length
  c.node('c').child.kill('SIGKILL')
  await c.waitPeer('b', 'c', 'dead', TEST_TIMING.diskDeadAfterMs + 5000, mark)
  await c.waitPeer('a', 'c', 'dead', TEST_TIMING.diskDeadAfterMs + 5000)
  mark = c.node('b').lines.length
  c.node('a').child.kill('SIGSTOP')
  await c.waitPeer('b', 'a', 'dead', TEST_TIMING.diskDeadAfterMs + 5000, mark)
  c.node('a').child.kill('SIGCONT')
  await c.waitFor('b', (l) => l.machine?.startsWith('peer:a#') === true && l.to === 'up' && l.effects?.[0]?.incarnation === 2, 10_000, mark)
  for (const n of ['a', 'b']) await c.stop(n)
  await mkdir(outDir, { recursive: true })
  const manifest: Record<string, unknown> = {}
  for (const n of c.names) {
    const source = await openJournalSource(join(c.dir, 'journal', n))
    const records: StoredRecord[] = []
    for await (const r of source.records) records.push(r)
    await source.close()
    const result = await replayRecords(records, MACHINES, REPLAYABLE_CODE_VERSIONS)
    if (!result.ok) throw new Error(`journal of ${n} does not replay`)
    await writeExportFile(join(outDir, `${n}.journal`), { magic: 'carbonado-journal', v: 1, exportedAtWallMs: 0, node: n, records: records.length }, records)
    manifest[n] = { records: result.records, inputs: result.inputs, transitions: result.transitions, machines: result.machines }
  }
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify({ decisionCodeVersion: DECISION_CODE_VERSION, incident: 'c SIGKILLed; a SIGSTOPped past its deadline, resumed, self-fenced, rejoined as incarnation 2', journals: manifest }, null, 2)}\n`)
  process.stdout.write(`wrote ${outDir}\n`)
} finally {
  await c.destroy()
}
