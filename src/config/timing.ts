/**
 * Timing defaults and the relations that must hold between them (STYLE.md §9).
 * Pure: used by the config loader, the machines' inputs and the README's reference.
 */
export interface Timing {
  heartbeatIntervalMs: number
  peerDeadAfterMs: number
  diskIntervalMs: number
  selfFenceAfterMs: number
  diskDeadAfterMs: number
  selfFenceStopMs: number
}

export interface TimingField {
  name: keyof Timing
  defaultMs: number
  reason: string
}

/**
 * The peer that counts a silent node dead starts from the moment it *saw* the node's last
 * write, which is never earlier than the moment the node started that write, the moment
 * the node's own self-fence deadline counts from. So `diskDeadAfterMs` only has to exceed
 * `selfFenceAfterMs` stretched by the worst clock-rate error between two machines, plus one
 * disk cycle for the silent node to finish stopping. 10% is far beyond real oscillator
 * error (ppm) and covers a stalled hypervisor scheduling the two VMs unevenly.
 */
export const CLOCK_RATE_ERROR_MAX = 0.1

/** At least this many heartbeats may be lost in a row before the network says "dead". */
export const HEARTBEATS_MISSED_MIN = 3

/** A node tolerates at least this many failed disk writes in a row before it fences itself. */
export const DISK_WRITES_MISSED_MIN = 2

export const TIMING_FIELDS: readonly TimingField[] = [
  { name: 'heartbeatIntervalMs', defaultMs: 500, reason: 'two packets a second per channel per peer cost nothing and give sub-second evidence' },
  { name: 'peerDeadAfterMs', defaultMs: 5000, reason: 'ten missed heartbeats: rides out a switch reconvergence or a burst of loss without a false "network dead"' },
  { name: 'diskIntervalMs', defaultMs: 1000, reason: 'one synced block write per copy per second is negligible I/O; Kimberlite polled every 2 s' },
  { name: 'selfFenceAfterMs', defaultMs: 8000, reason: 'tolerates a multipath path switch (a few seconds of failed writes) before a node removes itself' },
  { name: 'diskDeadAfterMs', defaultMs: 10000, reason: `must exceed selfFenceAfterMs x ${1 + CLOCK_RATE_ERROR_MAX} + diskIntervalMs so a silent node has certainly fenced itself before peers count it dead` },
  { name: 'selfFenceStopMs', defaultMs: 3000, reason: 'the part of selfFenceAfterMs kept for stopping every resource: a node that cannot write starts stopping this long before its deadline and exits at the deadline whatever is left (the in-process watchdog); stop timeouts are cut to fit' },
]

export const DEFAULT_TIMING: Timing = Object.fromEntries(TIMING_FIELDS.map((f) => [f.name, f.defaultMs])) as unknown as Timing

/** Derived: a peer with no new disk write for this long is suspect (one missed write plus a read cycle). */
export function diskSuspectAfterMs(timing: Timing): number {
  return 2 * timing.diskIntervalMs
}

/** Derived: how often the runtime asks the machines whether a deadline has passed. */
export function checkIntervalMs(timing: Timing): number {
  return Math.max(10, Math.min(100, Math.floor(timing.heartbeatIntervalMs / 2), Math.floor(timing.diskIntervalMs / 2)))
}

/**
 * selfFenceStopMs when the file leaves it out: 3/8 of selfFenceAfterMs (3000 of the default
 * 8000), so shortened test timings stay valid without naming it.
 */
export function defaultSelfFenceStopMs(selfFenceAfterMs: number): number {
  return Math.floor((selfFenceAfterMs * 3) / 8)
}

/** The smallest diskDeadAfterMs that keeps the self-fence rule safe for these timings. */
export function diskDeadAfterMinMs(timing: Timing): number {
  return Math.ceil(timing.selfFenceAfterMs * (1 + CLOCK_RATE_ERROR_MAX)) + timing.diskIntervalMs
}

export interface TimingViolation {
  fields: [keyof Timing, keyof Timing]
  message: string
}

/** Every relation that must hold; an empty list means the timings are safe. */
export function timingViolations(t: Timing): TimingViolation[] {
  const out: TimingViolation[] = []
  if (t.peerDeadAfterMs < HEARTBEATS_MISSED_MIN * t.heartbeatIntervalMs) {
    out.push({ fields: ['peerDeadAfterMs', 'heartbeatIntervalMs'], message: `peerDeadAfterMs (${t.peerDeadAfterMs}) must be at least ${HEARTBEATS_MISSED_MIN} x heartbeatIntervalMs (${t.heartbeatIntervalMs})` })
  }
  if (t.selfFenceAfterMs < DISK_WRITES_MISSED_MIN * t.diskIntervalMs) {
    out.push({ fields: ['selfFenceAfterMs', 'diskIntervalMs'], message: `selfFenceAfterMs (${t.selfFenceAfterMs}) must be at least ${DISK_WRITES_MISSED_MIN} x diskIntervalMs (${t.diskIntervalMs})` })
  }
  if (t.selfFenceAfterMs - t.selfFenceStopMs < DISK_WRITES_MISSED_MIN * t.diskIntervalMs) {
    out.push({ fields: ['selfFenceStopMs', 'selfFenceAfterMs'], message: `selfFenceAfterMs (${t.selfFenceAfterMs}) - selfFenceStopMs (${t.selfFenceStopMs}) must be at least ${DISK_WRITES_MISSED_MIN} x diskIntervalMs (${t.diskIntervalMs}): a node must ride out that many failed writes before it starts stopping` })
  }
  const deadMin = diskDeadAfterMinMs(t)
  if (t.diskDeadAfterMs < deadMin) {
    out.push({ fields: ['diskDeadAfterMs', 'selfFenceAfterMs'], message: `diskDeadAfterMs (${t.diskDeadAfterMs}) must be at least selfFenceAfterMs x ${1 + CLOCK_RATE_ERROR_MAX} + diskIntervalMs = ${deadMin}, or a silent node could still be running when peers count it dead` })
  }
  return out
}
