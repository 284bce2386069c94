/**
 * The edges a chart draws: transitions between the same pair of states merged into one edge
 * whose label lists every `EVENT [guard]` line. Targetless (internal) transitions of a state
 * form one more edge of that state (from = to), which the chart lists inside the state's box,
 * as UML does (the state does not change); a transition back to its own state (re-entry) is a
 * self-loop. The root's own transitions ("in every state") are kept apart: the chart lists
 * them under its title.
 */
import type { ChartModel, ChartState, ChartTransition } from './chart-model.js'
import { chartStates } from './chart-model.js'

export interface EdgeLine {
  text: string
  /** The event type of the transition the line stands for. */
  event: string
  /** A targetless transition: no state change. */
  internal: boolean
}

export interface ChartEdge {
  from: string
  /** The drawn target: the transition's target, or `from` for targetless transitions. */
  to: string
  /** Distinct event types, in definition order. */
  events: string[]
  lines: EdgeLine[]
  /** One line per transition with its actions (the edge's tooltip). */
  details: string[]
  /** Targetless transitions only: listed inside the state's box, not drawn as an arrow. */
  internal: boolean
}

/** The label line of one transition: `EVENT [guard]`, `after 3000 ms [guard]`, `always [guard]`, `(reenter)`. */
export function transitionLabel(t: ChartTransition): string {
  const trigger = t.delayMs !== undefined ? `after ${t.delayMs} ms` : t.delayName !== undefined ? `after ${t.delayName}` : t.event
  const guard = t.guard !== undefined ? ` [${t.guard}]` : ''
  const target = t.from === '' && t.to !== null ? ` → ${t.to}` : ''
  return `${trigger}${guard}${target}${t.reenter === true ? ' (reenter)' : ''}`
}

function detail(t: ChartTransition): string {
  const actions = t.actions.length > 0 ? ` / ${t.actions.join(', ')}` : ''
  return `${transitionLabel(t)}${actions}${t.to === null ? ' (no state change)' : ''}`
}

function addTo(edge: ChartEdge, t: ChartTransition): void {
  if (!edge.events.includes(t.event)) edge.events.push(t.event)
  const line = { text: transitionLabel(t), event: t.event, internal: t.to === null }
  if (!edge.lines.some((l) => l.text === line.text && l.internal === line.internal)) edge.lines.push(line)
  edge.details.push(detail(t))
}

function groupEdges(transitions: readonly ChartTransition[]): ChartEdge[] {
  const byKey = new Map<string, ChartEdge>()
  for (const t of transitions) {
    const to = t.to ?? t.from
    const internal = t.to === null
    const key = `${t.from}\u0000${to}\u0000${internal}`
    let edge = byKey.get(key)
    if (edge === undefined) { edge = { from: t.from, to, events: [], lines: [], details: [], internal }; byKey.set(key, edge) }
    addTo(edge, t)
  }
  return [...byKey.values()]
}

/** The drawn edges of every state below the root, in definition order. */
export function chartEdges(model: ChartModel): ChartEdge[] {
  return groupEdges(chartStates(model).flatMap((s: ChartState) => s.transitions))
}

/** The root's transitions, one edge per target (targetless ones: `to` '', `internal`). */
export function rootEdges(model: ChartModel): ChartEdge[] {
  return groupEdges(model.root.transitions)
}

