/**
 * The one entry point the service lifecycle uses: run one operation of one resource and
 * report what happened. Agent failures, timeouts and surprises are results; only a call
 * that breaks the contract (an unchecked spec, a bad timeout) throws.
 */
import { CarbError, isCarbError } from '../errors.js'
import { finish, newContext, type AgentContext } from './context.js'
import { runFsAgent } from './fs-agent.js'
import { runIpAgent } from './ip-agent.js'
import { runOcfAgent } from './ocf-agent.js'
import { runScriptAgent } from './script-agent.js'
import { RESOURCE_FIELDS, validateResourceSpec } from './spec.js'
import { runSystemdAgent } from './systemd-agent.js'
import { AGENT_OPS, type AgentOp, type AgentResult, type ResourceSpec, type RunOptions } from './types.js'

/** No operation may be given more than an hour: a longer "timeout" is a unit mistake (s for ms). */
export const AGENT_TIMEOUT_MAX_MS = 60 * 60 * 1000

function agentFields(spec: ResourceSpec): unknown {
  const known = RESOURCE_FIELDS[spec?.type] as readonly string[] | undefined
  if (known === undefined) return spec
  return Object.fromEntries(Object.entries(spec).filter(([key]) => known.includes(key)))
}

function checkCall(spec: ResourceSpec, op: AgentOp, options: RunOptions): ResourceSpec {
  if (!AGENT_OPS.includes(op)) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `unknown agent operation ${JSON.stringify(op)}`)
  const { timeoutMs } = options
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > AGENT_TIMEOUT_MAX_MS) {
    throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `timeoutMs must be an integer from 1 to ${AGENT_TIMEOUT_MAX_MS}, got ${timeoutMs}`)
  }
  try {
    // Specs come from the checked config; checking again costs microseconds and keeps a
    // hand-built spec from putting an unchecked word on a command line. Fields that are not
    // the agent's (a service's timeouts travel with its resources) are left out, not refused.
    return validateResourceSpec(agentFields(spec), `resource ${JSON.stringify((spec as { name?: unknown }).name)}`)
  } catch (error) {
    throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `runAgent was given an invalid spec: ${isCarbError(error) ? error.message : String(error)}`)
  }
}

function dispatch(spec: ResourceSpec, ctx: AgentContext): Promise<AgentResult> {
  switch (spec.type) {
    case 'script': return runScriptAgent(spec, ctx)
    case 'ocf': return runOcfAgent(spec, ctx)
    case 'systemd': return runSystemdAgent(spec, ctx)
    case 'ip': return runIpAgent(spec, ctx)
    case 'fs': return runFsAgent(spec, ctx)
  }
}

export async function runAgent(spec: ResourceSpec, op: AgentOp, options: RunOptions): Promise<AgentResult> {
  const checked = checkCall(spec, op, options)
  const ctx = newContext(op, options)
  try {
    const result = await dispatch(checked, ctx)
    return { ...result, detail: `${checked.name} ${op}: ${result.detail}` }
  } catch (error) {
    if (isCarbError(error) && error.code === 'CARB_ERR_AGENT_BAD_CALL') throw error
    // An unexpected error while acting (an unreadable /proc, say) is this resource failing, not the node.
    return finish(ctx, 'failed', null, `${checked.name} ${op}: internal error: ${error instanceof Error ? error.message : String(error)}`)
  }
}
