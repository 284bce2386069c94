/**
 * A virtual-time input stream for one peer as one observer sees it: disk reads every
 * second, heartbeats every 500 ms on two channels, checks every 100 ms, with seeded
 * faults (disk stalls, network outages, a crash, restarts).
 */
import type { PeerEvent } from '../../machines/events.js'
import { seeded } from './random.js'

export interface Fault { kind: 'disk-stall' | 'net-down' | 'crash' | 'restart'; fromMs: number; toMs: number }

export function faultsFor(seed: number, durationMs: number): Fault[] {
  const random = seeded(seed)
  const kinds: Fault['kind'][] = ['disk-stall', 'net-down', 'crash', 'restart']
  return Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
    const fromMs = Math.floor(random() * durationMs * 0.8)
    return { kind: kinds[Math.floor(random() * kinds.length)]!, fromMs, toMs: fromMs + Math.floor(random() * 20000) }
  })
}

export function peerStream(seed: number, durationMs: number): PeerEvent[] {
  const faults = faultsFor(seed, durationMs)
  const random = seeded(seed ^ 0x5bd1e995)
  const active = (kind: Fault['kind'], at: number): boolean => faults.some((f) => f.kind === kind && at >= f.fromMs && at < f.toMs)
  const events: PeerEvent[] = []
  let seq = 0
  let incarnation = 1
  let crashed = false
  for (let at = 0; at <= durationMs; at += 100) {
    const restartNow = faults.some((f) => f.kind === 'restart' && f.fromMs === at) || (crashed && !active('crash', at))
    if (restartNow) { incarnation++; seq = 0; crashed = false }
    if (active('crash', at)) crashed = true
    const jitter = Math.floor(random() * 20)
    if (at % 1000 === 0) {
      if (!crashed && !active('disk-stall', at)) seq++
      events.push({ type: 'DISK_STATUS', at: at + jitter, seq, incarnation, state: 'up' })
    }
    if (at % 500 === 0 && !crashed && !active('net-down', at)) {
      for (const channel of [0, 1]) if (random() > 0.05) events.push({ type: 'HEARTBEAT', at: at + jitter, channel, incarnation, seq: at, state: 'up' })
    }
    events.push({ type: 'CHECK', at: at + 50 })
  }
  return events
}
