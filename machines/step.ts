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
import { transition, type AnyStateMachine, type AnyMachineSnapshot } from 'xstate'

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

function withoutEvidence(context: unknown): string {
  if (typeof context !== 'object' || context === null) return JSON.stringify(context)
  const { evidence: _evidence, ...rest } = context as Record<string, unknown>
  return JSON.stringify(rest)
}

export function stateKey(snapshot: AnyMachineSnapshot): unknown {
  return snapshot.value
}

export function step(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: PlainEvent): StepResult {
  const [next, actions] = transition(machine, snapshot, event as never)
  // The typings list only the built-in actions xstate executes itself; `emit` arrives as an
  // executable action of type 'xstate.emit' whose params hold the emitted event.
  const effects = (actions as readonly { type: string; params?: unknown }[])
    .filter((a) => a.type === 'xstate.emit')
    .map((a) => (a.params as { event: PlainEvent }).event)
  const from = stateKey(snapshot)
  const to = stateKey(next)
  const stateChanged = JSON.stringify(from) !== JSON.stringify(to)
  const decided = stateChanged || effects.length > 0
  const noop = next === snapshot || (!decided && JSON.stringify(next.context) === JSON.stringify(snapshot.context))
  const evidenceOnly = !noop && !decided && withoutEvidence(next.context) === withoutEvidence(snapshot.context)
  return {
    snapshot: next,
    transition: decided ? { from, to, event: event.type, effects } : null,
    noop,
    evidenceOnly,
  }
}
