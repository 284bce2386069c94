/**
 * OCF resource agent exit codes and what each means for each of our operations. Pure; the
 * table test in test/agents/pure.test.ts holds every row.
 */
import type { AgentOp, AgentOutcome } from './types.js'

export const OCF_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'OCF_SUCCESS',
  1: 'OCF_ERR_GENERIC',
  2: 'OCF_ERR_ARGS',
  3: 'OCF_ERR_UNIMPLEMENTED',
  4: 'OCF_ERR_PERM',
  5: 'OCF_ERR_INSTALLED',
  6: 'OCF_ERR_CONFIGURED',
  7: 'OCF_NOT_RUNNING',
  8: 'OCF_RUNNING_PROMOTED',
  9: 'OCF_FAILED_PROMOTED',
  190: 'OCF_DEGRADED',
  191: 'OCF_DEGRADED_PROMOTED',
}

/** Codes saying "this cannot work here as configured": retrying on this node is pointless. */
const MISCONFIGURED = new Set([2, 5, 6])
/** Codes only a promotable (master/slave) resource returns; Carbonado runs one instance per service. */
const PROMOTED = new Set([8, 9, 191])

export interface OcfVerdict { outcome: AgentOutcome; note: string }

export function ocfOutcome(op: AgentOp, code: number): OcfVerdict {
  const name = OCF_CODE_NAMES[code] ?? 'not an OCF exit code'
  const verdict = (outcome: AgentOutcome, why = ''): OcfVerdict => ({ outcome, note: `exit ${code} (${name})${why}` })
  if (code === 0) return verdict('ok')
  if (code === 7) {
    if (op === 'monitor') return verdict('not-running')
    if (op === 'stop') return verdict('ok', ': already stopped counts as stopped')
    return verdict('failed')
  }
  // Pacemaker 2.1's "running but degraded": the resource serves, so monitor passes.
  if (code === 190 && op === 'monitor') return verdict('ok', ': running, degraded')
  if (MISCONFIGURED.has(code)) return verdict('misconfigured')
  if (PROMOTED.has(code)) return verdict('failed', ': promotable resources are not supported')
  return verdict('failed')
}

/** The OCF action name for our operation: validation is `validate-all` in the OCF API. */
export function ocfAction(op: AgentOp): string {
  return op === 'validate' ? 'validate-all' : op
}
