/**
 * `carbonado replay --explain`: every recorded transition, reproduced by replay, with what
 * caused it (the input, and the readings the machine held: evidence.ts). Several nodes'
 * journals are explained one by one and merged into one causal timeline (merge.ts).
 */
import { CarbError } from '../src/errors.js'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../machines/registry.js'
import type { PlainEvent, TransitionRecord } from '../machines/step.js'
import { describeEffect, describeEvidence, labelOf, subjectOf, valueText as stateText } from './evidence.js'
import { openJournalSource, type JournalSource } from './export-file.js'
import { formatHlc, fromPair, type Hlc } from './hlc.js'
import { mergeOrder, mergeTimelines, type MergeOrder } from './merge.js'
import type { JournalRecord, StoredRecord } from './records.js'
import { replayRecords, type ReplayedTransition, type ReplayResult } from './replay.js'

export interface ExplainedDecision {
  node: string
  incarnation: number
  /** The transition record's seq in that node's journal. */
  seq: number
  /** That node's monotonic reading: the input's `at`. */
  atMs: number
  /** Wall-clock estimate: the start record's wall clock plus the monotonic time since. */
  wallMs: number
  /** The hybrid-clock stamp (hlc.ts) as text; null for journals written before stamps. */
  hlc: string | null
  stamp: Hlc | null
  /** Instance id, e.g. 'peer:a#1', 'service:web#1', 'local#1', 'fence:a:1#1'. */
  machine: string
  /** Machine type, a key of MACHINES. */
  type: string
  /** What it is about: the peer, service or fence target, or this node. */
  subject: string
  from: unknown
  to: unknown
  event: string
  effects: PlainEvent[]
  input: { type: string; at: number; [field: string]: unknown }
  evidence: string[]
  summary: string
}

export interface ExplainedMachine { node: string; incarnation: number; machine: string; type: string; subject: string; createdAtMs: number; createdWallMs: number; initial: unknown }

export interface ExplainedJournal { path: string; node: string; replay: ReplayResult; stamped: boolean }

export interface Explanation {
  nodes: string[]
  machines: ExplainedMachine[]
  /** In merged order (one journal: its own order). */
  decisions: ExplainedDecision[]
  order: MergeOrder
  journals: ExplainedJournal[]
}

export interface StepFacts {
  node: string
  incarnation: number
  seq: number
  machine: string
  type: string
  input: ExplainedDecision['input']
  contextBefore: unknown
  transition: TransitionRecord
  wallMs: number
  stamp: Hlc | null
}


/** The input's type with the detail that matters at a glance. */
function inputBrief(e: StepFacts['input']): string {
  if (e.type === 'AGENT_DONE') return `AGENT_DONE (${String(e.op)} ${String(e.outcome)})`
  if (e.type === 'METHOD_DONE') return `METHOD_DONE (${String(e.outcome)})`
  if (e.type === 'PLACE') return `PLACE (owner ${e.owner === null ? 'none' : String(e.owner)})`
  if (e.type === 'DISK_STATUS' || e.type === 'HEARTBEAT') return `${e.type} (says ${String(e.state)})`
  if (e.type === 'POISON_PILL') return `POISON_PILL (from ${String(e.from)})`
  return e.type
}

/** One transition, explained (pure): used by replay here and by the live dashboard. */
export function explainStep(f: StepFacts): ExplainedDecision {
  const subject = subjectOf(f.type, f.contextBefore)
  const { from, to, event, effects } = f.transition
  const moved = stateText(from) === stateText(to) ? stateText(to) : `${stateText(from)} → ${stateText(to)}`
  const why = effects.map(describeEffect).join('; ')
  return {
    node: f.node, incarnation: f.incarnation, seq: f.seq, atMs: f.input.at, wallMs: f.wallMs,
    hlc: f.stamp === null ? null : formatHlc(f.stamp), stamp: f.stamp,
    machine: f.machine, type: f.type, subject, from, to, event, effects, input: f.input,
    evidence: describeEvidence(f.type, f.contextBefore, f.input),
    summary: `${labelOf(f.type, subject)}: ${moved} on ${inputBrief(f.input)}${why === '' ? '' : `: ${why}`}`,
  }
}

type StartRecord = Extract<JournalRecord, { t: 'start' }>

/** A monotonic reading of the node's clock as wall-clock ms, from its incarnation's start record (as is, without one). */
export function wallClockOf(start: StartRecord | null, atMs: number): number {
  return start === null ? atMs : start.wallMs + (atMs - start.atMs)
}

/** Folds one node's journal through replay and explains each reproduced transition. */
class JournalExplainer {
  readonly machines: ExplainedMachine[] = []
  readonly decisions: ExplainedDecision[] = []
  private start: StartRecord | null = null
  private stamp: Hlc | null = null
  stamped = true

  constructor(private readonly path: string) {}

  get node(): string { return this.start?.node ?? '?' }

  wallOf(atMs: number): number {
    return wallClockOf(this.start, atMs)
  }

  onRecord({ record }: StoredRecord): void {
    this.stamp = record.h === undefined ? null : fromPair(record.h)
    if (record.h === undefined) this.stamped = false
    if (record.t === 'start') {
      if (this.start !== null && this.start.node !== record.node) {
        throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `journal holds two nodes' records (${this.start.node}, then ${record.node})`, this.path)
      }
      this.start = record
    }
    if (record.t === 'create') this.created(record)
  }

  private created(record: Extract<JournalRecord, { t: 'create' }>): void {
    this.machines.push({
      node: this.node, incarnation: this.start?.incarnation ?? 0, machine: record.m, type: record.type,
      subject: subjectOf(record.type, record.input), createdAtMs: record.atMs, createdWallMs: this.wallOf(record.atMs),
      initial: initialStateOf(record.type),
    })
  }

  onTransition(t: ReplayedTransition): void {
    this.decisions.push(explainStep({
      node: this.node, incarnation: this.start?.incarnation ?? 0, seq: t.seq, machine: t.machine, type: t.type,
      input: t.input, contextBefore: t.before.context, transition: t.transition, wallMs: this.wallOf(t.input.at), stamp: this.stamp,
    }))
  }
}

/** The initial state of a machine type, read from its definition (our machines' initial states take no input). */
function initialStateOf(type: string): unknown {
  const machine = MACHINES[type]
  const initial = machine?.root.initial as { target?: readonly { key: string }[] } | undefined
  return initial?.target?.[0]?.key ?? null
}

export interface ExplainOptions {
  /** Called now and then with the records read so far and the total when known (a progress bar). */
  onProgress?: (records: number, total: number | null) => void
}

export const PROGRESS_EVERY_RECORDS = 2000

/** Reading progress over several journals: records so far, and the total when every source knows its count. */
export class RecordCounter {
  records = 0
  constructor(readonly total: number | null, private readonly report?: (records: number, total: number | null) => void) {}

  static over(sources: readonly JournalSource[], report?: (records: number, total: number | null) => void): RecordCounter {
    const known = sources.every((s) => s.count !== null)
    return new RecordCounter(known ? sources.reduce((n, s) => n + (s.count ?? 0), 0) : null, report)
  }

  count(): void {
    if (++this.records % PROGRESS_EVERY_RECORDS === 0) this.report?.(this.records, this.total)
  }

  end(): void {
    this.report?.(this.records, this.total)
  }
}

/** Opens every journal first (so the total is known), runs `body`, and closes them all. */
export async function withSources<T>(paths: readonly string[], body: (sources: JournalSource[]) => Promise<T>): Promise<T> {
  if (paths.length === 0) throw new CarbError('CARB_ERR_USAGE', 'no journal given (--journal PATH, repeatable)')
  const sources: JournalSource[] = []
  try {
    for (const path of paths) sources.push(await openJournalSource(path))
    return await body(sources)
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()))
  }
}

async function explainOne(path: string, source: JournalSource, counter: RecordCounter): Promise<{ explainer: JournalExplainer; journal: ExplainedJournal }> {
  const explainer = new JournalExplainer(path)
  const replay = await replayRecords(source.records, MACHINES, REPLAYABLE_CODE_VERSIONS, {
    onRecord: (stored) => { explainer.onRecord(stored); counter.count() },
    onTransition: (t) => explainer.onTransition(t),
  })
  return { explainer, journal: { path, node: explainer.node, replay, stamped: explainer.stamped } }
}

/** Refuses a second journal of a node already read: their entries would interleave meaninglessly. */
export function refuseTwins(read: readonly { node: string; path: string }[], next: { node: string; path: string }): void {
  const twin = read.find((p) => p.node === next.node)
  if (twin !== undefined) throw new CarbError('CARB_ERR_USAGE', `two journals of node ${next.node}: ${twin.path} and ${next.path}`, next.path)
}

/** Explains each journal (a directory of a stopped node, or an export file) and merges them. */
export async function explainJournals(paths: readonly string[], options: ExplainOptions = {}): Promise<Explanation> {
  return withSources(paths, (sources) => explainSources(paths, sources, options))
}

/** Explains journals already open (`paths` name them in messages): files, directories, or records in memory. */
export async function explainSources(paths: readonly string[], sources: readonly JournalSource[], options: ExplainOptions = {}): Promise<Explanation> {
  const counter = RecordCounter.over(sources, options.onProgress)
  const parts: Awaited<ReturnType<typeof explainOne>>[] = []
  for (const [i, path] of paths.entries()) {
    const part = await explainOne(path, sources[i]!, counter)
    refuseTwins(parts.map((p) => p.journal), part.journal)
    parts.push(part)
  }
  counter.end()
  const lists = parts.map((p) => p.explainer.decisions)
  const order = mergeOrder(lists)
  return {
    nodes: parts.map((p) => p.journal.node),
    machines: parts.flatMap((p) => p.explainer.machines),
    decisions: mergeTimelines(lists, order),
    order,
    journals: parts.map((p) => p.journal),
  }
}
