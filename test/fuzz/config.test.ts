/**
 * Fuzzing the configuration readers: the cluster file (load.ts parseConfig, with its timing,
 * fencing, watchdog and dashboard sections), service documents (services.ts readServicesDoc,
 * which also reads the disk's configuration and backups) and what-if settings (what-if.ts
 * readWhatIf). Inputs: random YAML documents (with anchors and aliases, so cycles too),
 * text mutations of valid files, and value-level mutations of valid documents written back
 * as YAML. Every outcome is a valid result or a one-line CarbError CARB_ERR_CONFIG_* naming
 * the file; nothing else is ever thrown.
 */
import t from 'tap'
import { parse, stringify } from 'yaml'
import { parseConfig } from '../../src/config/load.js'
import { readServicesDoc } from '../../src/config/services.js'
import { readWhatIf } from '../../src/config/what-if.js'
import { isCarbError } from '../../src/errors.js'
import { budget, describeFailure, FuzzFinding, fuzz, shown, type Mutator } from './mutate.js'

const FILE = '/etc/carbonado/cluster.yaml'

const CLUSTER = `cluster: web
disk: /dev/disk/by-id/quorum
authKeyFile: authkey
journalDir: /var/lib/carbonado/{node}
timing: { heartbeatIntervalMs: 500, peerDeadAfterMs: 3000 }
fencing: { raceDelayMs: 5000 }
watchdog: { device: /dev/watchdog }
dashboard: { listen: "127.0.0.1:7480", tokenFile: token, allowRemote: false }
nodes:
  - name: a
    id: 1
    heartbeat: ["10.0.0.1:7400", "[fd00::1]:7400"]
    disk: /dev/sdc
    dashboard: "127.0.0.1:7481"
    fence:
      - { method: agent, agent: /usr/sbin/fence_ipmilan, params: { ip: 10.0.0.11, username: admin }, port: 3, timeoutMs: 5000 }
      - { method: poison-pill }
  - name: b
    id: 2
    heartbeat: ["10.0.0.2:7400", "[fd00::2]:7400"]
`

const SERVICES = {
  v: 1, version: 3,
  services: [
    { name: 'web', index: 0, enabled: true, domain: ['a', 'b'], failback: false, relocateTo: 'b', restartGeneration: 2, recovery: { policy: 'relocate', maxRestarts: 1 }, resources: [
      { type: 'ip', name: 'vip', address: '10.0.0.100', prefix: 24, interface: 'eth0' },
      { type: 'fs', name: 'data', device: '/dev/sdb1', mountPoint: '/srv', fsType: 'ext4' },
      { type: 'script', name: 'app', path: '/etc/init.d/app', args: ['x'], monitorIntervalMs: 2000 },
    ] },
    { name: 'db', index: 1, domain: ['b'], resources: [{ type: 'ocf', name: 'pg', provider: 'heartbeat', agent: 'pgsql', params: { pgdata: '/srv/pg' } }, { type: 'systemd', name: 'cron', unit: 'cron.service' }] },
  ],
}

const WHAT_IF = { timing: { peerDeadAfterMs: 3000, heartbeatIntervalMs: 400 }, fencing: { roundsMax: 5 }, services: { web: { recovery: { policy: 'relocate', maxRestarts: 1 }, resources: { app: { monitorIntervalMs: 2000 } } } }, nodes: [] }

/** A random YAML document: nested maps and lists of odd scalars, sometimes with anchors and aliases. */
function randomYaml(m: Mutator, depth = 0): string {
  const scalars = ['0', '-1', '1.5', '99999999999999999999', '.inf', '.nan', '~', 'null', 'true', 'yes', '""', "'x'", 'web', '127.0.0.1:7480', '[::1]:1', '/dev/sdb', '0x1f', '!!binary aGk=', '2001-12-14', '*a', '&a 1']
  const keys = ['cluster', 'disk', 'nodes', 'name', 'id', 'heartbeat', 'timing', 'fencing', 'dashboard', 'watchdog', 'services', 'v', 'version', 'toString', '__proto__', '<<', 'x']
  const pad = '  '.repeat(depth)
  if (depth > 3 || m.chance(0.3)) return m.pick(scalars)
  const lines: string[] = []
  const count = 1 + m.int(4)
  const anchor = m.chance(0.2) ? '&a ' : ''
  for (let i = 0; i < count; i++) {
    const child = randomYaml(m, depth + 1)
    const inline = !child.includes('\n')
    if (m.chance(0.5)) lines.push(`${pad}${m.pick(keys)}:${inline ? ` ${child}` : `\n${child}`}`)
    else lines.push(`${pad}-${inline ? ` ${child}` : `\n${child}`}`)
  }
  return anchor === '' ? lines.join('\n') : `${pad}x: ${anchor}\n${lines.join('\n')}`
}

/** A mutated text or value of `base` (YAML text); `asValue` mutates its parsed tree and writes it back. */
function mutatedYaml(m: Mutator, text: string): string {
  const which = m.int(4)
  if (which === 0) return randomYaml(m)
  if (which === 1) return m.mutateText(text)
  try {
    return stringify(m.mutateValue(parse(text), 3, { cycles: true }))
  } catch {
    return m.mutateText(text)
  }
}

/** A thrown error must be a one-line CARB_ERR_CONFIG_* naming `file`. */
function configCode(error: unknown, file: string, input: () => string): string {
  if (!isCarbError(error)) throw new FuzzFinding(`non-CarbError thrown: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\ninput: ${input()}`, { cause: error })
  if (!error.code.startsWith('CARB_ERR_CONFIG_')) throw new FuzzFinding(`${error.code} is not a configuration code: ${error.message}\ninput: ${input()}`)
  if (error.where !== file || error.message.includes('\n')) throw new FuzzFinding(`not one line naming ${file}: ${JSON.stringify({ where: error.where, message: error.message })}\ninput: ${input()}`)
  return error.code
}

t.test('cluster files: a valid config or a one-line CARB_ERR_CONFIG_* naming the file', async (t) => {
  t.ok(parseConfig(CLUSTER, FILE), 'the seed file is valid')
  const result = await fuzz('config-file', budget(1500), (m) => {
    const text = mutatedYaml(m, CLUSTER)
    try {
      parseConfig(text, FILE)
      return 'accepted'
    } catch (error) {
      return configCode(error, FILE, () => JSON.stringify(text))
    }
  })
  if (result.failure !== null) t.fail(describeFailure('config-file', result.failure))
  const { tally } = result
  t.comment(`config-file: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  for (const code of ['accepted', 'CARB_ERR_CONFIG_SYNTAX', 'CARB_ERR_CONFIG_FIELD']) t.ok(tally.get(code) > 0, `outcome ${code} was seen`)
  t.ok(tally.rejected() > tally.cases / 2, 'mutated files are mostly refused')
})

t.test('service documents and what-if settings: a valid result or CARB_ERR_CONFIG_* naming the source', async (t) => {
  t.ok(readServicesDoc('disk', SERVICES, ['a', 'b'], 8), 'the seed document is valid')
  t.ok(readWhatIf('what-if.yaml', WHAT_IF), 'the seed settings are valid')
  const result = await fuzz('config-docs', budget(8000), (m) => {
    const services = m.chance(0.5)
    const where = services ? 'disk' : 'what-if.yaml'
    let value: unknown
    try { value = m.chance(0.1) ? parse(randomYaml(m)) : m.mutateValue(services ? SERVICES : WHAT_IF, 4) } catch { value = m.hostile() }
    try {
      if (services) readServicesDoc(where, value, ['a', 'b'], 8)
      else readWhatIf(where, value)
      return `${services ? 'services' : 'what-if'}:accepted`
    } catch (error) {
      return `${services ? 'services' : 'what-if'}:${configCode(error, where, () => shown(value))}`
    }
  })
  if (result.failure !== null) t.fail(describeFailure('config-docs', result.failure))
  const { tally } = result
  t.comment(`config-docs: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  for (const outcome of ['services:accepted', 'services:CARB_ERR_CONFIG_FIELD', 'what-if:accepted', 'what-if:CARB_ERR_CONFIG_FIELD']) t.ok(tally.get(outcome) > 0, `outcome ${outcome} was seen`)
})
