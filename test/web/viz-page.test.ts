/** The page is one self-contained document; the incident view folds decisions into each instance's states. */
import t from 'tap'
import { MACHINES } from '../../machines/registry.js'
import { renderChartSvg } from '../../src/web/chart-svg.js'
import { incidentView, takenTransition, eventLine } from '../../src/web/incident-view.js'
import { scriptJson, vizPage } from '../../src/web/viz-page.js'
import { constructedExplanation } from '../helpers/viz-fixtures.js'

const charts = Object.keys(MACHINES).map((type) => ({ type, svg: renderChartSvg(type) }))

t.test('without an explanation: every chart, inline CSS and script only, nothing fetched', async (t) => {
  const page = vizPage({ charts })
  t.match(page, /^<!doctype html>/)
  for (const type of Object.keys(MACHINES)) t.match(page, new RegExp(`<svg [^>]*class="chart" data-machine-type="${type}"`))
  t.notMatch(page, /<script[^>]+src=|<link|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no external resource')
  t.notMatch(page, /id="incident"/, 'no incident panel')
  t.match(page, /window\.carbonadoHighlight = function/)
})

t.test('with an explanation: timeline, slider, JSON that cannot close its script element', async (t) => {
  const page = vizPage({ charts, explanation: constructedExplanation() })
  t.match(page, /<section class="incident" id="incident"><h2>Incident: 7 decisions on nodes a, b<\/h2>/)
  t.match(page, /<input type="range" id="moment" min="0" max="6"/)
  t.equal([...page.matchAll(/<li data-index="/g)].length, 7)
  t.equal([...page.matchAll(/<figure class="instance"/g)].length, 5)
  t.equal([...page.matchAll(/<\/script>/g)].length, 3, 'only the two JSON blocks and the script end scripts')
  t.notMatch(page, /<b>not markup<\/b>/, 'evidence text is never markup')
  const json = /<script type="application\/json" id="carbonado-explanation">(.*?)<\/script>/s.exec(page)![1]!
  t.equal(JSON.parse(json).decisions[3].evidence[0], 'disk: no new write for 523 ms </script><b>not markup</b>')
  t.equal(scriptJson({ a: '</script>' }), '{"a":"\\u003c/script>"}')
})

t.test('incident view: instances, their lifetimes, steps with the transition to mark', async (t) => {
  const view = incidentView(constructedExplanation())
  t.same(view.instances.map((m) => m.key), ['a#1/local#1', 'b#1/local#1', 'b#1/peer:a#1', 'b#1/service:web#1', 'b#1/fence:a:1#1'])
  t.same(view.instances.map((m) => m.bornIndex), [0, 0, 0, 0, 5], 'the fencing instance exists from the first decision after its creation')
  t.same(view.instances.map((m) => m.goneIndex), [null, null, null, null, null])
  t.same(view.steps[3]!.taken, { from: 'up', to: 'suspect', event: 'CHECK' })
  t.equal(view.steps[3]!.time, '05:10:00.200Z')
  t.same(view.steps[0]!.effects, ['effect.test subject=a reason=joining to member'])
  t.equal(eventLine({ type: 'X', n: 1, s: 'two words', o: { k: [1] } }), 'X n=1 s=two words o={"k":[1]}')
  t.same(takenTransition(['failed.cleanup.stopping', 'failed.alarm.ringing'], ['failed.cleanup.stopped', 'failed.alarm.ringing'], 'NEXT'),
    { from: 'failed.cleanup.stopping', to: 'failed.cleanup.stopped', event: 'NEXT' }, 'parallel: the region that moved')
  t.same(takenTransition(['running'], ['running'], 'CHECK'), { from: 'running', to: 'running', event: 'CHECK' })
  const later = constructedExplanation()
  later.machines.push({ ...later.machines[0]!, incarnation: 2, createdAtMs: 250, createdWallMs: later.machines[0]!.createdWallMs + 250 })
  t.same(incidentView(later).instances[0]!.goneIndex, 4, "a node's new incarnation ends its old instances")
})
