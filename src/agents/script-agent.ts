/**
 * LSB init scripts and any executable that takes start|stop|status.
 *
 * Stop of a service that is already stopped is success. Red Hat 7.3's init scripts
 * returned 1 for that, and Kimberlite needed a bridge script so a failover would not
 * stall on it; here a failed stop is followed by `status`, and status 3 ("not running")
 * makes the stop a success.
 */
import { TIMED_OUT, type ProcessRun } from './run-process.js'
import { abnormalOutcome, describeRun } from './result.js'
import { checkExecutable, finish, runCommand, type AgentContext } from './context.js'
import type { AgentResult, ScriptSpec } from './types.js'

/** LSB status exit codes (LSB core 20.2, "init script actions"). */
export const LSB_STATUS_MEANING: Readonly<Record<number, string>> = {
  0: 'running',
  1: 'dead, but the pid file exists',
  2: 'dead, but the lock file exists',
  3: 'not running',
  4: 'status unknown',
}

function statusMeaning(code: number | null): string {
  return code === null ? '' : ` (${LSB_STATUS_MEANING[code] ?? 'not an LSB status code'})`
}

export async function runScriptAgent(spec: ScriptSpec, ctx: AgentContext): Promise<AgentResult> {
  const problem = await checkExecutable(ctx, spec.path)
  if (problem === TIMED_OUT) return finish(ctx, 'timeout', null, `looking at ${spec.path} took longer than ${ctx.deadline.timeoutMs} ms`)
  if (problem !== null) return finish(ctx, 'misconfigured', null, problem)
  if (ctx.op === 'validate') return finish(ctx, 'ok', null, `${spec.path} is executable`)
  const action = (name: string): Promise<ProcessRun> => runCommand(ctx, [spec.path, ...(spec.args ?? []), name])
  if (ctx.op === 'start') {
    const run = await action('start')
    const outcome = abnormalOutcome(run) ?? (run.exitCode === 0 ? 'ok' : 'failed')
    return finish(ctx, outcome, run, `start: ${describeRun(run, ctx.deadline.timeoutMs)}`)
  }
  if (ctx.op === 'monitor') {
    const run = await action('status')
    const outcome = abnormalOutcome(run) ?? (run.exitCode === 0 ? 'ok' : run.exitCode === 3 ? 'not-running' : 'failed')
    return finish(ctx, outcome, run, `status: ${describeRun(run, ctx.deadline.timeoutMs)}${statusMeaning(run.exitCode)}`)
  }
  const stop = await action('stop')
  const stopText = `stop: ${describeRun(stop, ctx.deadline.timeoutMs)}`
  const abnormal = abnormalOutcome(stop)
  if (abnormal !== null) return finish(ctx, abnormal, stop, stopText)
  if (stop.exitCode === 0) return finish(ctx, 'ok', stop, stopText)
  const status = await action('status')
  const statusText = `${stopText}, then status: ${describeRun(status, ctx.deadline.timeoutMs)}${statusMeaning(status.exitCode)}`
  if (abnormalOutcome(status) === null && status.exitCode === 3) return finish(ctx, 'ok', status, `${statusText}: already stopped counts as stopped`)
  return finish(ctx, abnormalOutcome(status) ?? 'failed', status, statusText)
}
