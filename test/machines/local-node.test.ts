import t from 'tap'
import { localNodeMachine, reportedState } from '../../machines/local-node.js'
import type { LocalEvent } from '../../machines/events.js'
import { drive } from '../helpers/drive.js'
import { edgesTaken, machineEdges } from '../helpers/edges.js'

const input = { node: 'a', nodeId: 1, incarnation: 3, startedAt: 0, selfFenceAfterMs: 8000 }
const ok = (at: number, seq = at): LocalEvent => ({ type: 'DISK_WRITE_OK', at, seq })
const fail = (at: number): LocalEvent => ({ type: 'DISK_WRITE_FAILED', at, code: 'CARB_ERR_DISK_IO' })
const check = (at: number): LocalEvent => ({ type: 'CHECK', at })

type Row = [string, LocalEvent[], string, string[]]
const table: Row[] = [
  ['joining waits for a good write of both copies', [fail(0), fail(1000), check(20000)], 'joining', []],
  ['joining → member on the first good write', [ok(0)], 'member', ['effect.joined']],
  ['member stays member while writes succeed', [ok(0), ok(1000), check(8500), ok(8600), check(9000)], 'member', ['effect.joined']],
  ['member → out when no write completes for selfFenceAfterMs', [ok(0), fail(1000), fail(2000), check(8001)], 'out', ['effect.joined', 'effect.selfFence']],
  ['exactly at the deadline is still member', [ok(0), check(8000)], 'member', ['effect.joined']],
  ['a pause (SIGSTOP) past the deadline: the first check after it fences', [ok(0), ok(1000), check(30000), ok(30001)], 'out', ['effect.joined', 'effect.selfFence']],
  ['member → left on shutdown', [ok(0), { type: 'SHUTDOWN', at: 500 }], 'left', ['effect.joined', 'effect.leave']],
  ['joining → left on shutdown', [{ type: 'SHUTDOWN', at: 500 }], 'left', ['effect.leave']],
  ['member → out at once on a poison pill', [ok(0), { type: 'POISON_PILL', at: 100, from: 'b', action: 'off' }], 'out', ['effect.joined', 'effect.selfFence']],
  ['joining → out at once on a poison pill', [{ type: 'POISON_PILL', at: 100, from: 'b', action: 'reset' }], 'out', ['effect.selfFence']],
]

/** Runs a row's events and names the edges they took. */
function run([, events]: Row) {
  const d = drive(localNodeMachine, input)
  const edges: string[] = []
  for (const e of events) {
    edges.push(...edgesTaken(localNodeMachine, d.snapshot, e))
    d.send(e)
  }
  return { d, edges }
}

for (const row of table) {
  const [name, , state, effects] = row
  t.test(name, async (t) => {
    const { d } = run(row)
    t.equal(d.state(), state)
    t.same(d.transitions.flatMap((tr) => tr.effects.map((e) => e.type)), effects)
  })
}

t.test('with a stop reserve the node goes out that long before its deadline, to stop in time', async (t) => {
  const reserved = { ...input, stopReserveMs: 3000 }
  const d = drive(localNodeMachine, reserved)
  d.send(ok(0))
  d.send(check(5000))
  t.equal(d.state(), 'member', 'exactly at deadline - reserve: still a member')
  const tr = d.send(check(5001))
  t.equal(d.state(), 'out')
  t.match(String(tr?.effects[0]?.reason), /no completed disk write for 5001 ms \(selfFenceAfterMs 8000, stopping 3000 ms before it\)/)
})

t.test('a poison pill puts a member or a joining node out at once, naming the sender', async (t) => {
  for (const first of [[ok(0)], []] as LocalEvent[][]) {
    const d = drive(localNodeMachine, input)
    for (const e of first) d.send(e)
    const tr = d.send({ type: 'POISON_PILL', at: 100, from: 'b', action: 'off' })
    t.equal(d.state(), 'out')
    t.same(tr?.effects[0], { type: 'effect.selfFence', node: 'a', incarnation: 3, reason: 'poison pill from b (off)', pill: { from: 'b', action: 'off' } })
  }
  const left = drive(localNodeMachine, input)
  left.send({ type: 'SHUTDOWN', at: 1 })
  t.equal(left.send({ type: 'POISON_PILL', at: 2, from: 'b', action: 'off' }), null, 'a node that left ignores it')
})

t.test('every edge of the local-node machine is taken by a table row', async (t) => {
  const edges = machineEdges(localNodeMachine)
  t.equal(new Set(edges).size, edges.length, 'edge names are unique')
  const taken = new Set(table.flatMap((row) => run(row).edges))
  t.same(edges.filter((e) => !taken.has(e)), [], 'edges no row takes')
})

t.test('write errors are kept as context and named in the self-fence reason', async (t) => {
  const d = drive(localNodeMachine, input)
  d.send(ok(0))
  d.send(fail(1000))
  t.equal(d.snapshot.context.diskError, 'CARB_ERR_DISK_IO')
  const tr = d.send(check(9000))
  t.match(String(tr?.effects[0]?.reason), /no completed disk write for 9000 ms.*CARB_ERR_DISK_IO/)
})

t.test('reported state for disk and heartbeats', async (t) => {
  t.same(['joining', 'member', 'out', 'left'].map(reportedState), ['joining', 'up', 'out', 'down'])
})
