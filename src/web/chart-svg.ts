/**
 * A machine's state chart as one `<svg>` element, drawn on the server from the machine
 * definition (chart-model.ts → chart-layout.ts): no script, no external reference, generic
 * font families only.
 *
 * DOM contract (the visualizer and the live dashboard rely on it):
 *   - root: `<svg class="chart" data-machine-type="TYPE">`;
 *   - each state: `<g class="state" data-state="PATH">` (PATH dotted, e.g. `up`,
 *     `running.monitoring`), with the class `initial` on initial states and `final` on final
 *     ones (also `compound`, `parallel`, `region` or `history` by kind);
 *   - each drawn edge: `<g class="transition" data-from="PATH" data-to="PATH" data-events="EV1 EV2">`;
 *     a targetless transition joins its state's self-loop (data-to = data-from); the root's
 *     own transitions are listed under the title with data-from="";
 *   - highlighting adds `current` (states) and `taken` (transitions): CHART_CSS, CHART_CLIENT_JS.
 */
import { MACHINES } from '../../machines/registry.js'
import { CarbError } from '../errors.js'
import { machineChartModel, type ChartModel } from './chart-model.js'
import { LEAF_HEIGHT_PX, layoutChart, type InitialMarker, type LaidEdge, type LaidState, type RootLine, type Separator } from './chart-layout.js'
import type { EdgeLine } from './chart-edges.js'
import type { Point } from './chart-geometry.js'
import { LABEL_LINE_PX } from './chart-text.js'
import { CHART_CSS } from './chart-client.js'

export { CHART_CSS, CHART_CLIENT_JS } from './chart-client.js'

export interface ChartSvgOptions {
  /** Prefix of the few ids the SVG carries (its title), for pages holding several charts. */
  idPrefix?: string
  /** Embed CHART_CSS in the SVG (a standalone .svg file); pages include CHART_CSS once instead. */
  embedStyle?: boolean
}

const XML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!)
}

const pt = (p: Point): string => `${p.x},${p.y}`

function arrowHead(tip: Point, from: Point): string {
  const length = Math.hypot(tip.x - from.x, tip.y - from.y) || 1
  const ux = (tip.x - from.x) / length
  const uy = (tip.y - from.y) / length
  const size = 8
  const base = { x: tip.x - ux * size, y: tip.y - uy * size }
  const left = { x: Math.round((base.x - uy * size * 0.45) * 10) / 10, y: Math.round((base.y + ux * size * 0.45) * 10) / 10 }
  const right = { x: Math.round((base.x + uy * size * 0.45) * 10) / 10, y: Math.round((base.y - ux * size * 0.45) * 10) / 10 }
  return `<polygon class="arrow" points="${pt(tip)} ${pt(left)} ${pt(right)}"/>`
}

function stateSvg(s: LaidState): string {
  const classes = ['state', s.kind, s.initial ? 'initial' : '', s.region ? 'region' : ''].filter((c) => c !== '' && c !== 'atomic')
  const leaf = s.kind === 'atomic' || s.kind === 'final' || s.kind === 'history'
  const radius = s.kind === 'history' ? s.width / 2 : 6
  const parts = [`<rect class="box" x="${s.x}" y="${s.y}" width="${s.width}" height="${s.height}" rx="${radius}"/>`]
  if (s.kind === 'final') parts.push(`<rect class="inner" x="${s.x + 3}" y="${s.y + 3}" width="${s.width - 6}" height="${s.height - 6}" rx="4"/>`)
  const label = s.kind === 'history' ? 'H' : s.key
  const text = leaf
    ? `<text class="name" x="${s.x + s.width / 2}" y="${s.y + Math.min(s.height, LEAF_HEIGHT_PX) / 2 + 4.5}" text-anchor="middle">${escapeXml(label)}</text>`
    : `<text class="name" x="${s.x + 8}" y="${s.y + 16}">${escapeXml(label)}</text>`
  parts.push(text)
  return `<g class="${classes.join(' ')}" data-state="${escapeXml(s.path)}" data-kind="${s.kind}">${parts.join('')}</g>`
}

function lineTspans(lines: readonly EdgeLine[], x: number): string {
  return lines.map((l, i) =>
    `<tspan x="${x}" dy="${i === 0 ? 0 : LABEL_LINE_PX}"${l.internal ? ' class="internal"' : ''} data-event="${escapeXml(l.event)}">${escapeXml(l.text)}</tspan>`).join('')
}

function listSvg(e: LaidEdge): string {
  const textX = e.label.x + 8
  const y = e.label.y
  return `<g class="transition internal" data-from="${escapeXml(e.from)}" data-to="${escapeXml(e.to)}" data-events="${escapeXml(e.events.join(' '))}">`
    + `<title>${escapeXml(e.details.join('\n'))}</title>`
    + `<line class="divider" x1="${e.label.x}" y1="${y}" x2="${Math.round((e.label.x + e.label.width) * 10) / 10}" y2="${y}"/>`
    + `<text class="label" x="${textX}" y="${Math.round((y + LABEL_LINE_PX + 1) * 10) / 10}">${lineTspans(e.lines, textX)}</text></g>`
}

function edgeSvg(e: LaidEdge): string {
  if (e.shape === 'list') return listSvg(e)
  const [p0, a, b, p1] = e.points as [Point, Point, Point, Point | undefined]
  const d = e.shape === 'loop' ? `M${pt(p0)} C${pt(a)} ${pt(b)} ${pt(p1!)}` : `M${pt(p0)} Q${pt(a)} ${pt(b)}`
  const tip = e.shape === 'loop' ? p1! : b
  const before = e.shape === 'loop' ? b : a
  const textX = e.label.x + 4
  const tspans = lineTspans(e.lines, textX)
  return `<g class="transition" data-from="${escapeXml(e.from)}" data-to="${escapeXml(e.to)}" data-events="${escapeXml(e.events.join(' '))}">`
    + `<title>${escapeXml(e.details.join('\n'))}</title>`
    + `<path class="edge" d="${d}"/>${arrowHead(tip, before)}`
    + `<rect class="label-bg" x="${e.label.x}" y="${e.label.y}" width="${e.label.width}" height="${e.label.height}" rx="3"/>`
    + `<text class="label" x="${textX}" y="${Math.round((e.label.y + LABEL_LINE_PX - 1) * 10) / 10}">${tspans}</text></g>`
}

function rootLineSvg(r: RootLine): string {
  const e = r.edge
  const tspans = lineTspans(e.lines, r.at.x + 8)
  return `<g class="transition root" data-from="" data-to="${escapeXml(e.to)}" data-events="${escapeXml(e.events.join(' '))}">`
    + `<title>${escapeXml(e.details.join('\n'))}</title><text class="root-line" x="${r.at.x + 8}" y="${r.at.y}">${tspans}</text></g>`
}

function initialSvg(i: InitialMarker): string {
  const stem = { x: i.tip.x, y: i.tip.y - 1 }
  return `<g class="initial-marker" data-to="${escapeXml(i.to)}"><circle cx="${i.dot.x}" cy="${i.dot.y}" r="4.5"/>`
    + `<line x1="${i.dot.x}" y1="${i.dot.y}" x2="${stem.x}" y2="${stem.y - 6}"/>${arrowHead(i.tip, i.dot)}</g>`
}

const separatorSvg = (s: Separator): string =>
  `<line class="region-separator" x1="${s.from.x}" y1="${s.from.y}" x2="${s.to.x}" y2="${s.to.y}"/>`

/** The SVG of a chart model (renderChartSvg names a registered machine type). */
export function renderModelSvg(model: ChartModel, options: ChartSvgOptions = {}): string {
  const layout = layoutChart(model)
  const titleId = `${options.idPrefix ?? 'chart-'}${model.type}-title`
  const rootBlock = layout.rootLines.length === 0 ? '' : `<g class="root-transitions"><text class="root-heading" x="${layout.title.at.x}" y="${layout.rootLines[0]!.at.y - LABEL_LINE_PX}">in every state:</text>${layout.rootLines.map(rootLineSvg).join('')}</g>`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-machine-type="${escapeXml(model.type)}" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="img" aria-labelledby="${escapeXml(titleId)}">`,
    `<title id="${escapeXml(titleId)}">${escapeXml(`state chart of the ${model.type} machine`)}</title>`,
    options.embedStyle === true ? `<style>${CHART_CSS}</style>` : '',
    `<text class="chart-title" x="${layout.title.at.x}" y="${layout.title.at.y}">${escapeXml(layout.title.text)}</text>`,
    rootBlock,
    `<g class="states">${layout.states.map(stateSvg).join('')}</g>`,
    layout.separators.map(separatorSvg).join(''),
    layout.initials.map(initialSvg).join(''),
    `<g class="transitions">${layout.edges.map(edgeSvg).join('')}</g>`,
    '</svg>',
  ].join('')
}

/** The chart of the machine type `type` (a key of MACHINES); an unknown type is CARB_ERR_USAGE. */
export function renderChartSvg(type: string, options: ChartSvgOptions = {}): string {
  const machine = Object.hasOwn(MACHINES, type) ? MACHINES[type] : undefined
  if (machine === undefined) throw new CarbError('CARB_ERR_USAGE', `unknown machine type "${type}" (known: ${Object.keys(MACHINES).join(', ')})`)
  return renderModelSvg(machineChartModel(machine, type), options)
}
