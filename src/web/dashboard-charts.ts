/**
 * The state charts the dashboard draws, one per machine type, from the chart renderer
 * (src/web/chart-svg.ts). Built once: a chart depends only on the machine's definition.
 */
import type { ChartAssets } from './dashboard-page.js'

let built: ChartAssets | null = null

export function chartAssets(): ChartAssets {
  // Placeholder until the renderer (branch viz) is merged: no charts.
  built ??= { svgByType: {}, css: '', js: '' }
  return built
}
