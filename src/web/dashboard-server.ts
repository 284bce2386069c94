/**
 * The live dashboard's HTTP server (the shell; what to answer is decided in
 * dashboard-routes.ts, what to show in dashboard-model.ts, how in dashboard-page.ts):
 *
 *   GET  /                                  the page (inline CSS and JS, nothing fetched elsewhere)
 *   GET  /api/status                        the model as JSON
 *   GET  /api/events                        server-sent events: the model on every change
 *   POST /api/services/NAME/ACTION          relocate, enable, disable, restart (Bearer token)
 *
 * Pushes: within DECISION_PUSH_DELAY_MS of a decision; on the CHANGE_CHECK_MS beat when
 * anything but the ages changed; every AGES_REFRESH_MS anyway, so ages stay current; a
 * comment every HEARTBEAT_MS. No CORS: only the page itself may call the API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { CarbError } from '../errors.js'
import type { DashboardSettings } from '../config/dashboard.js'
import type { HostPort } from '../config/fields.js'
import type { StatusView } from '../runtime/status-view.js'
import type { RecentDecision } from '../runtime/recent-decisions.js'
import type { MachineInstance } from '../runtime/machine-host.js'
import { dashboardModel, modelSignature, type DashboardModel } from './dashboard-model.js'
import { actionRequest, authorize, BODY_BYTES_MAX, hostAllowed, isRefusal, route, tokenDigest, type Refusal } from './dashboard-routes.js'
import { EventClients } from './dashboard-events.js'
import { runServiceAction, type AskControl } from './dashboard-actions.js'
import { loadDashboardToken } from './dashboard-token.js'
import { dashboardPage } from './dashboard-page.js'
import { chartAssets } from './dashboard-charts.js'

/** A decision's consequences (the next few) arrive together: one push for the burst. */
export const DECISION_PUSH_DELAY_MS = 100
/** How often the model is compared with the last one pushed. */
export const CHANGE_CHECK_MS = 1000
/** Ages (last disk write, heartbeats) move all the time: pushed this often, like `clustat -i 5`. */
export const AGES_REFRESH_MS = 5000
/** Well under the 30-60 s after which proxies and browsers drop an idle stream. */
export const HEARTBEAT_MS = 15_000

export interface DashboardSnapshot { status: StatusView; decisions: RecentDecision[]; machines: MachineInstance[] }

/** What the dashboard needs of the node (NodeRuntime gives it). */
export interface DashboardBackend {
  snapshot(): DashboardSnapshot
  control: AskControl
  nodeNames: readonly string[]
  /** Calls `listener` after each decision the node carries out; returns the unsubscribe. */
  onDecision(listener: () => void): () => void
}

export interface DashboardServer {
  /** Where it listens (the port the system gave, if 0 was asked). */
  address: HostPort
  readOnly: boolean
  close(): Promise<void>
}

const COMMON_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY', 'Cache-Control': 'no-store' }
const API_CSP = "default-src 'none'; frame-ancestors 'none'"

/** The page's policy: its own inline script (by nonce) and styles, its own API, nothing else. */
export function pageCsp(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { ...COMMON_HEADERS, 'Content-Security-Policy': API_CSP, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers })
  response.end(text)
}

function sendRefusal(response: ServerResponse, refusal: Refusal): void {
  sendJson(response, refusal.status, { error: `${refusal.code}: ${refusal.error}`, code: refusal.code }, refusal.headers)
}

/** The body as text, or a 413 refusal past BODY_BYTES_MAX (the rest is not read). */
async function readBody(request: IncomingMessage): Promise<string | Refusal> {
  const tooLarge: Refusal = { status: 413, code: 'CARB_ERR_DASHBOARD_REQUEST', error: `the body is over ${BODY_BYTES_MAX} bytes`, headers: { Connection: 'close' } }
  if (Number(request.headers['content-length'] ?? 0) > BODY_BYTES_MAX) return tooLarge
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length
    if (bytes > BODY_BYTES_MAX) return tooLarge
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export async function startDashboard(settings: DashboardSettings, backend: DashboardBackend): Promise<DashboardServer> {
  const digest = settings.tokenFile === null ? null : tokenDigest(await loadDashboardToken(settings.tokenFile))
  const readOnly = digest === null
  const clients = new EventClients()
  const model = (): DashboardModel => dashboardModel({ ...backend.snapshot(), readOnly })
  const pusher = startPushing(clients, model, backend)
  /** Where it listens; the port is the one the system gave when 0 was asked. */
  let bound: HostPort = settings.listen

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!hostAllowed(bound, request.headers.host)) {
      sendRefusal(response, { status: 421, code: 'CARB_ERR_DASHBOARD_REQUEST', error: `Host "${String(request.headers.host ?? '').slice(0, 64)}" is not this dashboard's loopback address` })
      return
    }
    const target = route(request.method ?? '', request.url ?? '')
    if (isRefusal(target)) { sendRefusal(response, target); return }
    if (target.kind === 'page') {
      const nonce = randomBytes(16).toString('base64')
      const snapshot = backend.snapshot().status
      const html = dashboardPage({ nonce, cluster: snapshot.cluster, node: snapshot.node, charts: chartAssets() })
      response.writeHead(200, { ...COMMON_HEADERS, 'Content-Security-Policy': pageCsp(nonce), 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(html)) })
      response.end(html)
      return
    }
    if (target.kind === 'status') { sendJson(response, 200, model()); return }
    if (target.kind === 'events') {
      if (clients.full) { sendRefusal(response, { status: 503, code: 'CARB_ERR_DASHBOARD_BUSY', error: `${clients.size} event streams are open already; close one`, headers: { 'Retry-After': '10' } }); return }
      clients.add(response, { ...COMMON_HEADERS, 'Content-Security-Policy': API_CSP }, JSON.stringify(model()))
      return
    }
    const denied = authorize(digest, request.headers.authorization)
    if (denied !== null) { sendRefusal(response, denied); return }
    const body = await readBody(request)
    if (isRefusal(body)) { sendRefusal(response, body); return }
    const action = actionRequest(target, body)
    if (isRefusal(action)) { sendRefusal(response, action); return }
    const outcome = await runServiceAction(backend.control, action, backend.nodeNames, `dashboard (${request.socket.remoteAddress ?? '?'})`)
    sendJson(response, outcome.status, outcome.body)
    pusher.soon()
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: String((error as Error).message ?? error), code: 'CARB_ERR_DASHBOARD_REQUEST' })
      else response.destroy()
    })
  })
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  bound = await listen(server, settings.listen).catch((error: unknown) => { pusher.stop(); throw error })
  return {
    address: bound, readOnly,
    close: async () => {
      pusher.stop()
      clients.closeAll()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}

async function listen(server: Server, at: HostPort): Promise<HostPort> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new CarbError('CARB_ERR_DASHBOARD_LISTEN', `cannot listen (${error.code ?? error.message}); is another node or program on this address? (dashboard.listen, nodes[].dashboard)`, `${at.host}:${at.port}`)))
    server.listen(at.port, at.host, () => resolve())
  })
  const bound = server.address()
  return { host: at.host, port: typeof bound === 'object' && bound !== null ? bound.port : at.port }
}

/** The push schedule (see the top of the file). Only works while someone watches. */
function startPushing(clients: EventClients, model: () => DashboardModel, backend: DashboardBackend): { soon(): void; stop(): void } {
  let lastSignature = ''
  let lastPushMs = -Infinity
  let pending: NodeJS.Timeout | null = null
  const push = (force: boolean): void => {
    if (clients.size === 0) return
    const current = model()
    const signature = modelSignature(current)
    const now = performance.now()
    if (!force && signature === lastSignature && now - lastPushMs < AGES_REFRESH_MS) return
    clients.broadcast(JSON.stringify(current))
    lastSignature = signature
    lastPushMs = now
  }
  const soon = (): void => {
    if (pending === null) pending = setTimeout(() => { pending = null; push(true) }, DECISION_PUSH_DELAY_MS)
  }
  const check = setInterval(() => push(false), CHANGE_CHECK_MS)
  const beat = setInterval(() => clients.heartbeat(), HEARTBEAT_MS)
  const unsubscribe = backend.onDecision(soon)
  return {
    soon,
    stop: () => { clearInterval(check); clearInterval(beat); if (pending !== null) clearTimeout(pending); unsubscribe() },
  }
}
