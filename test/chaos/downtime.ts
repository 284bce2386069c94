/**
 * What the client saw (client.ts lines), and the downtime checker: for a fault, the longest
 * time without a successful answer around it, and who answered before and after. Pure.
 */

export interface Answer {
  sentMs: number
  doneMs: number
  /** The node that answered, or null for a failed request. */
  node: string | null
  /** ECONNREFUSED, TIMEOUT, ...; null for an answer. */
  error: string | null
}

/** One client line, or null when it is not one (a skipped tick counts as nothing). */
export function parseAnswer(line: string): Answer | null {
  const m = /^(\d+) (\d+) (ok|err) (\S+)$/.exec(line.trim())
  if (m === null) return null
  const ok = m[3] === 'ok'
  return { sentMs: Number(m[1]), doneMs: Number(m[2]), node: ok ? m[4]! : null, error: ok ? null : m[4]! }
}

export interface Outage {
  /** Longest time between two successful answers (by completion) that spans the fault, or up to `untilMs` if none came. */
  downtimeMs: number
  /** The answer that ended it (null: none by untilMs). */
  endedAtMs: number | null
  /** Who answered last before the fault and first after the outage. */
  before: string | null
  after: string | null
  failures: number
}

/**
 * The outage of a fault at `faultMs`, observed until `untilMs`: the largest gap between
 * consecutive successful answers, starting from the last one before the fault. A healthy
 * client sees gaps of one poll interval.
 */
export function outageAround(answers: readonly Answer[], faultMs: number, untilMs: number): Outage {
  const ok = answers.filter((a) => a.node !== null && a.doneMs <= untilMs).sort((x, y) => x.doneMs - y.doneMs)
  const beforeFault = ok.filter((a) => a.doneMs <= faultMs).at(-1)
  const after = ok.filter((a) => a.doneMs > faultMs)
  const failures = answers.filter((a) => a.node === null && a.sentMs >= faultMs && a.sentMs <= untilMs).length
  let previous = beforeFault?.doneMs ?? faultMs
  let worst: { gap: number; end: Answer | null } = { gap: 0, end: null }
  for (const a of after) {
    if (a.doneMs - previous > worst.gap) worst = { gap: a.doneMs - previous, end: a }
    previous = a.doneMs
  }
  if (untilMs - previous > worst.gap && after.length === 0) worst = { gap: untilMs - previous, end: null }
  return { downtimeMs: worst.gap, endedAtMs: worst.end?.doneMs ?? null, before: beforeFault?.node ?? null, after: worst.end?.node ?? after.at(-1)?.node ?? null, failures }
}

/** The first successful answer to a request sent after `fromMs` (it cannot come from a host cut at fromMs). */
export function firstAnswerSentAfter(answers: readonly Answer[], fromMs: number): Answer | undefined {
  return answers.filter((a) => a.node !== null && a.sentMs > fromMs).sort((x, y) => x.doneMs - y.doneMs)[0]
}

export interface Spread { count: number; min: number; p50: number; p90: number; p99: number; max: number }

/** Nearest-rank percentiles (p99 of fewer than 100 samples is the largest one below it). */
export function spread(samples: readonly number[]): Spread | null {
  if (samples.length === 0) return null
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
  return { count: s.length, min: s[0]!, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1]! }
}

export function describeSpread(s: Spread | null, unit = 'ms'): string {
  if (s === null) return '(no samples)'
  return `n=${s.count} min ${s.min} ${unit}, p50 ${s.p50} ${unit}, p90 ${s.p90} ${unit}, p99 ${s.p99} ${unit}, max ${s.max} ${unit}`
}
