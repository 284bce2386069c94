/**
 * The dashboard of real `carbonado node run` processes (2 nodes on loopback, a shared
 * file-backed quorum disk, a witness-script service): the status JSON is the node's own view;
 * the event stream delivers a new model after a change; a write with the token goes the
 * CLI's way (a new configuration version) and one without it changes nothing; a node without
 * a token file refuses every write; a stopped node's port is free.
 */
import t from 'tap'
import { allUp, cli, installScript, scriptResource, waitRuns } from '../helpers/services.js'
import { call, connectOutcome, dashboardCluster, DASHBOARD_TOKEN, EventReader, status } from '../helpers/dashboard.js'

const STEP_WITHIN_MS = 10_000

t.test('a 2-node cluster serves its dashboard: status, live events, token-guarded writes, closed at stop', async (t) => {
  const { c, host, ports, url } = await dashboardCluster(t, ['a', 'b'])
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  const added = cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,b', '--resource', scriptResource(script))
  t.equal(added.code, 0, added.stderr)
  await waitRuns(c, 'a', 1, STEP_WITHIN_MS)
  t.ok(c.node('a').lines.some((l) => l.message === `dashboard on ${url('a')}/ (write actions need the token of ${c.dir}/dashboard.token)`), 'the node logs where its dashboard is')

  await t.test('GET /api/status: members, services, machines and decisions as the node sees them', async (t) => {
    let model = await status(url('a'))
    // The lease holder shows after the next scan of the lease registers.
    for (let i = 0; i < 100 && !(model.services[0]?.localState === 'running' && model.services[0]?.holder === 'a'); i++) {
      await new Promise((r) => setTimeout(r, 100))
      model = await status(url('a'))
    }
    t.match(model, { cluster: 'test', node: 'a', readOnly: false, configVersion: 1 })
    t.match(model.members, [{ name: 'a', self: true, state: 'member' }, { name: 'b', self: false, state: 'up' }])
    t.match(model.services, [{ name: 'web', enabled: true, holder: 'a', localState: 'running' }])
    const local = model.machines.find((m) => m.type === 'local')
    t.match(local, { id: /^local#\d+$/, paths: ['member'] })
    t.match(model.machines.find((m) => m.type === 'service'), { id: /^service:web#/, paths: ['running'] })
    t.ok(model.decisions.length > 0 && model.decisions.length <= 50, `recent decisions (${model.decisions.length})`)
    const newest = model.decisions[0]!
    t.ok(model.decisions.every((d, i) => i === 0 || d.wallMs <= model.decisions[i - 1]!.wallMs), 'newest first')
    t.match(newest, { machine: /#\d+$/, summary: /\S/, evidence: Array })
    t.ok(model.decisions.some((d) => d.machine.startsWith('service:web#') && d.to === 'running'), 'the service start is among them')
  })

  await t.test('writes: 401 without the token or with a wrong one (nothing changes); with it, disable reaches every dashboard live', async (t) => {
    const onA = await EventReader.open(t, url('a'))
    const onB = await EventReader.open(t, url('b'))
    await onA.until('a first model', () => true, STEP_WITHIN_MS)
    for (const headers of [{}, { Authorization: 'Bearer wrong-token-wrong-token-wrong-token' }] as Record<string, string>[]) {
      const r = await call(`${url('a')}/api/services/web/disable`, 'POST', { headers })
      t.equal(r.status, 401, r.body)
    }
    t.equal((await status(url('a'))).configVersion, 1, 'refused writes changed nothing')
    const from = onA.models.length
    const r = await call(`${url('a')}/api/services/web/disable`, 'POST', { headers: { Authorization: `Bearer ${DASHBOARD_TOKEN}` }, body: '{}' })
    t.equal(r.status, 200, r.body)
    t.match(JSON.parse(r.body), { ok: true, version: 2 })
    const seenA = await onA.until('a: web disabled and stopped', (m) => m.services[0]?.enabled === false && m.services[0]?.localState === 'disabled', STEP_WITHIN_MS, from)
    t.match(seenA, { configVersion: 2 })
    t.ok(seenA.decisions.some((d) => d.machine.startsWith('service:web#') && d.from === 'running' && d.to === 'stopping'), 'the stop decision is on the page')
    await onB.until('b: web disabled', (m) => m.services[0]?.enabled === false, STEP_WITHIN_MS)
    const again = await call(`${url('a')}/api/services/web/disable`, 'POST', { headers: { Authorization: `Bearer ${DASHBOARD_TOKEN}` } })
    t.equal(again.status, 409, 'disabling a disabled service is a conflict')
    t.match(JSON.parse(again.body), { code: 'CARB_ERR_SERVICE_UNCHANGED' })
  })

  await t.test('a stopped node closes its dashboard: the port is free', async (t) => {
    t.equal(await c.stop('b'), 0)
    t.equal(await connectOutcome(host, ports.b!), 'ECONNREFUSED')
    t.equal(await c.stop('a'), 0)
    t.equal(await connectOutcome(host, ports.a!), 'ECONNREFUSED')
  })
})

t.test('without dashboard.tokenFile a node serves the page read-only and refuses every write with 403', async (t) => {
  const { c, url } = await dashboardCluster(t, ['a', 'b'], { readOnly: true })
  c.start('a')
  await c.waitFor('a', (l) => l.message.startsWith('dashboard on '), STEP_WITHIN_MS)
  const model = await status(url('a'))
  t.match(model, { node: 'a', readOnly: true })
  const page = await call(`${url('a')}/`)
  t.equal(page.status, 200)
  t.match(page.body, /Read-only dashboard/)
  for (const headers of [{}, { Authorization: `Bearer ${DASHBOARD_TOKEN}` }] as Record<string, string>[]) {
    const r = await call(`${url('a')}/api/services/web/enable`, 'POST', { headers })
    t.equal(r.status, 403)
    t.match(JSON.parse(r.body), { code: 'CARB_ERR_DASHBOARD_READ_ONLY' })
  }
  t.equal(await c.stop('a'), 0)
})
