/**
 * Layers and order for a layered drawing of one container's children (nodes 0..n-1):
 * layer = longest path from the start node with back edges ignored (see assignLayers); order
 * within a layer by a few barycenter passes, ties kept in index order. Pure and deterministic.
 */
export type GraphEdge = readonly [from: number, to: number]

/** Passes of barycenter ordering (down, up, down, up): enough for charts of a dozen states. */
export const BARYCENTER_PASSES = 4

/**
 * Distance of each node from `start` by breadth-first search over the edges; nodes it does not
 * reach are searched from in index order, each such search putting its root at distance 0.
 */
function distances(count: number, edges: readonly GraphEdge[], start: number): number[] {
  const next = Array.from({ length: count }, (): number[] => [])
  for (const [u, v] of edges) if (u !== v) next[u]!.push(v)
  const distance = new Array<number>(count).fill(-1)
  const search = (root: number): void => {
    distance[root] = 0
    const queue = [root]
    for (let head = 0; head < queue.length; head++) {
      const u = queue[head]!
      for (const v of next[u]!) if (distance[v] === -1) { distance[v] = distance[u]! + 1; queue.push(v) }
    }
  }
  if (count > 0) search(start)
  for (let n = 0; n < count; n++) if (distance[n] === -1) search(n)
  return distance
}

/**
 * Layer of each node: the longest path to it from the start over the forward edges. Back
 * edges are those that do not lead farther from the start (breadth-first distance): a state
 * machine is full of cycles (up ⇄ suspect, stopped → … → releasing → stopped), and cutting
 * them where a depth-first search happens to close them stretches a chart of nine states over
 * nine rows; cut this way, rows hold the states equally far from the initial one.
 */
export function assignLayers(count: number, edges: readonly GraphEdge[], start: number): number[] {
  const distance = distances(count, edges, start)
  const forward = edges.filter(([u, v]) => distance[v]! > distance[u]!)
  const layer = new Array<number>(count).fill(0)
  // Forward edges form a DAG (distance grows along each): relaxing them count times reaches the longest paths.
  for (let round = 0; round < count; round++) {
    let changed = false
    for (const [u, v] of forward) if (layer[v]! < layer[u]! + 1) { layer[v] = layer[u]! + 1; changed = true }
    if (!changed) break
  }
  return layer
}

function barycenter(node: number, neighbours: readonly number[][], position: ReadonlyMap<number, number>): number | null {
  const known = neighbours[node]!.map((n) => position.get(n)).filter((p): p is number => p !== undefined)
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length
}

function sortLayer(layer: number[], neighbours: readonly number[][], position: ReadonlyMap<number, number>): number[] {
  const keyed = layer.map((node, index) => ({ node, index, key: barycenter(node, neighbours, position) ?? index }))
  keyed.sort((a, b) => a.key - b.key || a.index - b.index)
  return keyed.map((k) => k.node)
}

/** Nodes of each layer, left to right. */
export function orderLayers(layers: readonly number[], edges: readonly GraphEdge[], passes = BARYCENTER_PASSES): number[][] {
  const depth = layers.length === 0 ? 0 : Math.max(...layers) + 1
  const rows: number[][] = Array.from({ length: depth }, () => [])
  layers.forEach((l, node) => rows[l]!.push(node))
  const up = layers.map((): number[] => [])
  const down = layers.map((): number[] => [])
  for (const [u, v] of edges) if (u !== v) { down[u]!.push(v); up[v]!.push(u) }
  const positions = (): Map<number, number> => new Map(rows.flatMap((row) => row.map((n, i): [number, number] => [n, i])))
  for (let pass = 0; pass < passes; pass++) {
    const downward = pass % 2 === 0
    const order = downward ? rows.keys() : [...rows.keys()].reverse().values()
    for (const r of order) {
      const position = positions()
      rows[r] = sortLayer(rows[r]!, downward ? up : down, new Map([...position].filter(([n]) => layers[n] !== r)))
    }
  }
  return rows
}
