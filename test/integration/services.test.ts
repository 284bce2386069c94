/**
 * Services with real parts: real node processes sharing a disk file, a real LSB-style script
 * whose worker writes a witness file, administrators using the real CLI. "Killing a machine"
 * is SIGKILL of its node process and of its service worker (a dead machine runs nothing).
 * Every test ends with the witness checker (never two nodes running the service at once) and
 * replay of every journal.
 */
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CLI, TestCluster, TEST_TIMING, runCli } from '../helpers/cluster.js'
import { describeRuns, overlaps, readRuns, type Run } from '../helpers/witness.js'

const { diskDeadAfterMs } = TEST_TIMING
const UP_WITHIN_MS = 15_000
const run = promisify(execFile)

async function allUp(c: TestCluster): Promise<void> {
  for (const observer of c.names) for (const peer of c.names) if (peer !== observer) await c.waitPeer(observer, peer, 'up', UP_WITHIN_MS)
}

async function installScript(c: TestCluster): Promise<string> {
  const text = await readFile(join(import.meta.dirname, 'fixtures/witness-service.sh'), 'utf8')
  const path = join(c.dir, 'witness-service.sh')
  await writeFile(path, text.replace('WITNESS_DIR', c.dir))
  await chmod(path, 0o755)
  return path
}

function resource(script: string): string {
  return `{type: script, name: app, path: ${script}, monitorIntervalMs: 300, startTimeoutMs: 5000, stopTimeoutMs: 5000, monitorTimeoutMs: 2000}`
}

const runsOf = (c: TestCluster): Run[] => readRuns(join(c.dir, 'witness.log'))

/** Wait until the witness shows `count` runs started on `node`. */
async function waitRuns(c: TestCluster, node: string, count: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const started = runsOf(c).filter((r) => r.node === node).length
    if (started >= count) return Date.now()
    if (Date.now() > deadline) {
      const logs = [...c.nodes.values()].map((p) => `--- ${p.name}\n${p.raw.filter((l) => !l.includes('"machine":"peer')).slice(-25).join('\n')}`).join('\n')
      throw new Error(`${node} did not start the service (${count} runs) within ${timeoutMs} ms: ${describeRuns(runsOf(c))}\n${logs}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

function workerPid(c: TestCluster, node: string): number | null {
  const file = join(c.dir, 'pids', `${node}.service`)
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : null
}

/** Service workers outlive their node process (they are the service): kill them with the cluster. */
function destroy(c: TestCluster): () => Promise<void> {
  return async () => {
    for (const node of c.names) {
      const pid = workerPid(c, node)
      if (pid !== null) try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
    }
    await c.destroy()
  }
}

/** The machine dies: its node process and everything it ran. */
function killMachine(c: TestCluster, node: string): void {
  c.node(node).child.kill('SIGKILL')
  const pid = workerPid(c, node)
  if (pid !== null) try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
}

function cli(c: TestCluster, node: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  return runCli([...args, '-c', c.file, '--node', node])
}

function checkWitness(t: Test, c: TestCluster): void {
  const runs = runsOf(c)
  t.same(overlaps(runs).map((o) => `${o.a.node}/${o.b.node}`), [], `never two owners: ${describeRuns(runs)}`)
}

function replays(t: Test, c: TestCluster): void {
  for (const name of c.names) {
    const r = runCli(['replay', '--journal', join(c.dir, 'journal', name)])
    t.equal(r.code, 0, `journal of ${name} replays: ${r.stdout.trim()} ${r.stderr.trim()}`)
  }
}

async function stopAll(t: Test, c: TestCluster): Promise<void> {
  for (const name of c.names) {
    const p = c.nodes.get(name)
    if (p !== undefined && p.child.exitCode === null && p.child.signalCode === null) t.equal(await c.stop(name), 0, `${name} stops cleanly`)
  }
}

t.test('2 nodes: kill -9 the owner, the survivor takes over; the preferred node returns and gets it back; relocate by command', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(destroy(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  const added = cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,b', '--failback-stable-ms', '1500', '--resource', resource(script))
  t.equal(added.code, 0, `service add: ${added.stdout}${added.stderr}`)
  t.match(added.stdout, /added service web \(configuration version 1\)/)
  await waitRuns(c, 'a', 1, 10_000)

  const killedAt = Date.now()
  killMachine(c, 'a')
  const tookOverAt = await waitRuns(c, 'b', 1, diskDeadAfterMs + 8000)
  t.ok(tookOverAt - killedAt >= diskDeadAfterMs - TEST_TIMING.diskIntervalMs - 100, `b did not take over before a was proven gone (${tookOverAt - killedAt} ms)`)
  t.comment(`failover (kill -9 to the start on b): ${tookOverAt - killedAt} ms`)

  c.start('a')
  await waitRuns(c, 'a', 2, 20_000)
  const runs = runsOf(c)
  t.ok(runs.some((r) => r.node === 'b' && r.stopped), 'b stopped cleanly before a started again (failback)')

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

t.test('3 nodes: a failing monitor restarts the service in place, then relocates it when the budget is spent', async (t) => {
  const c = await TestCluster.create(['a', 'b', 'c'])
  t.teardown(destroy(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  const added = cli(c, 'b', 'service', 'add', 'web', '--domain', 'a,b,c', '--max-restarts', '1', '--window-ms', '60000', '--failback', 'off', '--resource', resource(script))
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
  t.teardown(destroy(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  const add = (node: string, name: string) => run(process.execPath, [CLI, 'service', 'add', name, '--domain', 'a,b', '--disabled', '--expect-version', '0', '--resource', resource(script), '-c', c.file, '--node', node])
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

  const bad = cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,x', '--resource', resource(script))
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
