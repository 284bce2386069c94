/**
 * `carbonado replay`: check that journals reproduce (default), explain every decision
 * (`--explain`, one node or several merged), or try other settings on the same inputs
 * (`--what-if FILE`).
 */
import { parseFlags, positiveNumber } from './args.js'
import { CarbError } from '../errors.js'
import { openJournalSource } from '../../journal/export-file.js'
import { explainJournals, type Explanation, type ExplainOptions } from '../../journal/explain.js'
import { filterDecisions, type DecisionFilter } from '../../journal/explain-filter.js'
import { replayRecords, describeDifference, type ReplayResult } from '../../journal/replay.js'
import { whatIfJournals } from '../../journal/what-if.js'
import { MACHINES, DECISION_CODE_VERSION, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'
import { loadWhatIf } from '../config/what-if.js'
import { explainColumns, explainList, orderNote, whatIfText } from './explain-text.js'
import { Progress } from './progress.js'
import { parseTimeFlag } from './time-flag.js'

const FLAGS = {
  journal: { type: 'string', short: 'j', multiple: true }, json: { type: 'boolean' }, explain: { type: 'boolean' },
  service: { type: 'string' }, node: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
  'decisions-only': { type: 'boolean' }, 'what-if': { type: 'string' }, width: { type: 'string' }, progress: { type: 'boolean' },
} as const

type Values = Record<string, string | boolean | string[] | undefined>
const EXPLAIN_ONLY = ['service', 'node', 'from', 'to', 'decisions-only', 'width'] as const
/** Without a terminal to measure: wide enough for three columns of readable text. */
const DEFAULT_WIDTH = 160

function journalsOf(values: Values): string[] {
  const paths = (values.journal as string[] | undefined) ?? []
  if (paths.length === 0) throw new CarbError('CARB_ERR_USAGE', 'replay: --journal is required (repeat it for several nodes); see `carbonado replay --help`')
  return paths
}

function progressOptions(values: Values): { options: ExplainOptions; progress: Progress } {
  const progress = new Progress(process.stderr, () => performance.now(), 'replay', values.progress === true)
  return { options: { onProgress: (records, total) => progress.update(records, total) }, progress }
}

function unknownVersion(path: string, result: ReplayResult): void {
  const unknown = result.unknownCodeVersion
  if (unknown === undefined) return
  throw new CarbError('CARB_ERR_JOURNAL_VERSION', `seq ${unknown.seq}: written by decision code ${unknown.version}; this build replays ${REPLAYABLE_CODE_VERSIONS.join(', ')}; use a carbonado release that knows it`, path)
}

export async function replay(args: string[]): Promise<number> {
  const { values } = parseFlags('replay', args, FLAGS)
  const paths = journalsOf(values)
  if (values['what-if'] !== undefined && values.explain === true) throw new CarbError('CARB_ERR_USAGE', 'replay: --what-if and --explain are separate runs; give one')
  const stray = EXPLAIN_ONLY.find((f) => values[f] !== undefined)
  if (stray !== undefined && values.explain !== true) throw new CarbError('CARB_ERR_USAGE', `replay: --${stray} filters --explain output; add --explain`)
  if (typeof values['what-if'] === 'string') return whatIf(paths, values['what-if'], values)
  if (values.explain === true) return explain(paths, values)
  let ok = true
  for (const path of paths) ok = (await check(path, paths.length > 1 ? `${path}: ` : '', values.json === true)) && ok
  return ok ? 0 : 1
}

async function check(path: string, prefix: string, json: boolean): Promise<boolean> {
  const source = await openJournalSource(path)
  try {
    const result = await replayRecords(source.records, MACHINES, REPLAYABLE_CODE_VERSIONS)
    unknownVersion(path, result)
    if (json) {
      process.stdout.write(`${JSON.stringify({ ...(prefix === '' ? {} : { journal: path }), ...result, decisionCodeVersion: DECISION_CODE_VERSION })}\n`)
    } else if (result.ok) {
      process.stdout.write(`${prefix}replay ok: ${result.records} records, ${result.inputs} inputs, ${result.transitions} transitions reproduced exactly across ${result.machines} machines (journal code ${result.codeVersions.join(', ') || '-'}, this code ${DECISION_CODE_VERSION})\n`)
    } else {
      process.stdout.write(`${prefix}replay DIVERGED after ${result.transitions} matching transitions\n${describeDifference(result.difference!)}\n`)
    }
    return result.ok
  } finally {
    await source.close()
  }
}

function filterOf(values: Values, e: Explanation): DecisionFilter {
  const day = e.decisions[0]?.wallMs ?? 0
  const node = values.node as string | undefined
  if (node !== undefined && !e.nodes.includes(node)) throw new CarbError('CARB_ERR_USAGE', `replay: --node ${node} is not one of the journals' nodes (${e.nodes.join(', ')})`)
  return {
    service: values.service as string | undefined, node,
    fromWallMs: typeof values.from === 'string' ? parseTimeFlag('from', values.from, day) : undefined,
    toWallMs: typeof values.to === 'string' ? parseTimeFlag('to', values.to, day) : undefined,
    decisionsOnly: values['decisions-only'] === true,
  }
}

async function explain(paths: string[], values: Values): Promise<number> {
  const { options, progress } = progressOptions(values)
  const e = await explainJournals(paths, options).finally(() => progress.done())
  for (const j of e.journals) unknownVersion(j.path, j.replay)
  const decisions = filterDecisions(e.decisions, filterOf(values, e))
  const diverged = e.journals.filter((j) => !j.replay.ok)
  if (values.json === true) {
    const journals = e.journals.map((j) => ({ path: j.path, node: j.node, stamped: j.stamped, ...j.replay }))
    process.stdout.write(`${JSON.stringify({ order: e.order, nodes: e.nodes, journals, machines: e.machines, decisions })}\n`)
  } else {
    const note = orderNote(e)
    const width = positiveNumber('replay', 'width', values.width, process.stdout.columns ?? DEFAULT_WIDTH)
    const body = e.nodes.length > 1 ? explainColumns(decisions, e.nodes, width) : explainList(decisions)
    process.stdout.write(`${note === '' ? '' : `${note}\n`}${body}${body === '' ? '' : '\n'}${decisions.length} of ${e.decisions.length} decisions shown\n`)
    for (const j of diverged) process.stdout.write(`${j.path}: replay DIVERGED after ${j.replay.transitions} matching transitions (the explanation stops there)\n${describeDifference(j.replay.difference!)}\n`)
  }
  return diverged.length === 0 ? 0 : 1
}

async function whatIf(paths: string[], file: string, values: Values): Promise<number> {
  const settings = await loadWhatIf(file)
  const { options, progress } = progressOptions(values)
  const result = await whatIfJournals(paths, settings, options).finally(() => progress.done())
  if (values.json === true) process.stdout.write(`${JSON.stringify({ settings, ...result })}\n`)
  else process.stdout.write(`${whatIfText(file, settings, result)}\n`)
  return 0
}
