/**
 * The dashboard in a real headless Chromium (test/helpers/browser.ts), against a running
 * 2-node cluster: the page draws the members, the services and a state chart per machine
 * with the node's real current state highlighted; an administrator types the token and
 * relocates the service from the page; the page follows the move without a reload (same
 * document, more event-stream updates). The screenshot is kept as test-artifacts/dashboard.png.
 */
import t from 'tap'
import { allUp, checkWitness, cli, installScript, scriptResource, waitRuns } from '../helpers/services.js'
import { dashboardCluster, DASHBOARD_TOKEN, status } from '../helpers/dashboard.js'
import { launchBrowser, openPage, saveScreenshot } from '../helpers/browser.js'
import type { Page } from 'playwright-core'

const STEP_WITHIN_MS = 15_000

/** Waits for `selector`; a timeout says what the page and the node showed then. */
async function waitShown(page: Page, base: string, selector: string): Promise<void> {
  try {
    await page.waitForSelector(selector, { timeout: STEP_WITHIN_MS })
  } catch (error) {
    const shown = await page.evaluate(() => [document.getElementById('connection')?.textContent, document.body.dataset.updates, document.getElementById('services')?.textContent, document.getElementById('members')?.textContent].join(' | ')).catch(() => '?')
    const model = await status(base).then((m) => JSON.stringify({ members: m.members.map((x) => [x.name, x.state]), services: m.services }), (e: Error) => e.message)
    throw new Error(`${(error as Error).message.split('\n')[0]}; the page showed: ${shown}; the node: ${model}`)
  }
}

t.test('the dashboard page in Chromium: tables, highlighted charts, a relocation from the page seen live', async (t) => {
  const { c, url } = await dashboardCluster(t, ['a', 'b'])
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  t.equal(cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,b', '--resource', scriptResource(script)).code, 0)
  await waitRuns(c, 'a', 1, STEP_WITHIN_MS)

  const browser = await launchBrowser(t)
  const errors: string[] = []
  const page = await openPage(browser, errors)
  await page.goto(`${url('a')}/`)
  await waitShown(page, url('a'), '#services tr[data-service="web"][data-owner="a"] .state-running')

  t.equal(await page.textContent('#cluster'), 'test')
  t.equal(await page.textContent('#node'), 'a')
  t.equal(await page.textContent('#connection'), 'live')
  t.same(await page.$$eval('#members tbody tr', (rows) => rows.map((r) => [(r as HTMLElement).dataset.member, (r as HTMLElement).dataset.state])), [['a', 'member'], ['b', 'up']], 'both members, as the node sees them')
  t.ok(await page.$$eval('#decisions tbody tr', (rows) => rows.length) > 0, 'the last decisions are listed')

  // Every machine of the node has its chart, with its real current state highlighted.
  const model = await status(url('a'))
  for (const machine of model.machines) {
    const figure = `figure.machine[data-machine="${machine.id}"]`
    t.equal(await page.$eval(`${figure} svg.chart`, (svg) => svg.getAttribute('data-machine-type')), machine.type, `${machine.id}: the ${machine.type} chart`)
    const current = await page.$$eval(`${figure} g.state.current`, (gs) => gs.map((g) => g.getAttribute('data-state')))
    for (const path of machine.paths) t.ok(current.includes(path), `${machine.id}: ${path} highlighted (highlighted: ${current.join(', ')})`)
  }
  const local = model.machines.find((m) => m.type === 'local')!
  t.equal(await page.$$eval(`figure.machine[data-machine="${local.id}"] g.state.current[data-state="member"]`, (gs) => gs.length), 1, 'the local chart shows member as current')
  t.equal(await page.$$eval('figure.machine[data-machine^="service:web#"] g.state.current[data-state="running"]', (gs) => gs.length), 1, 'the service chart shows running')

  // The change: relocate from the page, with the token typed in (kept in sessionStorage only).
  const updatesBefore = Number(await page.getAttribute('body', 'data-updates'))
  const documentId = await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; return 42 })
  await page.fill('#token', DASHBOARD_TOKEN)
  await page.click('#token-form button[type=submit]')
  t.equal(await page.textContent('#token-state'), 'token set for this tab')
  t.notMatch(page.url(), DASHBOARD_TOKEN, 'the token is not in the URL')
  await page.click('#services tr[data-service="web"] button[data-action="relocate"]')
  await waitShown(page, url('a'), '#action-result.ok')
  t.match(await page.textContent('#action-result'), /relocating service web/)
  await waitShown(page, url('a'), '#services tr[data-service="web"][data-owner="b"]')
  await waitShown(page, url('a'), 'figure.machine[data-machine^="service:web#"] g.state.current[data-state="stopped"]')
  t.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), documentId, 'the same document: no reload')
  t.ok(Number(await page.getAttribute('body', 'data-updates')) > updatesBefore, 'updates arrived over the event stream')
  t.ok(await page.$$eval('#decisions tbody tr[data-machine^="service:web#"]', (rows) => rows.some((r) => /running \u2192 stopping/.test(r.textContent ?? ''))), 'the stop on a is among the last decisions')
  await waitRuns(c, 'b', 1, STEP_WITHIN_MS)

  const shot = await saveScreenshot(page, 'dashboard')
  t.pass(`screenshot: ${shot}`)
  t.same(errors, [], 'no script or console error on the page')
  await page.close()
  checkWitness(t, c)
})
