/**
 * What the visualizer reads of an incident's explanation (journal/explain.ts,
 * `explainJournals(paths)`): the nodes, every machine instance with its creation, and every
 * decision in merged (causal) order with its evidence. A full Explanation is one; tests build
 * smaller ones by hand.
 */
import type { ExplainedDecision, ExplainedMachine } from '../../journal/explain.js'

export type { ExplainedMachine } from '../../journal/explain.js'

export type VizDecision = Pick<ExplainedDecision,
  'node' | 'incarnation' | 'seq' | 'atMs' | 'wallMs' | 'hlc' | 'machine' | 'type' | 'subject' | 'from' | 'to' | 'event' | 'effects' | 'input' | 'evidence' | 'summary'>

export interface VizExplanation {
  nodes: string[]
  machines: ExplainedMachine[]
  /** In merged (causal) order. */
  decisions: VizDecision[]
}

/** Only the fields the page shows (a full Explanation also carries each journal's replay result). */
export function vizExplanation(e: VizExplanation): VizExplanation {
  return {
    nodes: [...e.nodes],
    machines: e.machines.map((m) => ({ node: m.node, incarnation: m.incarnation, machine: m.machine, type: m.type, subject: m.subject, createdAtMs: m.createdAtMs, createdWallMs: m.createdWallMs, initial: m.initial })),
    decisions: e.decisions.map((d) => ({
      node: d.node, incarnation: d.incarnation, seq: d.seq, atMs: d.atMs, wallMs: d.wallMs, hlc: d.hlc, machine: d.machine, type: d.type, subject: d.subject,
      from: d.from, to: d.to, event: d.event, effects: d.effects, input: d.input, evidence: d.evidence, summary: d.summary,
    })),
  }
}
