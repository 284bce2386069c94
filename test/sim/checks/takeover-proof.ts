/**
 * Safety rule 2: no takeover without a recorded proof. Every LEASE_ACQUIRED that took a lease
 * from another node (proofKind other than free or own) must carry a known proof kind and its
 * text; a "fenced" proof by the power switch must follow a switch operation that really cut
 * a machine before that moment; "self-fence-deadline" is allowed only where some node has no
 * fence method that proves a stop (config/fencing.ts fencingProvesStop).
 */
import type { StoredRecord } from '../../../journal/records.js'
import { verdict, type Verdict } from './verdict.js'

const PROOFS = ['left-cleanly', 'restarted', 'fenced', 'self-fence-deadline']

export interface Takeover { machine: string; service: string; atMs: number; proofKind: string; proof: string }

/** LEASE_ACQUIRED inputs that took a lease from another node; `rate` turns a node's clock into virtual ms. */
export function takeovers(machine: string, rate: number, records: readonly StoredRecord[]): Takeover[] {
  const out: Takeover[] = []
  for (const { record } of records) {
    if (record.t !== 'input' || record.e.type !== 'LEASE_ACQUIRED') continue
    const kind = String(record.e.proofKind ?? '')
    if (kind === 'free' || kind === 'own') continue
    out.push({ machine, service: record.m.replace(/^service:/, '').replace(/#\d+$/, ''), atMs: record.e.at / rate, proofKind: kind, proof: String(record.e.proof ?? '') })
  }
  return out
}

export function checkTakeoverProofs(all: readonly Takeover[], options: { powerCuts: readonly { atMs: number; target: string }[]; someNodeUnfenceable: boolean }): Verdict {
  const problems: string[] = []
  for (const t of all) {
    const where = `${t.machine} took ${t.service} at ${Math.round(t.atMs)} ms`
    if (!PROOFS.includes(t.proofKind) || t.proof === '') { problems.push(`${where} with proof "${t.proofKind}" ("${t.proof}")`); continue }
    if (t.proofKind === 'self-fence-deadline' && !options.someNodeUnfenceable) problems.push(`${where} on the self-fence deadline, but every node has a fence method that proves a stop`)
    if (t.proofKind === 'fenced' && t.proof.includes('fence_switch') && !options.powerCuts.some((c) => c.atMs <= t.atMs + 1)) problems.push(`${where} on a power-switch proof, but the switch cut no machine before then`)
  }
  return verdict('takeover-proof', problems)
}
