/** The layout: sibling boxes never overlap, every box lies inside its parent, same model → same coordinates. */
import t from 'tap'
import { allChartModels, machineChartModel, type ChartModel } from '../../src/web/chart-model.js'
import { layoutChart, type LaidState } from '../../src/web/chart-layout.js'
import { assignLayers, orderLayers } from '../../src/web/chart-layers.js'
import { rectContains, rectsOverlap } from '../../src/web/chart-geometry.js'
import { nestedMachine } from '../helpers/viz-fixtures.js'

const parentOf = (path: string): string => (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '')
const models: ChartModel[] = [...allChartModels(), machineChartModel(nestedMachine, 'nested')]

t.test('no two sibling boxes overlap; every box is inside its parent and inside the drawing', async (t) => {
  for (const model of models) {
    const layout = layoutChart(model)
    const byPath = new Map(layout.states.map((s) => [s.path, s]))
    const siblings = new Map<string, LaidState[]>()
    for (const s of layout.states) siblings.set(parentOf(s.path), [...(siblings.get(parentOf(s.path)) ?? []), s])
    for (const [parent, list] of siblings) {
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) t.notOk(rectsOverlap(list[i]!, list[j]!), `${model.type}: ${list[i]!.path} and ${list[j]!.path} do not overlap`)
      }
      if (parent !== '') for (const s of list) t.ok(rectContains(byPath.get(parent)!, s), `${model.type}: ${s.path} inside ${parent}`)
    }
    for (const s of layout.states) t.ok(rectContains({ x: 0, y: 0, width: layout.width, height: layout.height }, s), `${model.type}: ${s.path} inside the drawing`)
    for (const e of layout.edges) t.ok(rectContains({ x: -1, y: -1, width: layout.width + 2, height: layout.height + 2 }, e.label), `${model.type}: label of ${e.from} → ${e.to} inside the drawing`)
  }
})

t.test('the same model gives the same coordinates', async (t) => {
  for (const model of models) t.same(layoutChart(model), layoutChart(structuredClone(model)), model.type)
})

t.test('layers: breadth-first distance cuts the back edges; barycenter order is stable', async (t) => {
  // 0 → 1 → 2 → 0 (a cycle), 0 → 3, 3 → 2
  const edges = [[0, 1], [1, 2], [2, 0], [0, 3], [3, 2]] as const
  const layers = assignLayers(4, edges, 0)
  t.same(layers, [0, 1, 2, 1])
  t.same(orderLayers(layers, edges), [[0], [1, 3], [2]])
  t.same(assignLayers(3, [[1, 2]], 0), [0, 0, 1], 'nodes the start does not reach are layered from their own roots')
  t.same(assignLayers(0, [], 0), [])
  // crossing edges are untangled: 0 → 3, 1 → 2 with 2 and 3 in index order
  t.same(orderLayers([0, 0, 1, 1], [[0, 3], [1, 2]]), [[0, 1], [3, 2]])
})

t.test('parallel regions stand side by side with a separator; the initial marker points at the initial state', async (t) => {
  const layout = layoutChart(machineChartModel(nestedMachine, 'nested'))
  const cleanup = layout.states.find((s) => s.path === 'failed.cleanup')!
  const alarm = layout.states.find((s) => s.path === 'failed.alarm')!
  t.ok(cleanup.region && alarm.region)
  t.equal(cleanup.y, alarm.y)
  t.ok(cleanup.x + cleanup.width <= alarm.x)
  t.equal(layout.separators.length, 1)
  const sep = layout.separators[0]!
  t.ok(sep.from.x > cleanup.x + cleanup.width && sep.from.x < alarm.x, 'the separator is between the regions')
  t.same(layout.initials.map((i) => i.to).sort(), ['failed.alarm.ringing', 'failed.cleanup.stopping', 'idle', 'running.starting'])
})
