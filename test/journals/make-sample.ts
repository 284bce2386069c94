/**
 * Produces the sample journals under test/journals/<decision code version>/ from real
 * `carbonado node run` processes (run after `npm run build`, as root):
 *
 *   node dist/test/journals/make-sample.js
 *
 * It writes the incident of the current decision-code version only; samples of older versions
 * are never rewritten (membership-1: c SIGKILLed; a SIGSTOPped past its deadline, self-fenced,
 * rejoined as incarnation 2. services-1: web on a; a killed, b takes over; a returns and gets
 * web back; relocated to c by command. Both came from this file's earlier revisions).
 *
 * fencing-1: three nodes, each a "machine" (a PID namespace) whose fencing topology is a
 * power switch that fails (it always answers "failed") then the project's stand-in power
 * switch (fence_kill, a power cut). Service web (domain a, b, c; an LSB script) starts on a;
 * a's daemon is frozen (SIGSTOP) while its service keeps running; b counts a dead, fences it
 * (first method fails, second cuts a's machine) and takes web over on the "fenced" proof;
 * a's machine is powered back on and gets web back (failback); everyone stops cleanly. Each
 * node's journal is exported with a manifest of what replay reproduced at the time;
 * replay.test.ts holds every later build to it. membership-2 is the same incident run by that
 * version (peer machines created with `leavesAfterOut`).
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TestCluster, TEST_TIMING, runCli } from '../helpers/cluster.js'
import { readRuns } from '../helpers/witness.js'
import { FAILING_AGENT, PDU_AGENT, startSwitch } from '../helpers/power-switch.js'
import { openJournalSource, writeExportFile } from '../../journal/export-file.js'
import type { StoredRecord } from '../../journal/records.js'
import { replayRecords } from '../../journal/replay.js'
import { DECISION_CODE_VERSION, MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'

/** The sample's directory: the decision-code version, or a name given (a sample of the same code with a new journal feature). */
const outDir = join(import.meta.dirname, '../../../test/journals', process.argv[2] ?? DECISION_CODE_VERSION)
const fixtures = join(import.meta.dirname, '../../../test')
// The power switch stands outside every machine (test/helpers/power-switch.ts); each node's
// topology is a switch that cannot be reached, then the working one.
const sw = await startSwitch()
const c = await TestCluster.create(['a', 'b', 'c'], {
  machines: true,
  topLevel: () => ['fencing: { retryBaseMs: 500, retryMaxMs: 1000, roundsMax: 3 }'],
  nodeLines: () => [
    'fence:',
    `  - { method: agent, name: broken-pdu, agent: ${FAILING_AGENT}, timeoutMs: 5000 }`,
    `  - { method: agent, name: pdu, agent: ${PDU_AGENT}, params: { ipaddr: 127.0.0.1, ipport: ${sw.port} }, timeoutMs: 10000 }`,
  ],
})
sw.piddir = c.plugDir
try {
  const script = join(c.dir, 'witness-service.sh')
  await writeFile(script, (await readFile(join(fixtures, 'integration/fixtures/witness-service.sh'), 'utf8')).replace('WITNESS_DIR', c.dir))
  await chmod(script, 0o755)
  const runsOn = (node: string): number => readRuns(join(c.dir, 'witness.log')).filter((r) => r.node === node).length
  const until = async (what: string, done: () => boolean, timeoutMs: number): Promise<void> => {
    for (const deadline = Date.now() + timeoutMs; !done(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; b said:\n${c.node("b").raw.filter((l) => !l.includes("\"machine\":\"peer")).slice(-12).join("\n")}`)
  }
  const cli = (...args: string[]): void => {
    const r = runCli([...args, '-c', c.file, '--node', 'b'])
    if (r.code !== 0) throw new Error(`carbonado ${args.join(' ')}: ${r.stderr}`)
  }
  c.startAll()
  for (const o of c.names) for (const p of c.names) if (o !== p) await c.waitPeer(o, p, 'up', 15_000)
  cli('service', 'add', 'web', '--domain', 'a,b,c', '--failback-stable-ms', '1000', '--resource', `{type: script, name: app, path: ${script}, monitorIntervalMs: 500}`)
  await until('web on a', () => runsOn('a') === 1, 10_000)
  const frozen = c.nodePid('a')
  if (frozen === null) throw new Error('no node process for a')
  process.kill(frozen, 'SIGSTOP')
  await until('web on b', () => runsOn('b') === 1, TEST_TIMING.diskDeadAfterMs + 20_000)
  await c.node('a').exited
  c.start('a')
  await until('web back on a', () => runsOn('a') === 2, 30_000)
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
  const incident = 'web on a; a frozen (SIGSTOP) with its service running; b fences a (a failing switch, then a power cut) and takes web over on the fenced proof; a powered back on gets web back (failback)'
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify({ decisionCodeVersion: DECISION_CODE_VERSION, incident, journals: manifest }, null, 2)}\n`)
  process.stdout.write(`wrote ${outDir}\n`)
} finally {
  await c.destroy()
  await sw.close()
}
