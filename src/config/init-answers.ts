/**
 * The answers `config init` collects (Kimberlite's member_config questions), one checker per
 * answer. The same checker reads a flag and a typed answer, so `--node a:1:10.0.0.1:5405`
 * and the interactive questions obey the same rules; each throws a CARB_ERR_USAGE whose
 * message is the reason alone (the caller adds the flag, or shows it and asks again). Pure.
 * The whole file is validated once more by the real loader before anything is written.
 */
import { isAbsolute, resolve } from 'node:path'
import { CarbError } from '../errors.js'
import { CHANNELS_MAX, NODES_MAX, NODES_MIN } from './load.js'
import { readHostPort } from './fields.js'
import { readNodeFence } from './fencing.js'
import { TIMING_FIELDS } from './timing.js'

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/
/** Channel i listens on 5405 + i unless the answer names a port (corosync's totem port, then the next ones). */
export const HEARTBEAT_PORT_BASE = 5405
export const DEFAULT_KEY_FILE = '/etc/carbonado/authkey'

export interface NodeAnswer { name: string; id: number; heartbeat: string[] }

/** A fence method as the cluster file spells it: `{method: agent, agent, params, port?, timeoutMs?}` or `{method: poison-pill}`. */
export type FenceAnswer = Record<string, unknown>

export interface InitAnswers {
  cluster: string
  disk: string
  authKeyFile: string
  nodes: NodeAnswer[]
  fence: Map<string, FenceAnswer[]>
  timing: Record<string, number>
}

const bad = (reason: string): CarbError => new CarbError('CARB_ERR_USAGE', reason)

export function checkName(text: string, what: string, taken: readonly string[] = []): string {
  if (!NAME_PATTERN.test(text)) throw bad(`${what} must be a lower-case name (a-z 0-9 _ . -, at most 63), got "${text}"`)
  if (taken.includes(text)) throw bad(`${what} "${text}" is already used`)
  return text
}

export function checkPath(text: string, cwd: string): string {
  if (text.includes('\n')) throw bad('a path is one line')
  return isAbsolute(text) ? text : resolve(cwd, text)
}

export function checkInteger(text: string, what: string, min: number, max: number): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) throw bad(`${what} must be an integer from ${min} to ${max}, got "${text}"`)
  return n
}

export const checkNodeCount = (text: string): number => checkInteger(text, 'the number of nodes', NODES_MIN, NODES_MAX)

export function checkNodeId(text: string, taken: readonly number[]): number {
  const id = checkInteger(text, 'a node id', 1, NODES_MAX)
  if (taken.includes(id)) throw bad(`node id ${id} is already used`)
  return id
}

/**
 * Heartbeat channels: `host[:port]` separated by commas or spaces; channel i defaults to port
 * 5405 + i. Every node needs as many channels as the first (channel i talks to channel i).
 */
export function checkHeartbeat(text: string, channels: number | undefined, taken: readonly string[]): string[] {
  const parts = text.split(/[\s,]+/).filter(Boolean)
  if (parts.length < 1 || parts.length > CHANNELS_MAX) throw bad(`give 1 to ${CHANNELS_MAX} heartbeat addresses, got ${parts.length}`)
  if (channels !== undefined && parts.length !== channels) throw bad(`give ${channels} address${channels === 1 ? '' : 'es'}, like the first node: channel i of every node talks to channel i of the others`)
  return parts.map((part, i) => {
    try {
      const { host, port } = readHostPort('answer', `channel ${i}`, withDefaultPort(part, i))
      const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
      if (taken.includes(address)) throw bad(`channel ${i}: ${address} is already used by another node`)
      return address
    } catch (error) {
      throw bad((error as Error).message)
    }
  })
}

/** `host:port` and `[v6]:port` stay; a bare host or IPv6 address gets port 5405 + channel. */
function withDefaultPort(part: string, channel: number): string {
  if (/^\[[^\]]+\]:\d+$/.test(part) || /^[^:[\]]+:\d+$/.test(part)) return part
  const host = part.includes(':') && !part.startsWith('[') ? `[${part}]` : part
  return `${host}:${HEARTBEAT_PORT_BASE + channel}`
}

/** One method: `poison-pill`, or `/path/to/fence_agent[:key=value,...]` (port=, timeoutMs= and name= are the method's own fields). */
export function checkFenceMethod(text: string): FenceAnswer {
  if (text === 'poison-pill') return { method: 'poison-pill' }
  const colon = text.indexOf(':')
  const agent = colon < 0 ? text : text.slice(0, colon)
  if (!isAbsolute(agent)) throw bad(`a fence method is "poison-pill" or the absolute path of a fence agent (e.g. /usr/sbin/fence_ipmilan:ip=10.0.0.11,username=admin), got "${text}"`)
  const method: FenceAnswer = { method: 'agent', agent }
  const params: Record<string, string> = {}
  for (const pair of colon < 0 ? [] : text.slice(colon + 1).split(',').filter(Boolean)) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw bad(`fence agent parameter "${pair}" is not key=value`)
    const key = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    if (key === 'timeoutMs') method.timeoutMs = checkInteger(value, 'timeoutMs', 1, 600_000)
    else if (key === 'port' || key === 'name') method[key] = value
    else params[key] = value
  }
  if (Object.keys(params).length > 0) method.params = params
  return method
}

/** A node's methods, in order (`none`, or methods separated by `;`), checked by the cluster file's own rules. */
export function checkFence(text: string, node: string): FenceAnswer[] {
  if (text === 'none') return []
  const methods = text.split(';').map((m) => m.trim()).filter(Boolean).map(checkFenceMethod)
  checkFenceList(methods, node)
  return methods
}

export function checkFenceList(methods: FenceAnswer[], node: string): void {
  try {
    readNodeFence('answer', `fence of ${node}`, methods, node)
  } catch (error) {
    throw bad((error as Error).message)
  }
}

/** `--node NAME:ID:HOST:PORT[,HOST:PORT]...` */
export function checkNodeFlag(text: string, nodes: readonly NodeAnswer[]): NodeAnswer {
  const match = /^([^:]+):([^:]+):(.+)$/.exec(text)
  if (match === null) throw bad(`"${text}" is not NAME:ID:HOST:PORT[,HOST:PORT]...`)
  const name = checkName(match[1] ?? '', 'a node name', nodes.map((n) => n.name))
  const id = checkNodeId(match[2] ?? '', nodes.map((n) => n.id))
  const heartbeat = checkHeartbeat(match[3] ?? '', nodes[0]?.heartbeat.length, nodes.flatMap((n) => n.heartbeat))
  return { name, id, heartbeat }
}

/** `--fence NODE=METHOD`; with `nodes` null the node is checked later (the nodes may still be asked for). */
export function checkFenceFlag(text: string, nodes: readonly NodeAnswer[] | null): { node: string; method: FenceAnswer } {
  const eq = text.indexOf('=')
  const node = eq < 0 ? '' : text.slice(0, eq)
  if (eq <= 0) throw bad(`"${text}" is not NODE=AGENT[:key=value,...] or NODE=poison-pill`)
  if (nodes !== null && !nodes.some((n) => n.name === node)) throw bad(`no node named "${node}" (nodes: ${nodes.map((n) => n.name).join(', ')})`)
  return { node, method: checkFenceMethod(text.slice(eq + 1)) }
}

/** `--timing NAME=MS`; the relations between timings are the loader's to check. */
export function checkTimingFlag(text: string): [string, number] {
  const [name = '', ms = ''] = text.split('=', 2)
  if (!TIMING_FIELDS.some((f) => f.name === name)) throw bad(`"${name}" is not a timing (${TIMING_FIELDS.map((f) => f.name).join(', ')})`)
  return [name, checkInteger(ms, name, 1, 3_600_000)]
}
