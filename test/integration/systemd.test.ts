/**
 * The node under systemd's notify protocol, against a fake NOTIFY_SOCKET (systemd is not PID 1
 * here): READY=1 only after the node read the disk and joined, STATUS= with the membership
 * summary, WATCHDOG=1 at half of WATCHDOG_USEC while healthy, none while its disk path is lost
 * (node a's disk is a loop device made read-only), again once it is back, and STOPPING=1 on a
 * clean stop.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestCluster } from '../helpers/cluster.js'
import { fakeNotifySocket, type NotifyMessage } from '../helpers/notify-socket.js'

const WATCHDOG_USEC = 600_000
const pings = (messages: NotifyMessage[], fromMs: number, toMs: number): number => messages.filter((m) => m.fields.WATCHDOG === '1' && m.atMs >= fromMs && m.atMs <= toMs).length
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

t.test('READY after the join, STATUS, WATCHDOG only while the disk is written, STOPPING on SIGTERM', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(() => c.destroy())
  const loop = execFileSync('losetup', ['-f', '--show', join(c.dir, 'quorum.disk')], { encoding: 'utf8' }).trim()
  t.teardown(() => { try { execFileSync('losetup', ['-d', loop]) } catch { /* already gone */ } })
  writeFileSync(c.file, readFileSync(c.file, 'utf8').replace(/(  - name: a\n    id: 1\n)/, `$1    disk: ${loop}\n`))
  const notify = await fakeNotifySocket(t, c.dir)

  const started = Date.now()
  c.start('a', { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(WATCHDOG_USEC) })
  c.start('b')
  const ready = await notify.waitFor((m) => m.fields.READY === '1', 15_000)
  const joined = await c.waitFor('a', (l) => l.machine?.startsWith('local#') === true && l.to === 'member', 1000)
  t.ok(Date.parse(joined.time) <= ready.atMs, 'READY=1 came after the node joined')
  t.ok(notify.messages.filter((m) => m.fields.READY === '1').length === 1, 'READY=1 once')
  t.ok(notify.messages.filter((m) => m.fields.BARRIER === undefined).every((m) => m.fields.MAINPID === String(c.nodePid('a'))), 'sent for the node process (MAINPID)')
  t.ok(ready.atMs > started)
  await c.waitPeer('a', 'b', 'up', 15_000)
  const status = await notify.waitFor((m) => /^member \(incarnation 1\) of test: 2 of 2 nodes up \(a b\); running here: nothing$/.test(m.fields.STATUS ?? ''), 10_000)
  t.ok(status, `STATUS: ${status.fields.STATUS}`)

  await sleep(2000)
  const healthy = pings(notify.messages, Date.now() - 2000, Date.now())
  t.ok(healthy >= 3, `healthy: ${healthy} pings in 2 s (every ${WATCHDOG_USEC / 2000} ms)`)

  execFileSync('blockdev', ['--setro', loop])
  const lost = Date.now()
  await c.waitFor('a', (l) => l.machine?.startsWith('local#') === true && l.to === 'out', 10_000)
  await sleep(2500)
  // TEST_TIMING: the self-fence starts 1000 - 375 ms after the last good write; one ping may be on its way.
  const settleMs = 1000 - 375 + WATCHDOG_USEC / 1000
  const whileLost = pings(notify.messages, lost + settleMs, Date.now())
  t.equal(whileLost, 0, `no ping while the disk path is lost (after the first ${settleMs} ms)`)
  t.ok(notify.messages.some((m) => m.atMs > lost && /^(out|joining) \(incarnation/.test(m.fields.STATUS ?? '')), 'STATUS says the node is out or rejoining')

  execFileSync('blockdev', ['--setrw', loop])
  const back = Date.now()
  await notify.waitFor((m) => m.fields.WATCHDOG === '1' && m.atMs > back, 10_000)
  t.pass('pings resume once the disk is writable again')

  const before = notify.messages.length
  process.kill(c.nodePid('a')!, 'SIGTERM')
  const stopping = await notify.waitFor((m) => m.fields.STOPPING === '1', 10_000, before)
  t.match(stopping.fields.STATUS, /^leaving: stopping 0 services/)
  t.equal(await c.node('a').exited, 0, 'clean exit')
})
