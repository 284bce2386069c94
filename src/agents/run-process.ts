/**
 * Runs one command of an agent with a hard deadline. An argument vector, never a shell
 * string, so a resource name cannot inject a command. The command leads its own process
 * group (detached), so on timeout the whole group gets SIGTERM, then SIGKILL after a
 * grace, and the caller is answered even if something will not die (uninterruptible I/O).
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { CarbError } from '../errors.js'
import type { OutputCapture } from './output-capture.js'
import { signalGroup, waitGroupGone } from './process-group.js'
import { spawnAtOomScoreZero } from './oom-score.js'
import { AGENT_KILL_GRACE_MS, AGENT_REAP_WAIT_MS } from './types.js'

/**
 * After a normal exit, how long output may keep arriving. A helper the agent left running
 * (IPaddr2's background send_arp, a daemon that kept stdout) may hold the pipes for ever, so
 * the wait is bounded; an agent whose pipes close normally costs nothing. 200 ms lost the
 * tail of short agents' output on a loaded 2-core machine; 1 s has not.
 */
export const STDIO_DRAIN_MS = 1000

export interface ProcessRun {
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  /** The command could not be started at all (ENOENT, EACCES); exitCode and signal are null. */
  spawnError: string | null
  /** Still not exited AGENT_REAP_WAIT_MS after SIGKILL: stuck in the kernel. */
  unreaped: boolean
  /** Not run at all: the operation's deadline had already passed (timedOut is set too). */
  noTimeLeft: boolean
  durationMs: number
}

export interface ProcessOptions {
  timeoutMs: number
  env: NodeJS.ProcessEnv
  capture: OutputCapture
  /**
   * Written to the command's stdin, which is then closed (fence agents read their key=value
   * lines there). Absent: stdin is /dev/null, as for every resource agent.
   */
  stdin?: string
  /** Aborted: the command's process group is killed at once, as on a timeout (a node going out). */
  signal?: AbortSignal
}

/** The time left for an operation that runs several commands under one timeout. */
export class Deadline {
  private readonly endMs: number
  private readonly startMs: number
  /** `now`: monotonic milliseconds; the runtime passes its clock (virtual in the simulator). */
  constructor(readonly timeoutMs: number, private readonly now: () => number = () => performance.now()) {
    this.startMs = now()
    this.endMs = this.startMs + timeoutMs
  }
  remainingMs(): number { return Math.max(0, Math.floor(this.endMs - this.now())) }
  elapsedMs(): number { return Math.round(this.now() - this.startMs) }
}

type Ended = { code: number | null; signal: NodeJS.Signals | null } | { error: Error }
export const TIMED_OUT = Symbol('timed out')

/** `promise`, or TIMED_OUT if it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms)
    if (signal === undefined) return
    onAbort = () => resolve(TIMED_OUT)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([promise, expiry]).finally(() => {
    clearTimeout(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  })
}

function streamsClosed(child: ChildProcess): Promise<void> {
  const closed = [child.stdout, child.stderr].map((s) => (s === null || s.closed ? Promise.resolve() : new Promise<void>((r) => s.once('close', () => r()))))
  return Promise.all(closed).then(() => undefined)
}

/**
 * Stops listening to the pipes without closing them: closing would SIGPIPE a helper the
 * agent left behind on purpose. Late output is read and dropped; unref lets the node exit.
 */
function detachStreams(child: ChildProcess): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue
    stream.removeAllListeners('data')
    stream.on('data', () => undefined)
    ;(stream as unknown as { unref?: () => void }).unref?.()
  }
}

/**
 * Hands `text` to the child's stdin and closes it. A child that exits without reading all of
 * it (or never started) makes the pipe fail with EPIPE: that is the child's business, seen in
 * its exit, never an uncaught error here.
 */
function writeStdin(child: ChildProcess, text: string): void {
  const stdin = child.stdin
  if (stdin === null) return
  stdin.on('error', () => undefined)
  stdin.end(text)
}

export async function runProcess(argv: readonly string[], options: ProcessOptions): Promise<ProcessRun> {
  const [command, ...args] = argv
  if (command === undefined) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', 'runProcess needs a command')
  const started = performance.now()
  const done = (fields: Partial<ProcessRun>): ProcessRun => ({
    exitCode: null, signal: null, timedOut: false, spawnError: null, unreaped: false, noTimeLeft: false, ...fields, durationMs: Math.round(performance.now() - started),
  })
  if (options.timeoutMs <= 0 || options.signal?.aborted === true) return done({ timedOut: true, noTimeLeft: true })
  // cwd "/": an agent must never hold a file system busy (it may be the one we unmount next).
  const base = { detached: true, env: options.env, cwd: '/' }
  // At OOM score 0, not the daemon's -1000: services the agent starts must stay killable (oom-score.ts).
  const child: ChildProcessByStdio<Writable | null, Readable, Readable> = spawnAtOomScoreZero(() => options.stdin === undefined
    ? spawn(command, args, { ...base, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command, args, { ...base, stdio: ['pipe', 'pipe', 'pipe'] }))
  if (options.stdin !== undefined) writeStdin(child, options.stdin)
  const ended = new Promise<Ended>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', (error) => resolve({ error }))
  })
  child.stdout.on('data', (chunk: Buffer) => options.capture.push('stdout', chunk))
  child.stderr.on('data', (chunk: Buffer) => options.capture.push('stderr', chunk))
  const first = await within(ended, options.timeoutMs, options.signal)
  if (first !== TIMED_OUT) {
    if ('error' in first) return done({ spawnError: `${command}: ${(first.error as NodeJS.ErrnoException).code ?? first.error.message}` })
    await within(streamsClosed(child), STDIO_DRAIN_MS)
    detachStreams(child)
    options.capture.flush()
    return done({ exitCode: first.code, signal: first.signal })
  }
  return done(await killTimedOut(child, ended, options.capture))
}

async function killTimedOut(child: ChildProcess, ended: Promise<Ended>, capture: OutputCapture): Promise<Partial<ProcessRun>> {
  const pgid = child.pid
  if (pgid === undefined) return { timedOut: true }
  signalGroup(pgid, 'SIGTERM')
  // SIGKILL only to a group that still has live members: the id of an empty group can be reused.
  if (!(await waitGroupGone(pgid, AGENT_KILL_GRACE_MS))) signalGroup(pgid, 'SIGKILL')
  // A killed process takes a moment to die: report only when the whole group is gone, or
  // when the bound says something is stuck in the kernel.
  const reapStartMs = performance.now()
  const last = await within(ended, AGENT_REAP_WAIT_MS)
  const groupGone = await waitGroupGone(pgid, Math.max(0, AGENT_REAP_WAIT_MS - (performance.now() - reapStartMs)))
  for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy()
  capture.flush()
  const exit = last === TIMED_OUT || 'error' in last ? {} : { exitCode: last.code, signal: last.signal }
  return { timedOut: true, unreaped: last === TIMED_OUT || !groupGone, ...exit }
}
