/**
 * Signalling and watching an agent's process group. Every agent is spawned as the leader of
 * its own group, so a timed-out agent is killed with everything it forked (a hung `sleep`
 * inside a script, a half-started daemon), and nothing outside it.
 */
import { readdir, readFile } from 'node:fs/promises'

/** How often the group is looked at while it is given time to exit after SIGTERM. */
const GROUP_POLL_MS = 50

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // ESRCH: the group has no member left.
  }
}

/**
 * `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses, so fields are
 * counted from the last ')'. Returns null for a line that is not in that shape.
 */
export function parseProcStat(line: string): { pid: number; state: string; pgrp: number } | null {
  const close = line.lastIndexOf(')')
  if (close < 0) return null
  const pid = Number.parseInt(line, 10)
  const [state, , pgrp] = line.slice(close + 2).split(' ')
  if (!Number.isInteger(pid) || state === undefined || pgrp === undefined) return null
  return { pid, state, pgrp: Number(pgrp) }
}

/**
 * Whether any live process is still in group `pgid`. Zombies do not count: they hold no
 * resource, and where PID 1 does not reap orphans (some containers) they never go away.
 */
export async function groupHasLiveMember(pgid: number): Promise<boolean> {
  let entries: string[]
  try {
    entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e))
  } catch {
    return true // cannot tell: assume alive, so the caller goes on to SIGKILL
  }
  const stats = await Promise.all(entries.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''))) // '' = exited while we looked
  return stats.some((text) => {
    const stat = parseProcStat(text)
    return stat !== null && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X'
  })
}

/** Resolves true when the group has no live member, false when `waitMs` passed first. */
export async function waitGroupGone(pgid: number, waitMs: number): Promise<boolean> {
  const endMs = performance.now() + waitMs
  for (;;) {
    if (!(await groupHasLiveMember(pgid))) return true
    const leftMs = endMs - performance.now()
    if (leftMs <= 0) return false
    await new Promise((resolve) => setTimeout(resolve, Math.min(GROUP_POLL_MS, leftMs)))
  }
}
