/**
 * Edge shapes for the chart: one quadratic curve per edge, bent just enough to miss the boxes
 * in its way (or to stay apart from the edge going back); self-loops as small arcs on a box's
 * right side; labels placed along the curve where they cover no box and no other label.
 * Pure and deterministic: candidates are tried in a fixed order.
 */
import type { ChartEdge } from './chart-edges.js'
import { center, clipToRect, pointInRect, quadraticPoint, rectsOverlap, type Point, type Rect } from './chart-geometry.js'
import { labelSizePx } from './chart-text.js'

export interface LaidEdge extends ChartEdge {
  /**
   * 'curve': [start, control, end] (quadratic); 'loop': [start, control1, control2, end]
   * (cubic); 'list': internal transitions listed inside the state's box (no points; `label` is the list's area).
   */
  shape: 'curve' | 'loop' | 'list'
  points: Point[]
  label: Rect
}

/** Bends tried for an edge, in px of the curve's apex from the straight line; the first clear one wins. */
const BENDS_PX = [0, 40, -40, 80, -80, 120, -120, 170, -170, 220, -220]
/** An edge whose reverse is drawn too bends at least this much, each to its own side. */
const BENDS_WITH_REVERSE_PX = [28, 60, 100, 150, 200, -100, -150]
const LABEL_TS = [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78]
const LABEL_SHIFTS_PX = [0, 16, -16, 32, -32, 52, -52, 80, -80, 120, -120]
const CLEARANCE_PX = 4
export const LOOP_REACH_PX = 30

/** Boxes hit by the quadratic curve (sampled), ignoring the ones the edge may touch. */
function hits(p0: Point, c: Point, p1: Point, obstacles: readonly Rect[]): number {
  let count = 0
  for (const box of obstacles) {
    for (let i = 1; i < 20; i++) {
      if (pointInRect(quadraticPoint(p0, c, p1, i / 20), box, CLEARANCE_PX)) { count++; break }
    }
  }
  return count
}

/** The control points of a curve from box `src` to box `dst`, missing `obstacles` where a tried bend can. */
export function routeCurve(src: Rect, dst: Rect, obstacles: readonly Rect[], reverseDrawn: boolean): Point[] {
  // Bend around the middle of the gap between the boxes (not between their centers: a compound box is big).
  const a = clipToRect(src, center(dst))
  const b = clipToRect(dst, center(src))
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1
  const perp = { x: -(b.y - a.y) / length, y: (b.x - a.x) / length }
  let best: { points: Point[]; hits: number } | null = null
  for (const bend of reverseDrawn ? BENDS_WITH_REVERSE_PX : BENDS_PX) {
    // A quadratic's apex is halfway to its control point: the control sits at twice the bend.
    const control = { x: (a.x + b.x) / 2 + perp.x * bend * 2, y: (a.y + b.y) / 2 + perp.y * bend * 2 }
    const start = clipToRect(src, control)
    const end = clipToRect(dst, control)
    const n = hits(start, control, end, obstacles)
    if (best === null || n < best.hits) best = { points: [start, control, end], hits: n }
    if (n === 0) break
  }
  return best!.points
}

/** A small arc on the box's right side, near its top (compound boxes are tall). */
export function routeLoop(box: Rect): Point[] {
  const right = box.x + box.width
  const top = box.y + Math.min(8, box.height / 4)
  const bottom = box.y + Math.min(28, (box.height * 3) / 4)
  return [
    { x: right, y: top },
    { x: right + LOOP_REACH_PX, y: top - 10 },
    { x: right + LOOP_REACH_PX, y: bottom + 10 },
    { x: right, y: bottom },
  ]
}

/** The label box of a self-loop: right of the arc, centered on it. */
export function loopLabel(box: Rect, lines: readonly string[]): Rect {
  const size = labelSizePx(lines)
  const middle = box.y + Math.min(18, box.height / 2)
  return { x: box.x + box.width + LOOP_REACH_PX - 4, y: middle - size.height / 2, ...size }
}

/** Points along an edge's shape (for labels to keep off other edges' lines). */
export function samplePoints(shape: LaidEdge['shape'], points: readonly Point[], count = 16): Point[] {
  if (shape !== 'curve') return [...points]
  const [p0, c, p1] = points as [Point, Point, Point]
  return Array.from({ length: count + 1 }, (_, i) => quadraticPoint(p0, c, p1, i / count))
}

/** How bad a label spot is: covering a box or a label weighs most, crossing another edge's line less. */
function labelCost(rect: Rect, boxes: readonly Rect[], placed: readonly Rect[], lines: readonly Point[]): number {
  const boxHits = boxes.filter((b) => rectsOverlap(rect, b, 2)).length
  const labelHits = placed.filter((l) => rectsOverlap(rect, l, 2)).length
  const lineHits = lines.filter((p) => pointInRect(p, rect, 1)).length
  return boxHits * 100 + labelHits * 60 + lineHits
}

/**
 * A label box for a curve: the spot along it (or beside it) that covers the fewest boxes,
 * labels placed before and points of other edges' lines; the first of equal spots wins.
 */
export function placeCurveLabel(points: readonly Point[], lines: readonly string[], boxes: readonly Rect[], placed: readonly Rect[], otherLines: readonly Point[]): Rect {
  const size = labelSizePx(lines)
  const [p0, c, p1] = points as [Point, Point, Point]
  const length = Math.hypot(p1.x - p0.x, p1.y - p0.y) || 1
  const perp = { x: -(p1.y - p0.y) / length, y: (p1.x - p0.x) / length }
  let best: { rect: Rect; cost: number } | null = null
  for (const shift of LABEL_SHIFTS_PX) {
    for (const t of LABEL_TS) {
      const at = quadraticPoint(p0, c, p1, t)
      const rect = { x: at.x + perp.x * shift - size.width / 2, y: at.y + perp.y * shift - size.height / 2, ...size }
      const cost = labelCost(rect, boxes, placed, otherLines)
      if (best === null || cost < best.cost) best = { rect, cost }
      if (cost === 0) return rect
    }
  }
  return best!.rect
}
