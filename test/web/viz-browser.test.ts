/**
 * The visualizer page in a real headless Chromium, opened from file:// as an administrator
 * would: every chart drawn, and an incident (the membership-2 sample journals of nodes a, b, c,
 * explained by journal/explain.ts) highlighted decision by decision. Fails on any page script
 * error. Screenshots: test-artifacts/viz-charts.png, test-artifacts/viz-incident.png.
 */
import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { launchBrowser, openPage, saveScreenshot } from '../helpers/browser.js'
import { explainJournals } from '../../journal/explain.js'
import { MACHINES } from '../../machines/registry.js'
import { allChartModels, chartStates, machineChartModel } from '../../src/web/chart-model.js'
import { renderChartSvg, renderModelSvg } from '../../src/web/chart-svg.js'
import { instanceKey } from '../../src/web/incident-view.js'
import { stateLeafPaths } from '../../src/web/state-path.js'
import { vizPage } from '../../src/web/viz-page.js'
import { nestedMachine } from '../helpers/viz-fixtures.js'

const SAMPLE = ['a', 'b', 'c'].map((n) => join('test', 'journals', 'membership-2', `${n}.journal`))
const charts = Object.keys(MACHINES).map((type) => ({ type, svg: renderChartSvg(type) }))

t.test('the visualizer page in Chromium: charts drawn, an incident highlighted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-viz-browser-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const browser = await launchBrowser(t)
  const errors: string[] = []
  const page = await openPage(browser, errors)

  await writeFile(join(dir, 'charts.html'), vizPage({ charts }))
  await page.goto(pathToFileURL(join(dir, 'charts.html')).href)
  for (const model of allChartModels()) {
    const drawn = await page.locator(`section.machine svg.chart[data-machine-type="${model.type}"] g.state`).count()
    t.equal(drawn, chartStates(model).length, `${model.type}: every state drawn`)
  }
  await saveScreenshot(page, 'viz-charts')

  const explanation = await explainJournals(SAMPLE)
  await writeFile(join(dir, 'incident.html'), vizPage({ charts, explanation }))
  await page.goto(pathToFileURL(join(dir, 'incident.html')).href)
  const i = explanation.decisions.findIndex((d) => d.node === 'b' && d.machine === 'peer:a#1' && d.to === 'dead')
  t.ok(i > 0, 'the sample holds b declaring a dead')
  const chosen = explanation.decisions[i]!
  await page.locator(`#timeline li[data-index="${i}"]`).click()

  const card = page.locator(`figure.instance[data-instance="${instanceKey(chosen)}"]`)
  t.same(await card.locator('g.state.current').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state'))), ['dead'], 'b sees a dead')
  const taken = card.locator('g.transition.taken')
  t.equal(await taken.count(), 1)
  t.equal(await taken.getAttribute('data-from'), 'suspect')
  t.equal(await taken.getAttribute('data-to'), 'dead')
  t.match(await taken.getAttribute('data-events'), /\bCHECK\b/)
  t.same(await page.locator('#focus-chart g.state.current').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-state'))), ['dead'], 'the focus chart too')
  t.same(await page.locator('#decision-evidence li').allTextContents(), chosen.evidence, 'the evidence is shown')
  t.match(await page.locator('#decision-summary').textContent(), chosen.summary)

  // Every instance alive at that moment shows the state the decisions up to it left it in.
  const expected = new Map(explanation.machines.map((m) => [instanceKey(m), stateLeafPaths(m.initial)]))
  for (const d of explanation.decisions.slice(0, i + 1)) expected.set(instanceKey(d), stateLeafPaths(d.to))
  const shown = await page.locator('figure.instance:not([hidden])').evaluateAll((cards) => cards.map((c) => ({
    key: c.getAttribute('data-instance')!,
    current: [...c.querySelectorAll('g.state.current')].map((g) => g.getAttribute('data-state')),
  })))
  t.ok(shown.length >= 6, `${shown.length} instances shown`)
  for (const s of shown) t.same(s.current, expected.get(s.key), `${s.key} is in ${expected.get(s.key)?.join(', ')}`)
  await saveScreenshot(page, 'viz-incident')

  await page.keyboard.press('ArrowRight')
  t.equal(await page.locator('#timeline li.selected').getAttribute('data-index'), String(i + 1), '→ selects the next decision')
  await page.locator('#moment').fill('0')
  t.equal(await page.locator('#timeline li.selected').getAttribute('data-index'), '0', 'the slider selects')
  t.match(await page.locator('#moment-label').textContent(), new RegExp(`^1 / ${explanation.decisions.length} at `))
  t.same(errors, [], 'no page script error')
})

t.test('highlighting a nested, parallel state marks its ancestors and both regions', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-viz-browser-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const browser = await launchBrowser(t)
  const errors: string[] = []
  const page = await openPage(browser, errors)
  const svg = renderModelSvg(machineChartModel(nestedMachine, 'nested'))
  await writeFile(join(dir, 'nested.html'), vizPage({ charts: [{ type: 'nested', svg }] }))
  await page.goto(pathToFileURL(join(dir, 'nested.html')).href)
  const marked = await page.evaluate(() => {
    const chart = document.querySelector('svg.chart[data-machine-type="nested"]')!
    const w = window as unknown as { carbonadoHighlight(svg: Element, path: string | string[], t: unknown): number }
    w.carbonadoHighlight(chart, 'running.monitoring', null)
    const taken = w.carbonadoHighlight(chart, ['failed.cleanup.stopped', 'failed.alarm.ringing'], { from: 'failed.cleanup.stopping', to: 'failed.cleanup.stopped', event: 'NEXT' })
    return {
      taken,
      current: [...chart.querySelectorAll('g.state.current')].map((g) => g.getAttribute('data-state')),
      edge: [...chart.querySelectorAll('g.transition.taken')].map((g) => `${g.getAttribute('data-from')} → ${g.getAttribute('data-to')}`),
    }
  })
  t.same(marked.current.sort(), ['failed', 'failed.alarm', 'failed.alarm.ringing', 'failed.cleanup', 'failed.cleanup.stopped'], 'the previous highlight is cleared')
  t.same(marked.edge, ['failed.cleanup.stopping → failed.cleanup.stopped'])
  t.equal(marked.taken, 1)
  t.same(errors, [])
})
