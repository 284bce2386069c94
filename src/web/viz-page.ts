/**
 * `carbonado viz`'s page: one self-contained HTML document (inline CSS and script only, no
 * network, opens from file://) with a section per machine type (title, legend, the SVG chart
 * drawn from the machine definition) and, given an incident's explanation, an incident panel:
 * a timeline of decisions and a slider; selecting a moment shows every live machine instance's
 * current state in its own copy of its type's chart, marks the transition the selected
 * decision took, and lists its evidence and effects (viz-page-client.ts).
 */
import { DECISION_CODE_VERSION } from '../../machines/registry.js'
import { CHART_CLIENT_JS, CHART_CSS } from './chart-svg.js'
import type { VizExplanation } from './explanation.js'
import { vizExplanation } from './explanation.js'
import { incidentView, type IncidentInstance, type IncidentView } from './incident-view.js'
import { VIZ_PAGE_CSS } from './viz-page-style.js'
import { VIZ_PAGE_JS } from './viz-page-client.js'

export interface VizChart {
  /** The machine type (a key of MACHINES). */
  type: string
  /** The `<svg class="chart">` of that type (renderChartSvg). */
  svg: string
  /** One line: what the machine decides. */
  about?: string
}

export interface VizPageInput { charts: VizChart[]; explanation?: VizExplanation; title?: string }

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!)
}

/** JSON for a `<script type="application/json">`: `<` written as \u003c, so `</script>` cannot end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

const LEGEND = [
  '● → the initial state; a double border: a final state; a dashed line: between the regions of a parallel state',
  'an arrow: EVENT [guard]; "always": an eventless step taken as soon as its guard holds; "after N ms": a delay',
  'italic lines inside a box: transitions that keep the state (internal); "in every state": transitions of the machine itself',
  'hover an arrow or a list for the actions of each transition',
].map((l) => `<li>${escapeHtml(l)}</li>`).join('')

function machineSection(chart: VizChart): string {
  const about = chart.about !== undefined ? `<p class="about">${escapeHtml(chart.about)}</p>` : ''
  return `<section class="machine" id="machine-${escapeHtml(chart.type)}" data-machine-type="${escapeHtml(chart.type)}">`
    + `<h2>${escapeHtml(chart.type)}</h2>${about}<div class="chart-scroll">${chart.svg}</div></section>`
}

function timelineItem(view: IncidentView, i: number): string {
  const s = view.steps[i]!
  const from = s.fromPaths.join(', ')
  const to = s.toPaths.join(', ')
  const move = from === to ? `${escapeHtml(from)} (stays)` : `${escapeHtml(from)} → ${escapeHtml(to)}`
  return `<li data-index="${i}" data-instance="${escapeHtml(s.instance)}" role="option" aria-selected="false">`
    + `<time>${escapeHtml(s.time)}</time> <span class="node">${escapeHtml(s.node)}</span> <span class="machine-id">${escapeHtml(s.machine)}</span> `
    + `<span class="move">${move}</span> <span class="event">${escapeHtml(s.event)}</span><div class="summary">${escapeHtml(s.summary)}</div></li>`
}

function instanceCard(m: IncidentInstance): string {
  return `<figure class="instance" data-instance="${escapeHtml(m.key)}" data-machine-type="${escapeHtml(m.type)}" data-node="${escapeHtml(m.node)}">`
    + `<figcaption><span class="machine-id">${escapeHtml(m.machine)}</span> <span class="subject">(${escapeHtml(m.type)} ${escapeHtml(m.subject)})</span>`
    + ` <span class="state-name">${escapeHtml(m.initialPaths.join(', '))}</span></figcaption><div class="chart-holder"></div></figure>`
}

function instancesByNode(view: IncidentView): string {
  const groups = new Map<string, IncidentInstance[]>()
  for (const m of view.instances) {
    const key = `${m.node} (incarnation ${m.incarnation})`
    groups.set(key, [...(groups.get(key) ?? []), m])
  }
  return [...groups].map(([name, list]) => `<section class="node-group"><h3>node ${escapeHtml(name)}</h3><div class="cards">${list.map(instanceCard).join('')}</div></section>`).join('')
}

function incidentPanel(view: IncidentView): string {
  const count = view.steps.length
  const controls = `<div class="controls"><button type="button" id="moment-prev" aria-label="previous decision">◀</button>`
    + `<input type="range" id="moment" min="0" max="${Math.max(0, count - 1)}" value="0" step="1" aria-label="decision">`
    + `<button type="button" id="moment-next" aria-label="next decision">▶</button> <span id="moment-label"></span>`
    + `<span class="hint">click a decision, drag the slider, or use ← →</span></div>`
  const detail = `<div class="detail"><h3 id="decision-title"></h3><p id="decision-summary"></p>`
    + `<h4>Evidence</h4><ul id="decision-evidence"></ul><h4>Effects</h4><ul id="decision-effects"></ul><h4>Input</h4><pre id="decision-input"></pre></div>`
  const timeline = `<ol id="timeline" class="timeline" role="listbox" aria-label="decisions">${view.steps.map((_, i) => timelineItem(view, i)).join('')}</ol>`
  return `<section class="incident" id="incident"><h2>Incident: ${count} decisions on nodes ${escapeHtml(view.nodes.join(', '))}</h2>`
    + `${controls}<div class="incident-body">${timeline}${detail}</div>`
    + `<div class="focus"><h3 id="focus-title"></h3><div id="focus-chart" class="chart-scroll"></div></div>`
    + `<h3>Every machine instance at that moment</h3><div id="instances" class="instances">${instancesByNode(view)}</div></section>`
}

export function vizPage(input: VizPageInput): string {
  const explanation = input.explanation === undefined ? undefined : vizExplanation(input.explanation)
  const view = explanation === undefined ? undefined : incidentView(explanation)
  const title = input.title ?? 'Carbonado state charts'
  const nav = input.charts.map((c) => `<a href="#machine-${escapeHtml(c.type)}">${escapeHtml(c.type)}</a>`).join(' ')
  const data = explanation === undefined || view === undefined ? ''
    : `<script type="application/json" id="carbonado-explanation">${scriptJson(explanation)}</script>`
      + `<script type="application/json" id="carbonado-incident">${scriptJson(view)}</script>`
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(title)}</title><style>${CHART_CSS}${VIZ_PAGE_CSS}</style></head><body>`,
    `<header><h1>${escapeHtml(title)}</h1><p>Drawn from the machine definitions of this build (decision code ${escapeHtml(DECISION_CODE_VERSION)}). Machines: ${nav}</p>`,
    `<ul class="legend">${LEGEND}</ul></header>`,
    view === undefined ? '' : incidentPanel(view),
    input.charts.map(machineSection).join(''),
    data,
    `<script>${CHART_CLIENT_JS}${VIZ_PAGE_JS}</script>`,
    '</body></html>',
  ].join('\n')
}
