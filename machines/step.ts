/**
 * One pure step of a machine, shared by the live runtime and by replay so both fold
 * inputs the same way (STYLE.md §1): `transition()` computes, nothing runs.
 *
 * Coalescing (bounded journal growth): an input whose only consequence is newer liveness
 * readings in `context.evidence` (same state, no effect, the rest of the context equal) is
 * *coalescible*. The runtime keeps the latest such input per source in memory instead of
 * journaling and delivering it, and delivers it (journaled) only just before an input
 * that would change something. Machines read evidence only as "latest reading", so the
 * decisions are those the uncoalesced stream would give, and replay, which folds exactly
 * the delivered inputs, reproduces them.
 */
import { createActor, type AnyActorScope, type AnyStateMachine, type AnyMachineSnapshot } from 'xstate'

/** Any input or effect: a type and plain fields (what the journal stores). */
export interface PlainEvent { type: string; [field: string]: unknown }

export interface TransitionRecord {
  from: unknown
  to: unknown
  event: string
  effects: PlainEvent[]
}

export interface StepResult {
  snapshot: AnyMachineSnapshot
  /** Set when the state changed or the machine asked for effects. */
  transition: TransitionRecord | null
  /** Nothing changed at all: the input can be dropped without a record. */
  noop: boolean
  /** Only `context.evidence` changed: the input may be held back and coalesced. */
  evidenceOnly: boolean
}

/** Plain values equal (JSON): state values and context fields are plain data. */
function equal(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}

/** The two contexts are equal in every field but `except` (shallow first, JSON per field). */
function sameContext(a: unknown, b: unknown, except?: string): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return equal(a, b)
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  const keys = new Set([...Object.keys(x), ...Object.keys(y)])
  for (const key of keys) if (key !== except && !equal(x[key], y[key])) return false
  return true
}

export function stateKey(snapshot: AnyMachineSnapshot): unknown {
  return snapshot.value
}

/**
 * xstate's `transition(machine, snapshot, event)` builds a throw-away actor for every call,
 * and building one computes the machine's initial snapshot (our context factories then fail
 * on the missing input, at the price of an exception with a stack). Our machines use no
 * delays, children or raised events, so one inert scope per machine definition, whose only
 * active part collects the actions, computes the same transition (as `transition()` does,
 * through `machine.transition(snapshot, event, scope)`) for a fraction of the cost.
 */
interface InertScope { scope: AnyActorScope; actions: { type: string; params?: unknown }[] }
const scopes = new WeakMap<AnyStateMachine, InertScope>()

function inertScope(machine: AnyStateMachine): InertScope {
  const cached = scopes.get(machine)
  if (cached !== undefined) return cached
  const self = createActor(machine)
  const made: InertScope = { actions: [], scope: undefined as unknown as AnyActorScope }
  made.scope = {
    self, id: '', sessionId: '', system: self.system,
    defer: () => undefined, logger: () => undefined, stopChild: () => undefined, emit: () => undefined,
    actionExecutor: (action: { type: string; params?: unknown }) => { made.actions.push(action) },
  } as unknown as AnyActorScope
  scopes.set(machine, made)
  return made
}

function transition(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: PlainEvent): [AnyMachineSnapshot, { type: string; params?: unknown }[]] {
  const inert = inertScope(machine)
  inert.actions = []
  const next = machine.transition(snapshot, event as never, inert.scope) as AnyMachineSnapshot
  return [next, inert.actions]
}

export function step(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: PlainEvent): StepResult {
  const [next, actions] = transition(machine, snapshot, event)
  // The typings list only the built-in actions xstate executes itself; `emit` arrives as an
  // executable action of type 'xstate.emit' whose params hold the emitted event.
  const effects = (actions as readonly { type: string; params?: unknown }[])
    .filter((a) => a.type === 'xstate.emit')
    .map((a) => (a.params as { event: PlainEvent }).event)
  const from = stateKey(snapshot)
  const to = stateKey(next)
  const stateChanged = !equal(from, to)
  const decided = stateChanged || effects.length > 0
  const noop = next === snapshot || (!decided && sameContext(next.context, snapshot.context))
  const evidenceOnly = !noop && !decided && sameContext(next.context, snapshot.context, 'evidence')
  return {
    snapshot: next,
    transition: decided ? { from, to, event: event.type, effects } : null,
    noop,
    evidenceOnly,
  }
}
