/** `carbonado journal export` and `carbonado replay`. */
import { configFrom, nodeNameFrom, parseFlags, requireString } from './args.js'
import { findNode } from '../config/load.js'
import { CarbError } from '../errors.js'
import { requestControl } from '../runtime/control.js'
import { writeExportFile, openJournalSource } from '../../journal/export-file.js'
import type { StoredRecord } from '../../journal/records.js'
import { replayRecords, describeDifference } from '../../journal/replay.js'
import { MACHINES, DECISION_CODE_VERSION, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'

export async function journalExport(args: string[]): Promise<number> {
  const { values } = parseFlags('journal export', args, { config: { type: 'string', short: 'c' }, node: { type: 'string', short: 'n' }, out: { type: 'string', short: 'o' } })
  const config = await configFrom('journal export', values)
  const name = nodeNameFrom('journal export', values, config)
  const out = requireString('journal export', values, 'out')
  const records: StoredRecord[] = []
  let ended = false
  for await (const line of requestControl(findNode(config, name).controlSocket, 'export', 60_000)) {
    if (line.end === true) { ended = true; break }
    records.push(line as unknown as StoredRecord)
  }
  if (!ended) throw new CarbError('CARB_ERR_CONTROL_PROTOCOL', 'export ended before its last line', findNode(config, name).controlSocket)
  await writeExportFile(out, { magic: 'carbonado-journal', v: 1, exportedAtWallMs: Date.now(), node: name, records: records.length }, records)
  process.stdout.write(`exported ${records.length} records of node ${name} to ${out}\n`)
  return 0
}

export async function replay(args: string[]): Promise<number> {
  const { values } = parseFlags('replay', args, { journal: { type: 'string', short: 'j' }, json: { type: 'boolean' } })
  const path = requireString('replay', values, 'journal')
  const source = await openJournalSource(path)
  try {
    const result = await replayRecords(source.records, MACHINES, REPLAYABLE_CODE_VERSIONS)
    const unknown = result.unknownCodeVersion
    if (unknown !== undefined) {
      throw new CarbError('CARB_ERR_JOURNAL_VERSION', `seq ${unknown.seq}: written by decision code ${unknown.version}; this build replays ${REPLAYABLE_CODE_VERSIONS.join(', ')}; use a carbonado release that knows it`, path)
    }
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify({ ...result, decisionCodeVersion: DECISION_CODE_VERSION })}\n`)
    } else if (result.ok) {
      process.stdout.write(`replay ok: ${result.records} records, ${result.inputs} inputs, ${result.transitions} transitions reproduced exactly across ${result.machines} machines (journal code ${result.codeVersions.join(', ') || '-'}, this code ${DECISION_CODE_VERSION})\n`)
    } else {
      process.stdout.write(`replay DIVERGED after ${result.transitions} matching transitions\n${describeDifference(result.difference!)}\n`)
    }
    return result.ok ? 0 : 1
  } finally {
    await source.close()
  }
}
