/**
 * A plain, serializable model of a state chart, read from an XState machine definition itself
 * (`machine.root` and its state nodes), so that every drawing made from it follows the code:
 * states with their nesting, parallel regions, initial and final states; transitions with
 * their events, guards, actions, `after` delays, eventless (`always`) steps and re-entry.
 * Pure: walks the definition, runs nothing.
 */
import type { AnyStateMachine } from 'xstate'
import { MACHINES } from '../../machines/registry.js'

export type ChartStateKind = 'compound' | 'parallel' | 'atomic' | 'final' | 'history'

/** The event name given to eventless (`always`) transitions; xstate's own event type for them is ''. */
export const ALWAYS_EVENT = 'always'

export interface ChartTransition {
  /** Dotted path of the state that declares the transition ('' for the machine's root). */
  from: string
  /** Dotted path of the target, or null for a targetless (internal) transition. */
  to: string | null
  /** The event type: a machine event, `xstate.after.*` for a delay, or `always`. */
  event: string
  guard?: string
  actions: string[]
  /** For `after` transitions: the delay in ms (a named delay resolved from the machine's implementations). */
  delayMs?: number
  /** For `after` transitions whose delay is a name that resolves to no number (computed at run time). */
  delayName?: string
  reenter?: boolean
}

export interface ChartState {
  /** Dotted path within the machine, '' for the root. */
  path: string
  key: string
  kind: ChartStateKind
  /** Path of the initial child, for compound states. */
  initial?: string
  children: ChartState[]
  transitions: ChartTransition[]
}

export interface ChartModel {
  /** The machine type, a key of MACHINES ('peer', 'service', …). */
  type: string
  /** The machine's own id. */
  id: string
  root: ChartState
}

/** The parts of an xstate StateNode this walk reads (kept structural: xstate's own types are wide). */
interface StateNodeLike {
  key: string
  path: string[]
  type: ChartStateKind
  states: Record<string, StateNodeLike>
  initial?: { target: readonly StateNodeLike[] }
  transitions: Map<string, readonly TransitionLike[]>
  always?: readonly TransitionLike[]
}

interface TransitionLike {
  target?: readonly StateNodeLike[]
  guard?: unknown
  actions: readonly unknown[]
  eventType: string
  delay?: unknown
  reenter?: boolean
}

const pathOf = (node: StateNodeLike): string => node.path.join('.')

/** The name of a guard or action as written in the machine: a string, `{ type }`, or a named function. */
export function implementationName(item: unknown): string {
  if (typeof item === 'string') return item
  if (typeof item === 'function') return item.name !== '' ? item.name : 'inline'
  if (typeof item === 'object' && item !== null && typeof (item as { type?: unknown }).type === 'string') return (item as { type: string }).type
  return 'inline'
}

function delayFields(delay: unknown, delays: Readonly<Record<string, unknown>>): Pick<ChartTransition, 'delayMs' | 'delayName'> {
  if (typeof delay === 'number') return { delayMs: delay }
  if (typeof delay !== 'string') return {}
  const named = delays[delay]
  if (typeof named === 'number') return { delayMs: named }
  const numeric = Number(delay)
  return Number.isFinite(numeric) ? { delayMs: numeric } : { delayName: delay }
}

function chartTransition(from: string, t: TransitionLike, delays: Readonly<Record<string, unknown>>): ChartTransition {
  const target = t.target?.[0]
  const result: ChartTransition = {
    from,
    to: target === undefined ? null : pathOf(target),
    event: t.eventType === '' ? ALWAYS_EVENT : t.eventType,
    actions: t.actions.map(implementationName),
  }
  if (t.guard !== undefined) result.guard = implementationName(t.guard)
  if (t.delay !== undefined) Object.assign(result, delayFields(t.delay, delays))
  if (t.reenter === true) result.reenter = true
  return result
}

function chartState(node: StateNodeLike, delays: Readonly<Record<string, unknown>>): ChartState {
  const path = pathOf(node)
  const transitions: ChartTransition[] = []
  for (const list of node.transitions.values()) for (const t of list) transitions.push(chartTransition(path, t, delays))
  for (const t of node.always ?? []) transitions.push(chartTransition(path, t, delays))
  const state: ChartState = {
    path,
    key: node.key,
    kind: node.type,
    children: Object.values(node.states).map((child) => chartState(child, delays)),
    transitions,
  }
  const initial = node.type === 'compound' ? node.initial?.target[0] : undefined
  if (initial !== undefined) state.initial = pathOf(initial)
  return state
}

/** The chart model of one machine definition; `type` is its key in MACHINES. */
export function machineChartModel(machine: AnyStateMachine, type: string): ChartModel {
  const delays = (machine.implementations.delays ?? {}) as Readonly<Record<string, unknown>>
  return { type, id: machine.id, root: chartState(machine.root as unknown as StateNodeLike, delays) }
}

/** Every registered machine type's chart model, in MACHINES order. */
export function allChartModels(): ChartModel[] {
  return Object.entries(MACHINES).map(([type, machine]) => machineChartModel(machine, type))
}

/** Every state of a model below the root, depth first in definition order. */
export function chartStates(model: ChartModel): ChartState[] {
  const out: ChartState[] = []
  const visit = (state: ChartState): void => { for (const child of state.children) { out.push(child); visit(child) } }
  visit(model.root)
  return out
}

/** Every transition of a model, the root's included. */
export function chartTransitions(model: ChartModel): ChartTransition[] {
  return [model.root, ...chartStates(model)].flatMap((s) => s.transitions)
}
