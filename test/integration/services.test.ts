/**
 * Services with real parts: real node processes sharing a disk file, a real LSB-style script
 * whose worker writes a witness file, administrators using the real CLI. "Killing a machine"
 * is SIGKILL of its node process and of its service worker (a dead machine runs nothing).
 * Every test ends with the witness checker (never two nodes running the service at once) and
 * replay of every journal.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CLI, TestCluster, TEST_TIMING } from '../helpers/cluster.js'
import {
  allUp, checkWitness, cli, destroyWithWorkers, installScript, killMachine, replays, runsOf, scriptResource, startsOf, stopAll, waitRuns, workerPid,
} from '../helpers/services.js'

const { diskDeadAfterMs } = TEST_TIMING
const run = promisify(execFile)
/** After a takeover, long enough for a second start to show: 5 monitor intervals, 6 disk cycles. */
const SETTLE_MS = 1500
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SETTLE_MS))

t.test('2 nodes: kill -9 the owner, the survivor takes over; the preferred node returns and gets it back; relocate by command', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(destroyWithWorkers(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  const added = cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,b', '--failback-stable-ms', '1500', '--resource', scriptResource(script))
  t.equal(added.code, 0, `service add: ${added.stdout}${added.stderr}`)
  t.match(added.stdout, /added service web \(configuration version 1\)/)
  await waitRuns(c, 'a', 1, 10_000)

  const killedAt = Date.now()
  killMachine(c, 'a')
  const tookOverAt = await waitRuns(c, 'b', 1, diskDeadAfterMs + 8000)
  t.ok(tookOverAt - killedAt >= diskDeadAfterMs - TEST_TIMING.diskIntervalMs - 100, `b did not take over before a was proven gone (${tookOverAt - killedAt} ms)`)
  t.comment(`failover (kill -9 to the start on b): ${tookOverAt - killedAt} ms`)
  await settle()
  t.equal(startsOf(c, 'b'), 1, 'the survivor started the service exactly once')
  checkWitness(t, c)

  c.start('a')
  await waitRuns(c, 'a', 2, 20_000)
  const runs = runsOf(c)
  t.ok(runs.some((r) => r.node === 'b' && r.stopped), 'b stopped cleanly before a started again (failback)')
  t.same([startsOf(c, 'a'), startsOf(c, 'b')], [2, 1], 'failback: a started once more, b did not start again')

  const moved = cli(c, 'b', 'service', 'relocate', 'web', '--to', 'b')
  t.equal(moved.code, 0, `relocate: ${moved.stdout}${moved.stderr}`)
  await waitRuns(c, 'b', 2, 15_000)
  const list = cli(c, 'a', 'service', 'list', '--json')
  t.equal(list.code, 0, list.stderr)
  t.match(JSON.parse(list.stdout), { version: 2, services: [{ name: 'web', holder: 'b', localState: 'stopped' }] })

  checkWitness(t, c)
  await stopAll(t, c)
  checkWitness(t, c)
  t.ok(runsOf(c).every((r) => r.stopped || r.node === 'a'), 'a clean node stop stops its services')
  replays(t, c)
})

t.test('3 nodes: kill -9 the owner, the next node of its domain takes over exactly once', async (t) => {
  const c = await TestCluster.create(['a', 'b', 'c'])
  t.teardown(destroyWithWorkers(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  // Not in node-id order: after b comes c, and a (the lowest id) is last.
  const added = cli(c, 'a', 'service', 'add', 'web', '--domain', 'b,c,a', '--failback', 'off', '--resource', scriptResource(script))
  t.equal(added.code, 0, `service add: ${added.stdout}${added.stderr}`)
  await waitRuns(c, 'b', 1, 10_000)

  const killedAt = Date.now()
  killMachine(c, 'b')
  const tookOverAt = await waitRuns(c, 'c', 1, diskDeadAfterMs + 8000)
  t.ok(tookOverAt - killedAt >= diskDeadAfterMs - TEST_TIMING.diskIntervalMs - 100, `c did not take over before b was proven gone (${tookOverAt - killedAt} ms)`)
  t.comment(`failover (kill -9 to the start on c): ${tookOverAt - killedAt} ms`)
  await settle()
  t.same(['a', 'b', 'c'].map((n) => startsOf(c, n)), [0, 1, 1], 'c, next in the domain, started it exactly once; a never did')
  checkWitness(t, c)
  await stopAll(t, c)
  checkWitness(t, c)
  replays(t, c)
})

t.test('3 nodes: a failing monitor restarts the service in place, then relocates it when the budget is spent', async (t) => {
  const c = await TestCluster.create(['a', 'b', 'c'])
  t.teardown(destroyWithWorkers(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  const added = cli(c, 'b', 'service', 'add', 'web', '--domain', 'a,b,c', '--max-restarts', '1', '--window-ms', '60000', '--failback', 'off', '--resource', scriptResource(script))
  t.equal(added.code, 0, added.stderr)
  await waitRuns(c, 'a', 1, 10_000)
  process.kill(workerPid(c, 'a')!, 'SIGKILL')
  await waitRuns(c, 'a', 2, 10_000)
  t.equal(runsOf(c).filter((r) => r.node === 'b').length, 0, 'the first failure restarts it on a')
  process.kill(workerPid(c, 'a')!, 'SIGKILL')
  await waitRuns(c, 'b', 1, 10_000)
  t.equal(runsOf(c).filter((r) => r.node === 'a').length, 2, 'the second failure in the window moves it to the next node')
  checkWitness(t, c)
  await stopAll(t, c)
  replays(t, c)
})

t.test('two administrators change the configuration at once: one wins, the other gets a version error', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(destroyWithWorkers(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  const add = (node: string, name: string) => run(process.execPath, [CLI, 'service', 'add', name, '--domain', 'a,b', '--disabled', '--expect-version', '0', '--resource', scriptResource(script), '-c', c.file, '--node', node])
    .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }))
  const results = await Promise.all([add('a', 'one'), add('b', 'two')])
  t.same(results.map((r) => r.code).sort(), [0, 1], `exactly one wins: ${JSON.stringify(results)}`)
  const loser = results.find((r) => r.code !== 0)!
  t.match(loser.stderr, /CARB_ERR_CONFIG_VERSION: /)
  t.equal(loser.stderr.trim().split('\n').length, 1, 'one line')
  const lists = ['a', 'b'].map((n) => JSON.parse(cli(c, n, 'service', 'list', '--json').stdout) as { version: number; services: { name: string }[] })
  t.same(lists.map((l) => l.version), [1, 1], 'both nodes read version 1')
  t.same(lists[0]!.services.map((s) => s.name), lists[1]!.services.map((s) => s.name))
  t.equal(lists[0]!.services.length, 1)

  const bad = cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,x', '--resource', scriptResource(script))
  t.equal(bad.code, 2)
  t.match(bad.stderr, /CARB_ERR_CONFIG_FIELD: service add: service\.domain\[1\]: no node named "x"/)
  t.equal(JSON.parse(cli(c, 'a', 'service', 'list', '--json').stdout).version, 1, 'a bad definition changes nothing')

  const backup = join(c.dir, 'backup.yaml')
  t.equal(cli(c, 'a', 'config', 'backup', backup).code, 0)
  t.equal(cli(c, 'b', 'service', 'delete', lists[0]!.services[0]!.name).code, 0)
  const restored = cli(c, 'b', 'config', 'restore', backup)
  t.equal(restored.code, 0, restored.stderr)
  t.match(restored.stdout, /restored 1 services .* as configuration version 3/)
  await stopAll(t, c)
  replays(t, c)
})
