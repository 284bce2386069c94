/**
 * Real-process clusters with the live dashboard on (test/helpers/cluster.ts), and small
 * HTTP clients for it: JSON calls and an event-stream reader that keeps every model it got.
 * Each node listens on its own port of the cluster's own loopback address (127.x.y.z, not
 * shared with parallel tests); everything is torn down by the test, also on failure.
 */
import type { Test } from 'tap'
import { request as httpRequest, type ClientRequest } from 'node:http'
import { createServer, connect } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TestCluster, loopbackHost } from './cluster.js'
import { destroyWithWorkers } from './services.js'
import type { DashboardModel } from '../../src/web/dashboard-model.js'

export const DASHBOARD_TOKEN = 'dashboard-test-token-0123456789abcdef0123456789'

/**
 * Slower than TEST_TIMING, within every relation: Chromium's start takes both cores of the CI
 * machine for a second or two, and at TEST_TIMING's 1 s self-fence deadline a node then missed
 * its own disk writes and went out mid-test (seen). These tests are about the page, not speed.
 */
export const DASHBOARD_TIMING = { heartbeatIntervalMs: 200, peerDeadAfterMs: 3000, diskIntervalMs: 500, selfFenceAfterMs: 4000, diskDeadAfterMs: 5000 }

export async function freeTcpPort(host: string): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (typeof address !== 'object' || address === null) throw new Error('no port')
  return address.port
}

export interface DashboardCluster { c: TestCluster; host: string; ports: Record<string, number>; url: (node: string) => string }

/** A cluster whose nodes serve the dashboard, with a token file (mode 0600) unless `readOnly`. */
export async function dashboardCluster(t: Test, names: string[], options: { readOnly?: boolean } = {}): Promise<DashboardCluster> {
  const host = loopbackHost()
  const ports: Record<string, number> = {}
  for (const name of names) ports[name] = await freeTcpPort(host)
  const c = await TestCluster.create(names, {
    timing: DASHBOARD_TIMING,
    topLevel: () => (options.readOnly === true ? ['dashboard: {}'] : ['dashboard:', '  tokenFile: dashboard.token']),
    nodeLines: (name) => [`dashboard: "${host}:${ports[name]}"`],
  })
  t.teardown(destroyWithWorkers(c))
  if (options.readOnly !== true) await writeFile(join(c.dir, 'dashboard.token'), `${DASHBOARD_TOKEN}\n`, { mode: 0o600 })
  return { c, host, ports, url: (node) => `http://${host}:${ports[node]}` }
}

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

export function call(url: string, method = 'GET', options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: options.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

export async function status(base: string): Promise<DashboardModel> {
  const r = await call(`${base}/api/status`)
  if (r.status !== 200) throw new Error(`GET /api/status: ${r.status} ${r.body}`)
  return JSON.parse(r.body) as DashboardModel
}

/** Keeps every model an `/api/events` stream delivers; `until` waits for one that matches. */
export class EventReader {
  readonly models: DashboardModel[] = []
  private constructor(private readonly req: ClientRequest) {}

  static open(t: Test, base: string): Promise<EventReader> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${base}/api/events`, (res) => {
        if (res.statusCode !== 200) { reject(new Error(`GET /api/events: ${res.statusCode}`)); return }
        const reader = new EventReader(req)
        let buffered = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffered += chunk
          for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
            const message = buffered.slice(0, end)
            buffered = buffered.slice(end + 2)
            const data = /^data: (.*)$/m.exec(message)?.[1]
            if (/^event: model$/m.test(message) && data !== undefined) reader.models.push(JSON.parse(data) as DashboardModel)
          }
        })
        res.on('error', () => undefined)
        resolve(reader)
      })
      req.on('error', reject)
      req.end()
      t.teardown(() => req.destroy())
    })
  }

  async until(what: string, match: (m: DashboardModel) => boolean, timeoutMs: number, from = 0): Promise<DashboardModel> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.models.slice(from).find(match)
      if (hit !== undefined) return hit
      if (Date.now() > deadline) throw new Error(`no model within ${timeoutMs} ms: ${what}; last: ${JSON.stringify(this.models.at(-1)?.services)}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  close(): void { this.req.destroy() }
}

/** ECONNREFUSED once nothing listens on host:port. */
export function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, host)
    socket.on('connect', () => { socket.destroy(); resolve('connected') })
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
  })
}
