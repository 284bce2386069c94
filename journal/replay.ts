/**
 * Replay: fresh machines fold the recorded inputs (time comes inside each input, so the
 * clock is simulated by construction) and every transition they produce must equal the
 * transition recorded right after that input. The first difference is reported with the
 * input that caused it.
 */
import { initialTransition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate'
import { step, type TransitionRecord } from '../machines/step.js'
import type { JournalRecord, StoredRecord } from './records.js'

export interface Difference {
  seq: number
  machine: string
  input: unknown
  expected: TransitionRecord | null
  got: TransitionRecord | null
  message: string
}

export interface ReplayResult {
  ok: boolean
  records: number
  inputs: number
  transitions: number
  machines: number
  codeVersions: string[]
  difference?: Difference
  /** Set when a `start` record names a decision-code version this build does not replay. */
  unknownCodeVersion?: { seq: number; version: string }
}

interface Awaiting { seq: number; machine: string; type: string; input: unknown; before: AnyMachineSnapshot; produced: TransitionRecord | null }

/** A reproduced transition, with what explains it: the input and the machine's snapshot before it. */
export interface ReplayedTransition {
  seq: number
  inputSeq: number
  machine: string
  type: string
  input: { type: string; at: number; [field: string]: unknown }
  before: AnyMachineSnapshot
  transition: TransitionRecord
}

/**
 * Hooks for tools built on replay (explain, what-if): they see every record as the replayer
 * folds it. `createInput` may change a machine's input (what-if settings); replay itself
 * passes the recorded one.
 */
export interface ReplayHooks {
  onRecord?(stored: StoredRecord): void
  onTransition?(t: ReplayedTransition): void
  createInput?(record: Extract<JournalRecord, { t: 'create' }>): unknown
}

/**
 * JSON of recorded values. msgpack decodes a u64 as a BigInt, which JSON.stringify refuses:
 * one in a damaged or foreign journal must read as a difference, not crash the replay.
 */
const json = (value: unknown): string | undefined => JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))

/** A transition as comparable text (replay and what-if compare recorded against produced with it). */
export const canonical = (t: TransitionRecord | null): string =>
  t === null ? 'null' : json({ from: t.from, to: t.to, event: t.event, effects: t.effects }) ?? 'undefined'

/**
 * A machine throws only on an input the live runtime never builds (a damaged or hand-edited
 * journal): replay reports it as the difference at that input instead of crashing.
 */
function threw(who: string, error: unknown): string {
  return `${who} threw on this input (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`
}

class Replayer {
  private readonly snapshots = new Map<string, { machine: AnyStateMachine; type: string; snapshot: AnyMachineSnapshot }>()
  private awaiting: Awaiting | null = null
  readonly result: ReplayResult = { ok: true, records: 0, inputs: 0, transitions: 0, machines: 0, codeVersions: [] }

  constructor(private readonly registry: Readonly<Record<string, AnyStateMachine>>, private readonly knownVersions: readonly string[], private readonly hooks: ReplayHooks = {}) {}

  /** Returns false once a difference is found. */
  feed(stored: StoredRecord): boolean {
    const { seq, record } = stored
    this.result.records++
    this.hooks.onRecord?.(stored)
    if (record.t === 'transition') return this.matchTransition(seq, record)
    if (!this.settle()) return false
    if (record.t === 'start') return this.start(seq, record)
    if (record.t === 'create') return this.create(seq, record)
    if (record.t === 'input') return this.input(seq, record)
    return true
  }

  finish(): ReplayResult {
    this.settle()
    this.result.machines = this.snapshots.size
    return this.result
  }

  private start(seq: number, record: Extract<JournalRecord, { t: 'start' }>): boolean {
    if (!this.result.codeVersions.includes(record.codeVersion)) this.result.codeVersions.push(record.codeVersion)
    if (this.knownVersions.includes(record.codeVersion)) return true
    this.result.unknownCodeVersion = { seq, version: record.codeVersion }
    return this.differ({ seq, machine: '-', input: record, expected: null, got: null, message: `journal written by decision code ${record.codeVersion}; this build replays ${this.knownVersions.join(', ')}` })
  }

  private create(seq: number, record: Extract<JournalRecord, { t: 'create' }>): boolean {
    const machine = Object.hasOwn(this.registry, record.type) ? this.registry[record.type] : undefined
    if (machine === undefined) return this.differ({ seq, machine: record.m, input: record, expected: null, got: null, message: `unknown machine type "${record.type}"` })
    const input = this.hooks.createInput === undefined ? record.input : this.hooks.createInput(record)
    let snapshot: AnyMachineSnapshot
    try {
      snapshot = initialTransition(machine, input)[0]
    } catch (error) {
      return this.differ({ seq, machine: record.m, input: record, expected: null, got: null, message: threw('the machine', error) })
    }
    this.snapshots.set(record.m, { machine, type: record.type, snapshot })
    return true
  }

  private input(seq: number, record: Extract<JournalRecord, { t: 'input' }>): boolean {
    const hosted = this.snapshots.get(record.m)
    if (hosted === undefined) return this.differ({ seq, machine: record.m, input: record.e, expected: null, got: null, message: `input for machine ${record.m} that was never created` })
    const before = hosted.snapshot
    let result: ReturnType<typeof step>
    try {
      result = step(hosted.machine, before, record.e)
    } catch (error) {
      return this.differ({ seq, machine: record.m, input: record.e, expected: null, got: null, message: threw('the machine', error) })
    }
    hosted.snapshot = result.snapshot
    this.result.inputs++
    this.awaiting = { seq, machine: record.m, type: hosted.type, input: record.e, before, produced: result.transition }
    return true
  }

  private matchTransition(seq: number, record: Extract<JournalRecord, { t: 'transition' }>): boolean {
    const recorded: TransitionRecord = { from: record.from, to: record.to, event: record.event, effects: record.effects as TransitionRecord['effects'] }
    const a = this.awaiting
    this.awaiting = null
    if (a === null || a.machine !== record.m) {
      return this.differ({ seq, machine: record.m, input: a?.input ?? null, expected: recorded, got: null, message: 'recorded transition with no input before it' })
    }
    if (canonical(a.produced) !== canonical(recorded)) {
      return this.differ({ seq: a.seq, machine: a.machine, input: a.input, expected: recorded, got: a.produced, message: 'machine decided differently' })
    }
    this.result.transitions++
    this.hooks.onTransition?.({ seq, inputSeq: a.seq, machine: a.machine, type: a.type, input: a.input as ReplayedTransition['input'], before: a.before, transition: recorded })
    return true
  }

  /** An input whose produced transition has no recorded twin is a difference too. */
  private settle(): boolean {
    const a = this.awaiting
    this.awaiting = null
    if (a === null || a.produced === null) return this.result.ok
    return this.differ({ seq: a.seq, machine: a.machine, input: a.input, expected: null, got: a.produced, message: 'machine decided something the journal does not record' })
  }

  private differ(d: Difference): boolean {
    if (this.result.ok) { this.result.ok = false; this.result.difference = d }
    return false
  }
}

export async function replayRecords(records: AsyncIterable<StoredRecord> | Iterable<StoredRecord>, registry: Readonly<Record<string, AnyStateMachine>>, knownVersions: readonly string[], hooks: ReplayHooks = {}): Promise<ReplayResult> {
  const replayer = new Replayer(registry, knownVersions, hooks)
  for await (const stored of records) if (!replayer.feed(stored)) break
  return replayer.finish()
}

export function describeDifference(d: Difference): string {
  return [
    `first difference at seq ${d.seq}, machine ${d.machine}: ${d.message}`,
    `  input:    ${json(d.input)}`,
    `  expected: ${canonical(d.expected)}`,
    `  got:      ${canonical(d.got)}`,
  ].join('\n')
}
