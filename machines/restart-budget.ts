/**
 * The local restart budget of a service: at most maxRestarts restarts within any windowMs
 * (Pacemaker's migration-threshold with failure-timeout, rgmanager's max_restarts with
 * restart_expire_time). The history is the list of restart times still inside the window,
 * oldest first; it never holds more than RESTARTS_MAX entries.
 */

/** Upper bound of maxRestarts (and so of the history kept per service); the config loader rejects more. */
export const RESTARTS_MAX = 100

export interface RestartBudget {
  maxRestarts: number
  windowMs: number
}

/** maxRestarts as the machine applies it: a whole number in [0, RESTARTS_MAX]. */
export function effectiveMaxRestarts(budget: RestartBudget): number {
  if (!Number.isFinite(budget.maxRestarts) || budget.maxRestarts <= 0) return 0
  return Math.min(Math.floor(budget.maxRestarts), RESTARTS_MAX)
}

/** Restarts still counted at `atMs`: those less than windowMs ago (an attempt exactly windowMs old has expired). */
export function recentRestarts(history: readonly number[], atMs: number, windowMs: number): number[] {
  return history.filter((t) => atMs - t < windowMs).slice(-RESTARTS_MAX)
}

export interface RestartVerdict {
  allowed: boolean
  /** The history to keep: pruned to the window, plus `atMs` when the restart is allowed. */
  history: number[]
  /** Restarts counted in the window, including this one when allowed. */
  used: number
  max: number
}

/** Count a restart attempt at `atMs` against the budget. */
export function tryRestart(history: readonly number[], budget: RestartBudget, atMs: number): RestartVerdict {
  const max = effectiveMaxRestarts(budget)
  const recent = recentRestarts(history, atMs, budget.windowMs)
  if (recent.length >= max) return { allowed: false, history: recent, used: recent.length, max }
  const next = [...recent, atMs]
  return { allowed: true, history: next, used: next.length, max }
}
