import t, { type Test } from 'tap'
import { serviceMachine, type ServiceContext, type ServiceInput } from '../../machines/service.js'
import type { AgentOp, AgentOutcome, RecoveryDefinition, ServiceEvent } from '../../machines/service-events.js'
import { step, type PlainEvent } from '../../machines/step.js'
import { drive, type Drive } from '../helpers/drive.js'
import { seeded } from '../helpers/random.js'
import { RESTARTS_MAX, tryRestart } from '../../machines/restart-budget.js'

const resources = [
  { name: 'fs', monitorIntervalMs: 10000 },
  { name: 'ip', monitorIntervalMs: 5000 },
  { name: 'httpd', monitorIntervalMs: 20000 },
]
const recovery: RecoveryDefinition = { policy: 'restart-then-relocate', maxRestarts: 2, windowMs: 60000 }
const base: ServiceInput = { service: 'web', node: 'a', nodeId: 1, incarnation: 1, startedAt: 0, resources, recovery, enabled: true }
const withRecovery = (r: Partial<RecoveryDefinition>): ServiceInput => ({ ...base, recovery: { ...recovery, ...r } })

// Inputs, named for reading rows aloud.
const place = (at: number, owner: string | null = 'a'): ServiceEvent => ({ type: 'PLACE', at, owner, reason: owner === null ? 'none' : `${owner} placed` })
const acquired = (at: number, lver = 1): ServiceEvent => ({ type: 'LEASE_ACQUIRED', at, lver })
const refused = (at: number): ServiceEvent => ({ type: 'LEASE_REFUSED', at, holder: 'b', reason: 'ballot lost' })
const released = (at: number, lver = 1): ServiceEvent => ({ type: 'LEASE_RELEASED', at, lver })
const releaseFailed = (at: number): ServiceEvent => ({ type: 'LEASE_RELEASE_FAILED', at, reason: 'CARB_ERR_DISK_IO' })
const lost = (at: number): ServiceEvent => ({ type: 'LEASE_LOST', at, holder: 'b', reason: 'lease version 7 held by b' })
const done = (at: number, op: AgentOp, resource: number, outcome: AgentOutcome = 'ok'): ServiceEvent => ({ type: 'AGENT_DONE', at, op, resource, outcome, detail: outcome === 'ok' ? '' : 'exit 1' })
const start = (at: number, r: number, outcome?: AgentOutcome) => done(at, 'start', r, outcome)
const stop = (at: number, r: number, outcome?: AgentOutcome) => done(at, 'stop', r, outcome)
const monitor = (at: number, r: number, outcome?: AgentOutcome) => done(at, 'monitor', r, outcome)
const check = (at: number): ServiceEvent => ({ type: 'CHECK', at })
const admin = (type: 'ENABLE' | 'DISABLE' | 'RESTART' | 'SHUTDOWN', at: number): ServiceEvent => ({ type, at })
const configure = (at: number, over: Partial<{ resources: typeof resources; recovery: RecoveryDefinition; enabled: boolean }>): ServiceEvent => ({ type: 'CONFIGURE', at, resources, recovery, enabled: true, ...over })

/** Effects as short words: `acquire`, `release`, `release!` (failedHere), `start 0`, `stop 2`, `monitor 1`, `escalate`, `disable`. */
function word(e: PlainEvent): string {
  switch (e.type) {
    case 'effect.acquireLease': return 'acquire'
    case 'effect.releaseLease': return e.failedHere === true ? 'release!' : 'release'
    case 'effect.agent': return `${String(e.op)} ${String(e.resource)}`
    case 'effect.escalate': return 'escalate'
    case 'effect.disableService': return 'disable'
    default: return e.type
  }
}

// Events that bring the service up: acquire at 10, resources started at 20, 30, 40 (monitors due fs 10020, ip 5030, httpd 20040).
const UP: ServiceEvent[] = [place(0), acquired(10), start(20, 0), start(30, 1), start(40, 2)]
const UP_EFFECTS = ['acquire', 'start 0', 'start 1', 'start 2']
/** Stop all three in reverse, from `at`. */
const stopAll = (at: number): ServiceEvent[] => [stop(at, 2), stop(at + 1, 1), stop(at + 2, 0)]
const STOP_EFFECTS = ['stop 2', 'stop 1', 'stop 0']
/** A monitor failure of ip at `at` and its recovery stop. */
const ipDies = (at: number): ServiceEvent[] => [check(at), monitor(at + 1, 1, 'not-running'), ...stopAll(at + 2)]
const restartAt = (at: number): ServiceEvent[] => [start(at, 0), start(at + 1, 1), start(at + 2, 2)]

function run(input: ServiceInput, events: ServiceEvent[]): Drive {
  const d = drive(serviceMachine, input)
  for (const e of events) d.send(e as PlainEvent)
  return d
}
const effectsOf = (d: Drive, from = 0) => d.transitions.slice(from).flatMap((tr) => tr.effects.map(word))
const ctx = (d: Drive) => d.snapshot.context as ServiceContext

// Every transition of the service machine: [name, input, prefix, events after it, expected state, expected effects after the prefix]
type Row = [string, ServiceInput, ServiceEvent[], ServiceEvent[], string, string[]]
const table: Row[] = [
  // stopped, disabled
  ['created enabled: stopped, waiting for placement', base, [], [], 'stopped', []],
  ['created disabled: disabled', { ...base, enabled: false }, [], [], 'disabled', []],
  ['stopped: placement elsewhere changes nothing', base, [], [place(0, 'b'), place(5, null)], 'stopped', []],
  ['stopped → acquiring when placed here', base, [], [place(0)], 'acquiring', ['acquire']],
  ['stopped → disabled on DISABLE; PLACE here is not obeyed', base, [], [admin('DISABLE', 0), place(5)], 'disabled', []],
  ['disabled → stopped on ENABLE; the next PLACE decides', { ...base, enabled: false }, [], [place(0), admin('ENABLE', 5)], 'acquiring', ['acquire']],
  ['disabled → stopped on ENABLE with no placement here', { ...base, enabled: false }, [], [admin('ENABLE', 5)], 'stopped', []],
  ['CONFIGURE enabled:false in stopped → disabled', base, [], [configure(0, { enabled: false })], 'disabled', []],
  // acquiring
  ['full start in resource order → running', base, [], UP, 'running', UP_EFFECTS],
  ['LEASE_REFUSED → stopped; the next PLACE here retries', base, [place(0)], [refused(5), place(10)], 'acquiring', ['acquire']],
  ['LEASE_REFUSED → stopped', base, [place(0)], [refused(5)], 'stopped', []],
  ['placement moves away while acquiring: the late LEASE_ACQUIRED is released', base, [place(0)], [place(5, 'b'), acquired(10), released(20)], 'stopped', ['release']],
  ['DISABLE while acquiring: acquired lease is released, then disabled', base, [place(0)], [admin('DISABLE', 5), acquired(10), released(20)], 'disabled', ['release']],
  ['SHUTDOWN while acquiring: acquired lease is released, then left', base, [place(0)], [admin('SHUTDOWN', 5), acquired(10), released(20)], 'left', ['release']],
  ['LEASE_LOST while acquiring: the request in flight decides; refused → stopped', base, [place(0)], [lost(5), refused(10)], 'stopped', []],
  ['LEASE_LOST while acquiring: a later LEASE_ACQUIRED is released, nothing starts', base, [place(0)], [lost(5), acquired(10)], 'releasing', ['release']],
  ['a LEASE_ACQUIRED nobody asked for in stopped is released at once', base, [], [acquired(10)], 'releasing', ['release']],
  ['a LEASE_ACQUIRED nobody asked for in disabled is released at once', { ...base, enabled: false }, [], [acquired(10), released(20)], 'disabled', ['release']],
  // starting
  ['start failure: stop what started (and the failed one) in reverse, then restart', base, [place(0), acquired(10), start(20, 0)], [start(30, 1, 'failed'), stop(40, 1), stop(50, 0)], 'starting', ['stop 1', 'stop 0', 'start 0']],
  ['start failures past the budget → relocate (release, failed here)', base, [place(0), acquired(10)],
    [start(20, 0, 'timeout'), stop(21, 0), start(30, 0, 'failed'), stop(31, 0), start(40, 0, 'failed'), stop(41, 0), released(50)], 'stopped',
    ['stop 0', 'start 0', 'stop 0', 'start 0', 'stop 0', 'release!']],
  ['misconfigured start: no retry here → relocate', base, [place(0), acquired(10), start(20, 0)], [start(30, 1, 'misconfigured'), stop(31, 1), stop(32, 0)], 'releasing', ['stop 1', 'stop 0', 'release!']],
  ['misconfigured start under policy disable → disabled cluster-wide', withRecovery({ policy: 'disable' }), [place(0), acquired(10)], [start(20, 0, 'misconfigured'), stop(21, 0), released(30)], 'disabled', ['stop 0', 'disable', 'release!']],
  ['start "not-running" is a failure', base, [place(0), acquired(10)], [start(20, 0, 'not-running')], 'recovering', ['stop 0']],
  ['placement moves away while starting: the start in flight finishes, then stop', base, [place(0), acquired(10)], [place(15, 'b'), start(20, 0), stop(30, 0), released(40)], 'stopped', ['stop 0', 'release']],
  ['LEASE_LOST while a start is in flight: it finishes, then stop all, no release', base, [place(0), acquired(10), start(20, 0)], [lost(25), start(30, 1), stop(40, 1), stop(50, 0)], 'stopped', ['stop 1', 'stop 0']],
  // running: monitors
  ['running: CHECK before any monitor is due does nothing', base, UP, [check(5000)], 'running', []],
  ['running: CHECK asks the monitor that is due', base, UP, [check(6000)], 'running', ['monitor 1']],
  ['running: one monitor at a time, rescheduled from its end', base, UP, [check(6000), check(6005), monitor(6010, 1), check(7000), check(10100)], 'running', ['monitor 1', 'monitor 0']],
  ['running: monitors due together run one after the other, most overdue first', base, UP, [check(21000), monitor(21001, 1), monitor(21002, 0), monitor(21003, 2), check(21004)], 'running', ['monitor 1', 'monitor 0', 'monitor 2']],
  ['monitor failure → recovering: stop all in reverse, restart, running again', base, UP, [...ipDies(6000), ...restartAt(6100)], 'running', ['monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2']],
  ['monitor failures past the budget → relocate', base, UP,
    [...ipDies(6000), ...restartAt(6100), ...ipDies(12000), ...restartAt(12100), ...ipDies(18000), released(18100)], 'stopped',
    ['monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2', 'monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2', 'monitor 1', ...STOP_EFFECTS, 'release!']],
  ['the window expiring re-allows restarts', base, UP,
    [...ipDies(6000), ...restartAt(6100), ...ipDies(12000), ...restartAt(12100), ...ipDies(66010)], 'starting',
    ['monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2', 'monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2', 'monitor 1', ...STOP_EFFECTS, 'start 0']],
  ['restarts less than windowMs ago still count', base, UP,
    [...ipDies(6000), ...restartAt(6100), ...ipDies(12000), ...restartAt(12100), ...ipDies(65990)], 'releasing',
    ['monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2', 'monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2', 'monitor 1', ...STOP_EFFECTS, 'release!']],
  ['policy relocate: the first failure relocates', withRecovery({ policy: 'relocate' }), UP, [...ipDies(6000)], 'releasing', ['monitor 1', ...STOP_EFFECTS, 'release!']],
  ['policy disable: budget exhausted → disable cluster-wide, release, disabled', withRecovery({ policy: 'disable', maxRestarts: 1 }), UP,
    [...ipDies(6000), ...restartAt(6100), ...ipDies(12000), released(12100)], 'disabled',
    ['monitor 1', ...STOP_EFFECTS, 'start 0', 'start 1', 'start 2', 'monitor 1', ...STOP_EFFECTS, 'disable', 'release!']],
  // running: placement, admin
  ['placement moves away (failback, relocation): stop in reverse, release, stopped', base, UP, [place(100, 'b'), ...stopAll(110), released(120)], 'stopped', [...STOP_EFFECTS, 'release']],
  ['stop of an already stopped resource ("not-running") counts as success', base, UP, [place(100, 'b'), stop(110, 2, 'not-running'), stop(111, 1, 'not-running'), stop(112, 0)], 'releasing', [...STOP_EFFECTS, 'release']],
  ['placement moves away during a monitor: it finishes, then stop', base, UP, [check(6000), place(6001, 'b'), monitor(6002, 1), ...stopAll(6010)], 'releasing', ['monitor 1', ...STOP_EFFECTS, 'release']],
  ['placement comes back during the stop: start again without release', base, UP, [place(100, 'b'), stop(110, 2), place(111), stop(112, 1), stop(113, 0)], 'starting', [...STOP_EFFECTS, 'start 0']],
  ['placement comes back during the release: the verdict is forgotten, the next PLACE after it acquires', base, UP, [place(100, 'b'), ...stopAll(110), place(115), released(120)], 'stopped', [...STOP_EFFECTS, 'release']],
  ['placement comes back during the release, then a PLACE after it: acquire', base, UP, [place(100, 'b'), ...stopAll(110), place(115), released(120), place(130)], 'acquiring', [...STOP_EFFECTS, 'release', 'acquire']],
  ['DISABLE in running: stop, release, disabled', base, UP, [admin('DISABLE', 100), ...stopAll(110), released(120)], 'disabled', [...STOP_EFFECTS, 'release']],
  ['CONFIGURE enabled:false in running: stop, release, disabled', base, UP, [configure(100, { enabled: false }), ...stopAll(110), released(120)], 'disabled', [...STOP_EFFECTS, 'release']],
  ['RESTART: stop all, start all, not counted', withRecovery({ maxRestarts: 0 }), UP, [admin('RESTART', 100), admin('RESTART', 101), ...stopAll(110), ...restartAt(120)], 'running', [...STOP_EFFECTS, 'start 0', 'start 1', 'start 2']],
  ['RESTART when not running is refused', base, [], [admin('RESTART', 0)], 'stopped', []],
  ['SHUTDOWN in running: stop, release, left; placement no longer obeyed', base, UP, [admin('SHUTDOWN', 100), ...stopAll(110), released(120), place(130), admin('ENABLE', 140)], 'left', [...STOP_EFFECTS, 'release']],
  ['SHUTDOWN in stopped → left', base, [], [admin('SHUTDOWN', 0), place(10)], 'left', []],
  ['SHUTDOWN in disabled → left', { ...base, enabled: false }, [], [admin('SHUTDOWN', 0)], 'left', []],
  // releasing
  ['release failure: retried on the next CHECK', base, UP, [place(100, 'b'), ...stopAll(110), releaseFailed(120), check(130), released(140)], 'stopped', [...STOP_EFFECTS, 'release', 'release']],
  ['LEASE_LOST while releasing: the release in flight is awaited, then stopped', base, UP, [place(100, 'b'), ...stopAll(110), lost(120), released(130)], 'stopped', [...STOP_EFFECTS, 'release']],
  ['LEASE_LOST while releasing: a fresh PLACE here acquires only after the release answers', base, UP, [place(100, 'b'), ...stopAll(110), lost(120), place(121), released(130), place(131)], 'acquiring', [...STOP_EFFECTS, 'release', 'acquire']],
  ['LEASE_LOST while releasing, then the release fails: stopped, no retry', base, UP, [place(100, 'b'), ...stopAll(110), lost(120), releaseFailed(130), check(140)], 'stopped', [...STOP_EFFECTS, 'release']],
  // lease lost
  ['LEASE_LOST in running: stop all at once, no release, stopped', base, UP, [lost(100), ...stopAll(110), lost(120)], 'stopped', STOP_EFFECTS],
  ['LEASE_LOST during a monitor: it finishes, then stop all', base, UP, [check(6000), lost(6001), monitor(6002, 1), ...stopAll(6010)], 'stopped', ['monitor 1', ...STOP_EFFECTS]],
  ['LEASE_LOST while stopping: finish the stop, no release', base, UP, [place(100, 'b'), stop(110, 2), lost(111), stop(112, 1), stop(113, 0)], 'stopped', STOP_EFFECTS],
  ['LEASE_LOST while recovering: finish the stop, no restart, no release', base, UP, [check(6000), monitor(6001, 1, 'failed'), lost(6002), ...stopAll(6010)], 'stopped', ['monitor 1', ...STOP_EFFECTS]],
  // failed
  ['stop failure → failed + escalate, the lease is not released', base, UP, [place(100, 'b'), stop(110, 2, 'timeout'), check(200), place(210, 'c')], 'failed', ['stop 2', 'escalate']],
  ['stop failure during recovery → failed + escalate', base, UP, [check(6000), monitor(6001, 1, 'failed'), stop(6002, 2), stop(6003, 1, 'failed')], 'failed', ['monitor 1', 'stop 2', 'stop 1', 'escalate']],
  ['DISABLE in failed retries the stop; success → release → disabled', base, UP, [place(100, 'b'), stop(110, 2, 'failed'), admin('DISABLE', 200), stop(210, 2), stop(211, 1), stop(212, 0), released(220)], 'disabled', ['stop 2', 'escalate', 'stop 2', 'stop 1', 'stop 0', 'release!']],
  ['DISABLE in failed: the retry fails again → failed, escalate again', base, UP, [place(100, 'b'), stop(110, 2, 'failed'), admin('DISABLE', 200), stop(210, 2, 'timeout')], 'failed', ['stop 2', 'escalate', 'stop 2', 'escalate']],
  ['CONFIGURE enabled:false in failed retries the stop too', base, UP, [place(100, 'b'), stop(110, 2, 'failed'), configure(200, { enabled: false })], 'stopping', ['stop 2', 'escalate', 'stop 2']],
  ['an unchanged CONFIGURE enabled:false in failed retries nothing; DISABLE does', base, UP, [place(100, 'b'), stop(110, 2, 'failed'), configure(200, { enabled: false }), stop(210, 2, 'failed'), configure(300, { enabled: false }), admin('DISABLE', 400)], 'stopping', ['stop 2', 'escalate', 'stop 2', 'escalate', 'stop 2']],
  ['ENABLE in failed does nothing', base, UP, [place(100, 'b'), stop(110, 2, 'failed'), admin('DISABLE', 200), stop(210, 2, 'failed'), admin('ENABLE', 300), configure(301, { enabled: true })], 'failed', ['stop 2', 'escalate', 'stop 2', 'escalate']],
  ['LEASE_LOST in failed: stays failed (it cannot stop)', base, UP, [place(100, 'b'), stop(110, 2, 'failed'), lost(200), lost(300)], 'failed', ['stop 2', 'escalate']],
  ['SHUTDOWN in failed: stays failed; a later successful DISABLE retry ends in left', base, UP, [place(100, 'b'), stop(110, 2, 'failed'), admin('SHUTDOWN', 200), admin('DISABLE', 300), stop(310, 2), stop(311, 1), stop(312, 0), released(320)], 'left', ['stop 2', 'escalate', 'stop 2', 'stop 1', 'stop 0', 'release!']],
  // stale and illegal inputs
  ['stale AGENT_DONE is rejected, the call in flight is still awaited', base, [place(0), acquired(10)], [stop(15, 0), monitor(16, 0), start(17, 1), start(20, 0)], 'starting', ['start 1']],
  ['lease answers nobody asked for are rejected', base, UP, [refused(100), released(101), releaseFailed(102), acquired(103, 9)], 'running', []],
  ['no resources: running at once, stopped at once', { ...base, resources: [] }, [], [place(0), acquired(10), place(20, 'b'), released(30)], 'stopped', ['acquire', 'release']],
]

for (const [name, input, prefix, events, state, effects] of table) {
  t.test(name, async (t) => {
    const d = run(input, prefix)
    const before = d.transitions.length
    for (const e of events) {
      d.send(e as PlainEvent)
      t.same(JSON.parse(JSON.stringify(d.snapshot.context)), d.snapshot.context, `context round-trips through JSON after ${e.type}`)
    }
    t.equal(d.state(), state)
    t.same(effectsOf(d, before), effects)
  })
}

// restart-budget.ts: [name, history, budget, at, allowed, history kept]
type BudgetRow = [string, number[], { maxRestarts: number; windowMs: number }, number, boolean, number[]]
const budgetTable: BudgetRow[] = [
  ['first restart', [], { maxRestarts: 2, windowMs: 1000 }, 100, true, [100]],
  ['second restart within the window', [100], { maxRestarts: 2, windowMs: 1000 }, 200, true, [100, 200]],
  ['third within the window: exhausted', [100, 200], { maxRestarts: 2, windowMs: 1000 }, 300, false, [100, 200]],
  ['the oldest expires exactly windowMs later', [100, 200], { maxRestarts: 2, windowMs: 1000 }, 1100, true, [200, 1100]],
  ['one ms before it expires it still counts', [100, 200], { maxRestarts: 2, windowMs: 1000 }, 1099, false, [100, 200]],
  ['all expired', [100, 200], { maxRestarts: 2, windowMs: 1000 }, 5000, true, [5000]],
  ['maxRestarts 0: never', [], { maxRestarts: 0, windowMs: 1000 }, 100, false, []],
  ['a fractional maxRestarts is read as whole', [], { maxRestarts: 1.7, windowMs: 1000 }, 100, true, [100]],
  ['windowMs 0: every restart has expired by the next', [100, 200], { maxRestarts: 1, windowMs: 0 }, 300, true, [300]],
  ['maxRestarts lowered below the history: exhausted, history kept', [100, 200, 300], { maxRestarts: 1, windowMs: 1000 }, 400, false, [100, 200, 300]],
]
for (const [name, history, budget, at, allowed, kept] of budgetTable) {
  t.test(`restart budget: ${name}`, async (t) => {
    const v = tryRestart(history, budget, at)
    t.equal(v.allowed, allowed)
    t.same(v.history, kept)
  })
}

t.test('restart budget: the history never exceeds RESTARTS_MAX', async (t) => {
  let history: number[] = []
  for (let at = 0; at < 500; at++) history = tryRestart(history, { maxRestarts: 10 ** 6, windowMs: 10 ** 9 }, at).history
  t.equal(history.length, RESTARTS_MAX)
  t.equal(tryRestart(Array.from({ length: 500 }, (_, i) => i), { maxRestarts: 1000, windowMs: 10 ** 9 }, 600).history.length, RESTARTS_MAX)
})

t.test('the restart history and the reasons read like an incident report', async (t) => {
  const d = run(base, [...UP, ...ipDies(6000), ...restartAt(6100)])
  t.same(ctx(d).restarts, [6004], 'the restart is counted when the recovery stop ends')
  d.send(check(12000) as PlainEvent)
  d.send(monitor(12001, 1, 'failed') as PlainEvent)
  t.match(ctx(d).reason, /monitor of ip \(1\) failed: exit 1/)
  for (const e of stopAll(12002)) d.send(e as PlainEvent)
  t.match(ctx(d).reason, /monitor of ip failed: restart 2 of 2 within 60000 ms/)
})

t.test('budget exhausted: the reason names the budget and the effect says failed here', async (t) => {
  const d = run(withRecovery({ maxRestarts: 0 }), [...UP, ...ipDies(6000)])
  t.equal(d.state(), 'releasing')
  t.match(ctx(d).reason, /restart budget exhausted \(0 of 0 within 60000 ms\): relocate/)
  t.same(d.transitions.at(-1)?.effects.at(-1), { type: 'effect.releaseLease', service: 'web', failedHere: true })
  t.equal(ctx(d).placement, null, 'the verdict that placed it here is consumed: a fresh PLACE is needed')
})

t.test('effects carry the service, the call id and the resource name', async (t) => {
  const d = run(base, [place(0), acquired(10)])
  t.same(d.transitions.flatMap((tr) => tr.effects), [
    { type: 'effect.acquireLease', service: 'web' },
    { type: 'effect.agent', service: 'web', call: 1, op: 'start', resource: 0, resourceName: 'fs' },
  ])
  d.send({ type: 'AGENT_DONE', at: 20, call: 7, op: 'start', resource: 0, outcome: 'ok', detail: '' })
  t.equal(d.state(), 'starting', 'a result with another call id does not match')
  t.equal(ctx(d).rejected.count, 1)
  t.match(ctx(d).rejected.last, /AGENT_DONE at 20: stale result of call 7 start 0 \(ok\): call 1 start 0 in flight/)
  d.send({ type: 'AGENT_DONE', at: 21, call: 1, op: 'start', resource: 0, outcome: 'ok', detail: '' })
  t.same(d.transitions.at(-1)?.effects, [{ type: 'effect.agent', service: 'web', call: 2, op: 'start', resource: 1, resourceName: 'ip' }])
})

t.test('escalation names the failed stop; ENABLE in failed is refused with a reason', async (t) => {
  const d = run(base, [...UP, place(100, 'b'), stop(110, 2, 'timeout')])
  t.same(d.transitions.at(-1)?.effects, [{ type: 'effect.escalate', service: 'web', reason: 'stop of httpd (2) timeout: exit 1: this node must be fenced' }])
  t.ok(ctx(d).lease.held, 'the lease stays held')
  d.send(admin('ENABLE', 120) as PlainEvent)
  t.match(ctx(d).rejected.last, /ENABLE at 120: service failed here .*awaits fencing; DISABLE retries the stop/)
})

t.test('LEASE_LOST is kept visible in the reason', async (t) => {
  const d = run(base, [...UP, lost(100)])
  t.match(ctx(d).reason, /LEASE LOST to b: lease version 7 held by b/)
  t.equal(d.transitions.at(-1)?.event, 'LEASE_LOST')
})

t.test('CONFIGURE while running: new resources apply at the next start (RESTART)', async (t) => {
  const next = [{ name: 'fs', monitorIntervalMs: 10000 }, { name: 'db', monitorIntervalMs: 0 }]
  const d = run(base, [...UP, configure(100, { resources: next })])
  t.equal(d.state(), 'running')
  t.same(ctx(d).active, resources, 'the running definition is kept')
  d.send(admin('RESTART', 200) as PlainEvent)
  for (const e of stopAll(210)) d.send(e as PlainEvent)
  t.same(effectsOf(d).slice(-4), ['stop 2', 'stop 1', 'stop 0', 'start 0'], 'the old three are stopped')
  d.send(start(220, 0) as PlainEvent)
  d.send(start(221, 1) as PlainEvent)
  t.equal(d.state(), 'running')
  t.same(d.transitions.at(-2)?.effects[0]?.resourceName, 'db')
  t.same(ctx(d).nextMonitorAt, [10220, null], 'a resource with monitorIntervalMs 0 is never monitored')
})

t.test('irrelevant inputs are no-ops (nothing to journal)', async (t) => {
  const d = run(base, UP)
  const before = JSON.stringify([d.snapshot.value, d.snapshot.context])
  for (const e of [check(100), place(101), { ...place(102), reason: 'reworded' }, admin('ENABLE', 103), configure(104, {})]) d.send(e as PlainEvent)
  t.equal(JSON.stringify([d.snapshot.value, d.snapshot.context]), before)
  const s = run(base, [lost(0), admin('SHUTDOWN', 1)])  // a lease never held is lost: nothing new
  t.equal(s.state(), 'left')
  t.same(effectsOf(s), [])
})

/**
 * Property: over random input sequences from a seeded, sometimes misbehaving shell, the
 * machine never throws, never has two agent calls or two lease requests in flight, asks to
 * start a resource only while it holds the lease (LEASE_ACQUIRED answering its request, not
 * yet released or lost), releases the lease only after every resource it asked to start got
 * a successful stop, and its context always survives JSON (a restored snapshot decides the same).
 */
interface Shell {
  at: number
  agent: { call: number; op: AgentOp; resource: number } | null
  leaseOp: 'acquire' | 'release' | null
  held: boolean
  maybeRunning: Set<number>
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const OUTCOMES: AgentOutcome[] = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'not-running', 'failed', 'timeout', 'misconfigured']

function answer(random: () => number, shell: Shell): ServiceEvent | null {
  const at = shell.at
  if (shell.agent !== null && random() < 0.7) {
    const { call, op, resource } = shell.agent
    const outcome = op === 'stop' && random() < 0.8 ? 'ok' : pick(random, OUTCOMES)
    return { type: 'AGENT_DONE', at, ...(random() < 0.5 ? { call } : {}), op, resource, outcome, detail: outcome }
  }
  if (shell.leaseOp === 'acquire' && random() < 0.7) return random() < 0.8 ? acquired(at, Math.floor(random() * 100)) : refused(at)
  if (shell.leaseOp === 'release' && random() < 0.7) return random() < 0.8 ? released(at) : releaseFailed(at)
  return null
}

function noise(random: () => number, shell: Shell): ServiceEvent {
  const at = shell.at
  const r = random()
  if (r < 0.25) return check(at)
  if (r < 0.45) return place(at, pick(random, ['a', 'a', 'a', 'b', null]))
  if (r < 0.55) return admin(pick(random, ['ENABLE', 'ENABLE', 'DISABLE', 'RESTART'] as const), at)
  if (r < 0.58) return configure(at, { resources: resources.slice(0, Math.floor(random() * 4)), recovery: { policy: pick(random, ['restart-then-relocate', 'relocate', 'disable'] as const), maxRestarts: Math.floor(random() * 3), windowMs: 10000 }, enabled: random() < 0.9 })
  if (r < 0.6) return lost(at)
  if (r < 0.7) return { type: 'AGENT_DONE', at, call: (shell.agent?.call ?? 1000) - 1 - Math.floor(random() * 3), op: pick(random, ['start', 'stop', 'monitor'] as const), resource: Math.floor(random() * 3), outcome: pick(random, OUTCOMES), detail: 'stale' }
  if (r < 0.75 && shell.leaseOp === null) return pick(random, [acquired(at, 50), refused(at), released(at), releaseFailed(at)])
  if (r < 0.751) return admin('SHUTDOWN', at)
  return check(at)
}

/** The shell's side of one step: record what the machine asked for and check it was allowed. */
function observe(t: Test, shell: Shell, event: ServiceEvent, effects: PlainEvent[], where: string): void {
  if (event.type === 'AGENT_DONE' && shell.agent !== null && event.call !== 0 && (event.call === undefined || event.call === shell.agent.call) && event.op === shell.agent.op && event.resource === shell.agent.resource && event.detail !== 'stale') {
    if (event.op === 'stop' && (event.outcome === 'ok' || event.outcome === 'not-running')) shell.maybeRunning.delete(event.resource)
    shell.agent = null
  }
  if (event.type === 'LEASE_ACQUIRED' && shell.leaseOp === 'acquire') { shell.held = true; shell.leaseOp = null }
  if (event.type === 'LEASE_REFUSED' && shell.leaseOp === 'acquire') shell.leaseOp = null
  if ((event.type === 'LEASE_RELEASED' || event.type === 'LEASE_RELEASE_FAILED') && shell.leaseOp === 'release') shell.leaseOp = null
  if (event.type === 'LEASE_LOST') shell.held = false
  for (const e of effects) {
    if (e.type === 'effect.agent') {
      if (shell.agent !== null) t.fail(`${where}: a second agent call while call ${shell.agent.call} is in flight`)
      if (e.op === 'start' && !shell.held) t.fail(`${where}: start of resource ${String(e.resource)} without the lease`)
      if (e.op === 'start') shell.maybeRunning.add(e.resource as number)
      shell.agent = { call: e.call as number, op: e.op as AgentOp, resource: e.resource as number }
    }
    if (e.type === 'effect.acquireLease' || e.type === 'effect.releaseLease') {
      if (shell.leaseOp !== null) t.fail(`${where}: a second lease request while ${shell.leaseOp} is in flight`)
      shell.leaseOp = e.type === 'effect.acquireLease' ? 'acquire' : 'release'
    }
    if (e.type === 'effect.releaseLease') {
      if (shell.maybeRunning.size > 0) t.fail(`${where}: lease released while resources ${[...shell.maybeRunning].join(',')} may run`)
      shell.held = false
    }
  }
}

t.test('property: start only under the lease, release only after every stop (seeded)', async (t) => {
  const SEEDS = 60
  const STEPS = 300
  const visited = new Set<string>()
  let starts = 0
  let releases = 0
  for (let seed = 1; seed <= SEEDS; seed++) {
    const random = seeded(seed)
    const input = pick(random, [base, withRecovery({ policy: 'relocate' }), withRecovery({ policy: 'disable', maxRestarts: 1 }), { ...base, enabled: false }])
    const d = drive(serviceMachine, input)
    const shell: Shell = { at: 0, agent: null, leaseOp: null, held: false, maybeRunning: new Set() }
    for (let i = 0; i < STEPS; i++) {
      shell.at += Math.floor(random() * 3000)
      const event = answer(random, shell) ?? noise(random, shell)
      const where = `seed=${seed} step ${i} ${event.type} in ${String(d.state())}`
      const restored = serviceMachine.resolveState({ value: d.snapshot.value as string, context: JSON.parse(JSON.stringify(d.snapshot.context)) as ServiceContext })
      const replayed = step(serviceMachine, restored, event as PlainEvent)
      const tr = d.send(event as PlainEvent)
      const effects = tr?.effects ?? []
      if (JSON.stringify(replayed.transition) !== JSON.stringify(tr) || JSON.stringify(replayed.snapshot.context) !== JSON.stringify(d.snapshot.context)) {
        t.fail(`${where}: a snapshot restored from JSON decides differently`)
      }
      observe(t, shell, event, effects, where)
      visited.add(String(d.state()))
      starts += effects.filter((e) => e.type === 'effect.agent' && e.op === 'start').length
      releases += effects.filter((e) => e.type === 'effect.releaseLease').length
    }
  }
  t.same([...visited].sort(), ['acquiring', 'disabled', 'failed', 'left', 'recovering', 'releasing', 'running', 'starting', 'stopped', 'stopping'], 'the generator reaches every state')
  t.ok(starts > 500 && releases > 300, `exercised: ${starts} starts, ${releases} releases`)
})
