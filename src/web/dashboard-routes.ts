/**
 * The dashboard's HTTP decisions, pure: which route a request is, whether it may write,
 * whether its Host is ours, what its body asks and which status an action's failure gets.
 * The server (dashboard-server.ts) only reads sockets and writes what these decide. Every
 * refusal is a JSON body `{ error, code }` (the control socket's shape) and changes nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { CarbErrorCode } from '../errors.js'
import { isServiceAction, type ServiceAction, type ServiceActionRequest } from '../config/service-actions.js'
import { isLoopbackHost } from '../config/dashboard.js'
import type { HostPort } from '../config/fields.js'

/** An action body is `{"to": "node"}` at most; anything near this is not from the page. */
export const BODY_BYTES_MAX = 4096
const SERVICE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/

export type Route =
  | { kind: 'page' }
  | { kind: 'status' }
  | { kind: 'events' }
  | { kind: 'action'; service: string; action: ServiceAction }

export interface Refusal {
  status: number
  code: CarbErrorCode
  error: string
  /** Extra response headers (Allow on 405, WWW-Authenticate on 401). */
  headers?: Record<string, string>
}

export const isRefusal = (value: unknown): value is Refusal => typeof value === 'object' && value !== null && 'status' in value && 'code' in value

function refuse(status: number, code: CarbErrorCode, error: string, headers?: Record<string, string>): Refusal {
  return headers === undefined ? { status, code, error } : { status, code, error, headers }
}

const GET_ROUTES: Record<string, Route> = { '/': { kind: 'page' }, '/api/status': { kind: 'status' }, '/api/events': { kind: 'events' } }

/** The route of `method` `url` (a request target: path and maybe a query, which is ignored). */
export function route(method: string, url: string): Route | Refusal {
  const path = url.split('?')[0] ?? ''
  const fixed = Object.hasOwn(GET_ROUTES, path) ? GET_ROUTES[path] : undefined
  if (fixed !== undefined) return method === 'GET' ? fixed : refuse(405, 'CARB_ERR_DASHBOARD_REQUEST', `${method} ${path}: only GET`, { Allow: 'GET' })
  const match = /^\/api\/services\/([^/]+)\/([^/]+)$/.exec(path)
  if (match === null) return refuse(404, 'CARB_ERR_DASHBOARD_REQUEST', `no such page: ${path.slice(0, 100)}`)
  let service: string
  try { service = decodeURIComponent(match[1]!) } catch { return refuse(404, 'CARB_ERR_DASHBOARD_REQUEST', 'service name is not valid percent-encoding') }
  const action = match[2]!
  if (!SERVICE_NAME.test(service)) return refuse(404, 'CARB_ERR_DASHBOARD_REQUEST', `not a service name: ${service.slice(0, 64)}`)
  if (!isServiceAction(action)) return refuse(404, 'CARB_ERR_DASHBOARD_REQUEST', `no action "${action.slice(0, 32)}" (relocate, enable, disable, restart)`)
  if (method !== 'POST') return refuse(405, 'CARB_ERR_DASHBOARD_REQUEST', `${method} ${path}: only POST`, { Allow: 'POST' })
  return { kind: 'action', service, action }
}

/** The token as the server keeps it: its SHA-256, so every comparison is of 32 bytes. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/**
 * Whether a write may go on: refused 403 when the dashboard is read-only (no token file, with
 * or without a token), 401 without `Authorization: Bearer TOKEN` or with a wrong one. The
 * comparison is of digests in constant time.
 */
export function authorize(digest: Buffer | null, authorization: string | undefined): Refusal | null {
  if (digest === null) return refuse(403, 'CARB_ERR_DASHBOARD_READ_ONLY', 'this dashboard is read-only (no dashboard.tokenFile configured): use the carbonado CLI')
  const challenge = { 'WWW-Authenticate': 'Bearer realm="carbonado"' }
  const match = /^Bearer ([\x21-\x7e]{1,1024})$/.exec(authorization ?? '')
  if (match === null) return refuse(401, 'CARB_ERR_DASHBOARD_AUTH', 'a write needs the header Authorization: Bearer TOKEN (the content of dashboard.tokenFile)', challenge)
  if (!timingSafeEqual(tokenDigest(match[1]!), digest)) return refuse(401, 'CARB_ERR_DASHBOARD_AUTH', 'wrong token', challenge)
  return null
}

/**
 * A dashboard bound to loopback answers only requests that name a loopback host: a web page
 * elsewhere whose name an attacker points at 127.0.0.1 (DNS rebinding) is refused. A remote
 * dashboard (allowRemote) cannot know the names it is reached by and takes any.
 */
export function hostAllowed(listen: HostPort, hostHeader: string | undefined): boolean {
  if (!isLoopbackHost(listen.host)) return true
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(hostHeader ?? '')
  if (match === null) return false
  const port = match[3] === undefined ? 80 : Number(match[3])
  return port === listen.port && isLoopbackHost(match[1] ?? match[2] ?? '')
}

/** An action's body: empty, or a JSON object with at most `to` (relocate's target node). */
export function actionRequest(route: { service: string; action: ServiceAction }, body: string): ServiceActionRequest | Refusal {
  if (body.trim() === '') return { action: route.action, name: route.service, to: null }
  let value: unknown
  try { value = JSON.parse(body) } catch { return refuse(400, 'CARB_ERR_DASHBOARD_REQUEST', 'the body is not JSON') }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse(400, 'CARB_ERR_DASHBOARD_REQUEST', 'the body must be a JSON object')
  const fields = value as Record<string, unknown>
  const unknown = Object.keys(fields).find((k) => k !== 'to')
  if (unknown !== undefined) return refuse(400, 'CARB_ERR_DASHBOARD_REQUEST', `unknown field "${unknown.slice(0, 32)}" (only "to", for relocate)`)
  if (fields.to === undefined || fields.to === null) return { action: route.action, name: route.service, to: null }
  if (route.action !== 'relocate') return refuse(400, 'CARB_ERR_DASHBOARD_REQUEST', `"to" is for relocate, not ${route.action}`)
  if (typeof fields.to !== 'string' || !SERVICE_NAME.test(fields.to)) return refuse(400, 'CARB_ERR_DASHBOARD_REQUEST', '"to" must be a node name')
  return { action: route.action, name: route.service, to: fields.to }
}

/** The HTTP status of a refused action, by the node's error code. */
export function actionStatus(code: string | undefined): number {
  if (code === 'CARB_ERR_SERVICE_UNKNOWN') return 404
  if (code === 'CARB_ERR_USAGE' || code === 'CARB_ERR_CONFIG_FIELD') return 400
  const conflicts = ['CARB_ERR_SERVICE_UNCHANGED', 'CARB_ERR_SERVICE_DISABLED', 'CARB_ERR_SERVICE_ENABLED', 'CARB_ERR_SERVICE_RELOCATE', 'CARB_ERR_CONFIG_VERSION', 'CARB_ERR_LEASE_CONTENTION']
  return code !== undefined && conflicts.includes(code) ? 409 : 500
}
