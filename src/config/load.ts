/**
 * The cluster file: one YAML document, validated field by field. Every default has its
 * reason in CONFIG_REFERENCE (and so in the README); paths are relative to the file.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parse } from 'yaml'
import { CarbError } from '../errors.js'
import { DEFAULT_TIMING, TIMING_FIELDS, defaultSelfFenceStopMs, timingViolations, type Timing } from './timing.js'
import { FENCING_FIELDS, readFencing, readNodeFence, readWatchdog, type FenceMethod, type FencingSettings, type WatchdogSettings } from './fencing.js'
import { DASHBOARD_REFERENCE, readDashboard, readNodeDashboard, type DashboardSettings } from './dashboard.js'
import { asObject, fieldError, readArray, readHostPort, readInteger, readString, rejectUnknown, type HostPort, type Obj } from './fields.js'

export const NODES_MIN = 2
export const NODES_MAX = 16
export const CHANNELS_MAX = 4
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/
/** useradd's default NAME_REGEX, 32 characters at most. */
const GROUP_PATTERN = /^[a-z_][a-z0-9_-]{0,30}\$?$/
/** Keys accepted besides the sending key: the old and the next one of a rotation are enough. */
export const KEYS_ACCEPTED_MAX = 2

export interface NodeConfig {
  name: string
  id: number
  heartbeat: HostPort[]
  /** controlSocket and journalDir with `{node}` replaced by this node's name. */
  controlSocket: string
  journalDir: string
  /** The methods that can fence this node, in order (empty: the self-fence deadline is the only proof). */
  fence: FenceMethod[]
  /** The shared disk's path on this node (`nodes[].disk`, else the cluster's `disk`). */
  disk: string
  /** The live dashboard this node serves (`nodes[].dashboard` over the `dashboard` section); null: off. */
  dashboard: DashboardSettings | null
}

export interface ClusterConfig {
  file: string
  cluster: string
  disk: string
  authKeyFile: string
  /** Older or newer keys accepted on receipt during a key rotation; never used to send. */
  authKeyAcceptFiles: string[]
  /** The group that may read status through the read-only control socket (control-access.ts). */
  controlGroup: string
  /** A group besides root that may change the cluster through the admin socket; null: root only. */
  controlAdminGroup: string | null
  timing: Timing
  fencing: FencingSettings
  watchdog: WatchdogSettings
  nodes: NodeConfig[]
}

export interface ReferenceEntry { field: string; default: string; reason: string }

/** The config reference printed in the README: field, default, why. */
export const CONFIG_REFERENCE: readonly ReferenceEntry[] = [
  { field: 'cluster', default: '(required)', reason: 'name written into the disk header; a disk of another cluster is refused' },
  { field: 'disk', default: '(required)', reason: 'the shared quorum disk: a block device, or a file on shared storage (tests, demo)' },
  { field: 'authKeyFile', default: '/etc/carbonado/authkey', reason: 'HMAC-SHA256 key shared by all nodes; must not be world-readable' },
  { field: 'journalDir', default: '/var/lib/carbonado/journal', reason: 'LevelDB journal of this node; `{node}` is replaced by the node name (several nodes on one host)' },
  { field: 'controlSocket', default: '/run/carbonado/carbonado.sock', reason: 'Unix socket for changes (mode 0600, root; see controlAdminGroup); a read-only twin `NAME-ro.sock` beside it serves status, service list, fence status and journal export; `{node}` is replaced as above' },
  { field: 'controlGroup', default: 'cluster', reason: 'the group whose members may read through the read-only socket (mode 0660), as Kimberlite\'s cluster group owned its tools; if the group does not exist the socket is its owner\'s only (a warning says so)' },
  { field: 'controlAdminGroup', default: '(none: root only)', reason: 'a group whose members may also change the cluster (relocate, enable, fence, ...) through the admin socket (then mode 0660); Node cannot read a socket peer\'s credentials, so access is by file permissions on two sockets (as libvirt does)' },
  { field: 'authKeyAcceptFiles', default: '[]', reason: 'keys accepted on receipt besides authKeyFile (never sent with): the window of a key rotation, see "Rotating the cluster key"' },
  { field: 'nodes[].name', default: '(required)', reason: 'lower-case name, unique' },
  { field: 'nodes[].id', default: '(required)', reason: `1..${NODES_MAX}, unique: the node's status and mailbox slot on the disk` },
  { field: 'nodes[].heartbeat', default: '(required)', reason: `1..${CHANNELS_MAX} host:port addresses; channel i of every node talks to channel i of the others` },
  { field: 'nodes[].disk', default: 'the cluster\'s disk', reason: 'the same shared disk under another path on this node (device names differ between hosts: /dev/sdb here, /dev/sdc there)' },
  { field: 'nodes[].fence', default: '(none)', reason: 'the methods that can fence this node, tried in order: `{method: agent, agent: PATH, params: {...}, port, timeoutMs}` or `{method: poison-pill}`; with none, a takeover waits for the self-fence deadline' },
  { field: 'nodes[].fence[].port', default: 'the node name', reason: 'sent as port= to the agent: the outlet, plug or VM name of this node' },
  { field: 'nodes[].fence[].timeoutMs', default: '20000', reason: 'a hung agent is killed after this; fence_ipmilan waits up to 20 s for a power change itself' },
  ...TIMING_FIELDS.map((f) => ({ field: `timing.${f.name}`, default: f.name === 'selfFenceStopMs' ? `${f.defaultMs} (3/8 of selfFenceAfterMs)` : String(f.defaultMs), reason: f.reason })),
  ...FENCING_FIELDS.map((f) => ({ field: `fencing.${f.name}`, default: String(f.default), reason: f.reason })),
  { field: 'watchdog.device', default: '(none)', reason: 'a hardware watchdog (/dev/watchdog), fed once per disk cycle only while this node is a member whose status write completed; its timeout (/sys/class/watchdog/NAME/timeout) must be below selfFenceAfterMs or the node refuses to start. Without it the rule is enforced in-process' },
  ...DASHBOARD_REFERENCE,
]

const TOP_FIELDS = ['cluster', 'disk', 'authKeyFile', 'authKeyAcceptFiles', 'journalDir', 'controlSocket', 'controlGroup', 'controlAdminGroup', 'timing', 'fencing', 'watchdog', 'dashboard', 'nodes'] as const

export async function loadConfig(path: string): Promise<ClusterConfig> {
  const file = resolve(path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new CarbError('CARB_ERR_CONFIG_READ', `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, file)
  }
  return parseConfig(text, file)
}

export function parseConfig(text: string, file: string): ClusterConfig {
  let document: unknown
  try {
    document = parse(text, { prettyErrors: false, uniqueKeys: true })
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'unreadable YAML'
    throw new CarbError('CARB_ERR_CONFIG_SYNTAX', message, file)
  }
  const top = asObject(file, '(top level)', document)
  rejectUnknown(file, '', top, TOP_FIELDS)
  const base = dirname(file)
  const at = (p: string): string => resolve(base, p)
  const journalDir = readString(file, 'journalDir', top.journalDir ?? '/var/lib/carbonado/journal')
  const controlSocket = readString(file, 'controlSocket', top.controlSocket ?? '/run/carbonado/carbonado.sock')
  const disk = at(readString(file, 'disk', top.disk))
  const config: ClusterConfig = {
    file,
    cluster: readString(file, 'cluster', top.cluster, NAME_PATTERN, 'must be a lower-case name (a-z 0-9 _ . -)'),
    disk,
    authKeyFile: at(readString(file, 'authKeyFile', top.authKeyFile ?? '/etc/carbonado/authkey')),
    authKeyAcceptFiles: (top.authKeyAcceptFiles === undefined ? [] : readArray(file, 'authKeyAcceptFiles', top.authKeyAcceptFiles, 0, KEYS_ACCEPTED_MAX))
      .map((p, i) => at(readString(file, `authKeyAcceptFiles[${i}]`, p))),
    controlGroup: readString(file, 'controlGroup', top.controlGroup ?? 'cluster', GROUP_PATTERN, 'must be a group name (a-z 0-9 _ -)'),
    controlAdminGroup: top.controlAdminGroup === undefined ? null : readString(file, 'controlAdminGroup', top.controlAdminGroup, GROUP_PATTERN, 'must be a group name (a-z 0-9 _ -)'),
    timing: readTiming(file, top.timing),
    fencing: readFencing(file, top.fencing),
    watchdog: readWatchdog(file, top.watchdog),
    nodes: readNodes(file, top.nodes, { journalDir: at(journalDir), controlSocket: at(controlSocket), disk, at, dashboard: readDashboard(file, top.dashboard, at) }),
  }
  return config
}

function readTiming(file: string, value: unknown): Timing {
  const obj: Obj = value === undefined ? {} : asObject(file, 'timing', value)
  rejectUnknown(file, 'timing', obj, TIMING_FIELDS.map((f) => f.name))
  const timing = { ...DEFAULT_TIMING }
  for (const field of TIMING_FIELDS) {
    if (obj[field.name] !== undefined) timing[field.name] = readInteger(file, `timing.${field.name}`, obj[field.name], 1, 3_600_000)
  }
  if (obj.selfFenceStopMs === undefined) timing.selfFenceStopMs = defaultSelfFenceStopMs(timing.selfFenceAfterMs)
  const violation = timingViolations(timing)[0]
  if (violation !== undefined) {
    throw new CarbError('CARB_ERR_CONFIG_RELATION', `timing.${violation.fields[0]} vs timing.${violation.fields[1]}: ${violation.message}`, file)
  }
  return timing
}

/** What a node's entry inherits from the top level. */
interface NodeDefaults { journalDir: string; controlSocket: string; disk: string; at: (path: string) => string; dashboard: DashboardSettings | null }

function readNodes(file: string, value: unknown, defaults: NodeDefaults): NodeConfig[] {
  const list = readArray(file, 'nodes', value, NODES_MIN, NODES_MAX)
  const nodes = list.map((entry, i) => readNode(file, `nodes[${i}]`, entry, defaults))
  const seen = new Map<string, string>()
  nodes.forEach((node, i) => {
    for (const key of [`name ${node.name}`, `id ${node.id}`, ...node.heartbeat.map((h) => `address ${h.host}:${h.port}`)]) {
      const first = seen.get(key)
      if (first !== undefined) throw fieldError(file, `nodes[${i}]`, `${key} is already used by ${first}`)
      seen.set(key, `nodes[${i}]`)
    }
  })
  return nodes
}

function readNode(file: string, path: string, value: unknown, { journalDir, controlSocket, disk, at, dashboard }: NodeDefaults): NodeConfig {
  const obj = asObject(file, path, value)
  rejectUnknown(file, path, obj, ['name', 'id', 'heartbeat', 'fence', 'disk', 'dashboard'])
  const name = readString(file, `${path}.name`, obj.name, NAME_PATTERN, 'must be a lower-case name (a-z 0-9 _ . -)')
  const addresses = readArray(file, `${path}.heartbeat`, obj.heartbeat, 1, CHANNELS_MAX)
  return {
    name,
    id: readInteger(file, `${path}.id`, obj.id, 1, NODES_MAX),
    heartbeat: addresses.map((a, i) => readHostPort(file, `${path}.heartbeat[${i}]`, a)),
    controlSocket: controlSocket.replaceAll('{node}', name),
    journalDir: journalDir.replaceAll('{node}', name),
    fence: readNodeFence(file, `${path}.fence`, obj.fence, name),
    disk: obj.disk === undefined ? disk : at(readString(file, `${path}.disk`, obj.disk)),
    dashboard: readNodeDashboard(file, `${path}.dashboard`, obj.dashboard, dashboard),
  }
}

export function findNode(config: ClusterConfig, name: string): NodeConfig {
  const node = config.nodes.find((n) => n.name === name)
  if (node === undefined) {
    throw new CarbError('CARB_ERR_NODE_UNKNOWN', `no node named "${name}" (nodes: ${config.nodes.map((n) => n.name).join(', ')})`, config.file)
  }
  return node
}
