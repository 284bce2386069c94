/**
 * `replay --explain` on the journals of scenario runs (the simulator is deterministic, so the
 * explanation is too): each explained timeline must equal its checked-in transcript
 * (test/scenarios/NAME.explain; refresh with CARB_REWRITE=1 and read the diff), and the
 * decisions an incident review asks about must carry the evidence that caused them.
 */
import '../sim/low-priority.js'
import t, { type Test } from 'tap'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { packageRoot } from '../helpers/cluster.js'
import { runScenario } from '../sim/scenario.js'
import { explainSources, type Explanation, type ExplainedDecision } from '../../journal/explain.js'
import { filterDecisions } from '../../journal/explain-filter.js'
import { explainColumns, orderNote } from '../../src/cli/explain-text.js'
import type { StoredRecord } from '../../journal/records.js'

const dir = join(packageRoot(import.meta.dirname), 'test/scenarios')
const REWRITE = process.env.CARB_REWRITE === '1'

async function explainScenario(name: string): Promise<Explanation> {
  const result = await runScenario(await readFile(join(dir, `${name}.scenario`), 'utf8'), `test/scenarios/${name}.scenario`)
  if (result.failures.length > 0) throw new Error(`scenario ${name} failed: ${result.failures.join('; ')}`)
  const names = [...result.journals.keys()].sort()
  const sources = names.map((n) => ({ records: result.journals.get(n) as StoredRecord[], count: result.journals.get(n)!.length, close: async () => {} }))
  return explainSources(names, sources)
}

async function matchTranscript(t: Test, name: string, e: Explanation): Promise<void> {
  const text = `${orderNote(e)}\n${explainColumns(filterDecisions(e.decisions, { decisionsOnly: true }), e.nodes, 200)}\n`
  const path = join(dir, `${name}.explain`)
  if (REWRITE) await writeFile(path, text)
  t.equal(text, await readFile(path, 'utf8'), `the explanation is the checked-in test/scenarios/${name}.explain`)
}

const find = (e: Explanation, node: string, pattern: RegExp): ExplainedDecision | undefined => e.decisions.find((d) => d.node === node && pattern.test(d.summary))
const indexOf = (e: Explanation, d: ExplainedDecision | undefined): number => (d === undefined ? -1 : e.decisions.indexOf(d))

t.test('poison pill: the pill, the stop it caused, and the takeover it proved, in causal order', async (t) => {
  const e = await explainScenario('poison-pill')
  t.equal(e.order, 'hybrid-clock')
  t.ok(e.journals.every((j) => j.replay.ok && j.stamped), 'every journal replays and carries clock stamps')
  const fence = find(e, 'b', /^fence a: .*fence a with poison-pill/)
  const out = find(e, 'a', /^node a: member → out on POISON_PILL \(from b\)/)
  const left = find(e, 'b', /^peer a: .* → left on DISK_STATUS \(says down\)/)
  const take = find(e, 'b', /^service web: acquiring → starting on LEASE_ACQUIRED/)
  t.ok(fence && out && left && take, 'each step is explained')
  t.match(out?.evidence ?? [], [/^poison pill from b read from the quorum disk \(off\)$/])
  t.ok(indexOf(e, fence) < indexOf(e, out), 'the pill is sent before it is read')
  t.ok(indexOf(e, out) < indexOf(e, left) && indexOf(e, left) < indexOf(e, take), 'a stops and writes "down" before b takes over')
  t.match(take?.evidence.join('\n'), /lease acquired \(version \d+\), proof: .*left cleanly|proof: .*pill/)
  await matchTranscript(t, 'poison-pill', e)
})

t.test('resource recover: each monitor failure, its restart, and the move when restarts run out', async (t) => {
  const e = await explainScenario('resource-recover')
  const failures = e.decisions.filter((d) => d.node === 'a' && d.type === 'service' && d.event === 'AGENT_DONE' && d.input.op === 'monitor' && d.input.outcome !== 'ok')
  t.equal(failures.length, 3, 'three monitor failures on a')
  for (const d of failures) t.match(d.evidence[0], /^agent result: monitor of resource 0 not-running/)
  t.match(failures.map((d) => d.evidence.find((l) => l.startsWith('recovery:'))), [/0 of 2 restarts used/, /1 of 2 restarts used/, /2 of 2 restarts used/])
  const moved = find(e, 'b', /^service web: acquiring → starting/)
  t.ok(moved !== undefined && indexOf(e, moved) > indexOf(e, failures[2]), 'b starts web after the third failure on a')
  await matchTranscript(t, 'resource-recover', e)
})

t.test('disk tie-breaker: suspect on heartbeats alone never becomes dead while the disk is written', async (t) => {
  const e = await explainScenario('disk-tiebreaker')
  const dead = e.decisions.filter((d) => d.type === 'peer' && d.to === 'dead')
  t.ok(dead.length >= 1, 'a is declared dead once its disk path is gone')
  for (const d of dead) {
    const disk = d.evidence.find((l) => l.startsWith('disk: '))
    const silence = Number(/last new write seen (\d+) ms before/.exec(disk ?? '')?.[1])
    t.ok(silence > 1500, `dead only after the disk was silent past diskDeadAfterMs (${disk})`)
  }
  await matchTranscript(t, 'disk-tiebreaker', e)
})
