/**
 * `carbonado replay --what-if FILE`: the same recorded inputs, folded through fresh machines
 * whose settings (timings, recovery policies, fencing retries) are replaced by the file's,
 * compared transition by transition with what was recorded.
 *
 * How far it can be trusted (printed with every result):
 *   - Up to a node's first difference the what-if is exact: those inputs reached the machines
 *     whatever the settings, because nothing had been decided differently yet.
 *   - After it, the recorded inputs are those the *recorded* decisions caused (agent results
 *     of a start that would not have happened, a placement computed from a peer state that
 *     would differ): later differences on that node are listed as not trusted. Another node's
 *     difference later in the merged timeline may depend on it through the disk or the network.
 *   - A node journals only the checks that decided something (step.ts, coalescing), so a
 *     decision the new settings would take *earlier* shows at the next recorded input of that
 *     machine; the result gives the window (from the machine's previous recorded input).
 *   - Settings the shell uses on its own (placement's wait, the heartbeat interval, the
 *     takeover proof's deadlines) shaped the recorded inputs and are not re-run.
 */
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate'
import { initialTransition } from 'xstate'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../machines/registry.js'
import { CarbError } from '../src/errors.js'
import { step, type TransitionRecord } from '../machines/step.js'
import type { ResourceDefinition } from '../machines/service-events.js'
import { DEFAULT_TIMING, diskSuspectAfterMs } from '../src/config/timing.js'
import type { WhatIfSettings } from '../src/config/what-if.js'
import { subjectOf } from './evidence.js'
import { fromPair, type Hlc } from './hlc.js'
import type { JournalRecord, StoredRecord } from './records.js'
import { canonical } from './replay.js'
import { RecordCounter, refuseTwins, wallClockOf, withSources, type ExplainOptions } from './explain.js'
import { mergeOrder, mergeTimelines, type MergeOrder } from './merge.js'

type Obj = Record<string, unknown>
type Input = { type: string; at: number; [field: string]: unknown }

export interface WhatIfChange { machine: string; field: string; recorded: unknown; tried: unknown }

export interface WhatIfDifference {
  node: string
  machine: string
  type: string
  subject: string
  /** The input's seq. */
  seq: number
  atMs: number
  wallMs: number
  stamp: Hlc | null
  input: Input
  recorded: TransitionRecord | null
  tried: TransitionRecord | null
  /** The previous recorded input of this machine: a decision the what-if takes here could have come as early as this. */
  previousInputAtMs: number | null
  /** The first difference of this node (exact); later ones depend on it. */
  firstOnNode: boolean
}

export interface WhatIfJournal { node: string; changes: WhatIfChange[]; differences: WhatIfDifference[]; inputs: number }

function set(changes: WhatIfChange[], machine: string, field: string, recorded: unknown, tried: unknown): unknown {
  if (tried === undefined || JSON.stringify(recorded) === JSON.stringify(tried)) return recorded
  changes.push({ machine, field, recorded, tried })
  return tried
}

function peerInput(m: string, input: Obj, s: WhatIfSettings, changes: WhatIfChange[]): Obj {
  const timing = input.timing as Obj
  const suspect = s.timing.diskIntervalMs === undefined ? undefined : diskSuspectAfterMs({ ...DEFAULT_TIMING, diskIntervalMs: s.timing.diskIntervalMs })
  return {
    ...input,
    timing: {
      ...timing,
      diskSuspectAfterMs: set(changes, m, 'timing.diskSuspectAfterMs (2 x diskIntervalMs)', timing.diskSuspectAfterMs, suspect),
      diskDeadAfterMs: set(changes, m, 'timing.diskDeadAfterMs', timing.diskDeadAfterMs, s.timing.diskDeadAfterMs),
      peerDeadAfterMs: set(changes, m, 'timing.peerDeadAfterMs', timing.peerDeadAfterMs, s.timing.peerDeadAfterMs),
    },
  }
}

function localInput(m: string, input: Obj, s: WhatIfSettings, changes: WhatIfChange[]): Obj {
  return {
    ...input,
    selfFenceAfterMs: set(changes, m, 'timing.selfFenceAfterMs', input.selfFenceAfterMs, s.timing.selfFenceAfterMs),
    stopReserveMs: set(changes, m, 'timing.selfFenceStopMs', input.stopReserveMs ?? 0, s.timing.selfFenceStopMs),
  }
}

/** A service's definition fields (in its create input, or a CONFIGURE input) under the settings. */
function serviceDefinition(m: string, service: string, def: Obj, s: WhatIfSettings, changes: WhatIfChange[]): Obj {
  const tried = s.services[service]
  if (tried === undefined) return def
  const recovery = def.recovery as Obj
  const resources = (def.resources as ResourceDefinition[]).map((r) => ({
    ...r, monitorIntervalMs: set(changes, m, `services.${service}.resources.${r.name}.monitorIntervalMs`, r.monitorIntervalMs, tried.monitorIntervalMs[r.name]) as number,
  }))
  return {
    ...def,
    resources,
    recovery: {
      policy: set(changes, m, `services.${service}.recovery.policy`, recovery.policy, tried.recovery.policy),
      maxRestarts: set(changes, m, `services.${service}.recovery.maxRestarts`, recovery.maxRestarts, tried.recovery.maxRestarts),
      windowMs: set(changes, m, `services.${service}.recovery.windowMs`, recovery.windowMs, tried.recovery.windowMs),
    },
  }
}

function fencingInput(m: string, input: Obj, s: WhatIfSettings, changes: WhatIfChange[]): Obj {
  const retry = input.retry as Obj
  // A recorded delay of 0 means the node ran services (or the race delay was 0): only a node
  // that waited gets the new race delay.
  const delayMs = (input.delayMs as number) > 0 ? set(changes, m, 'fencing.raceDelayMs', input.delayMs, s.fencing.raceDelayMs) : input.delayMs
  return {
    ...input,
    delayMs,
    retry: {
      baseMs: set(changes, m, 'fencing.retryBaseMs', retry.baseMs, s.fencing.retryBaseMs),
      maxMs: set(changes, m, 'fencing.retryMaxMs', retry.maxMs, s.fencing.retryMaxMs),
      roundsMax: set(changes, m, 'fencing.roundsMax', retry.roundsMax, s.fencing.roundsMax),
    },
  }
}

/** A machine's create input with the settings applied; what changed goes to `changes`. */
export function applySettings(type: string, machine: string, input: unknown, s: WhatIfSettings, changes: WhatIfChange[]): unknown {
  if (typeof input !== 'object' || input === null) return input
  const obj = input as Obj
  if (type === 'peer') return peerInput(machine, obj, s, changes)
  if (type === 'local') return localInput(machine, obj, s, changes)
  if (type === 'service') return serviceDefinition(machine, String(obj.service), obj, s, changes)
  if (type === 'fencing') return fencingInput(machine, obj, s, changes)
  return input
}

interface Folded { machine: AnyStateMachine; type: string; subject: string; snapshot: AnyMachineSnapshot; diverged: boolean; lastInputAt: number | null }
interface Awaiting { seq: number; id: string; input: Input; tried: TransitionRecord | null; previousInputAt: number | null; stamp: Hlc | null }


/** Folds one node's journal under the settings and collects where it departs from the record. */
export class WhatIfFold {
  private readonly folded = new Map<string, Folded>()
  private awaiting: Awaiting | null = null
  private start: Extract<JournalRecord, { t: 'start' }> | null = null
  readonly result: WhatIfJournal = { node: '?', changes: [], differences: [], inputs: 0 }

  constructor(private readonly settings: WhatIfSettings) {}

  feed({ seq, record }: StoredRecord): void {
    if (record.t === 'transition') { this.compare(record); return }
    this.settle(null)
    if (record.t === 'start') {
      if (!REPLAYABLE_CODE_VERSIONS.includes(record.codeVersion)) {
        throw new CarbError('CARB_ERR_JOURNAL_VERSION', `seq ${seq}: written by decision code ${record.codeVersion}; this build folds ${REPLAYABLE_CODE_VERSIONS.join(', ')}`, record.node)
      }
      this.start = record
      this.result.node = record.node
    }
    if (record.t === 'create') this.create(record)
    if (record.t === 'input') this.input(seq, record)
  }

  finish(): WhatIfJournal {
    this.settle(null)
    return this.result
  }

  private create(record: Extract<JournalRecord, { t: 'create' }>): void {
    const machine = MACHINES[record.type]
    if (machine === undefined) return
    const input = applySettings(record.type, record.m, record.input, this.settings, this.result.changes)
    this.folded.set(record.m, { machine, type: record.type, subject: subjectOf(record.type, record.input), snapshot: initialTransition(machine, input)[0], diverged: false, lastInputAt: null })
  }

  private input(seq: number, record: Extract<JournalRecord, { t: 'input' }>): void {
    const f = this.folded.get(record.m)
    if (f === undefined) return
    let input = record.e as Input
    if (f.type === 'service' && input.type === 'CONFIGURE') input = serviceDefinition(record.m, f.subject, input, this.settings, []) as Input
    const result = step(f.machine, f.snapshot, input)
    f.snapshot = result.snapshot
    this.result.inputs++
    this.awaiting = { seq, id: record.m, input: record.e as Input, tried: result.transition, previousInputAt: f.lastInputAt, stamp: record.h === undefined ? null : fromPair(record.h) }
    f.lastInputAt = input.at
  }

  private compare(record: Extract<JournalRecord, { t: 'transition' }>): void {
    this.settle({ from: record.from, to: record.to, event: record.event, effects: record.effects as TransitionRecord['effects'] })
  }

  /** The awaited input's what-if transition against the recorded one (null: none recorded). */
  private settle(recorded: TransitionRecord | null): void {
    const a = this.awaiting
    this.awaiting = null
    if (a === null) return
    const f = this.folded.get(a.id)!
    if (f.diverged || canonical(a.tried) === canonical(recorded)) return
    f.diverged = true
    const wallMs = wallClockOf(this.start, a.input.at)
    this.result.differences.push({
      node: this.result.node, machine: a.id, type: f.type, subject: f.subject, seq: a.seq, atMs: a.input.at, wallMs, stamp: a.stamp,
      input: a.input, recorded, tried: a.tried, previousInputAtMs: a.previousInputAt, firstOnNode: this.result.differences.length === 0,
    })
  }
}

export async function whatIfRecords(records: AsyncIterable<StoredRecord> | Iterable<StoredRecord>, settings: WhatIfSettings): Promise<WhatIfJournal> {
  const fold = new WhatIfFold(settings)
  for await (const stored of records) fold.feed(stored)
  return fold.finish()
}

export interface WhatIfResult {
  journals: WhatIfJournal[]
  /** Every node's differences in merged (causal) order: the first one is exact. */
  differences: WhatIfDifference[]
  order: MergeOrder
}

export async function whatIfJournals(paths: readonly string[], settings: WhatIfSettings, options: ExplainOptions = {}): Promise<WhatIfResult> {
  return withSources(paths, async (sources) => {
    const counter = RecordCounter.over(sources, options.onProgress)
    const journals: (WhatIfJournal & { path: string })[] = []
    for (const [i, path] of paths.entries()) {
      const fold = new WhatIfFold(settings)
      for await (const stored of sources[i]!.records) { fold.feed(stored); counter.count() }
      const journal = { ...fold.finish(), path }
      refuseTwins(journals, journal)
      journals.push(journal)
    }
    counter.end()
    const lists = journals.map((j) => j.differences)
    const order = mergeOrder(lists)
    return { journals, differences: mergeTimelines(lists, order), order }
  })
}
