/**
 * "Journal: crash: SIGKILL after flush": a child process appends and flushes N records,
 * then is killed with SIGKILL; reopening shows every flushed record, intact and in order.
 * While the child lives, opening its journal fails with the named "in use" error.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { JournalStore } from '../../journal/store.js'
import { heartbeatInput } from './fixtures/records.js'
import { collect, tempDir } from './fixtures/temp.js'

const FIXTURE = join(import.meta.dirname, 'fixtures', 'append-and-wait.ts')
const FLUSHED_RECORDS = 2000

async function childFlushed(dir: string): Promise<{ child: ReturnType<typeof spawn>; flushed: number }> {
  const child = spawn(process.execPath, [...process.execArgv, FIXTURE, dir, String(FLUSHED_RECORDS)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString() })
  for await (const chunk of child.stdout!) {
    out += (chunk as Buffer).toString()
    const match = /flushed (\d+)\n/.exec(out)
    if (match !== null) return { child, flushed: Number(match[1]) }
  }
  throw new Error(`child ended without flushing: ${err}`)
}

t.test('records flushed before SIGKILL survive it', async (t) => {
  const dir = join(await tempDir(t), 'j')
  const { child, flushed } = await childFlushed(dir)
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  t.equal(flushed, FLUSHED_RECORDS)
  await t.rejects(JournalStore.open(dir), { code: 'CARB_ERR_JOURNAL_OPEN', message: /in use by another process/ }, 'a live writer holds the journal')
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  const [, signal] = await exited
  t.equal(signal, 'SIGKILL')

  const store = await JournalStore.open(dir)
  const records = await collect(store.read())
  t.ok(store.lastSeq() >= FLUSHED_RECORDS, `lastSeq ${store.lastSeq()} covers the flushed records`)
  t.same(records.slice(0, FLUSHED_RECORDS).map((r) => r.seq), Array.from({ length: FLUSHED_RECORDS }, (_, i) => i + 1))
  t.same(records.map((r) => r.record), records.map((r) => heartbeatInput(r.seq)), 'every record intact')
  t.equal(store.append(heartbeatInput(store.lastSeq() + 1)), records.length + 1, 'the sequence continues')
  await store.close()
})
