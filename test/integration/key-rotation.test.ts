/**
 * Rotating the cluster key on a running 2-node cluster with SIGHUP (systemctl reload), the
 * procedure of the README: accept the new key everywhere, switch each node to sending with it
 * while it still accepts the old one, then drop the old one. Heartbeats keep being delivered at
 * every step (none dropped as unauthenticated), the window's use of the old key is counted, a
 * node sending with a key its peer does not accept is dropped, and a reload that fails keeps
 * the keys in use.
 */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestCluster, runCli } from '../helpers/cluster.js'
import type { HeartbeatCounters } from '../../src/net/heartbeats.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

t.test('new key accepted, then sent, then the old one dropped: no heartbeat lost', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(() => c.destroy())
  const base = readFileSync(c.file, 'utf8')
  t.equal(runCli(['key', 'generate', join(c.dir, 'authkey.new')]).code, 0)
  const counters = (node: string): HeartbeatCounters => {
    const r = runCli(['status', '--json', '-c', c.file, '--node', node])
    if (r.code !== 0) throw new Error(r.stderr)
    return (JSON.parse(r.stdout) as { counters: { heartbeats: HeartbeatCounters } }).counters.heartbeats
  }
  const keys = (send: string, accept: string[]): void => {
    const lines = base.replace(/^authKeyFile: .*$/m, `authKeyFile: ${send}`)
    writeFileSync(c.file, accept.length === 0 ? lines : lines.replace(/^(authKeyFile: .*)$/m, `$1\nauthKeyAcceptFiles: [${accept.join(', ')}]`))
  }
  const reload = async (...nodes: string[]): Promise<void> => {
    for (const n of nodes) {
      const from = c.node(n).lines.length
      process.kill(c.nodePid(n)!, 'SIGHUP')
      await c.waitFor(n, (l) => /cluster key reloaded|keys not reloaded/.test(l.message), 5000, from)
    }
  }
  /** Over a second: both nodes keep delivering and drop nothing as unauthenticated. */
  const flowing = async (what: string): Promise<{ a: HeartbeatCounters; b: HeartbeatCounters }> => {
    const before = { a: counters('a'), b: counters('b') }
    await sleep(1000)
    const after = { a: counters('a'), b: counters('b') }
    for (const n of ['a', 'b'] as const) {
      t.ok(after[n].delivered - before[n].delivered >= 10, `${what}: ${n} keeps receiving heartbeats (${after[n].delivered - before[n].delivered} in 1 s)`)
      t.equal(after[n].dropped.unauthenticated, before[n].dropped.unauthenticated, `${what}: ${n} drops none as unauthenticated`)
    }
    return after
  }

  c.startAll()
  await c.waitPeer('a', 'b', 'up', 15_000)
  await c.waitPeer('b', 'a', 'up', 15_000)
  await flowing('before')

  keys('authkey', ['authkey.new'])
  await reload('a', 'b')
  await flowing('step 1, both accept the new key')

  keys('authkey.new', ['authkey'])
  await reload('a')
  const mixed = await flowing('step 2, a sends with the new key, b still with the old')
  const mixedLater = await flowing('step 2, still mixed')
  t.ok(mixedLater.a.acceptedWithOtherKey > mixed.a.acceptedWithOtherKey, 'a counts the old key in use (b)')
  t.ok(mixedLater.b.acceptedWithOtherKey > mixed.b.acceptedWithOtherKey, 'b counts the new key as the accepted one')

  await reload('b')
  await sleep(300)
  const both = await flowing('step 3, both send with the new key')
  const bothLater = await flowing('step 3, later')
  t.equal(bothLater.a.acceptedWithOtherKey, both.a.acceptedWithOtherKey, 'no old key in use any more: the window can close')

  keys('authkey.new', [join(c.dir, 'missing.key')])
  const from = c.node('a').lines.length
  process.kill(c.nodePid('a')!, 'SIGHUP')
  const failed = await c.waitFor('a', (l) => /keys not reloaded/.test(l.message), 5000, from)
  t.match(failed.message, /CARB_ERR_KEY_FILE: .*missing\.key: key file missing/)
  await flowing('a failed reload keeps the keys in use')

  keys('authkey.new', [])
  await reload('a', 'b')
  await flowing('step 4, the old key dropped')

  keys('authkey', [])
  await reload('a')
  const before = counters('b')
  await sleep(1000)
  t.ok(counters('b').dropped.unauthenticated - before.dropped.unauthenticated >= 10, 'a key the peer does not accept: its heartbeats are dropped as unauthenticated')
})
