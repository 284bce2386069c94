/**
 * A layered layout of a chart model (pure, deterministic: the same model gives the same
 * coordinates). Each compound state lays out its children in rows: row = longest path from
 * its initial state ignoring back edges, order within a row by barycenter passes
 * (chart-layers.ts); box sizes come from label lengths; compound states are laid out
 * recursively inside their box; the regions of a parallel state stand side by side with a
 * dashed separator. An edge is drawn at the level of the innermost state holding both its
 * ends (chart-routing.ts shapes it there), so a box's size includes its inner edges' labels.
 */
import type { ChartModel, ChartState, ChartStateKind } from './chart-model.js'
import { chartEdges, rootEdges, type ChartEdge } from './chart-edges.js'
import { assignLayers, orderLayers, type GraphEdge } from './chart-layers.js'
import { boundingBox, round1, type Point, type Rect } from './chart-geometry.js'
import { LOOP_REACH_PX, loopLabel, placeCurveLabel, routeCurve, routeLoop, samplePoints, type LaidEdge } from './chart-routing.js'
import { LABEL_LINE_PX, labelSizePx, stateTextWidthPx } from './chart-text.js'

export type { LaidEdge } from './chart-routing.js'

export interface LaidState extends Rect {
  path: string
  key: string
  kind: ChartStateKind
  /** Number of ancestors below the root (0 for the machine's top states). */
  depth: number
  initial: boolean
  /** A region of a parallel state (drawn without a border of its own). */
  region: boolean
}
export interface InitialMarker { to: string; dot: Point; tip: Point }
export interface Separator { from: Point; to: Point }
export interface RootLine { edge: ChartEdge; at: Point }

export interface ChartLayout {
  width: number
  height: number
  title: { text: string; at: Point }
  /** The root's own transitions ("in every state"), one line each, under the title. */
  rootLines: RootLine[]
  states: LaidState[]
  edges: LaidEdge[]
  initials: InitialMarker[]
  separators: Separator[]
}

interface Drawing { width: number; height: number; states: LaidState[]; edges: LaidEdge[]; initials: InitialMarker[]; separators: Separator[] }

export const LEAF_HEIGHT_PX = 34
const LEAF_MIN_WIDTH_PX = 64
const HEADER_PX = 24
const PAD_PX = 16
const COLUMN_GAP_PX = 64
const ROW_GAP_MIN_PX = 56
const ROW_GAP_MAX_PX = 200
const REGION_GAP_PX = 24
const INITIAL_MARGIN_PX = 26
const COMPARTMENT_GAP_PX = 6
const MARGIN_PX = 12

const parentPath = (p: string): string => (p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '')
const isAncestorOrSelf = (a: string, b: string): boolean => a === '' || a === b || b.startsWith(`${a}.`)

/** Where an edge is drawn: the container holding both ends, and for loops the state looped on. */
export function edgeHome(edge: ChartEdge): { container: string | null; loopOn: string | null } {
  if (edge.internal) return { container: null, loopOn: null }
  const outer = isAncestorOrSelf(edge.from, edge.to) ? edge.from : isAncestorOrSelf(edge.to, edge.from) ? edge.to : null
  if (outer !== null) { const loopOn = outer === '' ? edge.from : outer; return { container: parentPath(loopOn), loopOn } }
  const a = parentPath(edge.from).split('.')
  const b = parentPath(edge.to).split('.')
  let n = 0
  while (n < a.length && n < b.length && a[n] === b[n]) n++
  return { container: a.slice(0, n).join('.'), loopOn: null }
}

/** The child of `container` that is `path` or holds it. */
const childToward = (container: string, path: string): string =>
  container === '' ? path.split('.')[0]! : `${container}.${path.slice(container.length + 1).split('.')[0]!}`

function translate(d: Drawing, dx: number, dy: number): Drawing {
  const p = (q: Point): Point => ({ x: q.x + dx, y: q.y + dy })
  const r = <T extends Rect>(q: T): T => ({ ...q, x: q.x + dx, y: q.y + dy })
  return {
    width: d.width, height: d.height,
    states: d.states.map(r),
    edges: d.edges.map((e) => ({ ...e, points: e.points.map(p), label: r(e.label) })),
    initials: d.initials.map((i) => ({ ...i, dot: p(i.dot), tip: p(i.tip) })),
    separators: d.separators.map((s) => ({ from: p(s.from), to: p(s.to) })),
  }
}

function merge(parts: readonly Drawing[]): Drawing {
  return {
    width: 0, height: 0,
    states: parts.flatMap((d) => d.states), edges: parts.flatMap((d) => d.edges),
    initials: parts.flatMap((d) => d.initials), separators: parts.flatMap((d) => d.separators),
  }
}

/** Shifts a drawing so its content starts at (0, 0) and sets its size. */
function normalize(d: Drawing): Drawing {
  const points = [...d.edges.flatMap((e) => samplePoints(e.shape, e.points)), ...d.initials.flatMap((i) => [i.dot, i.tip]), ...d.separators.flatMap((s) => [s.from, s.to])]
  const box = boundingBox(points, [...d.states, ...d.edges.map((e) => e.label)])
  return { ...translate(d, -box.x, -box.y), width: box.width, height: box.height }
}

interface Context {
  /** Every edge below the root; internal ones (edgeHome container null) are drawn by their state's box. */
  edges: readonly ChartEdge[]
  initialPaths: ReadonlySet<string>
}

/** The list of a state's internal transitions, drawn inside its box under its name. */
function compartment(state: ChartState, ctx: Context): ChartEdge | undefined {
  return ctx.edges.find((e) => e.internal && e.from === state.path)
}

function compartmentEdge(edge: ChartEdge, top: number, width: number): LaidEdge {
  const size = labelSizePx(edge.lines.map((l) => l.text))
  return { ...edge, shape: 'list', points: [], label: { x: 0, y: top, width, height: size.height + COMPARTMENT_GAP_PX } }
}

/** One state's drawing with its own box at (0, 0) and its content inside. */
function layoutState(state: ChartState, ctx: Context, region: boolean): Drawing {
  const depth = state.path.split('.').length - 1
  const own = { path: state.path, key: state.key, kind: state.kind, depth, initial: ctx.initialPaths.has(state.path), region }
  const list = compartment(state, ctx)
  const listSize = list === undefined ? { width: 0, height: 0 } : labelSizePx(list.lines.map((l) => l.text))
  const listHeight = list === undefined ? 0 : listSize.height + COMPARTMENT_GAP_PX
  const nameHeight = state.children.length === 0 ? LEAF_HEIGHT_PX : HEADER_PX
  if (state.children.length === 0) {
    const width = state.kind === 'history' ? LEAF_HEIGHT_PX : Math.max(LEAF_MIN_WIDTH_PX, stateTextWidthPx(state.key) + 28, listSize.width + 8)
    const height = LEAF_HEIGHT_PX + listHeight
    const edges = list === undefined ? [] : [compartmentEdge(list, nameHeight - 6, width)]
    return { width, height, states: [{ ...own, x: 0, y: 0, width, height }], edges, initials: [], separators: [] }
  }
  const content = layoutContent(state, ctx)
  const width = Math.max(stateTextWidthPx(state.key) + 24, content.width + 2 * PAD_PX, listSize.width + 8)
  const height = HEADER_PX + listHeight + content.height + PAD_PX
  const inner = translate(content, (width - content.width) / 2, HEADER_PX + listHeight)
  const edges = list === undefined ? inner.edges : [compartmentEdge(list, nameHeight - 2, width), ...inner.edges]
  return { ...inner, width, height, states: [{ ...own, x: 0, y: 0, width, height }, ...inner.states], edges }
}

function layoutContent(state: ChartState, ctx: Context): Drawing {
  return state.kind === 'parallel' ? layoutRegions(state, ctx) : layoutRows(state, ctx)
}

/** Regions of a parallel state side by side, equal heights, a dashed separator between. */
function layoutRegions(state: ChartState, ctx: Context): Drawing {
  const regions = state.children.map((child) => layoutState(child, ctx, true))
  const height = Math.max(...regions.map((r) => r.height))
  let x = 0
  const placed: Drawing[] = []
  const separators: Separator[] = []
  regions.forEach((r, i) => {
    if (i > 0) {
      separators.push({ from: { x: x - REGION_GAP_PX / 2, y: 0 }, to: { x: x - REGION_GAP_PX / 2, y: height } })
    }
    const moved = translate(r, x, 0)
    moved.states[0] = { ...moved.states[0]!, height }
    placed.push(moved)
    x += r.width + REGION_GAP_PX
  })
  const all = merge(placed)
  return normalize(routeEdges({ ...all, separators }, state.path, ctx))
}

/** Footprint of a child: its box plus the room its self-loop label needs on the right. */
function footprintWidth(d: Drawing, path: string, ctx: Context): number {
  const loops = ctx.edges.filter((e) => edgeHome(e).loopOn === path)
  const extra = loops.length === 0 ? 0 : LOOP_REACH_PX + Math.max(...loops.map((e) => labelSizePx(e.lines.map((l) => l.text)).width))
  return d.width + extra
}

function rowGap(state: ChartState, ctx: Context): number {
  const inside = ctx.edges.filter((e) => edgeHome(e).container === state.path && edgeHome(e).loopOn === null)
  const tallest = Math.max(0, ...inside.map((e) => e.lines.length * LABEL_LINE_PX))
  return Math.min(ROW_GAP_MAX_PX, Math.max(ROW_GAP_MIN_PX, tallest * 2 + 24))
}

/** Children of a compound state in rows (layers), barycenter-ordered, rows centered. */
function layoutRows(state: ChartState, ctx: Context): Drawing {
  const children = state.children.map((child) => layoutState(child, ctx, false))
  const index = new Map(state.children.map((c, i) => [c.path, i]))
  const graph: GraphEdge[] = ctx.edges
    .filter((e) => edgeHome(e).container === state.path && edgeHome(e).loopOn === null)
    .map((e) => [index.get(childToward(state.path, e.from))!, index.get(childToward(state.path, e.to))!])
  const start = state.initial !== undefined ? index.get(state.initial) ?? 0 : 0
  const rows = orderLayers(assignLayers(children.length, graph, start), graph)
  const widths = children.map((d, i) => footprintWidth(d, state.children[i]!.path, ctx))
  const rowWidths = rows.map((row) => row.reduce((sum, n) => sum + widths[n]!, 0) + COLUMN_GAP_PX * Math.max(0, row.length - 1))
  const contentWidth = Math.max(...rowWidths)
  const gap = rowGap(state, ctx)
  const placed: Drawing[] = []
  let y = state.initial !== undefined ? INITIAL_MARGIN_PX : 0
  rows.forEach((row, r) => {
    let x = (contentWidth - rowWidths[r]!) / 2
    for (const n of row) { placed.push(translate(children[n]!, x, y)); x += widths[n]! + COLUMN_GAP_PX }
    y += Math.max(...row.map((n) => children[n]!.height)) + gap
  })
  const all = merge(placed)
  const initials = initialMarker(state, all)
  return normalize(routeEdges({ ...all, initials: [...all.initials, ...initials] }, state.path, ctx))
}

function initialMarker(state: ChartState, d: Drawing): InitialMarker[] {
  const box = d.states.find((s) => s.path === state.initial)
  if (box === undefined) return []
  const x = box.x + Math.min(box.width / 2, 24)
  return [{ to: box.path, dot: { x, y: box.y - INITIAL_MARGIN_PX + 6 }, tip: { x, y: box.y } }]
}

/** Shapes every edge drawn at this container's level, then places their labels. */
function routeEdges(d: Drawing, container: string, ctx: Context): Drawing {
  const boxes = new Map(d.states.map((s) => [s.path, s]))
  const mine = ctx.edges.filter((e) => edgeHome(e).container === container)
  const keys = new Set(mine.map((e) => `${e.from}\u0000${e.to}`))
  const placedLabels: Rect[] = []
  const edges: LaidEdge[] = []
  // Self-loops first: their label places are fixed; curve labels then keep off them.
  for (const e of mine) {
    const loopOn = edgeHome(e).loopOn
    if (loopOn === null) continue
    const box = boxes.get(loopOn)!
    const label = loopLabel(box, e.lines.map((l) => l.text))
    placedLabels.push(label)
    edges.push({ ...e, shape: 'loop', points: routeLoop(box), label })
  }
  for (const e of mine) {
    if (edgeHome(e).loopOn !== null) continue
    const src = boxes.get(e.from)!
    const dst = boxes.get(e.to)!
    const obstacles = d.states.filter((s) => !isAncestorOrSelf(s.path, e.from) && !isAncestorOrSelf(s.path, e.to) && !isAncestorOrSelf(e.from, s.path) && !isAncestorOrSelf(e.to, s.path))
    const points = routeCurve(src, dst, obstacles, keys.has(`${e.to}\u0000${e.from}`))
    edges.push({ ...e, shape: 'curve', points, label: { x: 0, y: 0, width: 0, height: 0 } })
  }
  const sampled = edges.map((e) => samplePoints(e.shape, e.points))
  edges.forEach((edge, i) => {
    if (edge.shape !== 'curve') return
    const others = sampled.filter((_, j) => j !== i).flat()
    edge.label = placeCurveLabel(edge.points, edge.lines.map((l) => l.text), d.states, placedLabels, others)
    placedLabels.push(edge.label)
  })
  return { ...d, edges: [...d.edges, ...edges] }
}

function initialPaths(state: ChartState, out = new Set<string>()): Set<string> {
  if (state.initial !== undefined) out.add(state.initial)
  for (const child of state.children) initialPaths(child, out)
  return out
}

function rounded(d: Drawing): Drawing {
  const p = (q: Point): Point => ({ x: round1(q.x), y: round1(q.y) })
  const r = <T extends Rect>(q: T): T => ({ ...q, x: round1(q.x), y: round1(q.y), width: round1(q.width), height: round1(q.height) })
  return {
    width: round1(d.width), height: round1(d.height),
    states: d.states.map(r),
    edges: d.edges.map((e) => ({ ...e, points: e.points.map(p), label: r(e.label) })),
    initials: d.initials.map((i) => ({ ...i, dot: p(i.dot), tip: p(i.tip) })),
    separators: d.separators.map((s) => ({ from: p(s.from), to: p(s.to) })),
  }
}

/** The whole chart: title, the root's own transitions, then the machine's states and edges. */
export function layoutChart(model: ChartModel): ChartLayout {
  const ctx: Context = { edges: chartEdges(model), initialPaths: initialPaths(model.root) }
  const title = `${model.type}${model.id !== model.type ? ` (machine "${model.id}")` : ''}`
  const roots = rootEdges(model)
  const rootLineCount = roots.reduce((n, e) => n + e.lines.length, 0)
  const headerHeight = 28 + (roots.length > 0 ? LABEL_LINE_PX * (rootLineCount + 1) + 8 : 0)
  const content = model.root.children.length === 0 ? normalize(merge([])) : layoutContent(model.root, ctx)
  const body = rounded(translate(content, MARGIN_PX, headerHeight + MARGIN_PX))
  let line = 2
  const rootLines = roots.map((edge) => { const at = { x: MARGIN_PX, y: 28 + LABEL_LINE_PX * line }; line += edge.lines.length; return { edge, at } })
  const rootWidth = Math.max(0, ...roots.map((e) => labelSizePx(e.lines.map((l) => l.text)).width)) + MARGIN_PX * 2
  return {
    ...body,
    width: round1(Math.max(content.width + 2 * MARGIN_PX, rootWidth, stateTextWidthPx(title) + 2 * MARGIN_PX)),
    height: round1(headerHeight + content.height + 2 * MARGIN_PX),
    title: { text: title, at: { x: MARGIN_PX, y: 20 } },
    rootLines,
  }
}
