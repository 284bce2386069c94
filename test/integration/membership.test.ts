/**
 * Real processes on loopback sharing a file-backed quorum disk. Bounds on detection time
 * are the safety rule itself (never before the disk deadline) and a generous upper bound;
 * the distribution is measured in bench/.
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { TestCluster, TEST_TIMING, createNetns, runCli } from '../helpers/cluster.js'
import type { StatusView } from '../../src/runtime/status-view.js'

const { diskDeadAfterMs, diskIntervalMs, peerDeadAfterMs, selfFenceAfterMs } = TEST_TIMING
const UP_WITHIN_MS = 15_000

async function allUp(c: TestCluster): Promise<void> {
  for (const observer of c.names) for (const peer of c.names) if (peer !== observer) await c.waitPeer(observer, peer, 'up', UP_WITHIN_MS)
}

/**
 * Wait until `observer` holds `peer` up on disk evidence: it has read the peer's status
 * block (a disk sequence), not only heard its heartbeat. A peer first seen by heartbeat
 * goes suspect until its disk writes are read, then up again; pausing the peer before
 * that would let the test see that settling as the pause's consequence.
 */
async function upOnDisk(c: TestCluster, observer: string, peer: string): Promise<void> {
  const deadline = Date.now() + UP_WITHIN_MS
  for (;;) {
    const r = runCli(['status', '-c', c.file, '--node', observer, '--json'])
    const m = r.code === 0 ? (JSON.parse(r.stdout) as StatusView).members.find((x) => x.name === peer) : undefined
    if (m?.state === 'up' && m.diskSeq !== null && m.lastDiskWriteAgoMs !== null && m.lastDiskWriteAgoMs < 2 * diskIntervalMs) return
    if (Date.now() > deadline) throw new Error(`${observer} never held ${peer} up on disk evidence within ${UP_WITHIN_MS} ms; last view: ${m === undefined ? r.stderr.trim() : JSON.stringify(m)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function replays(t: Test, c: TestCluster, name: string): void {
  const r = runCli(['replay', '--journal', join(c.dir, 'journal', name)])
  t.equal(r.code, 0, `journal of ${name} replays: ${r.stdout.trim()} ${r.stderr.trim()}`)
  t.match(r.stdout, /^replay ok: \d+ records, \d+ inputs, [1-9]\d* transitions reproduced exactly/)
}

for (const size of [2, 3]) {
  t.test(`${size} nodes: SIGKILL one, the others declare it dead in time; journals replay`, async (t) => {
    const c = await TestCluster.create(['a', 'b', 'c'].slice(0, size))
    t.teardown(() => c.destroy())
    c.startAll()
    await allUp(c)
    const victim = c.names[size - 1]!
    const survivors = c.names.slice(0, -1)
    const marks = survivors.map((s) => c.node(s).lines.length)
    const killedAt = Date.now()
    c.node(victim).child.kill('SIGKILL')
    for (const [i, s] of survivors.entries()) {
      const line = await c.waitPeer(s, victim, 'dead', diskDeadAfterMs + 5000, marks[i])
      const detectionMs = Date.parse(line.time) - killedAt
      t.ok(detectionMs >= diskDeadAfterMs - diskIntervalMs - 100, `${s} did not declare ${victim} dead before the disk deadline (${detectionMs} ms)`)
      t.ok(detectionMs <= diskDeadAfterMs + 3000, `${s} declared ${victim} dead within the configured time (${detectionMs} ms)`)
      t.match(String(line.effects?.[0]?.reason), /disk silent \d+ ms, heartbeat silent \d+ ms/)
    }
    for (const s of survivors) t.equal(await c.stop(s), 0, `${s} stops cleanly`)
    for (const n of c.names) replays(t, c, n)
  })
}

t.test('SIGSTOP past the deadline, then SIGCONT: it fences itself and rejoins as a new incarnation', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(() => c.destroy())
  c.startAll()
  await allUp(c)
  await upOnDisk(c, 'b', 'a')
  const markA = c.node('a').lines.length
  const markB = c.node('b').lines.length
  c.node('a').child.kill('SIGSTOP')
  const dead = await c.waitPeer('b', 'a', 'dead', diskDeadAfterMs + 5000, markB)
  const deadIndex = c.node('b').lines.indexOf(dead)
  await new Promise((r) => setTimeout(r, 500))
  c.node('a').child.kill('SIGCONT')
  const fenced = await c.waitFor('a', (l) => l.machine === 'local#1' && l.to === 'out', 5000, markA)
  t.match(String(fenced.effects?.[0]?.reason), new RegExp(`selfFenceAfterMs ${selfFenceAfterMs}`), 'a noticed it was out by its own deadline')
  await c.waitFor('a', (l) => l.machine === 'local#2' && l.to === 'member', 5000, markA)
  const back = await c.waitFor('b', (l) => l.machine?.startsWith('peer:a#') === true && l.to === 'up' && l.effects?.[0]?.incarnation === 2, 8000, markB)
  t.ok(back, 'b sees a again as incarnation 2')
  // Only decisions after "dead" count: before it, b may still settle a as up (see upOnDisk).
  const wrongUp = c.node('b').lines.slice(deadIndex + 1).filter((l) => l.machine?.startsWith('peer:a#') === true && l.to === 'up' && l.effects?.[0]?.incarnation === 1)
  t.same(wrongUp, [], 'b never took incarnation 1 back after declaring it dead')
  for (const n of c.names) t.equal(await c.stop(n), 0)
  for (const n of c.names) replays(t, c, n)
})

t.test('a clean stop is seen as "left" at once, and a restart comes back as a new incarnation', async (t) => {
  const c = await TestCluster.create(['a', 'b', 'c'])
  t.teardown(() => c.destroy())
  c.startAll()
  await allUp(c)
  const mark = c.node('a').lines.length
  const stoppedAt = Date.now()
  t.equal(await c.stop('c'), 0)
  const left = await c.waitPeer('a', 'c', 'left', 5000, mark)
  t.ok(Date.parse(left.time) - stoppedAt < diskDeadAfterMs, 'no waiting for the dead timeout')
  c.start('c')
  const up = await c.waitFor('a', (l) => l.machine?.startsWith('peer:c#') === true && l.to === 'up' && l.from === 'left', UP_WITHIN_MS, mark)
  t.equal(up.effects?.[0]?.incarnation, 2)
  for (const n of c.names) t.equal(await c.stop(n), 0)
  for (const n of c.names) replays(t, c, n)
})

t.test('heartbeats blocked, disk alive: nobody is declared dead (the disk is the tie-breaker)', async (t) => {
  const ns = createNetns('carb-hb')
  t.teardown(() => ns.remove())
  const c = await TestCluster.create(['a', 'b', 'c'], { netns: ns.name })
  t.teardown(() => c.destroy())
  c.startAll()
  await allUp(c)
  const marks = c.names.map((n) => c.node(n).lines.length)
  ns.setLoopback(false)
  await new Promise((r) => setTimeout(r, diskDeadAfterMs + peerDeadAfterMs + 1500))
  const status = runCli(['status', '-c', c.file, '--node', 'a', '--json'])
  ns.setLoopback(true)
  t.equal(status.code, 0, status.stderr)
  const view = JSON.parse(status.stdout) as { members: { name: string; state: string; heartbeatAgoMs: (number | null)[] }[] }
  for (const m of view.members.filter((x) => x.name !== 'a')) {
    t.equal(m.state, 'up', `${m.name} is up on disk evidence alone`)
    t.ok(m.heartbeatAgoMs.every((h) => h !== null && h > peerDeadAfterMs), `${m.name}: every channel silent past peerDeadAfterMs (${m.heartbeatAgoMs.join(', ')})`)
  }
  for (const [i, n] of c.names.entries()) {
    const dead = c.decisions(n).slice(0).filter((l, j) => j >= 0 && c.node(n).lines.indexOf(l) >= marks[i]! && (l.to === 'dead' || l.to === 'out'))
    t.same(dead, [], `${n} declared nobody dead and did not fence itself`)
  }
  for (const n of c.names) t.equal(await c.stop(n), 0)
  for (const n of c.names) replays(t, c, n)
})
