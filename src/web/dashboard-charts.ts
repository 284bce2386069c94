/**
 * The state charts the dashboard draws, one per machine type, from the chart renderer
 * (chart-svg.ts): built once, since a chart depends only on the machine's definition.
 */
import { MACHINES } from '../../machines/registry.js'
import { CHART_CLIENT_JS, CHART_CSS, renderChartSvg } from './chart-svg.js'
import type { ChartAssets } from './dashboard-page.js'

let built: ChartAssets | null = null

export function chartAssets(): ChartAssets {
  built ??= {
    svgByType: Object.fromEntries(Object.keys(MACHINES).map((type) => [type, renderChartSvg(type, { idPrefix: 'dashboard-' })])),
    css: CHART_CSS,
    js: CHART_CLIENT_JS,
  }
  return built
}
