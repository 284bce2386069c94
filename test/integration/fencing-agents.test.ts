/**
 * Fencing by agents, with real processes (README "Fencing"; issue 4). Each node is a "machine"
 * (TestCluster `machines: true`): a PID namespace of its own, so cutting its power ends the node
 * daemon and every service worker it started. The power switch stands outside every machine, as
 * a real one does: a small network PDU in this test process whose "off PLUG" runs the project's
 * stand-in switch, test/fence/fixtures/fence_kill, and answers once the whole machine is gone.
 * The nodes reach it through a fence agent of the fence-agents stdin protocol,
 * fixtures/fencing-agents-pdu (ipaddr, ipport, port), run by the product like any other agent.
 * (fence_kill itself cannot be the nodes' agent here: run inside one machine's PID namespace,
 * it cannot signal a process of another machine.)
 *
 * Incident reports:
 *   1. the owner's daemon is paused (SIGSTOP) while its service keeps running: the peer counts
 *      it dead, fences it through the switch, and only then takes the service over (proof
 *      'fenced'); the resumed owner is gone and never runs the service again;
 *   2. the owner's machine loses power and its fence device is unreachable: fencing fails,
 *      is retried with backoff, gives up; the service stays put, status says why, until an
 *      administrator acknowledges the node is off (proof 'fenced' by 'manual-ack');
 *   3. both nodes fence each other at once: the race delay lets the node running the service
 *      fence first; exactly one survives.
 * Every test ends with the witness checker (never two nodes running the service) and replay.
 */
import t, { type Test } from 'tap'
import { chmod, copyFile, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { runCli, TestCluster, TEST_TIMING, type LogLine } from '../helpers/cluster.js'
import { allUp, checkWitness, cliAsync, runsOf, scriptResource, startsOf, waitRuns } from '../helpers/services.js'
import { describeRuns, type Run } from '../helpers/witness.js'
import { alive, pduTopology, startSwitch, type PowerSwitch } from '../helpers/power-switch.js'
import { requestControl } from '../../src/runtime/control.js'

const FIXTURES = join(import.meta.dirname, 'fixtures')
const { diskDeadAfterMs } = TEST_TIMING
/** After a takeover (or a non-takeover), long enough for a wrong start to show: 6 disk cycles, 5 monitors. */
const SETTLE_MS = 1500
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
/** Poll period of every wait in this file. */
const POLL_MS = 50
/** The service runs this long before a fault: a run of many ticks, not one. */
const RUN_BEFORE_FAULT_MS = 1000

async function installAgents(c: TestCluster, names: string[]): Promise<void> {
  for (const name of names) {
    await copyFile(join(FIXTURES, name), join(c.dir, basename(name)))
    await chmod(join(c.dir, basename(name)), 0o755)
  }
}

// ---------------------------------------------------------------------------------------------
// Machines

/** The unshare process: SIGKILL of it is the machine's power cut. */
function machinePid(c: TestCluster, name: string): number {
  const pid = c.node(name).child.pid
  if (pid === undefined) throw new Error(`machine ${name} has no process`)
  return pid
}

/** The node daemon inside the machine (TestCluster.nodePid: the unshare process's child). */
function daemonPid(c: TestCluster, name: string): number {
  const pid = c.nodePid(name)
  if (pid === null) throw new Error(`machine ${name} (pid ${machinePid(c, name)}) has no node daemon`)
  return pid
}

const running = (c: TestCluster, name: string): boolean => { const ch = c.node(name).child; return ch.exitCode === null && ch.signalCode === null }

/** Teardown: cut every machine (its workers die with its namespace), then remove the cluster. */
function destroyMachines(c: TestCluster): () => Promise<void> {
  return async () => {
    const daemons: number[] = []
    for (const name of c.nodes.keys()) {
      if (!running(c, name)) continue
      try { daemons.push(daemonPid(c, name)) } catch { /* between fork and exec, or gone */ }
      c.node(name).child.kill('SIGCONT')
      c.node(name).child.kill('SIGKILL')
    }
    for (const p of c.nodes.values()) await p.exited
    for (let i = 0; i < 40 && daemons.some(alive); i++) await sleep(POLL_MS)
    await c.destroy()
  }
}

// ---------------------------------------------------------------------------------------------
// What the nodes say

const at = (l: LogLine): number => Date.parse(l.time)
const msOf = (ns: bigint): number => Number(ns / 1_000_000n)

interface Acquisition { machine: string; proofKind: string; proof: string }

/** LEASE_ACQUIRED inputs in a running node's journal (exported through its control socket). */
async function acquisitions(c: TestCluster, node: string): Promise<Acquisition[]> {
  const found: Acquisition[] = []
  for await (const line of requestControl(join(c.dir, 'run', `${node}.sock`), 'export', 30_000)) {
    if (line.end === true) break
    const record = line.record as { t: string; m?: string; e?: { type: string; proofKind?: string; proof?: string } } | undefined
    if (record?.t === 'input' && record.e?.type === 'LEASE_ACQUIRED') found.push({ machine: record.m ?? '', proofKind: record.e.proofKind ?? '', proof: record.e.proof ?? '' })
  }
  return found
}

interface FenceOp { id: string; target: string; state: string; requestedBy: string; lastError: string | null; attempts: { round: number; method: number; name: string; outcome: string; detail: string; at: number }[]; proof: { name: string; detail: string } | null }

async function fenceOps(c: TestCluster, node: string): Promise<FenceOp[]> {
  const r = await cliAsync(c, node, 'fence', 'status', '--json')
  if (r.code !== 0) throw new Error(`fence status on ${node}: ${r.stderr}`)
  return JSON.parse(r.stdout) as FenceOp[]
}

const message = (text: string | RegExp) => (l: LogLine): boolean => (typeof text === 'string' ? l.message.startsWith(text) : text.test(l.message))

/** The service's takeover on `node`: its service machine leaving acquiring on LEASE_ACQUIRED. */
const tookLease = (l: LogLine): boolean => typeof l.machine === 'string' && l.machine.startsWith('service:web#') && l.event === 'LEASE_ACQUIRED'

function replayJournals(t: Test, c: TestCluster, names: string[]): void {
  for (const name of names) {
    const r = runCli(['replay', '--journal', join(c.dir, 'journal', name)])
    t.equal(r.code, 0, `journal of ${name} replays: ${r.stdout.trim()} ${r.stderr.trim()}`)
  }
}

/** The witness service (fixtures/witness-service.sh), with the cluster's directory as its witness directory. */
async function installWitness(c: TestCluster): Promise<string> {
  const text = await readFile(join(FIXTURES, 'witness-service.sh'), 'utf8')
  const path = join(c.dir, 'witness-service.sh')
  await writeFile(path, text.replace('WITNESS_DIR', c.dir))
  await chmod(path, 0o755)
  return path
}

/** The service web on domain a,b, started on `owner`; it runs RUN_BEFORE_FAULT_MS before the test goes on. */
async function addService(t: Test, c: TestCluster, owner: string): Promise<void> {
  const script = await installWitness(c)
  const added = await cliAsync(c, owner, 'service', 'add', 'web', '--domain', 'a,b', '--failback', 'off', '--resource', scriptResource(script))
  t.equal(added.code, 0, `service add: ${added.stdout}${added.stderr}`)
  await waitRuns(c, owner, 1, 10_000)
  await sleep(RUN_BEFORE_FAULT_MS)
}

/**
 * Two machines a and b behind a power switch (the switch acts after `actMs`), the given fence
 * agents copied into the cluster's directory, both up, service web running on a. Everything
 * goes in the test's teardown.
 */
async function switchedCluster(t: Test, options: { actMs?: number; topLevel?: () => string[]; nodeLines?: (name: string, dir: string, sw: PowerSwitch) => string[]; agents?: string[] } = {}): Promise<{ c: TestCluster; sw: PowerSwitch }> {
  const sw = await startSwitch(options.actMs)
  t.teardown(sw.close)
  const lines = options.nodeLines ?? ((_name: string, dir: string) => [pduTopology(dir, sw)])
  const c = await TestCluster.create(['a', 'b'], { machines: true, ...(options.topLevel === undefined ? {} : { topLevel: options.topLevel }), nodeLines: (name, dir) => lines(name, dir, sw) })
  sw.piddir = c.plugDir
  t.teardown(destroyMachines(c))
  await installAgents(c, options.agents ?? ['fencing-agents-pdu'])
  c.startAll()
  await allUp(c)
  await addService(t, c, 'a')
  return { c, sw }
}

/** The ending of a test whose service ended on `node`: a clean stop that stops it, no overlap, both journals replay. */
async function cleanStopOf(t: Test, c: TestCluster, node: string): Promise<void> {
  t.equal(await c.stop(node), 0, `${node} stops cleanly`)
  checkWitness(t, c)
  t.ok(runsOn(c, node)[0]!.stopped, `${node}'s clean stop stopped the service`)
  replayJournals(t, c, ['a', 'b'])
}

const runsOn = (c: TestCluster, node: string): Run[] => runsOf(c).filter((r) => r.node === node)

// ---------------------------------------------------------------------------------------------

t.test('SIGSTOP of the owner past the deadline: fenced through the switch before the peer takes over; resumed, it is gone', async (t) => {
  const { c, sw } = await switchedCluster(t)

  const daemonA = daemonPid(c, 'a')
  const machineA = machinePid(c, 'a')
  const bFrom = c.node('b').lines.length
  const pausedAt = Date.now()
  process.kill(daemonA, 'SIGSTOP')
  const dead = await c.waitPeer('b', 'a', 'dead', diskDeadAfterMs + 5000, bFrom)
  const requested = await c.waitFor('b', message('fencing a (incarnation 1) requested by lease: to take over web'), 5000, bFrom)
  const fenced = await c.waitFor('b', message(/^fenced a \(incarnation 1\) by pdu: /), 15_000, bFrom)
  const startedAt = await waitRuns(c, 'b', 1, 10_000)
  const took = await c.waitFor('b', tookLease, 1000, bFrom)
  t.notOk(alive(machineA) || alive(daemonA), "the switch cut a's machine: its unshare process and its (paused) daemon are gone")
  t.match(sw.cuts, [{ action: 'off', plug: 'a', code: 0 }], 'one power cut, of a, by the switch')
  t.equal(sw.cuts.length, 1)

  const [runA] = runsOn(c, 'a')
  const [runB] = runsOn(c, 'b')
  t.ok(runA !== undefined && runB !== undefined, `one run each: ${describeRuns(runsOf(c))}`)
  t.notOk(runA!.stopped, "a's run was never stopped by a: its daemon was paused; the power cut ended it")
  t.ok(msOf(runA!.toNs) - pausedAt >= diskDeadAfterMs - 500, `a's worker kept running while its daemon was paused (last tick ${msOf(runA!.toNs) - pausedAt} ms after SIGSTOP): a takeover without fencing would have been a split brain`)
  const cut = sw.cuts[0]!
  // Seen once in ~10 runs on a loaded 2-core machine: a tick stamped 10 ms after the switch's
  // answer (the stamp is `date` in the worker; the answer is this process's Date.now() after
  // fence_kill's pipes closed). Not yet explained; the safety check is the next one (b starts
  // only after a's last tick), and this one keeps a bound of one poll period.
  t.ok(msOf(runA!.toNs) <= cut.answeredAtMs + POLL_MS, `a's last tick is before the switch answered 'off' (within ${POLL_MS} ms: ${msOf(runA!.toNs) - cut.answeredAtMs} ms)`)
  t.comment(`a's last tick - fence_kill's "off": ${msOf(runA!.toNs) - cut.killedAtMs} ms; the machine was gone ${cut.answeredAtMs - cut.killedAtMs} ms (+- ${POLL_MS}) after it`)
  t.ok(runA!.toNs < runB!.fromNs, `a's run ended before b's started (${msOf(runB!.fromNs - runA!.toNs)} ms between them)`)
  t.ok(at(fenced) <= at(took), 'b took the lease only after the fence succeeded')
  t.ok(at(requested) >= at(dead), 'b asked for fencing once it counted a dead')

  const acquired = await acquisitions(c, 'b')
  t.match(acquired, [{ machine: /^service:web#/, proofKind: 'fenced', proof: /fenced by pdu \(incarnation 1\): fencing-agents-pdu off port a: exit 0/ }], 'the takeover is journaled with proof kind fenced (the switch)')
  t.equal(acquired.length, 1, 'b acquired the lease once')
  const ops = await fenceOps(c, 'b')
  t.match(ops, [{ target: 'a', state: 'succeeded', requestedBy: 'lease', proof: { name: 'pdu' } }], "b's fencing operation succeeded by the switch")
  t.comment(`SIGSTOP -> a dead on b: ${at(dead) - pausedAt} ms; dead -> fenced: ${at(fenced) - at(dead)} ms; fenced -> lease: ${at(took) - at(fenced)} ms; lease -> service started: ${msOf(runB!.fromNs) - at(took)} ms; SIGSTOP -> started on b: ${startedAt - pausedAt} ms`)

  // Resuming the paused daemon is a no-op: the machine it ran on is off.
  let resumed = true
  try { process.kill(daemonA, 'SIGCONT') } catch { resumed = false }
  t.notOk(resumed && alive(daemonA), 'SIGCONT reaches nothing: a is gone')
  await sleep(SETTLE_MS)
  t.equal(startsOf(c, 'a'), 1, 'a never ran the service again')
  t.equal(startsOf(c, 'b'), 1, 'b started it exactly once')
  t.equal(runsOn(c, 'a')[0]!.toNs, runA!.toNs, 'no tick of a after the cut')
  t.ok(runsOn(c, 'b')[0]!.toNs > runB!.fromNs, 'b runs it')
  checkWitness(t, c)

  await cleanStopOf(t, c, 'b')
})

t.test('fence agent failure: a dead owner is not taken over; fencing retried with backoff, then failed; status says why; fence ack moves the service', async (t) => {
  const { c } = await switchedCluster(t, {
    topLevel: () => ['fencing: { retryBaseMs: 500, retryMaxMs: 1000, roundsMax: 3 }'],
    // a's topology: a device that refuses, then one that hangs (killed after timeoutMs).
    nodeLines: (name, dir, sw) => (name === 'a'
      ? [`fence: [{ method: agent, agent: ${join(dir, 'fencing-agents-fail')} }, { method: agent, agent: ${join(dir, 'fence_hang')}, timeoutMs: 1000 }]`]
      : [pduTopology(dir, sw)]),
    agents: ['fencing-agents-fail', 'fencing-agents-pdu', '../../fence/fixtures/fence_hang'],
  })

  const bFrom = c.node('b').lines.length
  const cutAt = Date.now()
  c.node('a').child.kill('SIGKILL')
  await c.node('a').exited
  const dead = await c.waitPeer('b', 'a', 'dead', diskDeadAfterMs + 5000, bFrom)
  await c.waitFor('b', message('fencing a: every method failed in round 1; next round in 500 ms'), 10_000, bFrom)

  // While it retries: the fencing row of `carbonado status` says why nothing moves.
  const status = await cliAsync(c, 'b', 'status')
  t.equal(status.code, 0, status.stderr)
  t.match(status.stdout, /^FENCING\s+STATE\s+REQUESTED BY\s+LAST TRY$/m, 'status has a fencing table')
  t.match(status.stdout, /^a\s+(fencing|backoff)\s+lease\s+(fence_hang round \d: timeout fence_hang off port a: timed out after 1000 ms|fencing-agents-fail round \d: failed fencing-agents-fail off port a: exit 1)/m, 'the row of a: retrying, with its last failure')
  t.match(status.stdout, /^web\s+a\s+stopped\s/m, 'the service is still owned by a')

  const gaveUp = await c.waitFor('b', message(/^fencing a failed after 3 rounds/), 15_000, bFrom)
  const ops = await fenceOps(c, 'b')
  t.equal(ops.length, 1, 'one operation, reused by every placement pass')
  const op = ops[0]!
  t.match(op, { target: 'a', state: 'failed', requestedBy: 'lease', proof: null, lastError: /fence_hang timeout/ })
  t.same(op.attempts.map((a) => `${a.round}:${a.name}:${a.outcome}`), ['1:fencing-agents-fail:failed', '1:fence_hang:timeout', '2:fencing-agents-fail:failed', '2:fence_hang:timeout', '3:fencing-agents-fail:failed', '3:fence_hang:timeout'], 'every method of every round tried, in topology order')
  t.match(op.attempts[0]!.detail, /exit 1: Failed: Unable to connect\/login to fencing device \(plug a\)/, "the failing agent's last word is kept")
  const roundStart = (r: number): number => op.attempts.find((a) => a.round === r)!.at
  const roundEnd = (r: number): number => op.attempts.filter((a) => a.round === r).at(-1)!.at
  t.ok(roundStart(2) - roundEnd(1) >= 500, `backoff after round 1 >= retryBaseMs (${roundStart(2) - roundEnd(1)} ms)`)
  t.ok(roundStart(3) - roundEnd(2) >= 1000, `backoff after round 2 doubled, capped at retryMaxMs (${roundStart(3) - roundEnd(2)} ms)`)
  const failedRow = await cliAsync(c, 'b', 'status')
  t.match(failedRow.stdout, /^a\s+failed\s+lease\s+fence_hang round 3: timeout/m, 'status: failed, after round 3')
  t.equal(startsOf(c, 'b'), 0, 'the service did not move')
  t.comment(`power cut -> a dead on b: ${at(dead) - cutAt} ms; dead -> fencing failed (3 rounds): ${at(gaveUp) - at(dead)} ms`)

  // Without --yes the acknowledgement is refused, and nothing changes.
  const refused = await cliAsync(c, 'b', 'fence', 'ack', 'a')
  t.equal(refused.code, 2, 'refused with exit 2')
  t.match(refused.stderr, /^carbonado: CARB_ERR_USAGE: fence ack: .*add --yes\n$/, `one line: ${refused.stderr}`)
  t.equal(refused.stdout, '')
  await sleep(3 * TEST_TIMING.diskIntervalMs)
  t.same((await fenceOps(c, 'b')).map((o) => [o.id, o.state, o.attempts.length]), [[op.id, 'failed', 6]], 'the operation is as it was')
  t.equal(startsOf(c, 'b'), 0, 'still not moved')

  const bAck = c.node('b').lines.length
  const ackAt = Date.now()
  const acked = await cliAsync(c, 'b', 'fence', 'ack', 'a', '--yes')
  t.equal(acked.code, 0, acked.stderr)
  t.match(acked.stdout, /^a acknowledged off by \S+ on b \(operation fence:a:1#1\)/)
  const startedAt = await waitRuns(c, 'b', 1, 10_000)
  const took = await c.waitFor('b', tookLease, 1000, bAck)
  const acquired = await acquisitions(c, 'b')
  t.match(acquired, [{ proofKind: 'fenced', proof: /fenced by manual-ack \(incarnation 1\): acknowledged off by / }], 'the takeover is journaled with proof kind fenced, by manual-ack')
  t.equal(acquired.length, 1)
  t.match(await fenceOps(c, 'b'), [{ id: op.id, state: 'succeeded', proof: { name: 'manual-ack' } }], 'the failed operation ended as acknowledged')
  t.comment(`fence ack -> lease: ${at(took) - ackAt} ms; fence ack -> service started on b: ${startedAt - ackAt} ms`)
  await sleep(SETTLE_MS)
  t.same([startsOf(c, 'a'), startsOf(c, 'b')], [1, 1], 'one run each')
  checkWitness(t, c)

  await cleanStopOf(t, c, 'b')
})

t.test('a stop that fails: the owner leaves (exit 6) so that its peer fences it, then the service moves on the proof fenced', async (t) => {
  const { c } = await switchedCluster(t)

  await writeFile(join(c.dir, 'stop-fails-a'), '')
  const aFrom = c.node('a').lines.length
  const bFrom = c.node('b').lines.length
  const moved = await cliAsync(c, 'b', 'service', 'relocate', 'web', '--to', 'b')
  t.equal(moved.code, 0, `relocate: ${moved.stdout}${moved.stderr}`)
  await c.waitFor('a', (l) => l.machine?.startsWith('service:web#') === true && l.to === 'failed', 15_000, aFrom)
  await c.waitFor('a', message(/^service web: .*leaving the cluster so that a is fenced \(pdu\)/), 5000, aFrom)
  t.equal(await c.node('a').exited, 6, 'a exits with code 6 (EXIT_STOP_FAILED) without writing "down"')
  const fenced = await c.waitFor('b', message(/^fenced a \(incarnation 1\) by pdu: /), diskDeadAfterMs + 15_000, bFrom)
  await waitRuns(c, 'b', 1, 10_000)
  const took = await c.waitFor('b', tookLease, 1000, bFrom)
  t.ok(at(fenced) <= at(took), 'b took the lease only after a was fenced')
  const acquired = await acquisitions(c, 'b')
  t.match(acquired, [{ machine: /^service:web#/, proofKind: 'fenced', proof: /fenced by pdu/ }], 'the move is journaled with proof kind fenced')
  t.notOk(runsOn(c, 'a')[0]!.stopped, "a's run never had a clean stop: the power cut ended it")
  checkWitness(t, c)
  t.equal(await c.stop('b'), 0, 'b stops cleanly')
  replayJournals(t, c, ['a', 'b'])
})

t.test('fence race: both nodes fence each other at once; the race delay lets the node running the service win', async (t) => {
  const raceDelayMs = 3000
  // The switch takes 1 s to cut: both requests are surely in before either side could act.
  const { c, sw } = await switchedCluster(t, { actMs: 1000, topLevel: () => [`fencing: { raceDelayMs: ${raceDelayMs} }`] })
  const aFrom = c.node('a').lines.length
  const bFrom = c.node('b').lines.length
  const daemonA = daemonPid(c, 'a')

  const raceAt = Date.now()
  const [byA, byB] = await Promise.all([cliAsync(c, 'a', 'fence', 'b', '--wait', '30'), cliAsync(c, 'b', 'fence', 'a', '--wait', '30')])
  t.equal(byA.code, 0, `a fenced b: ${byA.stdout}${byA.stderr}`)
  t.match(byA.stdout, /^b: succeeded \(requested by admin:\S+: fenced by hand by \S+\); last try pdu \(round 1\): ok /m)
  t.not(byB.code, 0, `b's request never completed: its machine went off (${byB.stdout.trim()} ${byB.stderr.trim()})`)
  t.match(byB.stdout, /^a: delaying \(requested by admin:/m, 'b took the request: the race was on')
  await c.node('b').exited
  t.match(sw.cuts, [{ action: 'off', plug: 'b', code: 0 }], 'the switch cut b only')
  t.equal(sw.cuts.length, 1)
  const fenced = await c.waitFor('a', message(/^fenced b \(incarnation 1\) by pdu: /), 1000, aFrom)
  const fenceOfA = await c.waitFor('a', message(/^fencing b \(incarnation 1\) requested by admin:/), 1000, aFrom)
  t.notMatch(fenceOfA.message, /race delay/, 'a runs the service: no race delay')
  const delayed = c.node('b').lines.slice(bFrom).find(message(/^fencing a \(incarnation 1\) requested by admin:/))
  t.match(delayed?.message, /\(race delay 3000 ms: this node runs no service\)$/, 'b runs nothing: it waits the race delay first')
  if (delayed !== undefined) t.comment(`b took its request ${at(fenced) - at(delayed)} ms before a's fence of b succeeded`)
  t.notOk(c.node('b').lines.slice(bFrom).some(message('fencing a: pdu off')), 'b never reached its first method')
  t.comment(`race start -> b fenced by a: ${at(fenced) - raceAt} ms (b would have fenced at ${raceDelayMs} ms)`)

  // Past b's race delay: a is still alive and runs the service, b never ran it.
  await sleep(Math.max(0, raceAt + raceDelayMs + 1000 - Date.now()))
  t.ok(running(c, 'a') && alive(daemonA), 'a survived')
  const [runA] = runsOn(c, 'a')
  t.ok(runA !== undefined && !runA.stopped && msOf(runA.toNs) > raceAt + raceDelayMs, `a's service runs on past the race delay: ${describeRuns(runsOf(c))}`)
  t.same([startsOf(c, 'a'), startsOf(c, 'b')], [1, 0], 'only a ever ran the service')
  t.match(await fenceOps(c, 'a'), [{ target: 'b', state: 'succeeded', proof: { name: 'pdu' } }])
  checkWitness(t, c)

  t.ok(existsSync(join(c.dir, 'journal', 'b')))
  await cleanStopOf(t, c, 'a')
})
