/**
 * Poison pills and fence notices on a real disk file: one writer per mailbox block, pills
 * obeyed only by their target's incarnation, corrupt or forged blocks never believed, the
 * primary's loss covered by the shadow.
 */
import t, { type Test } from 'tap'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { blockOffset, type Geometry } from '../../src/disk/layout.js'
import {
  mailboxReadFailure, noticesAbout, outboxProblem, pillsFor, readOutboxes, withNotice, withPill, withoutPill, writeOutbox,
  type Outbox, type OutboxRead,
} from '../../src/disk/mailbox.js'
import { CarbError } from '../../src/errors.js'
import { serviceLeaseProblem } from '../../src/disk/payloads.js'

const geometry: Geometry = { blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 }
const empty = (from: number, fromIncarnation = 1): Outbox => ({ from, fromIncarnation, messages: [], fenced: [] })
const pill = (to: number, incarnation: number) => ({ to, incarnation, action: 'off' as const, sentWallMs: 1_700_000_000_000 })
const notice = (node: number, incarnation: number | null) => ({ node, incarnation, method: 'fence_kill', detail: 'exit 0', wallMs: 1_700_000_000_000 })

async function disk(t: Test): Promise<{ path: string; open: () => Promise<QuorumDisk> }> {
  const dir = t.testdir({})
  const path = join(dir, 'quorum.disk')
  await QuorumDisk.init(path, { clusterName: 'web', geometry })
  const opened: QuorumDisk[] = []
  t.teardown(async () => { for (const d of opened) await d.close() })
  return { path, open: async () => { const d = await QuorumDisk.open(path, { expectClusterName: 'web' }); opened.push(d); return d } }
}

t.test('outbox shape: every field checked, writer must match', async (t) => {
  const good = { v: 1, ...withNotice(withPill(empty(2), pill(1, 3)), notice(3, 4)) }
  t.equal(outboxProblem(good, 2), undefined)
  const rows: [string, unknown, RegExp][] = [
    ['not a map', [1], /not a map/],
    ['other version', { ...good, v: 2 }, /version 2/],
    ['forged sender', good, /differs from the block's writer 3/],
    ['message to node 0', { ...good, messages: [pill(0, 1)] }, /"to" 0/],
    ['incarnation 0', { ...good, messages: [pill(1, 0)] }, /incarnation 0/],
    ['unknown action', { ...good, messages: [{ ...pill(1, 1), action: 'dance' }] }, /action dance/],
    ['two pills for one node', { ...good, messages: [pill(1, 1), pill(1, 2)] }, /names one node twice/],
    ['notice with a bad incarnation', { ...good, fenced: [notice(3, 0)] }, /notice 0 incarnation 0/],
    ['notice without a method', { ...good, fenced: [{ ...notice(3, 1), method: '' }] }, /method/],
    ['no fenced list', { ...good, fenced: undefined }, /fence notices is not a list/],
  ]
  for (const [name, payload, expected] of rows) t.match(outboxProblem(payload, name === 'forged sender' ? 3 : 2), expected, name)
})

t.test('pure edits: one pill and one notice per target, the newest wins', async (t) => {
  let box = withPill(withPill(empty(1), pill(2, 3)), pill(2, 4))
  t.same(box.messages.map((m) => m.incarnation), [4])
  box = withoutPill(withPill(box, pill(3, 1)), 2)
  t.same(box.messages.map((m) => m.to), [3])
  box = withNotice(withNotice(box, notice(2, 3)), notice(2, 5))
  t.same(box.fenced.map((n) => n.incarnation), [5])
})

t.test('a pill written by one node reaches its target incarnation only', async (t) => {
  const { open } = await disk(t)
  const sender = await open()
  const reader = await open()
  await writeOutbox(sender, 2, withNotice(withPill(empty(2, 7), pill(1, 3)), notice(3, 9)))
  const reads = await readOutboxes(reader)
  t.equal(reads.length, 4, 'one entry per node slot')
  t.match(reads[1], { from: 2, ok: true, outbox: { fromIncarnation: 7 } })
  t.same(pillsFor(reads, 1, 3).map((p) => [p.from, p.message.action]), [[2, 'off']], 'node 1 as incarnation 3 is told')
  t.same(pillsFor(reads, 1, 4), [], 'node 1 restarted as incarnation 4 is not stopped by the old pill')
  t.same(pillsFor(reads, 3, 3), [], 'another node is not concerned')
  t.same(pillsFor(reads, 2, 3), [], 'a node never obeys its own outbox')
  t.same(noticesAbout(reads, 1, 3).map((n) => [n.from, n.notice.incarnation]), [[2, 9]])
  t.same(noticesAbout(reads, 2, 3), [], 'a node does not read its own notices back as news')
  t.equal(reads[0]?.ok, false, 'a never-written mailbox is not ok')
  t.equal(mailboxReadFailure(reads), null, 'never-written blocks are no failure of the reader')
})

t.test('writing another node\'s mailbox, or a bad outbox, is refused and writes nothing', async (t) => {
  const { open } = await disk(t)
  const d = await open()
  await t.rejects(writeOutbox(d, 1, empty(2)), /may write only its own mailbox/)
  await t.rejects(writeOutbox(d, 1, withPill(empty(1), pill(0, 1))), /refusing to write a bad mailbox: mailbox message 0 "to" 0/)
  const reads = await readOutboxes(d)
  t.ok(reads.every((r) => !r.ok && r.empty), 'every mailbox still never written')
})

t.test('a corrupt primary is read from the shadow; both corrupt is unreadable, never believed', async (t) => {
  const { path, open } = await disk(t)
  const d = await open()
  await writeOutbox(d, 2, withPill(empty(2), pill(1, 1)))
  const flip = async (copy: 0 | 1): Promise<void> => {
    const at = blockOffset(geometry, copy, 'mailbox', 2) + 40
    const h = await fs.open(path, 'r+')
    const b = Buffer.alloc(1)
    await h.read(b, 0, 1, at)
    b[0] = b[0]! ^ 0xff
    await h.write(b, 0, 1, at)
    await h.close()
  }
  await flip(0)
  const reader = await open()
  t.equal(pillsFor(await readOutboxes(reader), 1, 1).length, 1, 'the shadow copy carries the pill')
  await flip(1)
  const reads = await readOutboxes(await open())
  const bad = reads[1] as Extract<OutboxRead, { ok: false }>
  t.equal(bad.ok, false)
  t.equal(bad.empty, false)
  t.equal(bad.error.code, 'CARB_ERR_DISK_BAD_CRC', bad.error.oneLine())
  t.same(pillsFor(reads, 1, 1), [], 'a corrupt block carries no pill')
  t.equal(mailboxReadFailure(reads), null, 'a corrupt block is the writer\'s problem, not a failed read')
})

t.test('an I/O failure of the reader is reported as its own disk trouble', async (t) => {
  const ioFailed: OutboxRead = { from: 3, ok: false, empty: false, error: new CarbError('CARB_ERR_DISK_IO', 'EIO') }
  const corrupt: OutboxRead = { from: 2, ok: false, empty: false, error: new CarbError('CARB_ERR_DISK_BAD_CRC', 'bad') }
  t.equal(mailboxReadFailure([corrupt, ioFailed]), 'CARB_ERR_DISK_IO')
  t.equal(mailboxReadFailure([corrupt]), null)
})

t.test('a payload of the wrong shape in a well-formed block is unreadable with a named error', async (t) => {
  const { open } = await disk(t)
  const d = await open()
  await d.writeBlock('mailbox', 3, 3, { v: 1, from: 3, fromIncarnation: 1, messages: [{ to: 1, incarnation: 1, action: 'reboot-now', sentWallMs: 0 }], fenced: [] })
  const reads = await readOutboxes(d)
  t.match(reads[2], { ok: false, empty: false, error: { code: 'CARB_ERR_DISK_BAD_PAYLOAD' } })
  t.same(pillsFor(reads, 1, 1), [], 'never obeyed')
})

// Found by test/fuzz/disk-blocks.test.ts: naming a bad field with String() threw on a map with a `toString` key.
t.test('an outbox field that cannot be printed is refused by name, never thrown', async (t) => {
  const hostile = { toString: 1 }
  t.match(outboxProblem({ v: hostile, from: 2, fromIncarnation: 1, messages: [], fenced: [] }, 2), /version \[object Object\]/)
  t.match(outboxProblem({ v: 1, from: 2, fromIncarnation: 1, messages: [{ to: hostile, incarnation: 1, action: 'off', sentWallMs: 1 }], fenced: [] }, 2), /"to" \[object Object\]/)
  t.match(serviceLeaseProblem({ holder: 0, incarnation: 0, failedOn: [hostile] }), /failedOn \[\[object Object\]\]/)
})
