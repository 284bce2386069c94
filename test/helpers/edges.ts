/**
 * Transition coverage for table tests. Every edge of a machine is one branch of its
 * definition: a source state, an event, the guard of that branch and its target (a branch
 * with no target stays in its state). Edges are read from the machine itself
 * (xstate/graph's toDirectedGraph), so a new event or branch shows up as an edge that no
 * table row exercises until one does.
 */
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate'
import { toDirectedGraph } from 'xstate/graph'
import type { PlainEvent } from '../../machines/step.js'

interface Branch {
  source: { path: string[] }
  target?: readonly { path: string[] }[]
  eventType: string
  guard?: unknown
  reenter: boolean
}

function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard
  if (typeof guard === 'function') return guard.name === '' ? 'inline guard' : guard.name
  return String((guard as { type?: unknown }).type ?? 'inline guard')
}

const statePath = (node: { path: string[] }): string => (node.path.length === 0 ? '(any state)' : node.path.join('.'))

/** `up: DISK_STATUS [reportsDown] → left`; an unguarded branch has no brackets, one without target reads `→ (stays)`. */
export function edgeName(branch: Branch): string {
  const guard = branch.guard === undefined ? '' : ` [${guardName(branch.guard)}]`
  const targets = branch.target === undefined || branch.target.length === 0 ? '(stays)' : branch.target.map(statePath).join(', ')
  return `${statePath(branch.source)}: ${branch.eventType}${guard} → ${targets}${branch.reenter ? ' (re-entered)' : ''}`
}

/** Every edge of the machine's definition, in definition order. */
export function machineEdges(machine: AnyStateMachine): string[] {
  const out: string[] = []
  const visit = (graph: ReturnType<typeof toDirectedGraph>): void => {
    // toDirectedGraph gives one edge per target of a branch; a branch is one edge here.
    for (const branch of new Set(graph.edges.map((e) => e.transition as unknown as Branch))) out.push(edgeName(branch))
    for (const child of graph.children) visit(child)
  }
  visit(toDirectedGraph(machine))
  return out
}

/** The edges `event` takes from `snapshot` (none when no branch is enabled). */
export function edgesTaken(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: PlainEvent): string[] {
  return (machine.getTransitionData(snapshot, event as never) as unknown as Branch[]).map(edgeName)
}
