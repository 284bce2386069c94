/**
 * The dashboard section of the cluster file: off by default, the loopback default address,
 * per-node addresses, the token file resolved against the file, and every bad value refused
 * at load with one line naming the field (a non-loopback address without allowRemote first).
 */
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import { isLoopbackHost } from '../../src/config/dashboard.js'
import { isCarbError } from '../../src/errors.js'

const FILE = '/etc/carbonado/cluster.yaml'
const base = (top: string, nodeA = '', nodeB = ''): string => `
cluster: web
disk: /dev/disk/by-id/quorum
${top}
nodes:
  - name: a
    id: 1
    heartbeat: ["10.0.0.1:7400"]
${nodeA === '' ? '' : `    ${nodeA}\n`}  - name: b
    id: 2
    heartbeat: ["10.0.0.2:7400"]
${nodeB === '' ? '' : `    ${nodeB}\n`}`

t.test('off unless the section is there; on with defaults when it is, even empty', async (t) => {
  t.same(parseConfig(base(''), FILE).nodes.map((n) => n.dashboard), [null, null])
  for (const top of ['dashboard: {}', 'dashboard:']) {
    t.same(parseConfig(base(top), FILE).nodes[0]!.dashboard, { listen: { host: '127.0.0.1', port: 7480 }, tokenFile: null, allowRemote: false }, top)
  }
})

t.test('listen, a token file relative to the cluster file, per-node addresses', async (t) => {
  const c = parseConfig(base('dashboard: { listen: "[::1]:8080", tokenFile: dashboard.token }', 'dashboard: "127.0.0.2:8081"'), FILE)
  t.same(c.nodes[0]!.dashboard, { listen: { host: '127.0.0.2', port: 8081 }, tokenFile: '/etc/carbonado/dashboard.token', allowRemote: false })
  t.same(c.nodes[1]!.dashboard, { listen: { host: '::1', port: 8080 }, tokenFile: '/etc/carbonado/dashboard.token', allowRemote: false })
})

t.test('a remote address only with allowRemote: true', async (t) => {
  const c = parseConfig(base('dashboard: { listen: "0.0.0.0:7480", allowRemote: true }', 'dashboard: "10.0.0.1:7480"'), FILE)
  t.same(c.nodes.map((n) => n.dashboard?.listen), [{ host: '10.0.0.1', port: 7480 }, { host: '0.0.0.0', port: 7480 }])
})

// [name, text, pattern the one-line message must match]
const bad: [string, string, RegExp][] = [
  ['all interfaces without opt-in', base('dashboard: { listen: "0.0.0.0:7480" }'), /: dashboard\.listen: 0\.0\.0\.0 is not a loopback address .*set dashboard\.allowRemote: true/],
  ['a LAN address without opt-in', base('dashboard: { listen: "192.168.1.5:7480" }'), /: dashboard\.listen: 192\.168\.1\.5 is not a loopback address/],
  ['a host name without opt-in', base('dashboard: { listen: "web1.example.com:7480" }'), /: dashboard\.listen: web1\.example\.com is not a loopback address/],
  ['IPv6 any without opt-in', base('dashboard: { listen: "[::]:7480" }'), /: dashboard\.listen: :: is not a loopback address/],
  ['a node address not loopback', base('dashboard: {}', 'dashboard: "10.0.0.1:7480"'), /: nodes\[0\]\.dashboard: 10\.0\.0\.1 is not a loopback address/],
  ['a node address without the section', base('', '', 'dashboard: "127.0.0.1:7481"'), /: nodes\[1\]\.dashboard: the dashboard is off: add the top-level `dashboard` section/],
  ['not host:port', base('dashboard: { listen: "7480" }'), /: dashboard\.listen: must be host:port/],
  ['port 0', base('dashboard: { listen: "127.0.0.1:0" }'), /: dashboard\.listen: port must be 1\.\.65535, got 0/],
  ['allowRemote not a boolean', base('dashboard: { allowRemote: "yes" }'), /: dashboard\.allowRemote: must be true or false, got "yes"/],
  ['empty tokenFile', base('dashboard: { tokenFile: "" }'), /: dashboard\.tokenFile: must be a non-empty string/],
  ['unknown field (typo)', base('dashboard: { token: x }'), /: dashboard\.token: unknown field \(known: listen, tokenFile, allowRemote\)/],
  ['a list', base('dashboard: [a]'), /: dashboard: must be a mapping/],
]

for (const [name, text, pattern] of bad) {
  t.test(`bad dashboard config: ${name}`, async (t) => {
    try {
      parseConfig(text, FILE)
      t.fail('accepted')
    } catch (error) {
      t.ok(isCarbError(error))
      if (!isCarbError(error)) return
      t.equal(error.code, 'CARB_ERR_CONFIG_FIELD')
      const line = error.oneLine()
      t.match(line, /^CARB_ERR_CONFIG_FIELD: \/etc\/carbonado\/cluster\.yaml: /)
      t.match(line, pattern)
      t.notMatch(line, /\n/, 'one line')
    }
  })
}

t.test('loopback: 127.0.0.0/8, ::1 in any spelling, localhost; nothing else', async (t) => {
  for (const host of ['127.0.0.1', '127.44.3.2', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) t.ok(isLoopbackHost(host), host)
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::2', 'localhost.example.com', 'web1']) t.notOk(isLoopbackHost(host), host)
})
