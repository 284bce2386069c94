/**
 * Text of `carbonado replay --explain` and `--what-if` (pure): a list for one node, columns
 * side by side for several (each node's view in its own column, one merged time axis).
 */
import type { ExplainedDecision, Explanation } from '../../journal/explain.js'
import { describeEffect, labelOf, valueText as stateText } from '../../journal/evidence.js'
import type { WhatIfDifference, WhatIfResult } from '../../journal/what-if.js'
import type { TransitionRecord } from '../../machines/step.js'
import type { WhatIfSettings } from '../config/what-if.js'

const TIME_WIDTH = 24
const COLUMN_MIN = 32
const iso = (wallMs: number): string => new Date(Math.round(wallMs)).toISOString()

export function orderNote(e: Pick<Explanation, 'order' | 'nodes'>): string {
  if (e.nodes.length < 2) return ''
  return e.order === 'hybrid-clock'
    ? `merged ${e.nodes.join(', ')} by hybrid logical clock: a record written after a message arrived sorts after everything its sender wrote before sending it`
    : `merged ${e.nodes.join(', ')} by estimated wall clock: some journals predate clock stamps, so a receive may sort before its send by as much as the nodes' clocks disagreed`
}

export function explainList(decisions: readonly ExplainedDecision[]): string {
  const lines: string[] = []
  for (const d of decisions) {
    lines.push(`${iso(d.wallMs)}  ${d.node}  ${d.summary}`)
    for (const e of d.evidence) lines.push(`    ${e}`)
  }
  return lines.join('\n')
}

/** Splits `text` into lines of at most `width` characters, at spaces where it can. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const out: string[] = []
  let rest = text
  let prefix = ''
  while (rest.length > 0) {
    const room = width - prefix.length
    if (rest.length <= room) { out.push(prefix + rest); break }
    const cut = rest.lastIndexOf(' ', room)
    const at = cut > room / 2 ? cut : room
    out.push(prefix + rest.slice(0, at))
    rest = rest.slice(at).trimStart()
    prefix = indent
  }
  return out
}

export function explainColumns(decisions: readonly ExplainedDecision[], nodes: readonly string[], width: number): string {
  const column = Math.max(COLUMN_MIN, Math.floor((width - TIME_WIDTH - 1) / nodes.length) - 3)
  const row = (time: string, cells: Map<number, string>): string =>
    `${time.padEnd(TIME_WIDTH)} ${nodes.map((_, i) => (cells.get(i) ?? '').padEnd(column)).join(' | ')}`.trimEnd()
  const lines = [row('TIME', new Map(nodes.map((n, i) => [i, n]))), row('', new Map(nodes.map((_, i) => [i, '-'.repeat(column)])))]
  for (const d of decisions) {
    const i = nodes.indexOf(d.node)
    const text = [...wrap(d.summary, column, '  '), ...d.evidence.flatMap((e) => wrap(`  ${e}`, column, '    '))]
    text.forEach((line, k) => lines.push(row(k === 0 ? iso(d.wallMs) : '', new Map([[i, line]]))))
  }
  return lines.join('\n')
}

function effectsText(t: TransitionRecord): string {
  return t.effects.length === 0 ? 'nothing' : t.effects.map(describeEffect).join('; ')
}

function transitionText(t: TransitionRecord | null): string {
  if (t === null) return 'no transition'
  const moved = stateText(t.from) === stateText(t.to) ? `stays ${stateText(t.to)}` : `${stateText(t.from)} → ${stateText(t.to)}`
  return `${moved} on ${t.event}, asks for ${effectsText(t)}`
}

const moves = (t: TransitionRecord): boolean => stateText(t.from) !== stateText(t.to)

/** "node b would not have moved peer a suspect → dead (it stays suspect)". */
export function differenceSentence(d: WhatIfDifference): string {
  const label = labelOf(d.type, d.subject)
  const r = d.recorded
  const w = d.tried
  if (r !== null && w === null) return `node ${d.node} would not have ${moves(r) ? `moved ${label} ${stateText(r.from)} → ${stateText(r.to)}` : `asked for ${effectsText(r)} (${label})`}: it stays ${stateText(r.from)}`
  if (r === null && w !== null) return `node ${d.node} would have ${moves(w) ? `moved ${label} ${stateText(w.from)} → ${stateText(w.to)}` : `asked for ${effectsText(w)} (${label})`}, at the latest here`
  if (r !== null && w !== null && stateText(r.to) !== stateText(w.to)) return `node ${d.node} would have moved ${label} ${stateText(w.from)} → ${stateText(w.to)} instead of → ${stateText(r.to)}`
  return `node ${d.node} would have asked for ${w === null ? 'nothing' : effectsText(w)} instead of ${r === null ? 'nothing' : effectsText(r)} (${label})`
}

/** "timing.peerDeadAfterMs 3000, services.web.recovery.policy relocate". */
export function settingsBrief(s: WhatIfSettings): string {
  const parts = [
    ...Object.entries(s.timing).map(([k, v]) => `timing.${k} ${v}`),
    ...Object.entries(s.fencing).map(([k, v]) => `fencing.${k} ${v}`),
    ...Object.entries(s.services).flatMap(([name, svc]) => [
      ...Object.entries(svc.recovery).map(([k, v]) => `services.${name}.recovery.${k} ${String(v)}`),
      ...Object.entries(svc.monitorIntervalMs).map(([r, v]) => `services.${name}.resources.${r}.monitorIntervalMs ${v}`),
    ]),
  ]
  return parts.join(', ')
}

function differenceBlock(d: WhatIfDifference, brief: string): string[] {
  const lines = [`${iso(d.wallMs)}  with ${brief}, ${differenceSentence(d)} (seq ${d.seq})`, `    recorded: ${transitionText(d.recorded)}`, `    what-if:  ${transitionText(d.tried)}`]
  if (d.recorded === null && d.tried !== null && d.previousInputAtMs !== null) {
    lines.push(`    it may have come as early as ${Math.round(d.atMs - d.previousInputAtMs)} ms before (the machine's previous recorded input): the node journals only checks that decided something`)
  }
  return lines
}

export function whatIfText(file: string, s: WhatIfSettings, r: WhatIfResult): string {
  const brief = settingsBrief(s)
  const changed = r.journals.flatMap((j) => j.changes.map((c) => ({ ...c, node: j.node })))
  const fields = [...new Set(changed.map((c) => c.field))]
  const lines = [`what-if ${file}: ${brief}`]
  for (const field of fields) {
    const of = changed.filter((c) => c.field === field)
    lines.push(`  ${field}: recorded ${[...new Set(of.map((c) => JSON.stringify(c.recorded)))].join(' or ')} → ${JSON.stringify(of[0]!.tried)} in ${of.length} machines (nodes ${[...new Set(of.map((c) => c.node))].join(', ')})`)
  }
  if (fields.length === 0) lines.push('  every recorded machine already uses these values (or none records them): nothing changes')
  if (s.ignored.length > 0) lines.push(`  ignored (not recorded in any machine): ${s.ignored.join(', ')}`)
  const [first, ...later] = r.differences
  if (first === undefined) {
    lines.push(`no difference: every recorded decision of ${r.journals.map((j) => j.node).join(', ')} is taken the same way under these settings`)
    return lines.join('\n')
  }
  lines.push('first difference (exact: the same recorded inputs reach the machines under the new settings):', ...differenceBlock(first, brief))
  if (later.length > 0) lines.push(`later differences (not exact: they come after the first one in the merged timeline, and a node's recorded inputs after its first difference are those the recorded decisions caused):`)
  for (const d of later) lines.push(...differenceBlock(d, brief))
  const same = r.journals.filter((j) => j.differences.length === 0).map((j) => j.node)
  if (same.length > 0) lines.push(`no difference on ${same.join(', ')}`)
  lines.push('not re-run: what the shell computes from settings on its own (placement waits, takeover deadlines, heartbeat interval) stays as recorded')
  return lines.join('\n')
}
