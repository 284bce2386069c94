/**
 * `carbonado service …` and `carbonado config backup|restore` (Kimberlite's cluadmin). Every
 * change is made against the version the command read and proposed, through the local
 * node's control socket, as the next configuration version: if another administrator got
 * there first, the command fails with CARB_ERR_CONFIG_VERSION and nothing changes.
 */
import { readFile } from 'node:fs/promises'
import { replaceFile } from '../atomic-write.js'
import { parse, stringify } from 'yaml'
import { configFrom, nodeNameFrom, parseFlags, type FlagSpec } from './args.js'
import { findNode, type ClusterConfig } from '../config/load.js'
import { CarbError } from '../errors.js'
import { requestControl, type ControlRequest } from '../runtime/control.js'
import { readServicesDoc, type ServicesDoc } from '../config/services.js'
import { addService, deleteService, modifyService, type EditContext } from '../config/service-edit.js'
import { actionDone, applyServiceAction, type ServiceAction } from '../config/service-actions.js'
import type { ServiceStatus } from '../runtime/service-shell.js'

const COMMON: FlagSpec = { config: { type: 'string', short: 'c' }, node: { type: 'string', short: 'n' }, 'expect-version': { type: 'string' } }
const DEFINITION: FlagSpec = {
  domain: { type: 'string' }, failback: { type: 'string' }, 'failback-stable-ms': { type: 'string' },
  policy: { type: 'string' }, 'max-restarts': { type: 'string' }, 'window-ms': { type: 'string' },
  resource: { type: 'string', multiple: true }, disabled: { type: 'boolean' }, from: { type: 'string' },
}

interface Services { version: number; doc: ServicesDoc; services: ServiceStatus[] }

async function ask(config: ClusterConfig, node: string, request: ControlRequest): Promise<Record<string, unknown>> {
  for await (const line of requestControl(findNode(config, node).controlSocket, request, 60_000)) return line
  throw new CarbError('CARB_ERR_CONTROL_PROTOCOL', 'no answer', findNode(config, node).controlSocket)
}

async function current(config: ClusterConfig, node: string): Promise<Services> {
  return (await ask(config, node, { cmd: 'services' })) as unknown as Services
}

async function propose(config: ClusterConfig, node: string, expectVersion: number, doc: ServicesDoc, who: string): Promise<number> {
  const answer = await ask(config, node, { cmd: 'config-propose', expectVersion, doc, who })
  return Number(answer.version)
}

async function setup(command: string, args: string[], extra: FlagSpec, positionals: number) {
  const { values, positionals: names } = parseFlags(command, args, { ...COMMON, ...extra }, positionals)
  const config = await configFrom(command, values)
  const node = nodeNameFrom(command, values, config)
  const state = await current(config, node)
  const ctx: EditContext = { where: command, nodeNames: config.nodes.map((n) => n.name), maxServices: Number.MAX_SAFE_INTEGER }
  return { values, names, config, node, state, ctx }
}

function nameArg(command: string, names: string[]): string {
  const [name] = names
  if (name === undefined) throw new CarbError('CARB_ERR_USAGE', `${command}: give the service NAME; see \`carbonado ${command} --help\``)
  return name
}

function integerFlag(command: string, flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new CarbError('CARB_ERR_USAGE', `${command}: --${flag} must be an integer, got "${String(value)}"`)
  return n
}

/** One `--resource` value: a YAML flow mapping, e.g. `{type: ip, name: vip, address: 10.0.0.5, prefix: 24, interface: eth0}`. */
function resourceFlag(command: string, text: string, i: number): unknown {
  try {
    return parse(text) as unknown
  } catch (error) {
    throw new CarbError('CARB_ERR_USAGE', `${command}: --resource #${i + 1} is not a YAML mapping: ${(error as Error).message.split('\n')[0]}`)
  }
}

/** The definition fields given by flags (only those given), or the whole definition from --from FILE. */
async function definitionFrom(command: string, values: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (typeof values.from === 'string') {
    const text = await readFile(values.from, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new CarbError('CARB_ERR_CONFIG_READ', `cannot read: ${e.code ?? String(e)}`, values.from as string) })
    try { return parse(text) as Record<string, unknown> } catch (error) { throw new CarbError('CARB_ERR_CONFIG_SYNTAX', (error as Error).message.split('\n')[0] ?? 'bad YAML', values.from) }
  }
  const d: Record<string, unknown> = {}
  if (typeof values.domain === 'string') d.domain = values.domain.split(',').map((s) => s.trim()).filter(Boolean)
  if (values.failback !== undefined) {
    if (values.failback !== 'on' && values.failback !== 'off') throw new CarbError('CARB_ERR_USAGE', `${command}: --failback must be on or off, got "${String(values.failback)}"`)
    d.failback = values.failback === 'on'
  }
  const stable = integerFlag(command, 'failback-stable-ms', values['failback-stable-ms'])
  if (stable !== undefined) d.failbackStableMs = stable
  const recovery: Record<string, unknown> = {}
  if (values.policy !== undefined) recovery.policy = values.policy
  const maxRestarts = integerFlag(command, 'max-restarts', values['max-restarts'])
  if (maxRestarts !== undefined) recovery.maxRestarts = maxRestarts
  const windowMs = integerFlag(command, 'window-ms', values['window-ms'])
  if (windowMs !== undefined) recovery.windowMs = windowMs
  if (Object.keys(recovery).length > 0) d.recovery = recovery
  if (Array.isArray(values.resource)) d.resources = values.resource.map((r, i) => resourceFlag(command, String(r), i))
  if (values.disabled === true) d.enabled = false
  return d
}

async function change(command: string, args: string[], extra: FlagSpec, edit: (doc: ServicesDoc, name: string, s: Awaited<ReturnType<typeof setup>>) => ServicesDoc | Promise<ServicesDoc>, done: (name: string, version: number) => string): Promise<number> {
  const s = await setup(command, args, extra, 1)
  const name = nameArg(command, s.names)
  const expect = integerFlag(command, 'expect-version', s.values['expect-version'])
  if (expect !== undefined && expect !== s.state.doc.version) {
    throw new CarbError('CARB_ERR_CONFIG_VERSION', `--expect-version ${expect}, but the cluster is at version ${s.state.doc.version}; nothing changed`, command)
  }
  const next = await edit(s.state.doc, name, s)
  const version = await propose(s.config, s.node, expect ?? s.state.doc.version, next, command)
  process.stdout.write(`${done(name, version)} (configuration version ${version})\n`)
  return 0
}

export const serviceAdd = (args: string[]): Promise<number> => change('service add', args, DEFINITION,
  async (doc, name, s) => addService(doc, { ...(await definitionFrom('service add', s.values)), name }, s.ctx), (n) => `added service ${n}`)

export const serviceModify = (args: string[]): Promise<number> => change('service modify', args, DEFINITION,
  async (doc, name, s) => modifyService(doc, name, await definitionFrom('service modify', s.values), s.ctx), (n) => `modified service ${n}`)

export const serviceDelete = (args: string[]): Promise<number> => change('service delete', args, {}, (doc, name, s) => deleteService(doc, name, s.ctx), (n) => `deleted service ${n}`)
/** enable, disable, restart, relocate: the shared actions (config/service-actions.ts), as the dashboard runs them. */
function action(which: ServiceAction, extra: FlagSpec = {}) {
  const command = `service ${which}`
  return (args: string[]): Promise<number> => change(command, args, extra, (doc, name, s) => {
    const owner = s.state.services.find((x) => x.name === name)?.holder ?? null
    return applyServiceAction(doc, { action: which, name, to: typeof s.values.to === 'string' ? s.values.to : null }, owner, s.ctx)
  }, (name) => actionDone({ action: which, name, to: null }))
}

export const serviceEnable = action('enable')
export const serviceDisable = action('disable')
export const serviceRestart = action('restart')
export const serviceRelocate = action('relocate', { to: { type: 'string' } })

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}

export async function serviceList(args: string[]): Promise<number> {
  const { values, state } = await setup('service list', args, { json: { type: 'boolean' } }, 0)
  if (values.json === true) { process.stdout.write(`${JSON.stringify({ version: state.version, services: state.services })}\n`); return 0 }
  const rows = [['SERVICE', 'ENABLED', 'OWNER', 'HERE', 'DOMAIN', 'PLACEMENT']]
  for (const s of state.services) {
    const def = state.doc.services.find((d) => d.name === s.name)
    rows.push([s.name, s.enabled ? 'yes' : 'no', s.holder ?? '-', s.localState, (def?.domain ?? []).join(','), s.placement])
  }
  process.stdout.write(`configuration version ${state.version}\n${table(rows)}\n`)
  return 0
}

export async function serviceShow(args: string[]): Promise<number> {
  const { values, names, state } = await setup('service show', args, { json: { type: 'boolean' } }, 1)
  const name = nameArg('service show', names)
  const def = state.doc.services.find((d) => d.name === name)
  if (def === undefined) throw new CarbError('CARB_ERR_SERVICE_UNKNOWN', `no service named "${name}" in configuration version ${state.version}`, 'service show')
  const status = state.services.find((s) => s.name === name)
  if (values.json === true) { process.stdout.write(`${JSON.stringify({ version: state.version, definition: def, status })}\n`); return 0 }
  process.stdout.write(`${stringify({ version: state.version, status, definition: def })}`)
  return 0
}

export async function configBackup(args: string[]): Promise<number> {
  const { names, state } = await setup('config backup', args, {}, 1)
  const [file] = names
  if (file === undefined) throw new CarbError('CARB_ERR_USAGE', 'config backup: give the FILE to write')
  await replaceFile(file, `# carbonado service configuration, version ${state.doc.version}\n${stringify(state.doc)}`, 0o600)
  process.stdout.write(`wrote configuration version ${state.doc.version} (${state.doc.services.length} services) to ${file}\n`)
  return 0
}

export async function configRestore(args: string[]): Promise<number> {
  const { names, state, config, node } = await setup('config restore', args, {}, 1)
  const [file] = names
  if (file === undefined) throw new CarbError('CARB_ERR_USAGE', 'config restore: give the FILE to read')
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new CarbError('CARB_ERR_CONFIG_READ', `cannot read: ${e.code ?? String(e)}`, file) })
  let value: unknown
  try { value = parse(text) } catch (error) { throw new CarbError('CARB_ERR_CONFIG_SYNTAX', (error as Error).message.split('\n')[0] ?? 'bad YAML', file) }
  const read = readServicesDoc(file, value, config.nodes.map((n) => n.name), Number.MAX_SAFE_INTEGER)
  // A backup without the stored cluster file (older, or services only) keeps the one on the disk.
  const clusterFile = read.clusterFile ?? state.doc.clusterFile
  const restored = clusterFile === undefined ? read : { ...read, clusterFile }
  const version = await propose(config, node, state.doc.version, restored, 'config restore')
  process.stdout.write(`restored ${restored.services.length} services from ${file} (backup of version ${restored.version}) as configuration version ${version}\n`)
  return 0
}
