/**
 * Fencing in the cluster file: each node's fencing topology (the methods that can stop it,
 * tried in order, like Pacemaker's fencing-topology levels), the cluster-wide retry and race
 * settings, and the optional hardware watchdog. Defaults carry their reasons (STYLE.md §9).
 *
 *   fencing: { raceDelayMs: 0, retryBaseMs: 2000, retryMaxMs: 30000, roundsMax: 20 }
 *   watchdog: { device: /dev/watchdog }
 *   nodes:
 *     - name: a
 *       fence:
 *         - { method: agent, agent: /usr/sbin/fence_ipmilan, params: { ip: 10.0.0.11, username: admin, password: secret, lanplus: 1 } }
 *         - { method: poison-pill }
 */
import { basename, isAbsolute } from 'node:path'
import { asObject, fieldError, readArray, readInteger, readString, rejectUnknown, type Obj } from './fields.js'

export interface AgentMethod {
  method: 'agent'
  name: string
  agent: string
  /** key=value lines for the agent's stdin, besides action and port. */
  params: Record<string, string>
  /** The agent's name for this node's outlet, plug or VM (`port=` on stdin). */
  port: string
  timeoutMs: number
}

export interface PoisonPillMethod {
  method: 'poison-pill'
  name: string
}

export type FenceMethod = AgentMethod | PoisonPillMethod

export interface FencingSettings {
  raceDelayMs: number
  retryBaseMs: number
  retryMaxMs: number
  roundsMax: number
}

export interface WatchdogSettings {
  device: string | null
}

/**
 * Whether a successful fence of a node with these methods proves its resources are stopped:
 * an agent (power, IPMI, a hypervisor) cuts everything; a poison pill does only where a
 * hardware watchdog backs it (SBD's rule), since without one a daemon that is frozen or gone
 * never reads it. A node for which this is false is taken over on the self-fence deadline,
 * like a node with no method (machines/takeover-proof.ts).
 */
export function fencingProvesStop(methods: readonly FenceMethod[], watchdog: WatchdogSettings): boolean {
  return methods.some((m) => m.method === 'agent') || (watchdog.device !== null && methods.some((m) => m.method === 'poison-pill'))
}

/** More levels than this is a typing mistake, not a topology. */
export const FENCE_METHODS_MAX = 8
export const FENCE_AGENT_TIMEOUT_MAX_MS = 600_000
const PARAM_KEY = /^[a-z0-9_]{1,64}$/
/** Keys the cluster sets itself on every call. */
const RESERVED_PARAMS = ['action', 'option', 'port', 'plug', 'nodename']

export interface FencingField { name: keyof FencingSettings; default: number; reason: string }

export const FENCING_FIELDS: readonly FencingField[] = [
  { name: 'raceDelayMs', default: 0, reason: 'a node that runs no service waits this long before it fences, so when two nodes fence each other the one running services survives; 0 because the quorum disk already breaks ties (a node that loses the disk fences itself before it can count anyone dead): set it (e.g. 5000) where fencing can race' },
  { name: 'retryBaseMs', default: 2000, reason: 'the first wait after every method of the topology failed; doubled each round' },
  { name: 'retryMaxMs', default: 30000, reason: 'the longest wait between rounds: a power switch that comes back is used within half a minute' },
  { name: 'roundsMax', default: 20, reason: 'rounds before the operation is "failed" and waits for `carbonado fence ack` (about 8 minutes at the defaults); services of the node stay where they are until then' },
]

export const DEFAULT_FENCING: FencingSettings = Object.fromEntries(FENCING_FIELDS.map((f) => [f.name, f.default])) as unknown as FencingSettings

export const FENCE_AGENT_TIMEOUT_DEFAULT_MS = 20_000

export function readFencing(file: string, value: unknown): FencingSettings {
  const obj: Obj = value === undefined ? {} : asObject(file, 'fencing', value)
  rejectUnknown(file, 'fencing', obj, FENCING_FIELDS.map((f) => f.name))
  const settings = { ...DEFAULT_FENCING }
  for (const f of FENCING_FIELDS) {
    if (obj[f.name] !== undefined) settings[f.name] = readInteger(file, `fencing.${f.name}`, obj[f.name], f.name === 'raceDelayMs' ? 0 : 1, 3_600_000)
  }
  if (settings.retryMaxMs < settings.retryBaseMs) throw fieldError(file, 'fencing.retryMaxMs', `must be at least fencing.retryBaseMs (${settings.retryBaseMs}), got ${settings.retryMaxMs}`)
  return settings
}

export function readWatchdog(file: string, value: unknown): WatchdogSettings {
  if (value === undefined) return { device: null }
  const obj = asObject(file, 'watchdog', value)
  rejectUnknown(file, 'watchdog', obj, ['device'])
  const device = readString(file, 'watchdog.device', obj.device)
  if (!isAbsolute(device)) throw fieldError(file, 'watchdog.device', `must be an absolute path, got "${device}"`)
  return { device }
}

/** A node's fencing topology; absent = no method (takeover then rests on the self-fence deadline). */
export function readNodeFence(file: string, path: string, value: unknown, nodeName: string): FenceMethod[] {
  if (value === undefined) return []
  const list = readArray(file, path, value, 1, FENCE_METHODS_MAX)
  const methods = list.map((entry, i) => readMethod(file, `${path}[${i}]`, entry, nodeName))
  const names = new Set<string>()
  methods.forEach((m, i) => {
    if (names.has(m.name)) throw fieldError(file, `${path}[${i}].name`, `"${m.name}" is already used by another method of this node`)
    names.add(m.name)
  })
  if (methods.filter((m) => m.method === 'poison-pill').length > 1) throw fieldError(file, path, 'poison-pill may appear once')
  return methods
}

function readMethod(file: string, path: string, value: unknown, nodeName: string): FenceMethod {
  const obj = asObject(file, path, value)
  const method = readString(file, `${path}.method`, obj.method)
  if (method === 'poison-pill') {
    rejectUnknown(file, path, obj, ['method', 'name'])
    return { method, name: obj.name === undefined ? 'poison-pill' : readString(file, `${path}.name`, obj.name, /^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be a lower-case name') }
  }
  if (method !== 'agent') throw fieldError(file, `${path}.method`, `must be "agent" or "poison-pill", got "${method}"`)
  rejectUnknown(file, path, obj, ['method', 'name', 'agent', 'params', 'port', 'timeoutMs'])
  const agent = readString(file, `${path}.agent`, obj.agent)
  if (!isAbsolute(agent)) throw fieldError(file, `${path}.agent`, `must be an absolute path to a fence agent, got "${agent}"`)
  return {
    method,
    name: obj.name === undefined ? basename(agent) : readString(file, `${path}.name`, obj.name, /^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be a lower-case name'),
    agent,
    params: readParams(file, `${path}.params`, obj.params),
    port: obj.port === undefined ? nodeName : readParamValue(file, `${path}.port`, obj.port),
    timeoutMs: obj.timeoutMs === undefined ? FENCE_AGENT_TIMEOUT_DEFAULT_MS : readInteger(file, `${path}.timeoutMs`, obj.timeoutMs, 1, FENCE_AGENT_TIMEOUT_MAX_MS),
  }
}

function readParams(file: string, path: string, value: unknown): Record<string, string> {
  if (value === undefined) return {}
  const obj = asObject(file, path, value)
  const out: Record<string, string> = {}
  for (const [key, v] of Object.entries(obj)) {
    if (!PARAM_KEY.test(key)) throw fieldError(file, `${path}.${key}`, 'a fence agent parameter name is a-z 0-9 _ (the agent reads key=value lines)')
    if (RESERVED_PARAMS.includes(key)) throw fieldError(file, `${path}.${key}`, `is set by the cluster on every call (${RESERVED_PARAMS.join(', ')}); use the method's "port" field for the plug`)
    out[key] = readParamValue(file, `${path}.${key}`, v)
  }
  return out
}

function readParamValue(file: string, path: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw fieldError(file, path, 'must be a string, number or boolean')
  const text = String(value)
  if (text.length === 0 || /[\n\r\0]/.test(text)) throw fieldError(file, path, 'must be non-empty and on one line (it is sent as one key=value line)')
  return text
}
