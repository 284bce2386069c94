/** `carbonado journal export` (replay is in replay.ts). */
import { configFrom, nodeNameFrom, parseFlags, requireString } from './args.js'
import { findNode } from '../config/load.js'
import { CarbError } from '../errors.js'
import { requestControl } from '../runtime/control.js'
import { writeExportFile } from '../../journal/export-file.js'
import type { StoredRecord } from '../../journal/records.js'

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
