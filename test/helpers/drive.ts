/** Drives a machine through events on virtual time with the same `step` the runtime uses. */
import { initialTransition, type AnyStateMachine, type AnyMachineSnapshot } from 'xstate'
import { step, type PlainEvent, type TransitionRecord } from '../../machines/step.js'

export interface Drive {
  snapshot: AnyMachineSnapshot
  transitions: TransitionRecord[]
  send(event: PlainEvent): TransitionRecord | null
  state(): unknown
}

export function drive(machine: AnyStateMachine, input: unknown): Drive {
  const [snapshot] = initialTransition(machine, input)
  const d: Drive = {
    snapshot,
    transitions: [],
    send(event) {
      const r = step(machine, d.snapshot, event)
      d.snapshot = r.snapshot
      if (r.transition !== null) d.transitions.push(r.transition)
      return r.transition
    },
    state: () => d.snapshot.value,
  }
  return d
}
