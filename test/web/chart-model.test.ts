/** The chart model and SVG follow the machine definitions: every state and transition, nesting, regions, delays. */
import t, { type Test } from 'tap'
import type { AnyStateMachine } from 'xstate'
import { MACHINES } from '../../machines/registry.js'
import { allChartModels, chartStates, chartTransitions, machineChartModel, type ChartModel } from '../../src/web/chart-model.js'
import { renderChartSvg, renderModelSvg } from '../../src/web/chart-svg.js'
import { stateLeafPaths, withAncestors } from '../../src/web/state-path.js'
import { nestedMachine } from '../helpers/viz-fixtures.js'

interface RawState { states?: Record<string, RawState>; on?: Record<string, unknown>; always?: unknown; after?: Record<string, unknown>; initial?: string; type?: string }

/** State paths read straight from the machine's config (independent of the StateNode walk). */
function configPaths(config: RawState, prefix = ''): string[] {
  return Object.entries(config.states ?? {}).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`
    return [path, ...configPaths(child, path)]
  })
}

const count = (x: unknown): number => (x === undefined ? 0 : Array.isArray(x) ? x.length : 1)

/** Transitions written in the config: every `on` entry's alternatives, `always` and `after`. */
function configTransitionCount(config: RawState): number {
  const own = Object.values(config.on ?? {}).reduce((n: number, v) => n + count(v), 0) + count(config.always)
    + Object.values(config.after ?? {}).reduce((n: number, v) => n + count(v), 0)
  return own + Object.values(config.states ?? {}).reduce((n, child) => n + configTransitionCount(child), 0)
}

/** Attribute values of every element of `cls` in an SVG string. */
function groups(svg: string, cls: string): Record<string, string>[] {
  const out: Record<string, string>[] = []
  for (const m of svg.matchAll(/<g class="([^"]*)"([^>]*)>/g)) {
    if (!m[1]!.split(' ').includes(cls)) continue
    const attrs: Record<string, string> = { class: m[1]! }
    for (const a of m[2]!.matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!
    out.push(attrs)
  }
  return out
}

const unescape = (s: string): string => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

function checkSvgContract(t: Test, model: ChartModel, svg: string): void {
  t.match(svg, new RegExp(`^<svg [^>]*class="chart" data-machine-type="${model.type}"`), 'root svg carries the machine type')
  t.match(svg, /viewBox="0 0 [\d.]+ [\d.]+"/)
  t.notMatch(svg, /href=|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no external reference')
  const states = groups(svg, 'state')
  t.same(states.map((g) => unescape(g['data-state']!)).sort(), chartStates(model).map((s) => s.path).sort(), 'one g.state per state')
  for (const s of chartStates(model)) {
    const g = states.find((x) => unescape(x['data-state']!) === s.path)!
    t.equal(g.class.split(' ').includes('final'), s.kind === 'final', `${s.path}: final class`)
  }
  const initials = states.filter((g) => g.class.split(' ').includes('initial')).map((g) => g['data-state'])
  t.ok(initials.includes(model.root.initial!), 'the initial state has the class initial')
  const edges = groups(svg, 'transition')
  for (const tr of chartTransitions(model)) {
    const to = tr.to ?? tr.from
    const found = edges.some((g) => unescape(g['data-from']!) === tr.from && unescape(g['data-to']!) === (tr.from === '' && tr.to === null ? '' : to)
      && unescape(g['data-events']!).split(' ').includes(tr.event))
    t.ok(found, `edge ${tr.from || '(root)'} → ${to} on ${tr.event} is drawn`)
  }
}

t.test('every state and every transition of every registered machine is in the model and in its SVG', async (t) => {
  const models = allChartModels()
  t.same(models.map((m) => m.type), Object.keys(MACHINES))
  for (const model of models) {
    const machine = MACHINES[model.type] as AnyStateMachine
    const config = machine.config as unknown as RawState
    t.same(chartStates(model).map((s) => s.path), configPaths(config), `${model.type}: states`)
    t.equal(chartTransitions(model).length, configTransitionCount(config), `${model.type}: transitions`)
    t.equal(model.root.initial, config.initial)
    checkSvgContract(t, model, renderChartSvg(model.type))
  }
})

t.test('service: guards, eventless steps, root transitions and final state as written', async (t) => {
  const model = allChartModels().find((m) => m.type === 'service')!
  const all = chartTransitions(model)
  t.ok(all.some((x) => x.from === 'stopped' && x.to === 'acquiring' && x.event === 'always' && x.guard === 'wantRun'))
  t.ok(all.some((x) => x.from === '' && x.to === null && x.event === 'PLACE' && x.guard === 'placementChanged' && x.actions.includes('storePlacement')))
  t.equal(chartStates(model).find((s) => s.path === 'left')!.kind, 'final')
  const peer = allChartModels().find((m) => m.type === 'peer')!
  t.ok(chartTransitions(peer).some((x) => x.from === 'up' && x.to === 'up' && x.reenter === true && x.guard === 'newerIncarnation'))
})

t.test('a nested machine: compound and parallel states, after delays (named too), always, reenter, final', async (t) => {
  const model = machineChartModel(nestedMachine, 'nested')
  const kinds = Object.fromEntries(chartStates(model).map((s) => [s.path, s.kind]))
  t.same(kinds, {
    idle: 'atomic', running: 'compound', 'running.starting': 'atomic', 'running.monitoring': 'atomic',
    failed: 'parallel', 'failed.cleanup': 'compound', 'failed.cleanup.stopping': 'atomic', 'failed.cleanup.stopped': 'final',
    'failed.alarm': 'compound', 'failed.alarm.ringing': 'atomic', 'failed.alarm.quiet': 'atomic', done: 'final',
  })
  t.equal(chartStates(model).find((s) => s.path === 'running')!.initial, 'running.starting')
  const all = chartTransitions(model)
  t.ok(all.some((x) => x.from === 'running.starting' && x.to === 'running.monitoring' && x.delayMs === 1000 && x.event.startsWith('xstate.after.')))
  t.ok(all.some((x) => x.from === 'failed.alarm.ringing' && x.delayMs === 3000), 'a named delay resolves to its ms')
  t.ok(all.some((x) => x.from === 'failed.alarm.quiet' && x.event === 'always' && x.guard === 'healthy'))
  t.ok(all.some((x) => x.from === 'running.monitoring' && x.reenter === true))
  t.ok(all.some((x) => x.from === '' && x.to === 'idle' && x.event === 'RESET'))
  t.same(JSON.parse(JSON.stringify(model)), model, 'the model is plain data')
  const svg = renderModelSvg(model)
  checkSvgContract(t, model, svg)
  t.match(svg, /class="region-separator"/, 'parallel regions are separated')
  t.match(svg, /class="state compound region" data-state="failed.cleanup"/)
  t.match(svg, /after 1000 ms/)
  t.match(svg, /after 3000 ms/)
  t.match(svg, /odd &lt;name&gt; &amp; &quot;quoted&quot;/, 'text is escaped')
  t.notMatch(svg, /odd <name>/)
})

t.test('the same model gives the same SVG; idPrefix names the ids', async (t) => {
  for (const type of Object.keys(MACHINES)) t.equal(renderChartSvg(type), renderChartSvg(type), type)
  t.equal(renderModelSvg(machineChartModel(nestedMachine, 'nested')), renderModelSvg(machineChartModel(nestedMachine, 'nested')))
  t.match(renderChartSvg('peer', { idPrefix: 'dash-' }), /id="dash-peer-title"/)
  t.match(renderChartSvg('peer', { embedStyle: true }), /<style>/)
  t.throws(() => renderChartSvg('nope'), { code: 'CARB_ERR_USAGE', message: /unknown machine type "nope" \(known: peer, local, service, fencing\)/ })
})

t.test('state paths of state values', async (t) => {
  t.same(stateLeafPaths('up'), ['up'])
  t.same(stateLeafPaths({ running: 'monitoring' }), ['running.monitoring'])
  t.same(stateLeafPaths({ failed: { cleanup: 'stopping', alarm: 'ringing' } }), ['failed.cleanup.stopping', 'failed.alarm.ringing'])
  t.same(stateLeafPaths({ failed: {} }), ['failed'])
  t.same(stateLeafPaths(null), [])
  t.same(withAncestors('a.b.c'), ['a', 'a.b', 'a.b.c'])
})
