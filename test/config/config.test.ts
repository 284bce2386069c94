import t from 'tap'
import { parseConfig, loadConfig } from '../../src/config/load.js'
import { timingViolations, DEFAULT_TIMING, diskDeadAfterMinMs } from '../../src/config/timing.js'
import { isCarbError } from '../../src/errors.js'

const FILE = '/etc/carbonado/cluster.yaml'
const good = `
cluster: web
disk: /dev/disk/by-id/quorum
authKeyFile: authkey
journalDir: /var/lib/carbonado/{node}
nodes:
  - name: servidor1
    id: 1
    heartbeat: ["10.0.0.1:7400", "[fd00::1]:7400"]
  - name: servidor2
    id: 2
    heartbeat: ["10.0.0.2:7400", "[fd00::2]:7400"]
`

t.test('a good file: defaults, placeholders, relative paths', async (t) => {
  const c = parseConfig(good, FILE)
  t.equal(c.cluster, 'web')
  t.same(c.timing, DEFAULT_TIMING)
  t.equal(c.authKeyFile, '/etc/carbonado/authkey', 'relative to the file')
  t.equal(c.nodes[1]!.journalDir, '/var/lib/carbonado/servidor2')
  t.equal(c.nodes[0]!.controlSocket, '/run/carbonado/carbonado.sock')
  t.same(c.nodes[0]!.heartbeat[1], { host: 'fd00::1', port: 7400 })
})

t.test('the shipped defaults satisfy every relation', async (t) => {
  t.same(timingViolations(DEFAULT_TIMING), [])
  t.ok(DEFAULT_TIMING.diskDeadAfterMs >= diskDeadAfterMinMs(DEFAULT_TIMING))
})

const withTiming = (timing: string): string => `${good}timing:\n${timing}\n`
// [name, text, code, pattern the one-line message must match]
const bad: [string, string, string, RegExp][] = [
  ['not YAML', 'cluster: [unclosed', 'CARB_ERR_CONFIG_SYNTAX', /cluster\.yaml: /],
  ['duplicate key', `${good}\ncluster: other\n`, 'CARB_ERR_CONFIG_SYNTAX', /unique|duplicate/i],
  ['a list at top level', '- a\n- b\n', 'CARB_ERR_CONFIG_FIELD', /\(top level\): must be a mapping/],
  ['unknown field (typo)', `${good}heartbeatInterval: 5\n`, 'CARB_ERR_CONFIG_FIELD', /heartbeatInterval: unknown field/],
  ['missing cluster', good.replace('cluster: web\n', ''), 'CARB_ERR_CONFIG_FIELD', /cluster: must be a non-empty string/],
  ['upper-case cluster name', good.replace('cluster: web', 'cluster: Web'), 'CARB_ERR_CONFIG_FIELD', /cluster: must be a lower-case name/],
  ['one node only', good.slice(0, good.indexOf('  - name: servidor2')), 'CARB_ERR_CONFIG_FIELD', /nodes: must have 2 to 16 entries, got 1/],
  ['node id out of range', good.replace('id: 2', 'id: 17'), 'CARB_ERR_CONFIG_FIELD', /nodes\[1\]\.id: must be an integer from 1 to 16, got 17/],
  ['duplicate node id', good.replace('id: 2', 'id: 1'), 'CARB_ERR_CONFIG_FIELD', /nodes\[1\]: id 1 is already used by nodes\[0\]/],
  ['duplicate address', good.replace('10.0.0.2:7400', '10.0.0.1:7400'), 'CARB_ERR_CONFIG_FIELD', /nodes\[1\]: address 10\.0\.0\.1:7400 is already used/],
  ['bad address', good.replace('10.0.0.2:7400', '10.0.0.2'), 'CARB_ERR_CONFIG_FIELD', /nodes\[1\]\.heartbeat\[0\]: must be host:port/],
  ['port out of range', good.replace('10.0.0.2:7400', '10.0.0.2:70000'), 'CARB_ERR_CONFIG_FIELD', /nodes\[1\]\.heartbeat\[0\]: port must be 1\.\.65535/],
  ['no heartbeat channel', good.replace('heartbeat: ["10.0.0.2:7400", "[fd00::2]:7400"]', 'heartbeat: []'), 'CARB_ERR_CONFIG_FIELD', /nodes\[1\]\.heartbeat: must have 1 to 4 entries/],
  ['timing not a number', withTiming('  heartbeatIntervalMs: fast'), 'CARB_ERR_CONFIG_FIELD', /timing\.heartbeatIntervalMs: must be an integer/],
  ['unknown timing field', withTiming('  deadTime: 5'), 'CARB_ERR_CONFIG_FIELD', /timing\.deadTime: unknown field/],
  ['self-fence too close to disk-dead', withTiming('  selfFenceAfterMs: 9500'), 'CARB_ERR_CONFIG_RELATION', /timing\.diskDeadAfterMs vs timing\.selfFenceAfterMs: .* = 11450/],
  ['too few heartbeats before dead', withTiming('  peerDeadAfterMs: 1000'), 'CARB_ERR_CONFIG_RELATION', /timing\.peerDeadAfterMs vs timing\.heartbeatIntervalMs/],
  ['self-fence shorter than two disk writes', withTiming('  selfFenceAfterMs: 1500'), 'CARB_ERR_CONFIG_RELATION', /timing\.selfFenceAfterMs vs timing\.diskIntervalMs/],
]

for (const [name, text, code, pattern] of bad) {
  t.test(`bad file: ${name}`, async (t) => {
    try {
      parseConfig(text, FILE)
      t.fail('accepted')
    } catch (error) {
      t.ok(isCarbError(error), 'a named error')
      if (!isCarbError(error)) return
      t.equal(error.code, code)
      const line = error.oneLine()
      t.match(line, pattern)
      t.match(line, /^CARB_ERR_CONFIG_\w+: \/etc\/carbonado\/cluster\.yaml: /, 'code, then the file')
      t.notMatch(line, /\n/, 'one line')
    }
  })
}

t.test('a missing file is named', async (t) => {
  await t.rejects(loadConfig('/nonexistent/cluster.yaml'), { code: 'CARB_ERR_CONFIG_READ', message: /ENOENT/ })
})

// Found while writing test/fuzz/config.test.ts (its YAML generator makes such cycles): a YAML alias that refers to its own anchor makes a cycle,
// and naming the bad value with JSON.stringify threw a TypeError instead of the field error.
t.test('a YAML alias cycle where a mapping or a boolean is expected is a one-line field error', async (t) => {
  for (const text of ['cluster: web\ndisk: /d\nnodes: &n [*n, *n]\n', `${good}dashboard: { allowRemote: &r [*r] }\n`]) {
    t.throws(() => parseConfig(text, FILE), { code: 'CARB_ERR_CONFIG_FIELD', message: /cannot be printed/ })
  }
})
