/**
 * The built-in floating-IP agent, in a network namespace this test creates, on its one
 * interface. Addresses are 10.77.x.x and fd77::/16, and exist only inside that namespace.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { findInPath } from '../../src/agents/environment.js'
import { runAgent } from '../../src/agents/run.js'
import { AGENT_PATH, type IpSpec } from '../../src/agents/types.js'
import { addressesIn, createNetns, netnsProblem } from './fixtures/netns.js'
import { OPTIONS, missingTool, tempDir } from './fixtures/system.js'

const skip = missingTool('ip') ?? netnsProblem()

t.test('IPv4: start adds, monitor sees, stop removes; both idempotent', { skip: skip ?? false }, async (t) => {
  const ns = createNetns(t)
  const spec: IpSpec = { type: 'ip', name: 'vip', address: '10.77.1.10', prefix: 24, interface: ns.iface, arping: false }
  const options = { ...OPTIONS, netns: ns.name }
  const has = (): boolean => addressesIn(ns.name, ns.iface).includes('10.77.1.10/24')
  t.match(await runAgent(spec, 'validate', options), { outcome: 'ok' })
  t.match(await runAgent(spec, 'monitor', options), { outcome: 'not-running', detail: 'vip monitor: 10.77.1.10/24 is not on d0' })
  t.notOk(has(), 'not there before start')
  t.match(await runAgent(spec, 'start', options), { outcome: 'ok', exitCode: 0, detail: /ip addr add 10\.77\.1\.10\/24 dev d0: exit 0; no gratuitous ARP \(arping: false\)/ })
  t.ok(has(), 'there after start')
  t.match(await runAgent(spec, 'start', options), { outcome: 'ok', detail: /already on d0/ }, 'start again is ok')
  t.match(await runAgent(spec, 'monitor', options), { outcome: 'ok' })
  t.match(await runAgent(spec, 'stop', options), { outcome: 'ok', detail: /ip addr del 10\.77\.1\.10\/24 dev d0: exit 0/ })
  t.notOk(has(), 'gone after stop')
  t.match(await runAgent(spec, 'stop', options), { outcome: 'ok', detail: /nothing to remove/ }, 'stop again is ok')
  t.match(await runAgent(spec, 'monitor', options), { outcome: 'not-running' })
})

t.test('IPv6, written in a non-canonical form', { skip: skip ?? false }, async (t) => {
  const ns = createNetns(t)
  const spec: IpSpec = { type: 'ip', name: 'vip6', address: 'FD77:0:0::0010', prefix: 64, interface: ns.iface, arping: true }
  const options = { ...OPTIONS, netns: ns.name }
  t.match(await runAgent(spec, 'start', options), { outcome: 'ok', detail: /no gratuitous ARP for IPv6/ })
  t.ok(addressesIn(ns.name, ns.iface).includes('fd77::10/64'))
  t.match(await runAgent(spec, 'monitor', options), { outcome: 'ok' }, 'found though iproute2 prints it as fd77::10')
  t.match(await runAgent(spec, 'start', options), { outcome: 'ok', detail: /already on/ })
  t.match(await runAgent(spec, 'stop', options), { outcome: 'ok' })
  t.notOk(addressesIn(ns.name, ns.iface).includes('fd77::10/64'))
})

t.test('gratuitous ARP after start by default, where arping is installed', { skip: skip ?? missingTool('arping') ?? false }, async (t) => {
  const ns = createNetns(t)
  const spec: IpSpec = { type: 'ip', name: 'vip', address: '10.77.3.10', prefix: 24, interface: ns.iface }
  t.match(await runAgent(spec, 'start', { ...OPTIONS, netns: ns.name }), { outcome: 'ok', detail: /exit 0; arping: exit 0, 3 gratuitous ARPs sent/ }, 'no arping field: announced')
  t.ok(addressesIn(ns.name, ns.iface).includes('10.77.3.10/24'))
})

t.test('without arping on the agent PATH: skipped by default, misconfigured when required', { skip: skip ?? false }, async (t) => {
  const ns = createNetns(t)
  // A PATH with `ip` and nothing else, wherever the distribution puts arping.
  const bin = await tempDir(t)
  await symlink(findInPath('ip', { PATH: AGENT_PATH })!, join(bin, 'ip'))
  const options = { ...OPTIONS, netns: ns.name, env: { PATH: bin } }
  const spec: IpSpec = { type: 'ip', name: 'vip', address: '10.77.3.11', prefix: 24, interface: ns.iface }
  t.match(await runAgent(spec, 'validate', options), { outcome: 'ok' })
  t.match(await runAgent(spec, 'start', options), { outcome: 'ok', detail: /exit 0; arping is not installed: no gratuitous ARP sent/ }, 'no arping field: a missing arping is not a start failure')
  t.ok(addressesIn(ns.name, ns.iface).includes('10.77.3.11/24'))

  const required: IpSpec = { ...spec, address: '10.77.3.12', arping: true }
  const why = `vip validate: arping: true, but arping is not installed (not on the agent PATH ${bin})`
  t.match(await runAgent(required, 'validate', options), { outcome: 'misconfigured', detail: why })
  t.match(await runAgent(required, 'start', options), { outcome: 'misconfigured', detail: why.replace('validate', 'start') }, 'arping: true: a node without it cannot start the address')
  t.notOk(addressesIn(ns.name, ns.iface).includes('10.77.3.12/24'), 'the address was not added')
  t.match(await runAgent(required, 'stop', options), { outcome: 'ok', detail: /nothing to remove/ }, 'stop needs no arping')

  const off: IpSpec = { ...spec, address: '10.77.3.13', arping: false }
  t.match(await runAgent(off, 'start', options), { outcome: 'ok', detail: /exit 0; no gratuitous ARP \(arping: false\)/ })
})

t.test('a missing interface, and the same address with another prefix', { skip: skip ?? false }, async (t) => {
  const ns = createNetns(t)
  const options = { ...OPTIONS, netns: ns.name }
  const ghost: IpSpec = { type: 'ip', name: 'vip', address: '10.77.4.10', prefix: 24, interface: 'nosuch0' }
  t.match(await runAgent(ghost, 'validate', options), { outcome: 'misconfigured', detail: /interface nosuch0 does not exist/ })
  t.match(await runAgent(ghost, 'start', options), { outcome: 'failed', detail: /interface nosuch0 does not exist/ })
  t.match(await runAgent(ghost, 'monitor', options), { outcome: 'failed' })
  t.match(await runAgent(ghost, 'stop', options), { outcome: 'ok', detail: /nothing to remove/ })
  execFileSync('ip', ['-n', ns.name, 'addr', 'add', '10.77.4.10/16', 'dev', ns.iface])
  const spec: IpSpec = { ...ghost, interface: ns.iface }
  t.match(await runAgent(spec, 'start', options), { outcome: 'failed', detail: /10\.77\.4\.10 is on d0 with prefix \/16, not \/24/ })
  t.match(await runAgent(spec, 'monitor', options), { outcome: 'failed', detail: /prefix \/16/ })
  t.match(await runAgent(spec, 'stop', options), { outcome: 'ok' }, 'an address we did not add is left alone')
  t.ok(addressesIn(ns.name, ns.iface).includes('10.77.4.10/16'))
})

t.test('a namespace that does not exist fails the operation, never the caller', { skip: skip ?? false }, async (t) => {
  const spec: IpSpec = { type: 'ip', name: 'vip', address: '10.77.5.10', prefix: 24, interface: 'd0' }
  const result = await runAgent(spec, 'monitor', { ...OPTIONS, netns: `carb-absent-${process.pid}` })
  t.match(result, { outcome: 'failed', detail: /ip addr show: exit 255/ })
  t.match(result.output, /Cannot open network namespace/)
})
