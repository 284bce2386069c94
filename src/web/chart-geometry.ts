/** Plane geometry for the chart layout: rectangles, quadratic curves, clipping. Pure. */
export interface Point { x: number; y: number }
export interface Rect { x: number; y: number; width: number; height: number }

export const center = (r: Rect): Point => ({ x: r.x + r.width / 2, y: r.y + r.height / 2 })

/** Rounded to 0.1 px: the drawing needs no more, and the output stays short and stable. */
export const round1 = (n: number): number => Math.round(n * 10) / 10

export function pointInRect(p: Point, r: Rect, marginPx = 0): boolean {
  return p.x >= r.x - marginPx && p.x <= r.x + r.width + marginPx && p.y >= r.y - marginPx && p.y <= r.y + r.height + marginPx
}

export function rectsOverlap(a: Rect, b: Rect, marginPx = 0): boolean {
  return a.x < b.x + b.width + marginPx && b.x < a.x + a.width + marginPx && a.y < b.y + b.height + marginPx && b.y < a.y + a.height + marginPx
}

/** True when `inner` lies within `outer` (edges included). */
export function rectContains(outer: Rect, inner: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height
}

/** Where the ray from the rectangle's center towards `toward` leaves the rectangle. */
export function clipToRect(r: Rect, toward: Point): Point {
  const c = center(r)
  const dx = toward.x - c.x
  const dy = toward.y - c.y
  if (dx === 0 && dy === 0) return c
  const sx = dx === 0 ? Infinity : r.width / 2 / Math.abs(dx)
  const sy = dy === 0 ? Infinity : r.height / 2 / Math.abs(dy)
  const s = Math.min(sx, sy)
  return { x: c.x + dx * s, y: c.y + dy * s }
}

export function quadraticPoint(p0: Point, c: Point, p1: Point, t: number): Point {
  const u = 1 - t
  return { x: u * u * p0.x + 2 * u * t * c.x + t * t * p1.x, y: u * u * p0.y + 2 * u * t * c.y + t * t * p1.y }
}

/** The smallest rectangle holding every point and rectangle given (a zero rectangle for none). */
export function boundingBox(points: readonly Point[], rects: readonly Rect[]): Rect {
  const xs = [...points.map((p) => p.x), ...rects.flatMap((r) => [r.x, r.x + r.width])]
  const ys = [...points.map((p) => p.y), ...rects.flatMap((r) => [r.y, r.y + r.height])]
  if (xs.length === 0) return { x: 0, y: 0, width: 0, height: 0 }
  const x = Math.min(...xs)
  const y = Math.min(...ys)
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y }
}
