/**
 * The live dashboard in the cluster file (src/web/): off unless the `dashboard` section is
 * there; bound to loopback unless an administrator opts in; read-only unless a token file is
 * named. Several nodes on one host (tests, the demo) each take their own address with
 * `nodes[].dashboard`.
 *
 *   dashboard: { listen: 127.0.0.1:7480, tokenFile: /etc/carbonado/dashboard.token, allowRemote: false }
 *   nodes:
 *     - { name: a, id: 1, heartbeat: [...], dashboard: 127.0.0.1:7481 }
 */
import { isIP } from 'node:net'
import { asObject, fieldError, readHostPort, readString, rejectUnknown, show, type HostPort, type Obj } from './fields.js'

/** What a node serves, after the node's own address replaced the cluster's. */
export interface DashboardSettings {
  listen: HostPort
  /** The admin token's file (absolute); null: read-only, every write is refused with 403. */
  tokenFile: string | null
  allowRemote: boolean
}

/** Unassigned by IANA and close to the heartbeat's 7400: easy to remember, unlikely to clash. */
export const DASHBOARD_DEFAULT_LISTEN: HostPort = { host: '127.0.0.1', port: 7480 }

export const DASHBOARD_REFERENCE = [
  { field: 'dashboard', default: '(off)', reason: 'the live dashboard page (nodes, services, fencing, last decisions, state charts) served by every node; present (even empty) turns it on' },
  { field: 'dashboard.listen', default: '127.0.0.1:7480', reason: 'host:port of the page; loopback by default, so only this machine (an SSH tunnel) sees it' },
  { field: 'dashboard.tokenFile', default: '(none: read-only)', reason: 'a file holding the admin token (`carbonado key generate FILE` makes one) that relocate, enable, disable and restart need; must not be readable by group or others. Without it every write is refused' },
  { field: 'dashboard.allowRemote', default: 'false', reason: 'a listen address that is not loopback is refused unless this is true: the page shows the whole cluster to anyone who reaches it (plain HTTP: put a TLS proxy in front)' },
  { field: 'nodes[].dashboard', default: 'dashboard.listen', reason: 'this node\'s own host:port for the page (several nodes on one host); needs the dashboard section' },
] as const

const FIELDS = ['listen', 'tokenFile', 'allowRemote'] as const

/** The cluster-wide section, or null when the dashboard is off. `at` resolves paths against the file. */
export function readDashboard(file: string, value: unknown, at: (path: string) => string): DashboardSettings | null {
  if (value === undefined) return null
  // `dashboard:` with nothing under it is there too: on, with every default.
  const obj: Obj = value === null ? {} : asObject(file, 'dashboard', value)
  rejectUnknown(file, 'dashboard', obj, FIELDS)
  if (obj.allowRemote !== undefined && typeof obj.allowRemote !== 'boolean') throw fieldError(file, 'dashboard.allowRemote', `must be true or false, got ${show(obj.allowRemote)}`)
  const allowRemote = obj.allowRemote === true
  const listen = obj.listen === undefined ? DASHBOARD_DEFAULT_LISTEN : readListen(file, 'dashboard.listen', obj.listen, allowRemote)
  const tokenFile = obj.tokenFile === undefined ? null : at(readString(file, 'dashboard.tokenFile', obj.tokenFile))
  return { listen, tokenFile, allowRemote }
}

/** A node's own address (`nodes[i].dashboard`), or the cluster's settings unchanged. */
export function readNodeDashboard(file: string, path: string, value: unknown, cluster: DashboardSettings | null): DashboardSettings | null {
  if (value === undefined) return cluster
  if (cluster === null) throw fieldError(file, path, 'the dashboard is off: add the top-level `dashboard` section (it holds the token and the remote opt-in) to serve it')
  return { ...cluster, listen: readListen(file, path, value, cluster.allowRemote) }
}

function readListen(file: string, path: string, value: unknown, allowRemote: boolean): HostPort {
  const listen = readHostPort(file, path, value)
  if (!allowRemote && !isLoopbackHost(listen.host)) {
    throw fieldError(file, path, `${listen.host} is not a loopback address (127.0.0.0/8, ::1, localhost); set dashboard.allowRemote: true to serve other machines (anyone who reaches it sees the cluster)`)
  }
  return listen
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x) and the name localhost. Other names are not trusted to be loopback. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase()
  if (lower === 'localhost') return true
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower
  if (isIP(v4) === 4) return v4.split('.')[0] === '127'
  return isIP(lower) === 6 && new URL(`http://[${lower}]/`).hostname === '[::1]'
}
