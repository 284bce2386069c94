/**
 * The incident overlay's data, computed once on the server from an explanation: every machine
 * instance (one node's incarnation's machine) with its initial state paths and the moments it
 * is alive, and every decision as a step that moves one instance to its new state paths, with
 * the transition to mark and its evidence and effects as display lines. Moment i is "just
 * after decision i". The page folds the steps up to the selected moment. Pure.
 */
import type { VizDecision, VizExplanation } from './explanation.js'
import { stateLeafPaths } from './state-path.js'
import { valueText } from '../../journal/evidence.js'

export interface IncidentInstance {
  /** `node#incarnation/machine`: machine ids repeat across nodes. */
  key: string
  node: string
  incarnation: number
  machine: string
  type: string
  subject: string
  initialPaths: string[]
  /** First moment the instance exists (decisions.length when created after every decision). */
  bornIndex: number
  /** First moment it no longer exists (a later incarnation of its node has started), or null. */
  goneIndex: number | null
}

export interface TakenTransition { from: string; to: string; event: string }

export interface IncidentStep {
  instance: string
  node: string
  machine: string
  type: string
  time: string
  fromPaths: string[]
  toPaths: string[]
  taken: TakenTransition
  event: string
  summary: string
  evidence: string[]
  effects: string[]
  input: string
}

export interface IncidentView { nodes: string[]; instances: IncidentInstance[]; steps: IncidentStep[] }

export const instanceKey = (x: { node: string; incarnation: number; machine: string }): string => `${x.node}#${x.incarnation}/${x.machine}`

/** Wall time of day with milliseconds, UTC: `05:10:04.120Z`. */
export function timeOfDay(wallMs: number): string {
  return Number.isFinite(wallMs) ? new Date(wallMs).toISOString().slice(11, 24) : '?'
}


/** `type key=value …` for an effect or an input event. */
export function eventLine(e: { type: string; [k: string]: unknown }): string {
  const rest = Object.entries(e).filter(([k]) => k !== 'type').map(([k, v]) => `${k}=${valueText(v)}`)
  return [e.type, ...rest].join(' ')
}

/** The leaf that changed and the leaf it came from (the one sharing the longest prefix). */
export function takenTransition(fromPaths: readonly string[], toPaths: readonly string[], event: string): TakenTransition {
  const to = toPaths.find((p) => !fromPaths.includes(p)) ?? toPaths[0] ?? ''
  const shared = (p: string): number => { let n = 0; while (n < p.length && n < to.length && p[n] === to[n]) n++; return n }
  const from = [...fromPaths].sort((a, b) => shared(b) - shared(a))[0] ?? to
  return { from, to, event }
}

function step(d: VizDecision): IncidentStep {
  const fromPaths = stateLeafPaths(d.from)
  const toPaths = stateLeafPaths(d.to)
  return {
    instance: instanceKey(d), node: d.node, machine: d.machine, type: d.type, time: timeOfDay(d.wallMs),
    fromPaths, toPaths, taken: takenTransition(fromPaths, toPaths, d.event), event: d.event,
    summary: d.summary, evidence: [...d.evidence], effects: d.effects.map(eventLine), input: eventLine(d.input),
  }
}

export function incidentView(e: VizExplanation): IncidentView {
  const steps = e.decisions.map(step)
  const firstStep = new Map<string, number>()
  steps.forEach((s, i) => { if (!firstStep.has(s.instance)) firstStep.set(s.instance, i) })
  const born = (createdWallMs: number, key: string): number => {
    const byTime = e.decisions.findIndex((d) => d.wallMs >= createdWallMs)
    const candidates = [byTime === -1 ? e.decisions.length : byTime, firstStep.get(key) ?? e.decisions.length]
    return Math.min(...candidates)
  }
  const instances = e.machines.map((m) => ({
    key: instanceKey(m), node: m.node, incarnation: m.incarnation, machine: m.machine, type: m.type, subject: m.subject,
    initialPaths: stateLeafPaths(m.initial), bornIndex: born(m.createdWallMs, instanceKey(m)), goneIndex: null as number | null,
  }))
  for (const m of instances) {
    const later = instances.filter((o) => o.node === m.node && o.incarnation > m.incarnation).map((o) => o.bornIndex)
    m.goneIndex = later.length === 0 ? null : Math.min(...later)
  }
  return { nodes: [...e.nodes], instances, steps }
}
