/**
 * The explanation of an incident, as journal/explain.ts produces it from one or more nodes'
 * journals (`explainJournals(paths)`): every decision in merged (causal) order with its
 * evidence, and every machine instance with its creation. The visualizer reads only this.
 */
export interface ExplainedDecision {
  node: string
  incarnation: number
  /** The transition record's seq in that node's journal. */
  seq: number
  /** That node's monotonic clock reading (the input's `at`). */
  atMs: number
  /** Wall-clock estimate (ms since epoch). */
  wallMs: number
  /** Hybrid logical clock stamp used for merged ordering (null for old journals). */
  hlc: string | null
  /** Instance id, e.g. 'peer:a#1', 'service:web#1', 'local#1', 'fence:a:1#1'. */
  machine: string
  /** Machine type, a key of MACHINES. */
  type: string
  subject: string
  /** xstate state values: a string for flat machines, an object for nested ones. */
  from: unknown
  to: unknown
  event: string
  effects: { type: string; [k: string]: unknown }[]
  input: { type: string; at: number; [k: string]: unknown }
  evidence: string[]
  summary: string
}

export interface ExplainedMachine {
  node: string
  incarnation: number
  machine: string
  type: string
  subject: string
  createdAtMs: number
  createdWallMs: number
  initial: unknown
}

export interface Explanation {
  nodes: string[]
  machines: ExplainedMachine[]
  /** Already in merged (causal) order. */
  decisions: ExplainedDecision[]
}
