/**
 * OCF resource agents (the Pacemaker / resource-agents API): the agent is an executable
 * `${OCF_ROOT}/resource.d/${provider}/${agent}` called with the action as its only
 * argument, its parameters in OCF_RESKEY_* variables, its verdict in the exit code.
 */
import { join } from 'node:path'
import { CarbError } from '../errors.js'
import { checkExecutable, finish, newContext, runCommand, type AgentContext } from './context.js'
import { ocfAction, ocfOutcome } from './ocf-codes.js'
import { OutputCapture, tailOutput } from './output-capture.js'
import { abnormalOutcome, describeRun, oneLine } from './result.js'
import { TIMED_OUT } from './run-process.js'
import { OCF_ROOT_DEFAULT, type AgentResult, type OcfSpec, type RunOptions } from './types.js'

/** Agents advertise 5 s for meta-data (Dummy, IPaddr2): it only prints text. */
export const META_DATA_TIMEOUT_MS = 5000
/** The largest meta-data accepted; the biggest shipped agents print a few tens of KiB. */
export const META_DATA_MAX_BYTES = 1024 * 1024

/** ocf_exit_reason() prints this before the one line that says why an action failed. */
const EXIT_REASON_PREFIX = 'ocf-exit-reason:'

export function ocfAgentPath(spec: OcfSpec): string {
  return join(spec.ocfRoot ?? OCF_ROOT_DEFAULT, 'resource.d', spec.provider, spec.agent)
}

/** What the OCF API promises an agent to find in its environment. */
export function ocfEnvironment(spec: OcfSpec, timeoutMs: number): Record<string, string> {
  const root = spec.ocfRoot ?? OCF_ROOT_DEFAULT
  const env: Record<string, string> = {
    OCF_ROOT: root,
    OCF_FUNCTIONS_DIR: join(root, 'lib', 'heartbeat'),
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '0',
    OCF_RESOURCE_INSTANCE: spec.name,
    OCF_RESOURCE_TYPE: spec.agent,
    OCF_RESOURCE_PROVIDER: spec.provider,
    OCF_RESKEY_CRM_meta_timeout: String(timeoutMs),
  }
  for (const [key, value] of Object.entries(spec.params)) env[`OCF_RESKEY_${key}`] = value
  return env
}

/** The agent's own explanation, the last `ocf-exit-reason:` line, if it gave one. */
export function exitReason(output: string): string | null {
  const lines = output.split('\n').filter((l) => l.startsWith(EXIT_REASON_PREFIX))
  const last = lines.at(-1)
  return last === undefined ? null : last.slice(EXIT_REASON_PREFIX.length).trim()
}

export async function runOcfAgent(spec: OcfSpec, ctx: AgentContext): Promise<AgentResult> {
  const path = ocfAgentPath(spec)
  const problem = await checkExecutable(ctx, path)
  if (problem === TIMED_OUT) return finish(ctx, 'timeout', null, `looking at ${path} took longer than ${ctx.deadline.timeoutMs} ms`)
  if (problem !== null) return finish(ctx, 'misconfigured', null, `OCF agent ${spec.provider}:${spec.agent}: ${problem}`)
  const action = ocfAction(ctx.op)
  const run = await runCommand(ctx, [path, action], { env: ocfEnvironment(spec, ctx.deadline.timeoutMs) })
  const ran = `${action}: ${describeRun(run, ctx.deadline.timeoutMs)}`
  const abnormal = abnormalOutcome(run)
  if (abnormal !== null || run.exitCode === null) return finish(ctx, abnormal ?? 'failed', run, ran)
  const verdict = ocfOutcome(ctx.op, run.exitCode)
  const reason = exitReason(ctx.capture.kept().toString('utf8'))
  return finish(ctx, verdict.outcome, run, `${action}: ${verdict.note}${reason === null ? '' : `: ${reason}`}`)
}

/**
 * The agent's meta-data XML (its parameters and advised timeouts). Throws
 * CARB_ERR_AGENT_META_DATA when the agent cannot give it: this runs at configuration time.
 */
export async function metaData(spec: OcfSpec, options: Partial<RunOptions> = {}): Promise<string> {
  const ctx = newContext('validate', { timeoutMs: META_DATA_TIMEOUT_MS, ...options })
  const stdout = new OutputCapture(options.onOutput, META_DATA_MAX_BYTES, ['stdout'])
  const fail = (why: string): CarbError => new CarbError('CARB_ERR_AGENT_META_DATA', oneLine(why), `${spec.provider}:${spec.agent}`)
  const path = ocfAgentPath(spec)
  const problem = await checkExecutable(ctx, path)
  if (problem !== null) throw fail(problem === TIMED_OUT ? `looking at ${path} timed out` : problem)
  const run = await runCommand({ ...ctx, capture: stdout }, [path, 'meta-data'], { env: ocfEnvironment(spec, ctx.deadline.timeoutMs) })
  const text = stdout.kept().toString('utf8')
  if (abnormalOutcome(run) !== null || run.exitCode !== 0) {
    throw fail(`meta-data: ${describeRun(run, ctx.deadline.timeoutMs)}: ${tailOutput(stdout.kept(), 0, 200)}`)
  }
  if (stdout.droppedBytes > 0) throw fail(`meta-data is larger than ${META_DATA_MAX_BYTES} bytes`)
  if (!text.includes('<resource-agent')) throw fail('meta-data printed no <resource-agent> document')
  return text
}
