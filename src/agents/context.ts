/**
 * One operation in progress: its deadline (shared by every command it runs), its output,
 * and the caller's options. Agent files run commands and finish through this.
 */
import { agentEnvironment, executableProblem, inNetns } from './environment.js'
import { OutputCapture } from './output-capture.js'
import { makeResult } from './result.js'
import { Deadline, runProcess, TIMED_OUT, within, type ProcessRun } from './run-process.js'
import type { AgentOp, AgentOutcome, AgentResult, RunOptions } from './types.js'

export interface AgentContext {
  op: AgentOp
  deadline: Deadline
  capture: OutputCapture
  options: RunOptions
}

export function newContext(op: AgentOp, options: RunOptions): AgentContext {
  return { op, deadline: new Deadline(options.timeoutMs), capture: new OutputCapture(options.onOutput), options }
}

export interface CommandOptions {
  /** Variables the agent type needs (OCF_*), on top of the clean base. */
  env?: Record<string, string>
  /** Run outside the caller's netns even if one is set (mounts: see fs-agent.ts). */
  ignoreNetns?: boolean
  /** A tighter bound than the operation's remaining time (arping has its own). */
  timeoutMs?: number
}

/** Runs one command under what is left of the operation's deadline. */
export function runCommand(ctx: AgentContext, argv: readonly string[], command: CommandOptions = {}): Promise<ProcessRun> {
  const remainingMs = ctx.deadline.remainingMs()
  return runProcess(inNetns(argv, command.ignoreNetns === true ? undefined : ctx.options.netns), {
    timeoutMs: command.timeoutMs === undefined ? remainingMs : Math.min(remainingMs, command.timeoutMs),
    env: agentEnvironment(command.env ?? {}, ctx.options.env),
    capture: ctx.capture,
    ...(ctx.options.signal === undefined ? {} : { signal: ctx.options.signal }),
  })
}

/** The operation's result; `last` is the command whose exit code it reports. */
export function finish(ctx: AgentContext, outcome: AgentOutcome, last: ProcessRun | null, detail: string): AgentResult {
  return makeResult(ctx.op, outcome, last, ctx.capture, ctx.deadline, detail)
}

/**
 * Why the agent's executable cannot run (null when it can), or TIMED_OUT when even looking
 * at it outlived the deadline (a script on a hung network file system).
 */
export function checkExecutable(ctx: AgentContext, path: string): Promise<string | null | typeof TIMED_OUT> {
  return within(executableProblem(path), ctx.deadline.remainingMs())
}
