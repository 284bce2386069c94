/** Flag parsing on node:util parseArgs; a bad flag is a one-line CARB_ERR_USAGE. */
import { parseArgs } from 'node:util'
import { hostname } from 'node:os'
import { CarbError } from '../errors.js'
import { loadConfig, type ClusterConfig } from '../config/load.js'

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>

export function parseFlags<T extends FlagSpec>(command: string, args: string[], spec: T, positionals = 0): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: spec, allowPositionals: positionals > 0, strict: true })
    if (parsed.positionals.length > positionals) throw new Error(`unexpected argument "${parsed.positionals[positionals]}"`)
    return { values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals }
  } catch (error) {
    throw new CarbError('CARB_ERR_USAGE', `${command}: ${(error as Error).message.split('\n')[0]}; see \`carbonado ${command} --help\``)
  }
}

export function requireString(command: string, values: Record<string, unknown>, name: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value === '') throw new CarbError('CARB_ERR_USAGE', `${command}: --${name} is required; see \`carbonado ${command} --help\``)
  return value
}

export async function configFrom(command: string, values: Record<string, unknown>): Promise<ClusterConfig> {
  return loadConfig(requireString(command, values, 'config'))
}

/** --node NAME, else the node named like this host, else the only choice `fallback` gives. */
export function nodeNameFrom(command: string, values: Record<string, unknown>, config: ClusterConfig): string {
  if (typeof values.node === 'string') return values.node
  const host = hostname().split('.')[0] ?? ''
  if (config.nodes.some((n) => n.name === host)) return host
  throw new CarbError('CARB_ERR_USAGE', `${command}: --node is required (this host "${host}" is not a node of ${config.file})`)
}

export function positiveNumber(command: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new CarbError('CARB_ERR_USAGE', `${command}: --${name} must be a positive number, got "${String(value)}"`)
  return n
}
