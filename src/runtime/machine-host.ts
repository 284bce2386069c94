/**
 * Hosts the node's machines and keeps the journal honest (DESIGN.md "Every input is
 * journaled before it is delivered; every transition after it is taken").
 *
 * Each machine has two snapshots:
 *   - `delivered`: the fold of the journaled inputs, what replay reproduces;
 *   - `view`: `delivered` plus the coalesced evidence held back in `pending`.
 * Every input is first tried on `view`. An input that changes nothing is dropped. An
 * input that only renews liveness readings is held in `pending`, replacing older
 * pending inputs of the same source when the view stays identical (so the flushed list
 * folds to exactly the same view). Anything else is a decision: pending inputs are
 * journaled and delivered first, then the input, then its transition. At idle nothing is
 * written, yet every decision is taken from exactly the readings the full stream gives.
 */
import { initialTransition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate'
import { MACHINES } from '../../machines/registry.js'
import { step, type TransitionRecord } from '../../machines/step.js'
import type { JournalRecord } from '../../journal/records.js'

/** Beyond this many held-back inputs for one machine, they are journaled anyway. */
export const PENDING_PER_MACHINE_MAX = 32

export interface JournalSink { append(record: JournalRecord): number }

export interface Decision {
  machine: string
  atMs: number
  transition: TransitionRecord
  /** What explains it (journal/explain.ts's explainStep): the machine type, the input, the context it was decided in, the transition record's seq. */
  type: string
  input: TimedEvent
  contextBefore: unknown
  seq: number
}

interface Pending { key: string; event: TimedEvent }
export type TimedEvent = { type: string; at: number; [field: string]: unknown }

interface Hosted {
  id: string
  /** Its MACHINES name (`peer`, `local`, `service`, `fencing`): which chart draws it. */
  type: string
  machine: AnyStateMachine
  delivered: AnyMachineSnapshot
  view: AnyMachineSnapshot
  pending: Pending[]
}

/** A hosted machine as the dashboard draws it: its chart and where it stands. */
export interface MachineInstance { id: string; type: string; value: unknown }

export interface HostCounters { delivered: number; coalesced: number; dropped: number; decisions: number }

function same(a: AnyMachineSnapshot, b: AnyMachineSnapshot): boolean {
  return JSON.stringify([a.value, a.context]) === JSON.stringify([b.value, b.context])
}

export class MachineHost {
  private readonly hosted = new Map<string, Hosted>()
  readonly counters: HostCounters = { delivered: 0, coalesced: 0, dropped: 0, decisions: 0 }

  constructor(private readonly journal: JournalSink, private readonly onDecision: (d: Decision) => void) {}

  create(id: string, type: string, input: unknown, atMs: number): void {
    const machine = MACHINES[type]
    if (machine === undefined) throw new Error(`unknown machine type ${type}`)
    if (this.hosted.has(id)) throw new Error(`machine ${id} already exists`)
    this.journal.append({ v: 1, t: 'create', m: id, type, input, atMs })
    const [snapshot] = initialTransition(machine, input)
    this.hosted.set(id, { id, type, machine, delivered: snapshot, view: snapshot, pending: [] })
  }

  /** Forget a machine (a new incarnation of this node starts a new generation). */
  remove(id: string): void {
    this.hosted.delete(id)
  }

  has(id: string): boolean { return this.hosted.has(id) }

  /** The current view (delivered plus held-back evidence): what status shows. */
  view(id: string): AnyMachineSnapshot | undefined {
    return this.hosted.get(id)?.view
  }

  ids(): string[] { return [...this.hosted.keys()] }

  /** Every machine with its type and current (view) state value, in creation order. */
  instances(): MachineInstance[] {
    return [...this.hosted.values()].map((h) => ({ id: h.id, type: h.type, value: h.view.value }))
  }

  /**
   * Offer an input. `coalesceKey` names its source (e.g. `disk`, `hb:0`) when it may be
   * held back; inputs without a key are journaled whenever they change anything.
   */
  deliver(id: string, event: TimedEvent, coalesceKey?: string): void {
    const h = this.hosted.get(id)
    if (h === undefined) throw new Error(`no machine ${id}`)
    const tried = step(h.machine, h.view, event)
    if (tried.noop) { this.counters.dropped++; return }
    if (tried.evidenceOnly && coalesceKey !== undefined && this.hold(h, { key: coalesceKey, event }, tried.snapshot)) return
    this.flushPending(h)
    this.journalAndStep(h, event)
  }

  /** Journal and deliver every held-back input of every machine (before a clean stop). */
  flushAll(): void {
    for (const h of this.hosted.values()) this.flushPending(h)
  }

  private hold(h: Hosted, item: Pending, nextView: AnyMachineSnapshot): boolean {
    if (h.pending.length >= PENDING_PER_MACHINE_MAX) return false
    const withoutAll = h.pending.filter((p) => p.key !== item.key)
    const lastSame = h.pending.map((p) => p.key).lastIndexOf(item.key)
    const withoutLast = h.pending.filter((_, i) => i !== lastSame)
    const candidates = lastSame < 0 ? [h.pending] : [withoutAll, withoutLast, h.pending]
    for (const base of candidates) {
      const list = [...base, item]
      if (same(this.fold(h, list), nextView)) {
        h.pending = list
        h.view = nextView
        this.counters.coalesced++
        return true
      }
    }
    return false
  }

  private fold(h: Hosted, list: Pending[]): AnyMachineSnapshot {
    let s = h.delivered
    for (const p of list) s = step(h.machine, s, p.event).snapshot
    return s
  }

  private flushPending(h: Hosted): void {
    const list = h.pending
    h.pending = []
    for (const p of list) this.journalAndStep(h, p.event)
    if (!same(h.delivered, h.view) && list.length > 0) {
      throw new Error(`invariant: ${h.id} flushed evidence does not reproduce its view`)
    }
  }

  private journalAndStep(h: Hosted, event: TimedEvent): void {
    const result = step(h.machine, h.delivered, event)
    if (result.noop) { this.counters.dropped++; return }
    this.journal.append({ v: 1, t: 'input', m: h.id, e: event })
    const contextBefore: unknown = h.delivered.context
    h.delivered = result.snapshot
    h.view = result.snapshot
    this.counters.delivered++
    if (result.transition !== null) {
      const seq = this.journal.append({ v: 1, t: 'transition', m: h.id, ...result.transition })
      this.counters.decisions++
      this.onDecision({ machine: h.id, atMs: event.at, transition: result.transition, type: h.type, input: event, contextBefore, seq })
    }
  }
}
