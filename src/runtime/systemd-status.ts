/**
 * What the node tells systemd (pure): the one-line STATUS= summary `systemctl status` shows,
 * and whether the node is healthy enough to ping systemd's watchdog.
 */
import type { StatusView } from './status-view.js'

/** "member (incarnation 2) of test: 3 of 3 nodes up (a b c); running here: web; fencing: none". */
export function statusLine(view: StatusView): string {
  const self = view.members.find((m) => m.self)
  const up = view.members.filter((m) => m.self ? m.state === 'member' : m.state === 'up')
  const running = view.services.filter((s) => s.localState === 'running').map((s) => s.name)
  const fencing = view.fencing.filter((f) => f.state === 'fencing' || f.state === 'delaying' || f.state === 'backoff').map((f) => f.target)
  const trouble = view.members.filter((m) => !m.self && (m.state === 'suspect' || m.state === 'dead')).map((m) => `${m.name} ${m.state}`)
  return [
    `${self?.state ?? 'starting'} (incarnation ${view.incarnation}) of ${view.cluster}: ${up.length} of ${view.members.length} nodes up (${up.map((m) => m.name).join(' ')})`,
    ...(trouble.length > 0 ? [trouble.join(', ')] : []),
    `running here: ${running.length === 0 ? 'nothing' : running.join(' ')}`,
    ...(fencing.length > 0 ? [`fencing ${fencing.join(' ')}`] : []),
  ].join('; ')
}

export interface HealthFacts {
  /** The node stopped acting (self-fenced, or past its clean stop). */
  halted: boolean
  localState: string
  nowMs: number
  startedAtMs: number
  /** Start of the last disk cycle whose status write succeeded; null before the first. */
  lastGoodCycleStartMs: number | null
  selfFenceAfterMs: number
  selfFenceStopMs: number
}

/**
 * Ping only while the node does its job: not halted, joining or a member, and its status
 * reached the disk within selfFenceAfterMs - selfFenceStopMs, the moment it would start fencing
 * itself (before the first write: within selfFenceAfterMs of the start, the time a node has to
 * join). A stalled event loop pings nothing at all: the timer never fires.
 *
 * So a lost disk stops the pings exactly when the node's own self-fence begins, and systemd
 * (WatchdogSec, src/install/unit.ts: half of selfFenceAfterMs) acts only after the node has had
 * its selfFenceStopMs to stop every resource in order and exit by itself: the unit's watchdog is
 * the backstop of a daemon that failed to, not a race with it.
 */
export function watchdogHealthy(f: HealthFacts): boolean {
  if (f.halted || (f.localState !== 'member' && f.localState !== 'joining')) return false
  if (f.lastGoodCycleStartMs === null) return f.nowMs - f.startedAtMs <= f.selfFenceAfterMs
  return f.nowMs - f.lastGoodCycleStartMs <= f.selfFenceAfterMs - f.selfFenceStopMs
}
