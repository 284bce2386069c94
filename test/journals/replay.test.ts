/**
 * STYLE.md §7: old journals keep replaying. Every sample journal checked in under
 * test/journals/<decision code version>/ (made by make-sample.ts from real processes) must
 * reproduce, with this build, exactly the decisions its manifest recorded.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readExportFile } from '../../journal/export-file.js'
import { replayRecords } from '../../journal/replay.js'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'

interface Manifest { decisionCodeVersion: string; journals: Record<string, { records: number; inputs: number; transitions: number; machines: number }> }

const versions = readdirSync(import.meta.dirname, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)

t.ok(versions.length >= 1, `sample journals are checked in (${versions.join(', ')})`)
for (const version of versions) {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, version, 'manifest.json'), 'utf8')) as Manifest
  for (const [node, expected] of Object.entries(manifest.journals)) {
    t.test(`${version}/${node}.journal replays as recorded`, async (t) => {
      const { records } = await readExportFile(join(import.meta.dirname, version, `${node}.journal`))
      const result = await replayRecords(records, MACHINES, REPLAYABLE_CODE_VERSIONS)
      t.ok(result.ok, result.ok ? 'reproduced' : JSON.stringify(result.difference))
      t.same({ records: result.records, inputs: result.inputs, transitions: result.transitions, machines: result.machines }, expected)
      t.ok(result.transitions > 0, 'the sample holds decisions')
    })
  }
}

// Found by test/fuzz/journal.test.ts: a recorded transition holding a u64 (msgpack decodes it as
// a BigInt) made replay's comparison throw a TypeError instead of reporting a difference.
t.test('a BigInt in a recorded transition or input is a difference, never a crash', async (t) => {
  const { describeDifference } = await import('../../journal/replay.js')
  const { records } = await readExportFile(join(import.meta.dirname, versions[0]!, `${Object.keys((JSON.parse(readFileSync(join(import.meta.dirname, versions[0]!, 'manifest.json'), 'utf8')) as Manifest).journals)[0]}.journal`))
  const at = records.findIndex((r) => r.record.t === 'transition')
  const changed = records.map((r, i) => (i === at ? { ...r, record: { ...r.record, to: 1n << 63n } } : r)) as typeof records
  const result = await replayRecords(changed, MACHINES, REPLAYABLE_CODE_VERSIONS)
  t.notOk(result.ok, 'the difference is reported')
  t.match(describeDifference({ ...result.difference!, input: { type: 'X', at: 1n } }), /"1n"/)
})

// Found by test/fuzz/journal.test.ts: a create record whose input lacks its fields (or an input
// without its fields) made a machine throw a TypeError out of replay; a `create` of type "constructor" picked
// Object from the registry. Both are now the reported difference at that record.
t.test('an input the machines cannot take, or an unknown machine type, is a difference, never a crash', async (t) => {
  const { records } = await readExportFile(join(import.meta.dirname, 'membership-2', 'a.journal'))
  const messages = new Set<string>()
  for (const [i, r] of records.entries()) {
    if (r.record.t !== 'input' && r.record.t !== 'create') continue
    const damaged = r.record.t === 'input' ? { ...r.record, e: { type: r.record.e.type, at: r.record.e.at } } : { ...r.record, input: {} }
    const stripped = records.map((s, j) => (i === j ? { ...s, record: damaged } : s)) as typeof records
    const result = await replayRecords(stripped, MACHINES, REPLAYABLE_CODE_VERSIONS)
    if (!result.ok) messages.add(result.difference!.message)
  }
  t.ok([...messages].some((m) => /^the machine threw on this input \(/.test(m)), 'a machine input without its fields is reported as the machine throwing')
  const create = records.findIndex((r) => r.record.t === 'create')
  const foreign = records.map((r, i) => (i === create ? { ...r, record: { ...r.record, type: 'constructor' } } : r)) as typeof records
  t.match((await replayRecords(foreign, MACHINES, REPLAYABLE_CODE_VERSIONS)).difference, { message: 'unknown machine type "constructor"' })
})
