/**
 * systemd units through `systemctl`. Start and stop wait for systemd's job to finish, so
 * the result means what it says; a timeout kills systemctl, not the job, which systemd
 * carries on with (the caller's stop escalation deals with that).
 */
import { finish, runCommand, type AgentContext } from './context.js'
import { abnormalOutcome, describeRun } from './result.js'
import type { ProcessRun } from './run-process.js'
import type { AgentOutcome, AgentResult, SystemdSpec } from './types.js'

/** `systemctl is-active` exits 3 for a unit that is not active (LSB "not running"). */
const IS_ACTIVE_NOT_RUNNING = 3

/**
 * The state word `systemctl is-active` prints. Printed rather than --quiet because exit 3
 * covers both "inactive" (cleanly stopped) and "failed", which must not look the same.
 */
export function unitStateOutcome(state: string | null, exitCode: number | null): AgentOutcome {
  if (state === 'active' || state === 'reloading') return 'ok'
  if (state === 'inactive') return 'not-running'
  if (state !== null) return 'failed' // failed, activating, deactivating: not serving
  return exitCode === 0 ? 'ok' : exitCode === IS_ACTIVE_NOT_RUNNING ? 'not-running' : 'failed'
}

const UNIT_STATES = ['active', 'reloading', 'inactive', 'failed', 'activating', 'deactivating', 'maintenance', 'refreshing']

function lastStateWord(text: string): string | null {
  return text.split(/\s+/).filter((w) => UNIT_STATES.includes(w)).at(-1) ?? null
}

async function isActive(spec: SystemdSpec, ctx: AgentContext): Promise<{ run: ProcessRun; outcome: AgentOutcome; text: string }> {
  const mark = ctx.capture.mark()
  const run = await runCommand(ctx, ['systemctl', 'is-active', spec.unit])
  const state = abnormalOutcome(run) === null ? lastStateWord(ctx.capture.since(mark)) : null
  const outcome = abnormalOutcome(run) ?? unitStateOutcome(state, run.exitCode)
  return { run, outcome, text: `is-active: ${describeRun(run, ctx.deadline.timeoutMs)}${state === null ? '' : ` (${state})`}` }
}

export async function runSystemdAgent(spec: SystemdSpec, ctx: AgentContext): Promise<AgentResult> {
  if (ctx.op === 'monitor') {
    const { run, outcome, text } = await isActive(spec, ctx)
    return finish(ctx, outcome, run, text)
  }
  if (ctx.op === 'validate') return validateUnit(spec, ctx)
  const run = await runCommand(ctx, ['systemctl', ctx.op, spec.unit])
  const ran = `${ctx.op}: ${describeRun(run, ctx.deadline.timeoutMs)}`
  const abnormal = abnormalOutcome(run)
  if (abnormal !== null) return finish(ctx, abnormal, run, ran)
  if (run.exitCode === 0) return finish(ctx, 'ok', run, ran)
  if (ctx.op === 'start') return finish(ctx, 'failed', run, ran)
  // A stop that failed, of a unit that is not active (or does not exist): stopped is stopped.
  const check = await isActive(spec, ctx)
  if (check.outcome === 'not-running') return finish(ctx, 'ok', check.run, `${ran}, then ${check.text}: not active counts as stopped`)
  return finish(ctx, check.outcome === 'ok' ? 'failed' : check.outcome, check.run, `${ran}, then ${check.text}`)
}

/** The unit must be known to systemd: `systemctl show` says "not-found" (or "masked") otherwise. */
async function validateUnit(spec: SystemdSpec, ctx: AgentContext): Promise<AgentResult> {
  const run = await runCommand(ctx, ['systemctl', 'show', '--property=LoadState', '--value', spec.unit])
  const ran = `show LoadState: ${describeRun(run, ctx.deadline.timeoutMs)}`
  const abnormal = abnormalOutcome(run)
  if (abnormal !== null) return finish(ctx, abnormal, run, ran)
  const state = ctx.capture.kept().toString('utf8').trim().split(/\s+/).at(-1) ?? ''
  if (run.exitCode === 0 && state === 'loaded') return finish(ctx, 'ok', run, `${ran} (loaded)`)
  return finish(ctx, run.exitCode === 0 ? 'misconfigured' : 'failed', run, `${ran} (${state === '' ? 'no state printed' : state})`)
}
