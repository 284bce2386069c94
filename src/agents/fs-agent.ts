/**
 * A file system on the shared storage, built in: mount at start, unmount at stop (killing
 * what holds it busy, if allowed), "mounted here" as its health.
 *
 * Mounting one non-cluster file system twice corrupts it, so a device that is already
 * mounted anywhere else on this node is refused, whatever name it is given.
 *
 * RunOptions.netns is ignored here: `ip netns exec` runs its command in a throw-away mount
 * namespace, so a mount made through it vanishes when `mount` exits, and mounts do not
 * belong to network namespaces anyway.
 */
import { mkdir } from 'node:fs/promises'
import { finish, runCommand, type AgentContext } from './context.js'
import { agentEnvironment, findInPath } from './environment.js'
import { topMountAt } from './mountinfo.js'
import { describeState, identify, readFsState, type FsState } from './fs-state.js'
import { abnormalOutcome, describeRun } from './result.js'
import { TIMED_OUT, within } from './run-process.js'
import type { AgentResult, FsSpec } from './types.js'
import { stopMount } from './fs-unmount.js'

const OUTSIDE_NETNS = { ignoreNetns: true } as const

export async function runFsAgent(spec: FsSpec, ctx: AgentContext): Promise<AgentResult> {
  const device = await within(identify(spec.device), ctx.deadline.remainingMs())
  if (device === TIMED_OUT) return finish(ctx, 'timeout', null, `looking at ${spec.device} took longer than ${ctx.deadline.timeoutMs} ms`)
  if (device === 'missing') {
    if (ctx.op === 'stop') return finish(ctx, 'ok', null, `${spec.device} does not exist here, so it is not mounted`)
    if (ctx.op === 'monitor') return finish(ctx, 'not-running', null, `${spec.device} does not exist here`)
    return finish(ctx, ctx.op === 'validate' ? 'misconfigured' : 'failed', null, `${spec.device} does not exist`)
  }
  if (device === 'not-block') return finish(ctx, 'misconfigured', null, `${spec.device} is not a block device`)
  const state = await within(readFsState(spec, device), ctx.deadline.remainingMs())
  if (state === TIMED_OUT) return finish(ctx, 'timeout', null, `reading the mount state of ${spec.mountPoint} took longer than ${ctx.deadline.timeoutMs} ms`)
  switch (ctx.op) {
    case 'validate': {
      const missing = findInPath('mount', agentEnvironment({}, ctx.options.env)) === null
      return finish(ctx, missing ? 'misconfigured' : 'ok', null, missing ? 'mount is not installed' : `${spec.device} exists`)
    }
    case 'monitor':
      return finish(ctx, state.mountedHere ? 'ok' : 'not-running', null, describeState(spec, state))
    case 'start':
      return mountFs(spec, ctx, state)
    case 'stop':
      return stopMount(spec, ctx, state)
  }
}

async function mountFs(spec: FsSpec, ctx: AgentContext, state: FsState): Promise<AgentResult> {
  if (state.elsewhere.length > 0) {
    return finish(ctx, 'failed', null, `${spec.device} is already mounted on ${state.elsewhere.join(', ')} on this node; refusing to mount it on ${spec.mountPoint} too`)
  }
  if (state.mountedHere) return finish(ctx, 'ok', null, `${spec.device} is already mounted on ${spec.mountPoint}`)
  const top = state.mountPoint === null ? undefined : topMountAt(state.entries, state.mountPoint)
  if (top !== undefined) return finish(ctx, 'failed', null, `${spec.mountPoint} already has ${top.source} mounted on it`)
  try {
    await mkdir(spec.mountPoint, { recursive: true })
  } catch (error) {
    return finish(ctx, 'failed', null, `cannot create ${spec.mountPoint} (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  const options = spec.options === undefined ? [] : ['-o', spec.options]
  const run = await runCommand(ctx, ['mount', '-t', spec.fsType, ...options, '--', spec.device, spec.mountPoint], OUTSIDE_NETNS)
  const ran = `mount -t ${spec.fsType} ${spec.device} ${spec.mountPoint}: ${describeRun(run, ctx.deadline.timeoutMs)}`
  const outcome = abnormalOutcome(run) ?? (run.exitCode === 0 ? 'ok' : 'failed')
  if (outcome !== 'ok') return finish(ctx, outcome, run, ran)
  const after = await readFsState(spec, state.device)
  return finish(ctx, after.mountedHere ? 'ok' : 'failed', run, after.mountedHere ? ran : `${ran}, but ${describeState(spec, after)}`)
}
