/** `carbonado disk init|test|print` (Kimberlite's `diskutil -I`, `-t`, `-p`). */
import { configFrom, parseFlags, positiveNumber, requireString } from './args.js'
import { findNode } from '../config/load.js'
import { CarbError } from '../errors.js'
import { diskInit, diskPrint, diskTest } from '../disk/commands.js'
import { DEFAULT_GEOMETRY, MAX_SERVICES_LIMIT } from '../disk/layout.js'

const DISK_FLAGS = { config: { type: 'string', short: 'c' }, disk: { type: 'string' } } as const

/** The disk and cluster name from -c FILE, or from --disk PATH (and --cluster NAME for init). */
/** With -c FILE and --node NAME, that node's path to the disk (`nodes[].disk`). */
async function target(command: string, values: Record<string, unknown>): Promise<{ path: string; cluster?: string; nodeIdOf?: (name: string) => number }> {
  if (typeof values.disk === 'string') return { path: values.disk, ...(typeof values.cluster === 'string' ? { cluster: values.cluster } : {}) }
  if (values.config === undefined) throw new CarbError('CARB_ERR_USAGE', `${command}: give -c FILE (the cluster file) or --disk PATH`)
  const config = await configFrom(command, values)
  const path = typeof values.node === 'string' ? findNode(config, values.node).disk : config.disk
  return { path, cluster: config.cluster, nodeIdOf: (name) => findNode(config, name).id }
}

export async function diskInitCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('disk init', args, { ...DISK_FLAGS, cluster: { type: 'string' }, force: { type: 'boolean' }, 'block-size': { type: 'string' }, 'max-services': { type: 'string' } })
  const t = await target('disk init', values)
  const clusterName = t.cluster ?? requireString('disk init', values, 'cluster')
  const blockSize = positiveNumber('disk init', 'block-size', values['block-size'], 4096)
  if (blockSize !== 512 && blockSize !== 4096) throw new CarbError('CARB_ERR_USAGE', `disk init: --block-size must be 512 or 4096, got ${blockSize}`)
  const maxServices = positiveNumber('disk init', 'max-services', values['max-services'], DEFAULT_GEOMETRY.maxServices)
  if (!Number.isInteger(maxServices) || maxServices > MAX_SERVICES_LIMIT) throw new CarbError('CARB_ERR_USAGE', `disk init: --max-services must be an integer 1..${MAX_SERVICES_LIMIT}, got ${maxServices}`)
  const header = await diskInit(t.path, { clusterName, force: values.force === true, geometry: { blockSize, maxServices } })
  process.stdout.write(`initialized ${t.path} for cluster ${clusterName} (uuid ${String((header as { clusterUuid?: unknown }).clusterUuid ?? '')}, block size ${blockSize}, room for ${maxServices} services)\n`)
  return 0
}

export async function diskTestCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('disk test', args, { ...DISK_FLAGS, node: { type: 'string', short: 'n' }, 'node-id': { type: 'string' }, json: { type: 'boolean' } })
  const t = await target('disk test', values)
  const nodeId = typeof values.node === 'string' && t.nodeIdOf !== undefined
    ? t.nodeIdOf(values.node)
    : positiveNumber('disk test', 'node-id', values['node-id'] ?? (t.nodeIdOf === undefined ? undefined : 1), 1)
  const result = await diskTest(t.path, nodeId, t.cluster === undefined ? {} : { expectClusterName: t.cluster })
  process.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : `${result.text}\n`)
  return result.ok ? 0 : 1
}

export async function diskPrintCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('disk print', args, { ...DISK_FLAGS, json: { type: 'boolean' } })
  const t = await target('disk print', values)
  const result = await diskPrint(t.path, t.cluster === undefined ? {} : { expectClusterName: t.cluster })
  process.stdout.write(values.json === true ? `${JSON.stringify({ header: result.header, nodes: result.nodes })}\n` : `${result.text}\n`)
  return 0
}
