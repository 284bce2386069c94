/**
 * A chart model as Mermaid `stateDiagram-v2` text, for documentation (the visualizer page
 * draws its own SVG and never loads Mermaid): `[*] --> initial`, `a --> b : EVENT [guard]`,
 * composite states as `state X { … }`, `--` between the regions of a parallel state,
 * `after 3000 ms` for delays, `X --> [*]` for final states; targetless transitions as a note
 * on their state, the root's own ones as comments.
 */
import type { ChartModel, ChartState, ChartTransition } from './chart-model.js'
import { transitionLabel } from './chart-edges.js'

/** A Mermaid state id: the dotted path with anything but letters, digits and _ made _. */
export function mermaidId(path: string): string {
  return path.replace(/[^A-Za-z0-9_]/g, '_')
}

/** Label text safe in a Mermaid line: no line breaks, and `;` `#` `:` written as entity codes. */
function mermaidText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/#/g, '#35;').replace(/;/g, '#59;').replace(/:/g, '#58;')
}

function transitionLines(state: ChartState, indent: string): string[] {
  const id = mermaidId(state.path)
  const out = new Set<string>()
  for (const t of state.transitions) {
    if (t.to === null) continue
    out.add(`${indent}${id} --> ${mermaidId(t.to)} : ${mermaidText(transitionLabel(t))}`)
  }
  return [...out]
}

function internalNote(state: ChartState, indent: string): string[] {
  const internal = state.transitions.filter((t: ChartTransition) => t.to === null)
  if (internal.length === 0) return []
  const lines = [...new Set(internal.map((t) => mermaidText(transitionLabel(t))))]
  return [`${indent}note right of ${mermaidId(state.path)}`, ...lines.map((l) => `${indent}  ${l}`), `${indent}end note`]
}

/** Declarations, children and transitions of the states inside `container`. */
function body(container: ChartState, indent: string): string[] {
  const lines: string[] = []
  if (container.initial !== undefined) lines.push(`${indent}[*] --> ${mermaidId(container.initial)}`)
  container.children.forEach((child, i) => {
    if (container.kind === 'parallel' && i > 0) lines.push(`${indent}--`)
    lines.push(...declaration(child, indent))
  })
  for (const child of container.children) {
    lines.push(...transitionLines(child, indent))
    if (child.kind === 'final') lines.push(`${indent}${mermaidId(child.path)} --> [*]`)
    lines.push(...internalNote(child, indent))
  }
  return lines
}

function declaration(state: ChartState, indent: string): string[] {
  const id = mermaidId(state.path)
  const named = id !== state.key ? [`${indent}state "${mermaidText(state.key)}" as ${id}`] : []
  if (state.children.length === 0) return named.length > 0 ? named : [`${indent}${id}`]
  return [...named, `${indent}state ${id} {`, ...body(state, `${indent}  `), `${indent}}`]
}

export function chartMermaid(model: ChartModel): string {
  const rootLines = model.root.transitions.map((t) => `  %% in every state: ${mermaidText(transitionLabel(t))}`)
  return [`---`, `title: ${mermaidText(model.type)}`, `---`, 'stateDiagram-v2', ...rootLines, ...body(model.root, '  '), ''].join('\n')
}
