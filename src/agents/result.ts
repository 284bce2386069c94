/** Building an AgentResult from what an operation's commands did. */
import { tailOutput, type OutputCapture } from './output-capture.js'
import type { Deadline, ProcessRun } from './run-process.js'
import { AGENT_OUTPUT_MAX_BYTES, type AgentOp, type AgentOutcome, type AgentResult } from './types.js'

/** A detail is one log line; a longer one is cut here rather than flooding the log. */
export const DETAIL_MAX_CHARS = 300

export function oneLine(text: string): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
  return flat.length > DETAIL_MAX_CHARS ? `${flat.slice(0, DETAIL_MAX_CHARS - 3)}...` : flat
}

/** What happened to a command, for a detail line: "exit 3", "killed by SIGTERM", "timed out after 300 ms". */
export function describeRun(run: ProcessRun, timeoutMs: number): string {
  if (run.spawnError !== null) return `could not start (${run.spawnError})`
  if (run.noTimeLeft) return `not run: the operation's ${timeoutMs} ms were used up`
  if (run.timedOut) {
    const end = run.unreaped ? 'still not exited after SIGKILL (stuck in the kernel?)' : 'process group killed'
    return `timed out after ${timeoutMs} ms, ${end}`
  }
  if (run.signal !== null) return `killed by ${run.signal}`
  return `exit ${run.exitCode}`
}

/** The result of an operation whose last command was `last` (null when no command ran). */
export function makeResult(
  op: AgentOp, outcome: AgentOutcome, last: ProcessRun | null, capture: OutputCapture, deadline: Deadline, detail: string,
): AgentResult {
  return {
    op,
    outcome,
    exitCode: last?.exitCode ?? null,
    signal: last?.signal ?? null,
    durationMs: deadline.elapsedMs(),
    output: tailOutput(capture.kept(), capture.droppedBytes, AGENT_OUTPUT_MAX_BYTES),
    detail: oneLine(detail),
  }
}

/** The outcome a command that did not run to an exit code forces, or null when it exited. */
export function abnormalOutcome(run: ProcessRun): AgentOutcome | null {
  if (run.timedOut) return 'timeout'
  if (run.spawnError !== null) return 'misconfigured'
  if (run.signal !== null) return 'failed'
  return null
}
