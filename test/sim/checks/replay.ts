/**
 * Safety rule 5: every node's journal replays exactly. Fresh machines fold the recorded
 * inputs and must produce every recorded transition (journal/replay.ts), across every
 * incarnation the machine's daemons had, crashes included.
 */
import { JournalStore, type JournalDb } from '../../../journal/store.js'
import { describeDifference, replayRecords } from '../../../journal/replay.js'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../../machines/registry.js'
import type { StoredRecord } from '../../../journal/records.js'
import { verdict, type Verdict } from './verdict.js'

export async function readJournal(name: string, db: JournalDb): Promise<StoredRecord[]> {
  await db.open()
  const store = await JournalStore.openOn(name, db)
  const records: StoredRecord[] = []
  for await (const r of store.read()) records.push(r)
  return records
}

export async function checkReplay(journals: ReadonlyMap<string, readonly StoredRecord[]>): Promise<Verdict> {
  const problems: string[] = []
  let empty = 0
  for (const [name, records] of journals) {
    if (records.length === 0) { empty++; continue }
    const result = await replayRecords(records, MACHINES, REPLAYABLE_CODE_VERSIONS)
    if (!result.ok) problems.push(`journal of ${name} (${result.records} records): ${result.difference !== undefined ? describeDifference(result.difference) : `unknown code version ${result.unknownCodeVersion?.version}`}`)
  }
  return verdict('replay', problems, empty === journals.size)
}
