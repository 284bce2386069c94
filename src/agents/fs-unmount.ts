/**
 * Unmounting a shared file system at stop. A busy file system is forced free only by
 * killing what holds it (`fuser -k -M -m`: TERM first, then KILL), never by a lazy unmount:
 * `umount -l` only hides the mount, the processes keep writing, and the node that takes
 * over would mount a file system that is still being written here.
 */
import { finish, runCommand, type AgentContext } from './context.js'
import { agentEnvironment, findInPath } from './environment.js'
import { readFsState, describeState, type FsState } from './fs-state.js'
import { abnormalOutcome, describeRun } from './result.js'
import type { ProcessRun } from './run-process.js'
import type { AgentResult, FsSpec } from './types.js'

/** Unmount attempts at most: the first, then up to three after killing holders. */
export const UMOUNT_ATTEMPTS_MAX = 4
/** After fuser's signals, time for the killed processes to exit and close their files. */
export const KILL_SETTLE_MS = 300

const OUTSIDE_NETNS = { ignoreNetns: true } as const

async function umount(spec: FsSpec, ctx: AgentContext): Promise<ProcessRun> {
  return runCommand(ctx, ['umount', '--', spec.mountPoint], OUTSIDE_NETNS)
}

/**
 * Kills the processes using the file system mounted at the mount point. Called only when
 * mountinfo shows our device there, and -M makes fuser refuse anything but a mount point:
 * `fuser -km` on a plain directory would kill every process on the parent file system.
 */
async function killHolders(spec: FsSpec, ctx: AgentContext, attempt: number): Promise<string> {
  if (findInPath('fuser', agentEnvironment({}, ctx.options.env)) === null) return 'fuser is not installed: cannot free a busy mount'
  const signal = attempt === 1 ? '-TERM' : '-KILL'
  const run = await runCommand(ctx, ['fuser', '-k', signal, '-M', '-m', spec.mountPoint], OUTSIDE_NETNS)
  await new Promise((resolve) => setTimeout(resolve, Math.min(KILL_SETTLE_MS, ctx.deadline.remainingMs())))
  return `fuser -k ${signal}: ${describeRun(run, ctx.deadline.timeoutMs)}`
}

export async function stopMount(spec: FsSpec, ctx: AgentContext, initial: FsState): Promise<AgentResult> {
  if (!initial.mountedHere) return finish(ctx, 'ok', null, `${describeState(spec, initial)}: nothing to unmount`)
  const steps: string[] = []
  let state = initial
  let last: ProcessRun | null = null
  for (let attempt = 1; attempt <= UMOUNT_ATTEMPTS_MAX && state.mountedHere; attempt++) {
    last = await umount(spec, ctx)
    steps.push(`umount: ${describeRun(last, ctx.deadline.timeoutMs)}`)
    const abnormal = abnormalOutcome(last)
    if (abnormal !== null) return finish(ctx, abnormal, last, steps.join('; '))
    state = await readFsState(spec, state.device)
    if (!state.mountedHere) break
    if (spec.forceUnmount === false) return finish(ctx, 'failed', last, `${steps.join('; ')}; still mounted and forceUnmount is off`)
    if (attempt === UMOUNT_ATTEMPTS_MAX) break
    steps.push(await killHolders(spec, ctx, attempt))
    if (ctx.deadline.remainingMs() === 0) return finish(ctx, 'timeout', last, `${steps.join('; ')}; out of time`)
  }
  if (state.mountedHere) return finish(ctx, 'failed', last, `${steps.join('; ')}; still mounted after ${UMOUNT_ATTEMPTS_MAX} attempts`)
  return finish(ctx, 'ok', last, steps.join('; '))
}
