/**
 * A service's resources in order: started first to last (an address before the daemon that
 * binds it), stopped last to first. The lifecycle machine drives resources one at a time
 * with runAgent; these are for tools and tests that want the whole list at once.
 */
import { runAgent } from './run.js'
import type { AgentResult, ResourceSpec, RunOptions } from './types.js'

export interface StepResult { index: number; name: string; result: AgentResult }

export interface StartAllResult {
  ok: boolean
  /** Index in `specs` of the resource whose start did not succeed, or null. */
  failedIndex: number | null
  /** One per resource tried, in start order; the last is the failure when there is one. */
  steps: StepResult[]
}

export interface StopAllResult {
  ok: boolean
  /** Indexes in `specs` of the resources whose stop did not succeed (a failed stop is the caller's to escalate). */
  failedIndexes: number[]
  /** One per resource, in stop order (last to first). */
  steps: StepResult[]
}

/** Starts in order and stops at the first start that is not ok; what did start stays started. */
export async function startAll(specs: readonly ResourceSpec[], options: RunOptions): Promise<StartAllResult> {
  const steps: StepResult[] = []
  for (const [index, spec] of specs.entries()) {
    const result = await runAgent(spec, 'start', options)
    steps.push({ index, name: spec.name, result })
    if (result.outcome !== 'ok') return { ok: false, failedIndex: index, steps }
  }
  return { ok: true, failedIndex: null, steps }
}

/** Stops in reverse order and goes on past failures: every resource gets its stop. */
export async function stopAll(specs: readonly ResourceSpec[], options: RunOptions): Promise<StopAllResult> {
  const steps: StepResult[] = []
  for (let index = specs.length - 1; index >= 0; index--) {
    const spec = specs[index]!
    steps.push({ index, name: spec.name, result: await runAgent(spec, 'stop', options) })
  }
  const failedIndexes = steps.filter((s) => s.result.outcome !== 'ok').map((s) => s.index)
  return { ok: failedIndexes.length === 0, failedIndexes, steps }
}
