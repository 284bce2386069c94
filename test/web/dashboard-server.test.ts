/**
 * The dashboard's HTTP server against a stand-in node (a backend that records every control
 * request): each bad request gets its status and a JSON error and never reaches the node;
 * writes need the token (401) and a token file (403 read-only); the event stream is capped;
 * the security headers are on every answer; close frees the port. The real node is in
 * dashboard-node.test.ts.
 */
import t, { type Test } from 'tap'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDashboard, type DashboardBackend, type DashboardServer } from '../../src/web/dashboard-server.js'
import type { DashboardSettings } from '../../src/config/dashboard.js'
import { EVENT_CLIENTS_MAX } from '../../src/web/dashboard-events.js'
import { BODY_BYTES_MAX } from '../../src/web/dashboard-routes.js'
import type { ControlRequest } from '../../src/runtime/control.js'
import type { StatusView } from '../../src/runtime/status-view.js'
import { loopbackHost } from '../helpers/cluster.js'

const TOKEN = 'f'.repeat(64)

const STATUS: StatusView = {
  cluster: 'test', node: 'a', incarnation: 1, wallMs: 0, configVersion: 1, fencing: [], counters: {},
  members: [{ name: 'a', id: 1, self: true, state: 'member', incarnation: 1, lastDiskWriteAgoMs: 10, diskSeq: 5, heartbeatAgoMs: [], problem: null }],
  services: [{ name: 'web', index: 0, enabled: true, holder: 'a', leaseInstance: 1, localState: 'running', placement: '' }],
}

/** A stand-in node: answers `services` and `config-propose`, records every request. */
function stubBackend(): DashboardBackend & { requests: ControlRequest[] } {
  const requests: ControlRequest[] = []
  return {
    requests,
    snapshot: () => ({ status: STATUS, decisions: [], machines: [{ id: 'local#1', type: 'local', value: 'member' }] }),
    control: async (request) => {
      requests.push(request)
      if (request.cmd === 'services') return { version: 1, doc: { v: 1, version: 1, services: [{ name: 'web', index: 0, enabled: true, domain: ['a', 'b'], relocateTo: null, restartGeneration: 0 }] }, services: STATUS.services }
      return { ok: true, version: 2 }
    },
    nodeNames: ['a', 'b'],
    onDecision: () => () => undefined,
  }
}

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function call(server: DashboardServer, method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: server.address.host, port: server.address.port, method, path, headers: options.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

async function start(t: Test, withToken: boolean): Promise<{ server: DashboardServer; backend: ReturnType<typeof stubBackend> }> {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-dash-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  let tokenFile: string | null = null
  if (withToken) {
    tokenFile = join(dir, 'token')
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
  }
  const settings: DashboardSettings = { listen: { host: loopbackHost(), port: 0 }, tokenFile, allowRemote: false }
  const backend = stubBackend()
  const server = await startDashboard(settings, backend)
  t.teardown(() => server.close())
  return { server, backend }
}

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` })

t.test('read-only (no tokenFile): pages and JSON are served; every write is 403, even with a token', async (t) => {
  const { server, backend } = await start(t, false)
  t.equal(server.readOnly, true)
  const status = await call(server, 'GET', '/api/status')
  t.equal(status.status, 200)
  t.match(JSON.parse(status.body), { cluster: 'test', node: 'a', readOnly: true, members: [{ name: 'a', state: 'member' }], machines: [{ id: 'local#1', paths: ['member'] }] })
  for (const headers of [{}, bearer(TOKEN)]) {
    const r = await call(server, 'POST', '/api/services/web/disable', { headers })
    t.equal(r.status, 403)
    t.match(JSON.parse(r.body), { code: 'CARB_ERR_DASHBOARD_READ_ONLY' })
  }
  t.same(backend.requests, [], 'the node was never asked')
})

t.test('writes need the token: 401 without it or with a wrong one; the right one runs the action the CLI way', async (t) => {
  const { server, backend } = await start(t, true)
  t.equal(server.readOnly, false)
  for (const [what, headers] of [['no header', {}], ['wrong token', bearer('x'.repeat(64))], ['not Bearer', { Authorization: `Basic ${TOKEN}` }], ['a prefix of the token', bearer(TOKEN.slice(0, 10))]] as const) {
    const r = await call(server, 'POST', '/api/services/web/disable', { headers })
    t.equal(r.status, 401, what)
    t.match(r.headers['www-authenticate'], /^Bearer/)
    t.equal(JSON.parse(r.body).code, 'CARB_ERR_DASHBOARD_AUTH')
  }
  t.same(backend.requests, [], 'refused writes never reach the node')
  const ok = await call(server, 'POST', '/api/services/web/disable', { headers: bearer(TOKEN), body: '{}' })
  t.equal(ok.status, 200, ok.body)
  t.match(JSON.parse(ok.body), { ok: true, version: 2, message: /disabled service web/ })
  t.same(backend.requests.map((r) => r.cmd), ['services', 'config-propose'])
  t.match(backend.requests[1], { expectVersion: 1, doc: { services: [{ name: 'web', enabled: false }] }, who: /^dashboard/ })
})

t.test('bad requests: 404, 405, 400, 413, 421, each a JSON error that changes nothing', async (t) => {
  const { server, backend } = await start(t, true)
  const cases: [string, string, string, number, Record<string, string>?, string?][] = [
    ['unknown path', 'GET', '/nope', 404],
    ['unknown action', 'POST', '/api/services/web/explode', 404],
    ['bad service name', 'POST', '/api/services/Web%20X/disable', 404],
    ['POST on the page', 'POST', '/', 405],
    ['DELETE on the status', 'DELETE', '/api/status', 405],
    ['GET on an action', 'GET', '/api/services/web/disable', 405],
    ['malformed JSON', 'POST', '/api/services/web/disable', 400, bearer(TOKEN), '{"to":'],
    ['a JSON list', 'POST', '/api/services/web/disable', 400, bearer(TOKEN), '[1]'],
    ['unknown field', 'POST', '/api/services/web/relocate', 400, bearer(TOKEN), '{"force":true}'],
    ['"to" on disable', 'POST', '/api/services/web/disable', 400, bearer(TOKEN), '{"to":"b"}'],
    ['body too large', 'POST', '/api/services/web/relocate', 413, bearer(TOKEN), `{"to":"${'b'.repeat(BODY_BYTES_MAX)}"}`],
    ['foreign Host (DNS rebinding)', 'GET', '/api/status', 421, { Host: 'evil.example:80' }],
  ]
  for (const [what, method, path, status, headers, body] of cases) {
    const r = await call(server, method, path, { headers, body })
    t.equal(r.status, status, `${what}: ${r.body}`)
    const json = JSON.parse(r.body) as { error: string; code: string }
    t.match(json, { error: /^CARB_ERR_DASHBOARD_REQUEST: /, code: 'CARB_ERR_DASHBOARD_REQUEST' }, `${what}: a named JSON error`)
    if (status === 405) t.ok(r.headers.allow, `${what}: Allow says what would do`)
  }
  t.same(backend.requests, [], 'no bad request reached the node')
})

t.test('security headers: CSP with a nonce on the page, nosniff, no CORS', async (t) => {
  const { server } = await start(t, false)
  const page = await call(server, 'GET', '/', { headers: { Origin: 'http://evil.example' } })
  t.equal(page.status, 200)
  const csp = String(page.headers['content-security-policy'])
  t.match(csp, /default-src 'none'/)
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
  t.ok(nonce, 'scripts by nonce only')
  t.match(page.body, `<script nonce="${nonce}">`)
  t.notMatch(page.body, /<script(?![^>]*nonce)/, 'no script without the nonce')
  t.notMatch(page.body, /\b(?:src|href)="(?:https?:)?\/\//, 'nothing fetched from elsewhere')
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  t.equal(page.headers['access-control-allow-origin'], undefined, 'no CORS')
  const again = await call(server, 'GET', '/')
  t.not(/nonce-([^']+)/.exec(String(again.headers['content-security-policy']))?.[1], nonce, 'a fresh nonce per page')
  const api = await call(server, 'GET', '/api/status')
  t.equal(api.headers['x-content-type-options'], 'nosniff')
  t.match(String(api.headers['content-security-policy']), /default-src 'none'/)
})

t.test(`event streams: the model at once, at most ${EVENT_CLIENTS_MAX} at a time (503 beyond)`, async (t) => {
  const { server } = await start(t, false)
  const open: { close(): void }[] = []
  t.teardown(() => { for (const o of open) o.close() })
  const first = await new Promise<string>((resolve, reject) => {
    const req = httpRequest({ host: server.address.host, port: server.address.port, path: '/api/events' }, (res) => {
      t.match(res.headers['content-type'], /^text\/event-stream/)
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c; if (text.includes('event: model\ndata: ')) resolve(text) })
    })
    req.on('error', reject)
    req.end()
    open.push({ close: () => req.destroy() })
  })
  t.match(first, /^retry: \d+\n\nevent: model\ndata: \{.*"cluster":"test"/s)
  for (let i = 1; i < EVENT_CLIENTS_MAX; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: server.address.host, port: server.address.port, path: '/api/events' }, () => resolve())
      req.on('error', reject)
      req.end()
      open.push({ close: () => req.destroy() })
    })
  }
  const refused = await call(server, 'GET', '/api/events')
  t.equal(refused.status, 503)
  t.equal(JSON.parse(refused.body).code, 'CARB_ERR_DASHBOARD_BUSY')
})

t.test('close ends open streams and frees the port', async (t) => {
  const { server } = await start(t, false)
  const ended = new Promise<void>((resolve) => {
    const req = httpRequest({ host: server.address.host, port: server.address.port, path: '/api/events' }, (res) => { res.resume(); res.on('close', () => resolve()) })
    req.end()
  })
  await new Promise((r) => setTimeout(r, 50))
  await server.close()
  await ended
  const refused = await new Promise<string>((resolve) => {
    const socket = connect(server.address.port, server.address.host)
    socket.on('connect', () => { socket.destroy(); resolve('connected') })
    socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
  })
  t.equal(refused, 'ECONNREFUSED')
})

t.test('a token file readable by others, missing or too short refuses the start', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-dash-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cases: [string, string | null, number, RegExp][] = [
    ['group-readable', TOKEN, 0o640, /readable or writable by group or others \(mode 0640\)/],
    ['missing', null, 0o600, /token file missing/],
    ['too short', 'short', 0o600, /5 characters; 32 to 1024 needed/],
    ['with spaces', `${'a'.repeat(20)} ${'b'.repeat(20)}`, 0o600, /one line of printable ASCII/],
  ]
  for (const [what, content, mode, pattern] of cases) {
    const file = join(dir, what.replace(/ /g, '-'))
    if (content !== null) await writeFile(file, content, { mode })
    const settings: DashboardSettings = { listen: { host: '127.0.0.1', port: 0 }, tokenFile: file, allowRemote: false }
    await t.rejects(startDashboard(settings, stubBackend()), { code: 'CARB_ERR_DASHBOARD_TOKEN', where: file, message: pattern }, what)
  }
})

t.test('an address in use refuses the start with a named error naming the address', async (t) => {
  const { server } = await start(t, false)
  const settings: DashboardSettings = { listen: server.address, tokenFile: null, allowRemote: false }
  await t.rejects(startDashboard(settings, stubBackend()), { code: 'CARB_ERR_DASHBOARD_LISTEN', where: `${server.address.host}:${server.address.port}`, message: /EADDRINUSE/ })
})
