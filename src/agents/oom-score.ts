/**
 * Agents start at OOM score 0, whatever the daemon's own score. carbonado.service gives the
 * daemon OOMScoreAdjust=-1000 (the cluster manager must outlive the services it guards), and a
 * child inherits its parent's score: without this, every service the agents start would be
 * exempt from the OOM killer too, and a leaking service would make the kernel kill something
 * else.
 *
 * The score is set on the daemon itself around the (synchronous) spawn, so the child starts
 * with 0 before it runs a single instruction. Writing the child's /proc/PID/oom_score_adj after
 * the spawn is too late: a shell forks its first command before that write lands (measured:
 * `sh -c 'cat /proc/self/oom_score_adj'` still printed the old score). Going back is allowed:
 * a score systemd set (with CAP_SYS_RESOURCE) is also the floor this process may return to.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const OWN_SCORE_FILE = '/proc/self/oom_score_adj'

/** This process's own oom_score_adj as systemd set it (0 where /proc cannot tell), read once. */
let ownScore: number | undefined

export function ownOomScoreAdj(): number {
  if (ownScore === undefined) {
    try {
      ownScore = Number.parseInt(readFileSync(OWN_SCORE_FILE, 'utf8'), 10) || 0
    } catch {
      ownScore = 0
    }
  }
  return ownScore
}

function writeOwnScore(score: number): boolean {
  try {
    writeFileSync(OWN_SCORE_FILE, String(score))
    return true
  } catch {
    return false
  }
}

/**
 * Runs `spawn` (which must fork synchronously, as child_process.spawn does) with this process
 * at score 0, then puts its own score back. Where the score cannot be put back, the daemon
 * stays at 0 from then on (unprotected, but every agent still runs) and stops trying.
 */
export function spawnAtOomScoreZero<T>(spawn: () => T): T {
  const own = ownOomScoreAdj()
  if (own === 0 || !writeOwnScore(0)) return spawn()
  try {
    return spawn()
  } finally {
    if (!writeOwnScore(own)) ownScore = 0
  }
}
