/**
 * Fuzzing the two request parsers an administrator's tools talk to:
 *
 * - the control socket (src/runtime/control.ts): one newline-terminated JSON request per
 *   connection, through the real listener on a temporary Unix socket. Garbage lines,
 *   mutated requests and unterminated ones get an error answer (or none, for a request that
 *   never ends); the handler only ever sees an object with a string `cmd`; a valid request
 *   after each garbage one is still answered.
 * - the dashboard's HTTP decisions (src/web/dashboard-routes.ts): random and mutated
 *   methods, request targets, Host and Authorization headers and action bodies. Every
 *   answer is a route of a known kind or a refusal with a 4xx status and a
 *   CARB_ERR_DASHBOARD_* code; a write is allowed only with the right token.
 */
import t from 'tap'
import { createConnection } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listenControl, type ControlRequest } from '../../src/runtime/control.js'
import { actionRequest, authorize, hostAllowed, isRefusal, route, tokenDigest } from '../../src/web/dashboard-routes.js'
import { SERVICE_ACTIONS } from '../../src/config/service-actions.js'
import { budget, describeFailure, FuzzFinding, fuzz, shown, type Mutator } from './mutate.js'

/** Sends `bytes` on a new connection, half-closes, and returns every answer line. */
function exchange(path: string, bytes: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path)
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { answer += chunk })
    socket.on('error', reject)
    socket.on('close', () => resolve(answer.split('\n').filter((l) => l !== '')))
    socket.on('connect', () => socket.end(bytes))
  })
}

const REQUESTS: ControlRequest[] = [
  { cmd: 'status' }, { cmd: 'export' }, { cmd: 'fence', target: 'b', who: 'alice' },
  { cmd: 'config-propose', expectVersion: 3, doc: { v: 1, version: 3, services: [] }, who: 'bob' },
]

function garbageLine(m: Mutator): Buffer {
  const request = m.pick(REQUESTS)
  switch (m.int(5)) {
    case 0: return m.bytes(m.int(64))
    case 1: return Buffer.from(`${m.mutateText(JSON.stringify(request))}\n`)
    case 2: return Buffer.concat([m.mutateBytes(Buffer.from(JSON.stringify(request))), Buffer.from('\n')])
    case 3: return Buffer.from(`${JSON.stringify(m.mutateValue(request, 3), (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? 'null'}\n`)
    default: return Buffer.from(`${m.pick(['null', '[]', '"status"', '{}', '{"cmd": 1}', '{"cmd": null}', '1e999', '{"cmd": "status"', '\u0000', ''])}\n`)
  }
}

t.test('control socket: garbage gets an error answer, the handler sees only requests with a cmd', async (t) => {
  // A short path: a Unix socket's path must fit in 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'carb-fuzz-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'control.sock')
  const seen: unknown[] = []
  const server = await listenControl(path, async (request, send) => {
    seen.push(request)
    if (typeof request !== 'object' || request === null || typeof request.cmd !== 'string') throw new FuzzFinding(`handler got ${shown(request)}`)
    send(request.cmd === 'status' ? { ok: true } : { error: `unknown command "${request.cmd.slice(0, 32)}"` })
  })
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  t.same(await exchange(path, Buffer.alloc((1 << 20) + 10, 0x61)), ['{"error":"request too long"}'], 'a request longer than the maximum is refused')
  const result = await fuzz('control', budget(2500), async (m) => {
    const line = garbageLine(m)
    const answers = await exchange(path, line)
    const values = answers.map((a) => { try { return JSON.parse(a) as Record<string, unknown> } catch { throw new FuzzFinding(`answer is not JSON: ${a} (request ${shown(line)})`) } })
    const terminated = line.includes(0x0a)
    if (terminated && values.length === 0) throw new FuzzFinding(`no answer to ${shown(line)}`)
    const valid = await exchange(path, Buffer.from('{"cmd":"status"}\n'))
    if (valid.length !== 1 || valid[0] !== '{"ok":true}') throw new FuzzFinding(`a valid request after ${shown(line)} was answered ${JSON.stringify(valid)}`)
    if (!terminated) return values.length === 0 ? 'unterminated:no-answer' : 'unterminated:answered'
    const first = values[0]!
    if (first.ok === true) return 'accepted'
    return typeof first.error === 'string' ? (first.error.startsWith('unknown command') ? 'handler:unknown-command' : 'refused:not-a-request') : 'answered'
  })
  if (result.failure !== null) t.fail(describeFailure('control', result.failure))
  const { tally } = result
  t.comment(`control: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  t.ok(tally.get('refused:not-a-request') > tally.cases / 3, 'most garbage is refused as not a request')
  t.ok(seen.every((r) => typeof (r as { cmd?: unknown }).cmd === 'string'), 'the handler only saw requests with a string cmd')
})

const TOKEN = 'c0rrect-h0rse-battery-staple'
const DIGEST = tokenDigest(TOKEN)
const LOOPBACK = { host: '127.0.0.1', port: 7480 }
const URLS = ['/', '/api/status', '/api/events', '/api/services/web/relocate', '/api/services/db/restart?x=1', '/api/services/web%2Fx/enable']

function requestParts(m: Mutator): { method: string; url: string; host: string | undefined; auth: string | undefined; body: string } {
  const method = m.chance(0.8) ? m.pick(['GET', 'POST', 'PUT', 'DELETE', 'HEAD']) : m.mutateText(m.pick(['GET', 'POST']))
  const url = m.chance(0.2) ? m.pick(['constructor', '__proto__', 'toString', '/api/services/__proto__/relocate', '/api/services/%E0%A4%A/relocate', '/api/services/web/constructor', '']) : m.chance(0.5) ? m.pick(URLS) : m.mutateText(m.pick(URLS), 2)
  const host = m.chance(0.1) ? undefined : m.chance(0.5) ? m.pick(['127.0.0.1:7480', 'localhost:7480', '[::1]:7480', 'evil.example:7480', '127.0.0.1']) : m.mutateText('127.0.0.1:7480')
  const auth = m.chance(0.2) ? undefined : m.chance(0.3) ? `Bearer ${TOKEN}` : m.mutateText(`Bearer ${TOKEN}`, 1)
  const body = m.chance(0.3) ? '' : m.chance(0.5) ? m.mutateText('{"to": "b"}') : JSON.stringify(m.mutateValue({ to: 'b' }), (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? ''
  return { method, url, host, auth, body }
}

function checkRefusal(value: unknown, what: string): string {
  if (!isRefusal(value)) throw new FuzzFinding(`${what} is neither a route nor a refusal: ${shown(value)}`)
  if (value.status < 400 || value.status > 499 || !value.code.startsWith('CARB_ERR_DASHBOARD_') || typeof value.error !== 'string') throw new FuzzFinding(`${what}: bad refusal ${shown(value)}`)
  return `${value.status}:${value.code}`
}

t.test('dashboard routing and auth: a known route or a 4xx refusal with a dashboard code', async (t) => {
  const result = await fuzz('dashboard-routes', budget(20_000), (m) => {
    const r = requestParts(m)
    const what = `${JSON.stringify(r.method)} ${JSON.stringify(r.url)}`
    hostAllowed(LOOPBACK, r.host)
    const target = route(r.method, r.url)
    if (isRefusal(target)) return `route:${checkRefusal(target, what)}`
    if (!['page', 'status', 'events', 'action'].includes((target as { kind?: unknown }).kind as string)) throw new FuzzFinding(`${what} routed to ${shown(target)}`)
    if (target.kind !== 'action') return `route:${target.kind}`
    if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(target.service) || !(SERVICE_ACTIONS as readonly string[]).includes(target.action)) throw new FuzzFinding(`${what} routed to ${shown(target)}`)
    const denied = authorize(DIGEST, r.auth)
    if (denied !== null) return `auth:${checkRefusal(denied, `${what} auth ${JSON.stringify(r.auth)}`)}`
    if (r.auth !== `Bearer ${TOKEN}`) throw new FuzzFinding(`authorized with ${JSON.stringify(r.auth)}`)
    const action = actionRequest(target, r.body)
    if (isRefusal(action)) return `body:${checkRefusal(action, `body ${JSON.stringify(r.body)}`)}`
    if (action.name !== target.service || action.action !== target.action || (action.to !== null && typeof action.to !== 'string')) throw new FuzzFinding(`body ${JSON.stringify(r.body)} gave ${shown(action)}`)
    return 'action:accepted'
  })
  if (result.failure !== null) t.fail(describeFailure('dashboard-routes', result.failure))
  const { tally } = result
  t.comment(`dashboard-routes: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  for (const outcome of ['route:404:CARB_ERR_DASHBOARD_REQUEST', 'auth:401:CARB_ERR_DASHBOARD_AUTH', 'body:400:CARB_ERR_DASHBOARD_REQUEST', 'action:accepted']) t.ok(tally.get(outcome) > 0, `outcome ${outcome} was seen`)
})
