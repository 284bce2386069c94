/**
 * Text sizes for the chart. The SVG names generic font families only (no font files), so
 * widths are estimates: state names in sans-serif at 13 px are measured generously, edge
 * labels in monospace at 11 px (about 0.6 em a character) are measured closely.
 */
export const STATE_FONT_PX = 13
export const LABEL_FONT_PX = 11
export const LABEL_LINE_PX = 13
const STATE_CHAR_PX = 8
const LABEL_CHAR_PX = 6.7
const LABEL_PAD_PX = 4

export function stateTextWidthPx(text: string): number {
  return [...text].length * STATE_CHAR_PX
}

/** Width and height of an edge label box of these lines (padding included). */
export function labelSizePx(lines: readonly string[]): { width: number; height: number } {
  const chars = Math.max(0, ...lines.map((l) => [...l].length))
  return { width: chars * LABEL_CHAR_PX + 2 * LABEL_PAD_PX, height: lines.length * LABEL_LINE_PX + LABEL_PAD_PX }
}
