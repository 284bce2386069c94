/**
 * The dashboard model, pure: built from a status view, real decisions of a hosted machine
 * (MachineHost with the real local-node machine) and machine instances. Decisions newest
 * first with their explanation; state values as chart paths (nested and parallel); each
 * machine's last move for the chart's taken edge; fencing rows; what counts as a change. And
 * the recent-decisions ring's bound, and the pure request checks of the server.
 */
import t from 'tap'
import { dashboardModel, modelSignature } from '../../src/web/dashboard-model.js'
import { MachineHost, type Decision } from '../../src/runtime/machine-host.js'
import { RecentDecisions } from '../../src/runtime/recent-decisions.js'
import type { StatusView } from '../../src/runtime/status-view.js'
import type { FenceOpStatus } from '../../src/runtime/fence-shell.js'
import { authorize, hostAllowed, route, tokenDigest } from '../../src/web/dashboard-routes.js'

const FENCE_OP: FenceOpStatus = {
  id: 'fence:b:1#1', target: 'b', state: 'retrying', requestedBy: 'lease', reason: 'b dead', lastError: null, proof: null, cancelReason: null,
  attempts: [{ name: 'pdu', round: 2, outcome: 'failed', detail: 'exit 1' } as FenceOpStatus['attempts'][number]],
}

const status = (over: Partial<StatusView> = {}): StatusView => ({
  cluster: 'web', node: 'a', incarnation: 3, wallMs: 1_000_000, configVersion: 7, counters: {},
  members: [
    { name: 'a', id: 1, self: true, state: 'member', incarnation: 3, lastDiskWriteAgoMs: 12, diskSeq: 40, heartbeatAgoMs: [], problem: null },
    { name: 'b', id: 2, self: false, state: 'up', incarnation: 1, lastDiskWriteAgoMs: 300, diskSeq: 38, heartbeatAgoMs: [90, 95], problem: null },
  ],
  services: [{ name: 'web', index: 0, enabled: true, holder: 'a', leaseInstance: 4, localState: 'running', placement: '' }],
  fencing: [FENCE_OP],
  ...over,
})

/** Two real decisions of the local machine: joining → member, then member → out on a failed write past the deadline. */
function localDecisions(): Decision[] {
  const decisions: Decision[] = []
  let seq = 0
  const host = new MachineHost({ append: () => ++seq }, (d) => decisions.push(d))
  host.create('local#3', 'local', { node: 'a', nodeId: 1, incarnation: 3, startedAt: 0, selfFenceAfterMs: 1000, stopReserveMs: 375 }, 0)
  host.deliver('local#3', { type: 'DISK_WRITE_OK', at: 100, seq: 1 })
  host.deliver('local#3', { type: 'CHECK', at: 5000 })
  return decisions
}

t.test('decisions newest first, explained; machines as chart paths with their last move', async (t) => {
  const recent = new RecentDecisions()
  localDecisions().forEach((d, i) => recent.record(d, 2_000_000 + i))
  t.equal(recent.list().length, 2, 'both decisions taken')
  const model = dashboardModel({
    status: status(),
    decisions: recent.list(),
    machines: [
      { id: 'local#3', type: 'local', value: 'out' },
      { id: 'service:web#3', type: 'service', value: { leaving: 'stopping' } },
      { id: 'x#3', type: 'service', value: { left: { a: 'one' }, right: 'two' } },
    ],
    readOnly: true,
  })
  t.match(model, { cluster: 'web', node: 'a', incarnation: 3, configVersion: 7, readOnly: true })
  t.same(model.decisions.map((d) => [d.wallMs, d.from, d.to, d.event]), [[2_000_001, 'member', 'out', 'CHECK'], [2_000_000, 'joining', 'member', 'DISK_WRITE_OK']])
  t.match(model.decisions[1], { machine: 'local#3', type: 'local', summary: /joining → member on DISK_WRITE_OK/, evidence: Array })
  t.ok(model.decisions[0]!.evidence.length > 0, `the readings behind it: ${model.decisions[0]!.evidence.join(' | ')}`)
  t.same(model.machines.map((m) => m.paths), [['out'], ['leaving.stopping'], ['left.a.one', 'right.two']])
  t.same(model.machines[0]!.last, { from: 'member', to: 'out', event: 'CHECK' }, 'the newest move: the chart\'s taken edge')
  t.equal(model.machines[1]!.last, null, 'no remembered move')
  t.same(model.fencing, [{ id: 'fence:b:1#1', target: 'b', state: 'retrying', requestedBy: 'lease', reason: 'b dead', lastTry: 'pdu round 2: failed exit 1' }])
})

t.test('a change is anything but the clock, ages and disk sequence numbers', async (t) => {
  const model = (s: StatusView): string => modelSignature(dashboardModel({ status: s, decisions: [], machines: [], readOnly: false }))
  const first = model(status())
  const aged = status({ wallMs: 2_000_000 })
  aged.members = aged.members.map((m) => ({ ...m, lastDiskWriteAgoMs: 999, heartbeatAgoMs: m.heartbeatAgoMs.map(() => 500), diskSeq: (m.diskSeq ?? 0) + 3 }))
  t.equal(model(aged), first, 'ages, sequence numbers and the clock alone are no change')
  const suspect = status()
  suspect.members = [suspect.members[0]!, { ...suspect.members[1]!, state: 'suspect' }]
  t.not(model(suspect), first, 'a member state is')
  t.not(model(status({ services: [{ ...status().services[0]!, holder: 'b' }] })), first, 'an owner is')
  t.not(model(status({ configVersion: 8 })), first, 'a configuration version is')
})

t.test('the recent-decisions ring keeps the newest, up to its maximum, and tells its listeners', async (t) => {
  const ring = new RecentDecisions(3)
  let told = 0
  const unsubscribe = ring.subscribe(() => told++)
  const d = localDecisions()[0]!
  for (let i = 0; i < 5; i++) ring.record({ ...d, atMs: i }, i)
  t.same(ring.list().map((x) => x.atMs), [4, 3, 2])
  t.equal(told, 5)
  unsubscribe()
  ring.record(d, 9)
  t.equal(told, 5, 'unsubscribed')
})

t.test('routes, Host guard and token checks', async (t) => {
  t.same(route('GET', '/?x=1'), { kind: 'page' })
  t.same(route('POST', '/api/services/web.1/relocate'), { kind: 'action', service: 'web.1', action: 'relocate' })
  t.match(route('PUT', '/api/services/web/enable'), { status: 405, headers: { Allow: 'POST' } })
  t.match(route('GET', '/api/services/web/enable/x'), { status: 404 })
  t.match(route('POST', '/api/services/%E0%A4%A/enable'), { status: 404 })
  const listen = { host: '127.0.0.9', port: 7480 }
  for (const host of ['127.0.0.9:7480', 'localhost:7480', '[::1]:7480']) t.ok(hostAllowed(listen, host), host)
  for (const host of ['127.0.0.9:7481', 'evil.example:7480', '127.0.0.9', undefined]) t.notOk(hostAllowed(listen, host), String(host))
  t.ok(hostAllowed({ host: '0.0.0.0', port: 7480 }, 'cluster.example:7480'), 'a remote dashboard takes any name')
  const digest = tokenDigest('s3cret-token-s3cret-token-s3cret-token')
  t.equal(authorize(digest, 'Bearer s3cret-token-s3cret-token-s3cret-token'), null)
  t.match(authorize(digest, 'Bearer s3cret'), { status: 401 })
  t.match(authorize(digest, 'bearer s3cret-token-s3cret-token-s3cret-token'), { status: 401 })
  t.match(authorize(null, 'Bearer s3cret-token-s3cret-token-s3cret-token'), { status: 403 })
})

// Found by test/fuzz/control.test.ts: a request target naming an Object.prototype member
// ("toString", "constructor", "__proto__") was looked up in the route table's prototype and
// came back as a "route" that was neither a route nor a refusal.
t.test('a request target that names an object member is a 404, not a route', async (t) => {
  for (const url of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    for (const method of ['GET', 'POST']) t.match(route(method, url), { status: 404, code: 'CARB_ERR_DASHBOARD_REQUEST' }, `${method} ${url}`)
  }
})
