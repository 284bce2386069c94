/**
 * Running a fence agent: the power switch of DESIGN.md, spoken to by the fence-agents stdin
 * protocol (agent-protocol.ts), so every agent of Debian's fence-agents package (fence_ipmilan,
 * fence_apc, fence_virsh, fence_redfish...) and any script that follows the protocol can fence
 * a node.
 *
 * An agent runs as resource agents do (src/agents/run-process.ts): an argument vector, never a
 * shell; a clean environment (PATH and LC_ALL=C only); its own process group, killed whole
 * when the timeout passes; output bounded, its tail kept. It gets no arguments and reads its
 * parameters from stdin, where a password is out of `ps` and /proc/PID/environ.
 *
 * A failure is a result, never an exception: 'ok' only for exit 0 (status/monitor: 0 or 2),
 * and a timeout is a failure to fence, never a success ("Timeout is a failure, not success",
 * FenceAgentAPI). Only a call the config loader can never produce (a newline in a parameter,
 * a relative agent path) throws CARB_ERR_AGENT_BAD_CALL.
 *
 * Secrets: values of parameters named like passwords (agent-protocol.ts isSecretKey) are
 * masked in every line handed to onOutput, in `output` and in `detail`, whatever the agent
 * echoes (fencing.py prints "Ignoring unknown option 'password=...'" for a key it does not know).
 *
 * Time: the answer comes within timeoutMs when the agent ends by itself or on the group's
 * SIGTERM; one that ignores SIGTERM costs AGENT_KILL_GRACE_MS more, and one stuck in the kernel
 * AGENT_REAP_WAIT_MS more on top (src/agents/types.ts).
 */
import { basename, isAbsolute } from 'node:path'
import { agentEnvironment, executableProblem } from '../agents/environment.js'
import { OutputCapture, tailOutput } from '../agents/output-capture.js'
import { describeRun, oneLine } from '../agents/result.js'
import { Deadline, runProcess, TIMED_OUT, within, type ProcessRun } from '../agents/run-process.js'
import { AGENT_OUTPUT_MAX_BYTES } from '../agents/types.js'
import { CarbError } from '../errors.js'
import {
  exitOutcome, exitPower, fenceStdin, LineRedactor, maskLeadingPartial, redact, secretValues,
  type FenceAgentAction, type FenceOutcome, type FenceTarget, type PowerState,
} from './agent-protocol.js'

export type { FenceAgentAction, FenceOutcome, FenceTarget, PowerState } from './agent-protocol.js'

export interface FenceAgentCall {
  /** Absolute path of the agent, e.g. /usr/sbin/fence_ipmilan. */
  agent: string
  /** key=value lines besides action, port, plug and nodename (ipaddr, login, passwd...). */
  params: Readonly<Record<string, string>>
  /** The whole call, from looking at the executable to its exit. */
  timeoutMs: number
}

export interface FenceAgentOptions {
  /** Each output line as it arrives, secrets masked, for the node log. */
  onOutput?: (line: string) => void
}

/**
 * ok            exit 0 (status and monitor: 0 = on, 2 = off)
 * failed        any other exit, or killed by a signal: the device could not do it or say so
 * timeout       not finished within timeoutMs; its whole process group was killed
 * misconfigured the agent cannot run here: missing, not executable, bad interpreter
 */
export interface FenceAgentResult {
  outcome: FenceOutcome
  /** One line: agent, action, port, and the exit or the timeout; on failure the agent's last word. */
  detail: string
  exitCode: number | null
  /** stdout and stderr in arrival order, secrets masked, at most AGENT_OUTPUT_MAX_BYTES, tail kept. */
  output: string
  durationMs: number
}

export interface FenceStatusResult extends FenceAgentResult {
  /** What the device reported: exit 0 on, 2 off; 'unknown' for anything else. */
  power: PowerState
}

/** Powers the target off: the fencing call. 'ok' is the agent's word that it is off. */
export function fenceOff(agent: FenceAgentCall, target: FenceTarget, options: FenceAgentOptions = {}): Promise<FenceAgentResult> {
  return fenceAction('off', agent, target, options)
}

/** Asks the device whether the target's power is on (exit 0) or off (exit 2). */
export async function fenceStatus(agent: FenceAgentCall, target: FenceTarget, options: FenceAgentOptions = {}): Promise<FenceStatusResult> {
  const result = await fenceAction('status', agent, target, options)
  return { ...result, power: result.outcome === 'ok' ? exitPower('status', result.exitCode) : 'unknown' }
}

/** Runs `action` against `target` through `agent`. Throws only on a call the protocol cannot carry. */
export async function fenceAction(action: FenceAgentAction, agent: FenceAgentCall, target: FenceTarget, options: FenceAgentOptions = {}): Promise<FenceAgentResult> {
  const stdin = checkedCall(action, agent, target)
  const secrets = secretValues(agent.params)
  const deadline = new Deadline(agent.timeoutMs)
  const onOutput = options.onOutput
  const redactor = new LineRedactor(secrets)
  const capture = new OutputCapture(onOutput === undefined ? undefined : (line) => onOutput(redactor.line(line)))
  const name = `${basename(agent.agent)} ${action} port ${target.port}${target.nodename === target.port ? '' : ` (node ${target.nodename})`}`
  const finish = (outcome: FenceOutcome, run: ProcessRun | null, what: string): FenceAgentResult => {
    const text = keptText(capture, secrets)
    const why = outcome === 'ok' || outcome === 'misconfigured' ? '' : lastWord(text)
    return {
      outcome,
      detail: oneLine(redact(`${name}: ${what}${why === '' ? '' : `: ${why}`}`, secrets)),
      exitCode: run?.exitCode ?? null,
      output: tailOutput(Buffer.from(text, 'utf8'), capture.droppedBytes, AGENT_OUTPUT_MAX_BYTES),
      durationMs: deadline.elapsedMs(),
    }
  }
  const problem = await within(executableProblem(agent.agent), deadline.remainingMs())
  if (problem === TIMED_OUT) return finish('timeout', null, `looking at ${agent.agent} took longer than ${agent.timeoutMs} ms`)
  if (problem !== null) return finish('misconfigured', null, problem)
  const run = await runProcess([agent.agent], { timeoutMs: deadline.remainingMs(), env: agentEnvironment({}), capture, stdin })
  return finish(runOutcome(action, run), run, describeRun(run, agent.timeoutMs) + powerWords(action, run))
}

/** The stdin text, after the checks the config loader makes; throws CARB_ERR_AGENT_BAD_CALL. */
function checkedCall(action: FenceAgentAction, agent: FenceAgentCall, target: FenceTarget): string {
  if (!isAbsolute(agent.agent)) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `a fence agent is run by absolute path, got ${JSON.stringify(agent.agent)}`)
  if (!Number.isInteger(agent.timeoutMs) || agent.timeoutMs <= 0) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `fence agent timeoutMs must be a positive integer, got ${agent.timeoutMs}`)
  return fenceStdin(action, target, agent.params)
}

function runOutcome(action: FenceAgentAction, run: ProcessRun): FenceOutcome {
  if (run.timedOut) return 'timeout'
  if (run.spawnError !== null) return 'misconfigured'
  if (run.exitCode === null) return 'failed' // killed by a signal
  return exitOutcome(action, run.exitCode)
}

function powerWords(action: FenceAgentAction, run: ProcessRun): string {
  const power = run.timedOut ? 'unknown' : exitPower(action, run.exitCode)
  return power === 'unknown' ? '' : ` (${power})`
}

/** Everything the agent printed that is still held, secrets masked (a front cut mid-secret too). */
function keptText(capture: OutputCapture, secrets: readonly string[]): string {
  const text = redact(capture.kept().toString('utf8'), secrets)
  return capture.droppedBytes > 0 ? maskLeadingPartial(text, secrets) : text
}

/** fencing.py ends every failure with this line; the line before it says what failed. */
const USAGE_HINT = /Please use '-h' for usage/
/** fencing.py's log prefix, "2026-01-02 03:04:05,678 ": the journal has the time already. */
const LOG_TIME_PREFIX = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+\s+/

/** The agent's last meaningful output line, for the detail of a failure. */
function lastWord(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !USAGE_HINT.test(l))
  return (lines.at(-1) ?? '').replace(LOG_TIME_PREFIX, '')
}
