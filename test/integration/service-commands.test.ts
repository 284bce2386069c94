/**
 * The administrator's service commands end to end: the real CLI against two running node
 * processes, on a service whose script writes the witness file. Each step reads like
 * cluadmin's: show the service (as JSON and as text), modify it (version + 1; a stale
 * --expect-version changes nothing), restart it (stop then start on the same owner, the lease
 * kept, not counted against the restart budget), disable it (stopped on its owner, nothing
 * runs), enable it (back on the preferred node), move it by changing its domain, and refuse
 * bad input with one named line. Ends with the witness checker and replay of both journals.
 */
import t from 'tap'
import { parse } from 'yaml'
import { TestCluster, type LogLine } from '../helpers/cluster.js'
import { alive } from '../helpers/power-switch.js'
import {
  allUp, checkWitness, cli, cliAsync, destroyWithWorkers, installScript, replays, runsOf, scriptResource, startsOf, stopAll, waitRuns, waitUntil, workerPid,
} from '../helpers/services.js'
import type { ServiceDef } from '../../src/config/services.js'
import type { ServiceStatus } from '../../src/runtime/service-shell.js'

/** Long enough for a start that should not happen to show: 5 monitor intervals, 6 disk cycles. */
/** Bad-input CLI calls run side by side, at most this many at once. */
const BAD_INPUT_PARALLEL = 3
const SETTLE_MS = 1500
const STEP_WITHIN_MS = 10_000
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SETTLE_MS))

interface Shown { version: number; definition: ServiceDef; status: ServiceStatus }

t.test('service show, modify, restart, disable, enable and bad input through the real CLI on a running 2-node cluster', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(destroyWithWorkers(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)

  const show = (node: string): Shown => {
    const r = cli(c, node, 'service', 'show', 'web', '--json')
    if (r.code !== 0) throw new Error(`service show on ${node}: exit ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as Shown
  }
  const version = (): number => show('a').version
  /** The service machine of `web` on `node` entering `state`, from the node's decision log. */
  const entered = (node: string, state: string): LogLine[] => c.decisions(node).filter((l) => l.machine?.startsWith('service:web#') === true && l.to === state)
  /** Whether `node`'s latest run ended with the script's stop (a killed worker's run ends without one). */
  const lastStopped = (node: string): boolean => runsOf(c).filter((run) => run.node === node).at(-1)?.stopped ?? true

  // add: the preferred node a starts it.
  const added = cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,b', '--failback-stable-ms', '1000', '--resource', scriptResource(script))
  t.equal(added.code, 0, `service add: ${added.stdout}${added.stderr}`)
  await waitRuns(c, 'a', 1, STEP_WITHIN_MS)
  await waitUntil(c, 'both nodes see a as the holder', () => show('a').status.localState === 'running' && show('b').status.holder === 'a', STEP_WITHIN_MS)

  t.test('show --json: the definition, the lease holder and the state on the asked node', async (t) => {
    const onA = show('a')
    t.match(onA, {
      version: 1,
      definition: {
        name: 'web', index: 0, enabled: true, domain: ['a', 'b'], failback: true, failbackStableMs: 1000, relocateTo: null, restartGeneration: 0,
        recovery: { policy: 'restart-then-relocate', maxRestarts: 3, windowMs: 600000 },
        resources: [{ type: 'script', name: 'app', path: script, monitorIntervalMs: 300, startTimeoutMs: 5000, stopTimeoutMs: 5000, monitorTimeoutMs: 2000 }],
      },
      status: { name: 'web', index: 0, enabled: true, holder: 'a', localState: 'running' },
    })
    t.ok(onA.status.leaseInstance > 0, `the lease has been taken (instance ${onA.status.leaseInstance})`)
    t.match(show('b'), { version: 1, status: { holder: 'a', localState: 'stopped' } }, 'b sees the same holder and runs nothing')
  })

  t.test('show as text: the same facts as YAML, for a person', async (t) => {
    const r = cli(c, 'b', 'service', 'show', 'web')
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /^version: 1\n/)
    t.match(r.stdout, /\n {2}holder: a\n/)
    t.match(r.stdout, /\n {2}localState: stopped\n/)
    t.match(parse(r.stdout) as unknown, { version: 1, status: { name: 'web', holder: 'a' }, definition: { name: 'web', domain: ['a', 'b'], resources: [{ name: 'app', path: script }] } }, 'the text is YAML with the JSON fields')
  })

  t.test('modify: the recovery policy changes at once, the running service is not touched; a stale --expect-version changes nothing', async (t) => {
    const r = cli(c, 'b', 'service', 'modify', 'web', '--max-restarts', '1', '--expect-version', '1')
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'modified service web (configuration version 2)\n')
    await waitUntil(c, 'a reads version 2', () => version() === 2, STEP_WITHIN_MS)
    t.match(show('a').definition, { recovery: { policy: 'restart-then-relocate', maxRestarts: 1, windowMs: 600000 }, domain: ['a', 'b'], failbackStableMs: 1000 }, 'only the given field changed')
    t.same([startsOf(c, 'a'), startsOf(c, 'b')], [1, 0], 'no restart for a recovery change')
    t.notOk(runsOf(c).some((run) => run.stopped), 'the service was not stopped')

    const stale = cli(c, 'a', 'service', 'modify', 'web', '--max-restarts', '5', '--expect-version', '1')
    t.equal(stale.code, 1, 'a lost race exits 1')
    t.equal(stale.stderr, 'carbonado: CARB_ERR_CONFIG_VERSION: service modify: --expect-version 1, but the cluster is at version 2; nothing changed\n')
    t.equal(stale.stdout, '')
    const after = show('b')
    t.equal(after.version, 2, 'no new version')
    t.equal(after.definition.recovery.maxRestarts, 1, 'the definition is unchanged')
  })

  t.test('restart: stop then start on the same owner, lease kept, not counted against the restart budget', async (t) => {
    const before = show('a').status
    const workerBefore = workerPid(c, 'a')
    const r = cli(c, 'b', 'service', 'restart', 'web')
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'asked the owner of web to restart it (configuration version 3)\n')
    await waitRuns(c, 'a', 2, STEP_WITHIN_MS)
    const [first, second] = runsOf(c).filter((run) => run.node === 'a')
    t.ok(first!.stopped && first!.toNs <= second!.fromNs, 'the old run stopped before the new one started')
    t.not(workerPid(c, 'a'), workerBefore, 'a new worker')
    await waitUntil(c, 'a runs it again', () => show('a').status.localState === 'running', STEP_WITHIN_MS)
    t.match(show('a'), { version: 3, definition: { restartGeneration: 1 }, status: { holder: 'a', leaseInstance: before.leaseInstance } }, 'same holder, same lease instance: the lease was never given up')
    t.same(entered('a', 'recovering'), [], 'a restart is not a failure: no recovery')
    t.equal(startsOf(c, 'b'), 0, 'b never started it')

    // maxRestarts is 1: had the restart been counted, this failure would move the service to b.
    process.kill(workerPid(c, 'a')!, 'SIGKILL')
    await waitRuns(c, 'a', 3, STEP_WITHIN_MS)
    t.equal(entered('a', 'recovering').length, 1, 'the killed worker is a failure, recovered in place')
    t.equal(startsOf(c, 'b'), 0, 'the restart budget still had room: not moved to b')
  })

  t.test('disable: the owner stops it and nothing runs anywhere', async (t) => {
    await waitUntil(c, 'a runs it', () => show('a').status.localState === 'running', STEP_WITHIN_MS)
    const worker = workerPid(c, 'a')!
    const startsBefore = [startsOf(c, 'a'), startsOf(c, 'b')]
    const r = cli(c, 'b', 'service', 'disable', 'web')
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'disabled service web; its owner stops it (configuration version 4)\n')
    await waitUntil(c, 'the witness shows a stop on a', () => lastStopped('a'), STEP_WITHIN_MS)
    t.notOk(alive(worker), 'the worker process is gone (exited; a zombie not yet reaped by PID 1 counts as gone)')
    t.equal(workerPid(c, 'a'), null, 'the script removed its pid file')
    await waitUntil(c, 'both nodes show it disabled with no holder', () => ['a', 'b'].every((n) => {
      const s = show(n).status
      return s.localState === 'disabled' && s.holder === null
    }), STEP_WITHIN_MS)
    t.match(show('a'), { version: 4, definition: { enabled: false }, status: { enabled: false, holder: null, localState: 'disabled' } })
    await settle()
    t.same([startsOf(c, 'a'), startsOf(c, 'b')], startsBefore, 'nothing started while disabled')
    t.ok(lastStopped('a') && lastStopped('b') && workerPid(c, 'a') === null && workerPid(c, 'b') === null, 'nothing runs')
    const list = cli(c, 'a', 'service', 'list')
    t.match(list.stdout, /\nweb\s+no\s+-\s+disabled\s+a,b/, 'service list shows it disabled, no owner')
  })

  t.test('enable: it starts again on the preferred node', async (t) => {
    const r = cli(c, 'b', 'service', 'enable', 'web')
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'enabled service web (configuration version 5)\n')
    await waitRuns(c, 'a', 4, STEP_WITHIN_MS)
    await waitUntil(c, 'b sees a as the holder', () => show('b').status.holder === 'a', STEP_WITHIN_MS)
    t.match(show('a'), { version: 5, definition: { enabled: true }, status: { holder: 'a', localState: 'running' } })
    t.equal(startsOf(c, 'b'), 0, 'not on b')
  })

  t.test('modify the domain: b becomes preferred and, with failback, the service moves there cleanly', async (t) => {
    const r = cli(c, 'a', 'service', 'modify', 'web', '--domain', 'b,a')
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, 'modified service web (configuration version 6)\n')
    await waitRuns(c, 'b', 1, STEP_WITHIN_MS)
    t.ok(lastStopped('a'), 'a stopped it')
    await waitUntil(c, 'a sees b as the holder', () => show('a').status.holder === 'b', STEP_WITHIN_MS)
    t.match(show('b'), { version: 6, definition: { domain: ['b', 'a'] }, status: { holder: 'b', localState: 'running' } })
  })

  t.test('bad input: one named line, a non-zero exit, no new version, nothing restarted', async (t) => {
    const starts = [startsOf(c, 'a'), startsOf(c, 'b')]
    const unknown = /^carbonado: CARB_ERR_SERVICE_UNKNOWN: service (show|modify|enable|disable|restart|relocate|delete): no service named "nope" in configuration version 6/
    const cases: [string[], number, RegExp][] = [
      ...[['show', 'nope'], ['show', 'nope', '--json'], ['modify', 'nope', '--max-restarts', '2'], ['enable', 'nope'], ['disable', 'nope'], ['restart', 'nope'], ['relocate', 'nope'], ['delete', 'nope']]
        .map((args): [string[], number, RegExp] => [args, 1, unknown]),
      [['enable', 'web'], 1, /^carbonado: CARB_ERR_SERVICE_UNCHANGED: service enable: service "web" is already enabled\n$/],
      [['modify', 'web', '--max-restarts', 'many'], 2, /^carbonado: CARB_ERR_USAGE: service modify: --max-restarts must be an integer, got "many"\n$/],
      [['modify', 'web', '--domain', 'b,zz'], 2, /^carbonado: CARB_ERR_CONFIG_FIELD: service modify: service\.domain\[1\]: no node named "zz"/],
      [['modify'], 2, /^carbonado: CARB_ERR_USAGE: service modify: give the service NAME/],
    ]
    // Three at a time: none of them may change anything, whatever the order they reach the node
    // in. (All twelve at once starved the 2-core machine long enough for a 2 s monitor to time
    // out and restart the service, which is what this test must not see for other reasons.)
    const results: Awaited<ReturnType<typeof cliAsync>>[] = []
    for (let i = 0; i < cases.length; i += BAD_INPUT_PARALLEL) {
      results.push(...await Promise.all(cases.slice(i, i + BAD_INPUT_PARALLEL).map(([args]) => cliAsync(c, 'a', 'service', ...args))))
    }
    for (const [i, [args, code, message]] of cases.entries()) {
      const r = results[i]!
      t.equal(r.code, code, `service ${args.join(' ')}: exit ${code}`)
      t.match(r.stderr, message, `service ${args.join(' ')}: named error`)
      t.equal(r.stderr.trim().split('\n').length, 1, `service ${args.join(' ')}: one line`)
      t.equal(r.stdout, '', `service ${args.join(' ')}: prints nothing else`)
    }
    t.match(show('b'), { version: 6, definition: { domain: ['b', 'a'], enabled: true, restartGeneration: 1, recovery: { maxRestarts: 1 } } }, 'no new version, the definition unchanged')
    t.same([startsOf(c, 'a'), startsOf(c, 'b')], starts, 'nothing was started or restarted')
  })

  t.test('the end: never two owners, clean stops, every journal replays', async (t) => {
    checkWitness(t, c)
    await stopAll(t, c)
    checkWitness(t, c)
    t.ok(lastStopped('a') && lastStopped('b'), 'a clean node stop stops its services')
    replays(t, c)
  })
})
