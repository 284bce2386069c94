/**
 * OCF agents: the real Dummy and IPaddr2 from Debian's resource-agents package (IPaddr2
 * inside a network namespace this test creates), and a fake agent in a private OCF root
 * that exits with whatever code it is told, to walk the exit-code table end to end.
 */
import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { metaData } from '../../src/agents/ocf-agent.js'
import { runAgent } from '../../src/agents/run.js'
import type { OcfSpec } from '../../src/agents/types.js'
import { addressesIn, createNetns, netnsProblem } from './fixtures/netns.js'
import { OPTIONS, script, tempDir, type Teardown } from './fixtures/system.js'

const HEARTBEAT = '/usr/lib/ocf/resource.d/heartbeat'
const noResourceAgents = existsSync(join(HEARTBEAT, 'Dummy')) && existsSync(join(HEARTBEAT, 'IPaddr2')) ? null : 'resource-agents is not installed (apt-get install resource-agents)'

t.test('the real Dummy agent: start, monitor, stop, stop again', { skip: noResourceAgents ?? false }, async (t) => {
  const dir = await tempDir(t)
  const state = join(dir, 'dummy.state')
  const spec: OcfSpec = { type: 'ocf', name: 'dummy1', provider: 'heartbeat', agent: 'Dummy', params: { state } }
  t.match(await runAgent(spec, 'validate', OPTIONS), { outcome: 'ok', exitCode: 0, detail: 'dummy1 validate: validate-all: exit 0 (OCF_SUCCESS)' })
  t.match(await runAgent(spec, 'monitor', OPTIONS), { outcome: 'not-running', exitCode: 7 })
  t.match(await runAgent(spec, 'start', OPTIONS), { outcome: 'ok', exitCode: 0 })
  t.ok(existsSync(state), 'Dummy keeps its state where OCF_RESKEY_state says')
  t.match(await runAgent(spec, 'monitor', OPTIONS), { outcome: 'ok', exitCode: 0 })
  t.match(await runAgent(spec, 'stop', OPTIONS), { outcome: 'ok', exitCode: 0 })
  t.match(await runAgent(spec, 'stop', OPTIONS), { outcome: 'ok', exitCode: 0 }, 'stop of a stopped resource')
  t.match(await runAgent(spec, 'monitor', OPTIONS), { outcome: 'not-running', exitCode: 7, detail: /OCF_NOT_RUNNING/ })
  const bad = await runAgent({ ...spec, params: { state: '/nonexistent-dir/x.state' } }, 'validate', OPTIONS)
  t.match(bad, { outcome: 'misconfigured', exitCode: 2, detail: /OCF_ERR_ARGS.*not writable/ }, 'the exit reason reaches the detail')
  const xml = await metaData(spec)
  t.match(xml, /<resource-agent name="Dummy"/)
  t.match(xml, /<parameter name="state"/)
})

/** A fake agent: records its action and OCF environment, exits with OCF_RESKEY_code. */
async function fakeOcfRoot(t: Teardown): Promise<{ root: string; log: string }> {
  const root = await tempDir(t)
  await mkdir(join(root, 'resource.d', 'test'), { recursive: true })
  await mkdir(join(root, 'lib', 'heartbeat'), { recursive: true })
  const log = join(root, 'calls')
  await script(join(root, 'resource.d', 'test'), 'Codes', [
    `echo "$1 $OCF_ROOT $OCF_FUNCTIONS_DIR $OCF_RESOURCE_INSTANCE $OCF_RESOURCE_TYPE $OCF_RESOURCE_PROVIDER $OCF_RESKEY_CRM_meta_timeout $OCF_RESKEY_color" >> ${log}`,
    'if [ "$1" = meta-data ]; then [ -n "$OCF_RESKEY_nometa" ] && exit 1; echo \'<?xml version="1.0"?><resource-agent name="Codes"/>\'; echo "log noise" >&2; exit 0; fi',
    '[ -n "$OCF_RESKEY_reason" ] && echo "ocf-exit-reason:$OCF_RESKEY_reason" >&2',
    'exit ${OCF_RESKEY_code:-0}',
  ].join('\n'))
  return { root, log }
}

t.test('a fake agent walks the OCF environment and exit codes', async (t) => {
  const { root, log } = await fakeOcfRoot(t)
  const spec = (params: Record<string, string>): OcfSpec => ({ type: 'ocf', name: 'res1', provider: 'test', agent: 'Codes', params, ocfRoot: root })
  t.match(await runAgent(spec({ color: 'blue' }), 'start', { timeoutMs: 4321 }), { outcome: 'ok', exitCode: 0 })
  t.equal((await readFile(log, 'utf8')).trim(), `start ${root} ${root}/lib/heartbeat res1 Codes test 4321 blue`)
  const cases: [Record<string, string>, 'start' | 'stop' | 'monitor' | 'validate', string, RegExp][] = [
    [{ code: '7' }, 'monitor', 'not-running', /monitor: exit 7 \(OCF_NOT_RUNNING\)$/],
    [{ code: '7' }, 'stop', 'ok', /already stopped counts as stopped/],
    [{ code: '7' }, 'start', 'failed', /start: exit 7/],
    [{ code: '1', reason: 'disk on fire' }, 'monitor', 'failed', /OCF_ERR_GENERIC\): disk on fire$/],
    [{ code: '6' }, 'validate', 'misconfigured', /validate-all: exit 6 \(OCF_ERR_CONFIGURED\)/],
    [{ code: '5' }, 'start', 'misconfigured', /OCF_ERR_INSTALLED/],
    [{ code: '2' }, 'stop', 'misconfigured', /OCF_ERR_ARGS/],
    [{ code: '8' }, 'monitor', 'failed', /OCF_RUNNING_PROMOTED\): promotable resources are not supported/],
    [{ code: '9' }, 'monitor', 'failed', /promotable resources are not supported/],
    [{ code: '4' }, 'start', 'failed', /OCF_ERR_PERM/],
  ]
  for (const [params, op, outcome, detail] of cases) {
    t.match(await runAgent(spec(params), op, OPTIONS), { op, outcome, detail }, `${op} exit ${params.code} → ${outcome}`)
  }
  t.equal(await metaData(spec({})), '<?xml version="1.0"?><resource-agent name="Codes"/>\n', 'meta-data is stdout alone')
  await t.rejects(metaData(spec({ nometa: 'y' })), { code: 'CARB_ERR_AGENT_META_DATA', message: /meta-data: exit 1/ })
  const missing: OcfSpec = { ...spec({}), agent: 'Nope' }
  t.match(await runAgent(missing, 'start', OPTIONS), { outcome: 'misconfigured', detail: /OCF agent test:Nope: .*Nope does not exist/ })
  await t.rejects(metaData(missing), { code: 'CARB_ERR_AGENT_META_DATA', message: /does not exist/ })
})

const netnsSkip = noResourceAgents ?? netnsProblem()
t.test('the real IPaddr2 agent inside a network namespace', { skip: netnsSkip ?? false }, async (t) => {
  const ns = createNetns(t)
  const spec: OcfSpec = { type: 'ocf', name: 'vip', provider: 'heartbeat', agent: 'IPaddr2', params: { ip: '10.77.2.10', cidr_netmask: '24', nic: ns.iface } }
  const options = { ...OPTIONS, netns: ns.name }
  t.match(await runAgent(spec, 'validate', options), { outcome: 'ok' })
  t.notOk(addressesIn(ns.name, ns.iface).includes('10.77.2.10/24'))
  const start = await runAgent(spec, 'start', options)
  t.match(start, { outcome: 'ok', exitCode: 0 }, start.output)
  t.ok(addressesIn(ns.name, ns.iface).includes('10.77.2.10/24'), 'the address is on d0 inside the namespace')
  t.match(await runAgent(spec, 'monitor', options), { outcome: 'ok' })
  t.match(await runAgent(spec, 'stop', options), { outcome: 'ok' })
  t.notOk(addressesIn(ns.name, ns.iface).includes('10.77.2.10/24'), 'and gone after stop')
  t.match(await runAgent(spec, 'stop', options), { outcome: 'ok' }, 'stop again')
  t.match(await runAgent(spec, 'monitor', options), { outcome: 'not-running', detail: /OCF_NOT_RUNNING/ })
})
