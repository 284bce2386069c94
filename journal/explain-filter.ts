/** The filters of `carbonado replay --explain` (pure). */
import type { ExplainedDecision } from './explain.js'

export interface DecisionFilter {
  /** Only this service's machine. */
  service?: string
  /** Only the decisions this node took (its journal): the node's view. */
  node?: string
  fromWallMs?: number
  toWallMs?: number
  /** Drop routine steps: the state stays and nothing is asked but monitor calls. */
  decisionsOnly?: boolean
}

const sameState = (d: ExplainedDecision): boolean => JSON.stringify(d.from) === JSON.stringify(d.to)

/** A step that decided nothing an incident review asks about: a recurring monitor call, staying put. */
export function isRoutine(d: ExplainedDecision): boolean {
  return sameState(d) && d.effects.every((e) => e.type === 'effect.agent' && e.op === 'monitor')
}

export function filterDecisions(decisions: readonly ExplainedDecision[], f: DecisionFilter): ExplainedDecision[] {
  return decisions.filter((d) =>
    (f.service === undefined || (d.type === 'service' && d.subject === f.service))
    && (f.node === undefined || d.node === f.node)
    && (f.fromWallMs === undefined || d.wallMs >= f.fromWallMs)
    && (f.toWallMs === undefined || d.wallMs <= f.toWallMs)
    && (f.decisionsOnly !== true || !isRoutine(d)))
}
