/** The systemd link's pure parts and its message queue; the journald log format. */
import t from 'tap'
import { openSync, closeSync, fstatSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SystemdNotify, systemdLinkFromEnv } from '../../src/runtime/systemd-notify.js'
import { statusLine, watchdogHealthy, type HealthFacts } from '../../src/runtime/systemd-status.js'
import { createLogger, stdoutIsJournal } from '../../src/runtime/log.js'
import type { StatusView } from '../../src/runtime/status-view.js'

t.test('the link exists only with a notify socket; the watchdog only for this process', async (t) => {
  t.equal(systemdLinkFromEnv({}, 42), null)
  t.equal(systemdLinkFromEnv({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '10000000' }, 42)?.watchdogMs, 10_000)
  t.equal(systemdLinkFromEnv({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42)?.watchdogMs, 10_000)
  t.equal(systemdLinkFromEnv({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '7' }, 42)?.watchdogMs, null, 'the watchdog of another process')
  t.equal(systemdLinkFromEnv({ NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: 'soon' }, 42)?.watchdogMs, null)
})

t.test('one systemd-notify at a time: messages asked for meanwhile are merged, the newest STATUS wins', async (t) => {
  const calls: string[][] = []
  const releases: (() => void)[] = []
  const run = (args: string[]): Promise<void> => { calls.push(args); return new Promise((resolve) => { releases.push(resolve) }) }
  const link = new SystemdNotify(null, 42, {}, run)
  link.notify({ READY: '1', STATUS: 'joining' })
  link.notify({ WATCHDOG: '1' })
  link.notify({ STATUS: 'member\nof test' })
  t.same(calls, [['--pid=42', 'READY=1', 'STATUS=joining']], 'the first goes at once, the rest wait')
  releases.shift()!()
  await new Promise((r) => setImmediate(r))
  t.same(calls[1], ['--pid=42', 'WATCHDOG=1', 'STATUS=member of test'], 'merged into one, newlines flattened')
  releases.shift()!()
  await new Promise((r) => setImmediate(r))
  t.same(link.counters(), { sent: 2, failed: 0, merged: 1 })
})

t.test('a failing systemd-notify is reported once and counted', async (t) => {
  const errors: string[] = []
  const link = new SystemdNotify(null, 1, {}, async () => { throw new Error('spawn systemd-notify ENOENT') }, (m) => errors.push(m))
  link.notify({ READY: '1' })
  await new Promise((r) => setImmediate(r))
  link.notify({ WATCHDOG: '1' })
  await new Promise((r) => setImmediate(r))
  t.equal(link.counters().failed, 2)
  t.same(errors, ['systemd-notify failed (spawn systemd-notify ENOENT); notifications to systemd may be missing'])
})

const facts = (over: Partial<HealthFacts>): HealthFacts => ({ halted: false, localState: 'member', nowMs: 10_000, startedAtMs: 0, lastGoodCycleStartMs: 9800, selfFenceAfterMs: 8000, selfFenceStopMs: 3000, ...over })

t.test('healthy: not halted, joining or member, disk written lately', async (t) => {
  const table: [string, Partial<HealthFacts>, boolean][] = [
    ['a member writing its disk', {}, true],
    ['joining, writing', { localState: 'joining' }, true],
    ['out (self-fenced)', { localState: 'out' }, false],
    ['left', { localState: 'left' }, false],
    ['halted', { halted: true }, false],
    ['disk written 5000 ms ago: the self-fence would start now', { lastGoodCycleStartMs: 5000 }, true],
    ['disk lost for longer: the self-fence has begun', { lastGoodCycleStartMs: 4999 }, false],
    ['never written, just started', { lastGoodCycleStartMs: null, localState: 'joining', startedAtMs: 5000 }, true],
    ['never written, past selfFenceAfterMs', { lastGoodCycleStartMs: null, localState: 'joining', startedAtMs: 1000 }, false],
  ]
  for (const [name, over, expected] of table) t.equal(watchdogHealthy(facts(over)), expected, name)
})

const view = (over: Partial<StatusView>): StatusView => ({
  cluster: 'prod', node: 'a', incarnation: 3, wallMs: 0, configVersion: 1, counters: {}, fencing: [],
  members: [
    { name: 'a', id: 1, self: true, state: 'member', incarnation: 3, lastDiskWriteAgoMs: 1, diskSeq: 1, heartbeatAgoMs: [], problem: null },
    { name: 'b', id: 2, self: false, state: 'up', incarnation: 1, lastDiskWriteAgoMs: 1, diskSeq: 1, heartbeatAgoMs: [1], problem: null },
    { name: 'c', id: 3, self: false, state: 'dead', incarnation: 1, lastDiskWriteAgoMs: 1, diskSeq: 1, heartbeatAgoMs: [1], problem: null },
  ],
  services: [
    { name: 'web', index: 1, enabled: true, holder: 'a', leaseInstance: 1, localState: 'running', placement: '' },
    { name: 'db', index: 2, enabled: true, holder: 'b', leaseInstance: 1, localState: 'stopped', placement: '' },
  ],
  ...over,
})

t.test('STATUS= summary', async (t) => {
  t.equal(statusLine(view({})), 'member (incarnation 3) of prod: 2 of 3 nodes up (a b); c dead; running here: web')
  const fencing = view({ fencing: [{ id: 'f', target: 'c', state: 'fencing', requestedBy: 'lease', reason: '', lastError: null, attempts: [], proof: null, cancelReason: null }] as unknown as StatusView['fencing'] })
  t.match(statusLine(fencing), /; fencing c$/)
})

t.test('journald lines carry syslog priorities; JOURNAL_STREAM counts only for our own stdout', async (t) => {
  const lines: string[] = []
  const log = createLogger('a', 'journald', { monotonicMs: () => 0, wallMs: () => 0 }, (l) => lines.push(l))
  log.log('error', 'disk lost')
  log.log('warn', 'peer b suspect')
  log.log('info', 'joined\nas 2')
  t.same(lines, ['<3>disk lost', '<4>peer b suspect', '<6>joined as 2'])
  const dir = await mkdtemp(join(tmpdir(), 'carb-journal-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const fd = openSync(join(dir, 'stream'), 'w')
  t.teardown(() => closeSync(fd))
  const info = fstatSync(fd)
  t.equal(stdoutIsJournal({ JOURNAL_STREAM: `${info.dev}:${info.ino}` }, fd), true)
  t.equal(stdoutIsJournal({ JOURNAL_STREAM: `${info.dev}:${info.ino + 1}` }, fd), false, 'inherited from a parent: another stream')
  t.equal(stdoutIsJournal({}, fd), false)
})
