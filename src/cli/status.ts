/** `carbonado status` (Kimberlite's `clustat -i 2`): one node's view, once or every S seconds. */
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { configFrom, parseFlags, positiveNumber } from './args.js'
import { findNode, type ClusterConfig } from '../config/load.js'
import { CarbError } from '../errors.js'
import { requestControl } from '../runtime/control.js'
import { formatStatus, type StatusView } from '../runtime/status-view.js'

/** --node, else this host's node, else the first node with a control socket on this machine. */
export function controlSocketFor(command: string, config: ClusterConfig, node: unknown): string {
  if (typeof node === 'string') return findNode(config, node).controlSocket
  const host = hostname().split('.')[0]
  const candidate = config.nodes.find((n) => n.name === host) ?? config.nodes.find((n) => existsSync(n.controlSocket))
  if (candidate === undefined) throw new CarbError('CARB_ERR_CONTROL_CONNECT', `${command}: no node of this cluster runs here (no control socket found); pass --node NAME`, config.file)
  return candidate.controlSocket
}

export async function fetchStatus(socket: string): Promise<StatusView> {
  for await (const line of requestControl(socket, 'status')) return line as unknown as StatusView
  throw new CarbError('CARB_ERR_CONTROL_PROTOCOL', 'empty answer to status', socket)
}

export async function status(args: string[]): Promise<number> {
  const { values } = parseFlags('status', args, { config: { type: 'string', short: 'c' }, node: { type: 'string', short: 'n' }, interval: { type: 'string', short: 'i' }, json: { type: 'boolean' } })
  const config = await configFrom('status', values)
  const socket = controlSocketFor('status', config, values.node)
  const intervalS = values.interval === undefined ? null : positiveNumber('status', 'interval', values.interval, 2)
  for (;;) {
    const view = await fetchStatus(socket)
    process.stdout.write(values.json === true ? `${JSON.stringify(view)}\n` : `${formatStatus(view)}\n${intervalS === null ? '' : '\n'}`)
    if (intervalS === null) return 0
    await new Promise((r) => setTimeout(r, intervalS * 1000))
  }
}
