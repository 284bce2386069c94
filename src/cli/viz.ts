/**
 * `carbonado viz`: the state charts of every machine (or one), drawn from the machine
 * definitions of this build, as a self-contained HTML page (default), Mermaid text, or one
 * SVG. With `--journal` (repeatable: several nodes' journals are merged), the page overlays
 * the incident those journals recorded (journal/explain.ts).
 */
import { writeFile } from 'node:fs/promises'
import { parseFlags, requireString } from './args.js'
import { CarbError } from '../errors.js'
import { explainJournals } from '../../journal/explain.js'
import { MACHINES, REPLAYABLE_CODE_VERSIONS } from '../../machines/registry.js'
import { machineChartModel } from '../web/chart-model.js'
import { chartMermaid } from '../web/chart-mermaid.js'
import { renderChartSvg } from '../web/chart-svg.js'
import { vizPage, type VizChart } from '../web/viz-page.js'

const FLAGS = {
  out: { type: 'string', short: 'o' }, journal: { type: 'string', short: 'j', multiple: true },
  format: { type: 'string' }, machine: { type: 'string' },
} as const

const FORMATS = ['html', 'mermaid', 'svg'] as const
type Format = (typeof FORMATS)[number]

/** One line per registered type: what its chart is about. A type missing here is drawn without it. */
const ABOUT: Readonly<Record<string, string>> = {
  peer: 'Membership of one peer as this node sees it (machines/membership.ts): one instance per peer.',
  local: 'This node itself: joining, member, and out (self-fenced) or left (machines/local-node.ts).',
  service: "This node's role for one service, on the service's disk lease (machines/service.ts): one instance per service.",
  fencing: 'One fencing operation against a node, method by method (machines/fencing.ts).',
}

function formatOf(values: Record<string, unknown>): Format {
  const format = values.format ?? 'html'
  if (typeof format !== 'string' || !(FORMATS as readonly string[]).includes(format)) {
    throw new CarbError('CARB_ERR_USAGE', `viz: --format must be one of ${FORMATS.join(', ')}, got "${String(format)}"`)
  }
  return format as Format
}

function typesOf(values: Record<string, unknown>, format: Format): string[] {
  const machine = values.machine
  if (typeof machine === 'string' && !Object.hasOwn(MACHINES, machine)) {
    throw new CarbError('CARB_ERR_USAGE', `viz: --machine: unknown machine type "${machine}" (known: ${Object.keys(MACHINES).join(', ')})`)
  }
  if (format === 'svg' && typeof machine !== 'string') throw new CarbError('CARB_ERR_USAGE', 'viz: --format svg draws one machine: give --machine TYPE')
  return typeof machine === 'string' ? [machine] : Object.keys(MACHINES)
}

/** One diagram as plain Mermaid text; several as Markdown with a fenced block each (GitHub draws them). */
function mermaidOutput(types: readonly string[]): string {
  const diagrams = types.map((type) => chartMermaid(machineChartModel(MACHINES[type]!, type)))
  if (diagrams.length === 1) return diagrams[0]!
  return types.map((type, i) => `## ${type}\n\n\`\`\`mermaid\n${diagrams[i]}\`\`\`\n`).join('\n')
}

async function htmlOutput(types: readonly string[], journals: readonly string[]): Promise<{ text: string; note: string }> {
  const charts: VizChart[] = types.map((type) => ({ type, svg: renderChartSvg(type), ...(ABOUT[type] !== undefined ? { about: ABOUT[type] } : {}) }))
  if (journals.length === 0) return { text: vizPage({ charts }), note: '' }
  const explanation = await explainJournals(journals)
  for (const j of explanation.journals) {
    const unknown = j.replay.unknownCodeVersion
    if (unknown !== undefined) throw new CarbError('CARB_ERR_JOURNAL_VERSION', `seq ${unknown.seq}: written by decision code ${unknown.version}; this build replays ${REPLAYABLE_CODE_VERSIONS.join(', ')}`, j.path)
  }
  const diverged = explanation.journals.filter((j) => !j.replay.ok).map((j) => `${j.path}: replay DIVERGED after ${j.replay.transitions} matching transitions (the incident stops there)`)
  const note = `, incident of ${explanation.decisions.length} decisions on nodes ${explanation.nodes.join(', ')}${diverged.length > 0 ? `\n${diverged.join('\n')}` : ''}`
  return { text: vizPage({ charts, explanation }), note }
}

async function writeOut(out: string, text: string): Promise<void> {
  try {
    await writeFile(out, text)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new CarbError('CARB_ERR_OUTPUT_WRITE', `--out: cannot write the file (${code})`, out)
  }
}

export async function viz(args: string[]): Promise<number> {
  const { values } = parseFlags('viz', args, FLAGS)
  const out = requireString('viz', values, 'out')
  const format = formatOf(values)
  const types = typesOf(values, format)
  const journals = (values.journal as string[] | undefined) ?? []
  if (journals.length > 0 && format !== 'html') throw new CarbError('CARB_ERR_USAGE', `viz: --journal overlays an incident on the HTML page; drop it or use --format html (not ${format})`)
  if (format === 'svg') {
    await writeOut(out, `<?xml version="1.0" encoding="UTF-8"?>\n${renderChartSvg(types[0]!, { embedStyle: true })}\n`)
    process.stdout.write(`wrote the ${types[0]} chart (SVG) to ${out}\n`)
    return 0
  }
  if (format === 'mermaid') {
    await writeOut(out, mermaidOutput(types))
    process.stdout.write(`wrote ${types.length} Mermaid state diagram${types.length === 1 ? '' : 's'} (${types.join(', ')}) to ${out}\n`)
    return 0
  }
  const page = await htmlOutput(types, journals)
  await writeOut(out, page.text)
  process.stdout.write(`wrote ${out}: state charts of ${types.join(', ')}${page.note}; open it in a browser (works offline, from file://)\n`)
  return page.note.includes('DIVERGED') ? 1 : 0
}
