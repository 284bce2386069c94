/**
 * Produces the sample journals under test/journals/<decision code version>/ from real
 * `carbonado node run` processes (run after `npm run build`, as root):
 *
 *   node dist/test/journals/make-sample.js
 *
 * It writes the incident of the current decision-code version only; samples of older versions
 * are never rewritten (the membership-1 one came from this file's earlier revision: c
 * SIGKILLed; a SIGSTOPped past its deadline, self-fenced, rejoined as incarnation 2).
 *
 * services-1: three nodes come up; service web (domain a, b, c; an LSB script) starts on a;
 * a's machine dies (SIGKILL of the node and its worker) and b takes over once a is proven
 * dead; a comes back and gets web back (failback); an administrator relocates web to c;
 * everyone stops cleanly. Each node's journal is exported with a manifest of what replay
 * reproduced at the time; replay.test.ts holds every later build to it.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestCluster, TEST_TIMING, runCli } from '../helpers/cluster.js'
import { readRuns } from '../helpers/witness.js'
import { openJournalSource, writeExportFile } from '../../journal/export-file.js'
import type { StoredRecord } from '../../journal/records.js'
import { replayRecords } from '../../journal/replay.js'
import { DECISION_CODE_VERSION, MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'

const outDir = join(import.meta.dirname, '../../../test/journals', DECISION_CODE_VERSION)
const c = await TestCluster.create(['a', 'b', 'c'])
try {
  const script = join(c.dir, 'witness-service.sh')
  await writeFile(script, (await readFile(join(import.meta.dirname, '../../../test/integration/fixtures/witness-service.sh'), 'utf8')).replace('WITNESS_DIR', c.dir))
  await chmod(script, 0o755)
  const runsOn = (node: string): number => readRuns(join(c.dir, 'witness.log')).filter((r) => r.node === node).length
  const until = async (what: string, done: () => boolean, timeoutMs: number): Promise<void> => {
    for (const deadline = Date.now() + timeoutMs; !done(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
  }
  const cli = (...args: string[]): void => {
    const r = runCli([...args, '-c', c.file, '--node', 'b'])
    if (r.code !== 0) throw new Error(`carbonado ${args.join(' ')}: ${r.stderr}`)
  }
  c.startAll()
  for (const o of c.names) for (const p of c.names) if (o !== p) await c.waitPeer(o, p, 'up', 15_000)
  cli('service', 'add', 'web', '--domain', 'a,b,c', '--failback-stable-ms', '1000', '--resource', `{type: script, name: app, path: ${script}, monitorIntervalMs: 500}`)
  await until('web on a', () => runsOn('a') === 1, 10_000)
  c.node('a').child.kill('SIGKILL')
  const worker = join(c.dir, 'pids', 'a.service')
  if (existsSync(worker)) process.kill(Number(readFileSync(worker, 'utf8')), 'SIGKILL')
  await until('web on b', () => runsOn('b') === 1, TEST_TIMING.diskDeadAfterMs + 8000)
  c.start('a')
  await until('web back on a', () => runsOn('a') === 2, 20_000)
  cli('service', 'relocate', 'web', '--to', 'c')
  await until('web on c', () => runsOn('c') === 1, 15_000)
  for (const n of c.names) await c.stop(n)
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
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify({ decisionCodeVersion: DECISION_CODE_VERSION, incident: 'service web on a; a killed, b takes over; a returns and gets web back (failback); relocated to c by command', journals: manifest }, null, 2)}\n`)
  process.stdout.write(`wrote ${outDir}\n`)
} finally {
  await c.destroy()
}
