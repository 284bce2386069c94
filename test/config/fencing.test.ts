/** Fencing in the cluster file: topologies, retry settings, the watchdog, per-node disk paths; bad input named. */
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import { DEFAULT_FENCING } from '../../src/config/fencing.js'
import { isCarbError } from '../../src/errors.js'

const FILE = '/etc/carbonado/cluster.yaml'
const cluster = (nodeA: string, extra = ''): string => `
cluster: web
disk: /dev/disk/by-id/quorum
${extra}
nodes:
  - name: a
    id: 1
    heartbeat: ["10.0.0.1:7400"]
${nodeA}
  - name: b
    id: 2
    heartbeat: ["10.0.0.2:7400"]
`

t.test('a topology: agents with params in order, then the poison pill; defaults filled in', async (t) => {
  const c = parseConfig(cluster(`    disk: /dev/sdc
    fence:
      - { method: agent, agent: /usr/sbin/fence_ipmilan, params: { ip: 10.0.0.11, username: admin, password: "s3cret", lanplus: 1 } }
      - { method: agent, name: pdu, agent: /usr/sbin/fence_apc, port: 3, timeoutMs: 5000 }
      - { method: poison-pill }`, 'watchdog: { device: /dev/watchdog }\nfencing: { raceDelayMs: 5000 }'), FILE)
  const a = c.nodes[0]!
  t.same(a.fence.map((m) => m.name), ['fence_ipmilan', 'pdu', 'poison-pill'])
  t.match(a.fence[0], { method: 'agent', port: 'a', timeoutMs: 20000, params: { ip: '10.0.0.11', username: 'admin', password: 's3cret', lanplus: '1' } })
  t.match(a.fence[1], { port: '3', timeoutMs: 5000 })
  t.equal(a.disk, '/dev/sdc', 'a node may see the shared disk under its own path')
  t.equal(c.nodes[1]!.disk, '/dev/disk/by-id/quorum', 'others inherit the cluster disk')
  t.same(c.nodes[1]!.fence, [], 'no topology: the self-fence deadline is the proof')
  t.same(c.fencing, { ...DEFAULT_FENCING, raceDelayMs: 5000 })
  t.same(c.watchdog, { device: '/dev/watchdog' })
  t.equal(c.timing.selfFenceStopMs, 3000, '3/8 of the default selfFenceAfterMs')
})

const bad: [string, string, string, RegExp][] = [
  ['unknown method', cluster('    fence: [{ method: stonith }]'), 'CARB_ERR_CONFIG_FIELD', /nodes\[0\]\.fence\[0\]\.method: must be "agent" or "poison-pill"/],
  ['relative agent path', cluster('    fence: [{ method: agent, agent: fence_ipmilan }]'), 'CARB_ERR_CONFIG_FIELD', /fence\[0\]\.agent: must be an absolute path/],
  ['reserved parameter', cluster('    fence: [{ method: agent, agent: /usr/sbin/fence_apc, params: { action: reboot } }]'), 'CARB_ERR_CONFIG_FIELD', /params\.action: is set by the cluster/],
  ['legacy option parameter', cluster('    fence: [{ method: agent, agent: /usr/sbin/fence_apc, params: { option: reboot } }]'), 'CARB_ERR_CONFIG_FIELD', /params\.option: is set by the cluster/],
  ['multi-line parameter', cluster('    fence: [{ method: agent, agent: /usr/sbin/fence_apc, params: { passwd: "x\\ny" } }]'), 'CARB_ERR_CONFIG_FIELD', /params\.passwd: must be non-empty and on one line/],
  ['bad parameter name', cluster('    fence: [{ method: agent, agent: /usr/sbin/fence_apc, params: { "ip addr": x } }]'), 'CARB_ERR_CONFIG_FIELD', /a fence agent parameter name is a-z 0-9 _/],
  ['two methods with one name', cluster('    fence: [{ method: agent, agent: /usr/sbin/fence_apc }, { method: agent, agent: /opt/fence_apc }]'), 'CARB_ERR_CONFIG_FIELD', /fence\[1\]\.name: "fence_apc" is already used/],
  ['two poison pills', cluster('    fence: [{ method: poison-pill }, { method: poison-pill, name: pill2 }]'), 'CARB_ERR_CONFIG_FIELD', /poison-pill may appear once/],
  ['unknown method field', cluster('    fence: [{ method: poison-pill, port: 3 }]'), 'CARB_ERR_CONFIG_FIELD', /fence\[0\]/],
  ['empty topology', cluster('    fence: []'), 'CARB_ERR_CONFIG_FIELD', /nodes\[0\]\.fence/],
  ['agent timeout too long', cluster('    fence: [{ method: agent, agent: /usr/sbin/fence_apc, timeoutMs: 9999999 }]'), 'CARB_ERR_CONFIG_FIELD', /timeoutMs/],
  ['retryMaxMs below retryBaseMs', cluster('', 'fencing: { retryBaseMs: 5000, retryMaxMs: 1000 }'), 'CARB_ERR_CONFIG_FIELD', /fencing\.retryMaxMs: must be at least fencing\.retryBaseMs \(5000\)/],
  ['unknown fencing field', cluster('', 'fencing: { delay: 5 }'), 'CARB_ERR_CONFIG_FIELD', /fencing/],
  ['relative watchdog device', cluster('', 'watchdog: { device: watchdog }'), 'CARB_ERR_CONFIG_FIELD', /watchdog\.device: must be an absolute path/],
  ['stop reserve eats the deadline', cluster('', 'timing: { selfFenceStopMs: 7000 }'), 'CARB_ERR_CONFIG_RELATION', /timing\.selfFenceStopMs vs timing\.selfFenceAfterMs/],
]

for (const [name, text, code, pattern] of bad) {
  t.test(`bad: ${name}`, async (t) => {
    try {
      parseConfig(text, FILE)
      t.fail('accepted')
    } catch (error) {
      t.ok(isCarbError(error), String(error))
      if (!isCarbError(error)) return
      t.equal(error.code, code)
      const line = error.oneLine()
      t.match(line, pattern)
      t.match(line, FILE, 'names the file')
      t.notOk(line.includes('\n'), 'one line')
    }
  })
}
