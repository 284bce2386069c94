/**
 * `carbonado fence NODE`, `carbonado fence ack NODE`, `carbonado fence status`: fencing by
 * hand, through the local node's control socket, so the operation runs in the node's
 * fencing machine and is journaled like any other (Kimberlite's power switch, Pacemaker's
 * `stonith_admin --fence` and `fence_ack_manual`).
 */
import { userInfo } from 'node:os'
import { configFrom, nodeNameFrom, parseFlags, positiveNumber, type FlagSpec } from './args.js'
import { findNode, type ClusterConfig } from '../config/load.js'
import { CarbError } from '../errors.js'
import { requestControl, type ControlRequest } from '../runtime/control.js'
import type { FenceOpStatus } from '../runtime/fence-shell.js'

const COMMON: FlagSpec = { config: { type: 'string', short: 'c' }, node: { type: 'string', short: 'n' } }
/** States in which an operation has ended (machines/fencing.ts). */
const ENDED = ['succeeded', 'cancelled', 'failed']
const POLL_MS = 250

async function ask(config: ClusterConfig, node: string, request: ControlRequest): Promise<Record<string, unknown>> {
  const socket = findNode(config, node).controlSocket
  for await (const line of requestControl(socket, request, 10_000)) return line
  throw new CarbError('CARB_ERR_CONTROL_PROTOCOL', 'no answer', socket)
}

function who(): string {
  try { return userInfo().username } catch { return `uid ${process.getuid?.() ?? '?'}` }
}

function targetArg(command: string, names: string[]): string {
  const [target] = names
  if (target === undefined) throw new CarbError('CARB_ERR_USAGE', `${command}: give the NODE to fence; see \`carbonado ${command} --help\``)
  return target
}

async function operations(config: ClusterConfig, node: string): Promise<FenceOpStatus[]> {
  return (await ask(config, node, { cmd: 'fence-status' })).operations as FenceOpStatus[]
}

function describe(op: FenceOpStatus): string {
  const last = op.attempts.at(-1)
  const tried = last === undefined ? '' : `; last try ${last.name} (round ${last.round}): ${last.outcome}${last.detail === '' ? '' : ` ${last.detail}`}`
  const why = op.state === 'cancelled' && op.cancelReason !== null ? `: ${op.cancelReason}` : ''
  return `${op.target}: ${op.state}${why} (requested by ${op.requestedBy}: ${op.reason})${tried}`
}

/**
 * `carbonado fence NODE`: fence now, and wait for the outcome: exit 0 when the target's
 * incarnation is proven stopped (fenced, or cancelled because it left cleanly or restarted,
 * as a node that answers a poison pill does), 1 when not.
 */
export async function fenceNode(args: string[]): Promise<number> {
  const command = 'fence'
  const { values, positionals } = parseFlags(command, args, { ...COMMON, wait: { type: 'string' } }, 1)
  const config = await configFrom(command, values)
  const node = nodeNameFrom(command, values, config)
  const target = targetArg(command, positionals)
  const waitS = positiveNumber(command, 'wait', values.wait, 120)
  const answer = await ask(config, node, { cmd: 'fence', target, who: who() })
  const id = String(answer.id)
  process.stdout.write(`fencing ${target} from ${node} (operation ${id})\n`)
  const deadline = Date.now() + waitS * 1000
  let said = ''
  while (Date.now() < deadline) {
    const op = (await operations(config, node)).find((o) => o.id === id)
    if (op === undefined) throw new CarbError('CARB_ERR_CONTROL_PROTOCOL', `operation ${id} is gone from ${node} (the node restarted?)`)
    const line = describe(op)
    if (line !== said) { process.stdout.write(`${line}\n`); said = line }
    if (ENDED.includes(op.state)) return op.state === 'failed' ? 1 : 0
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
  process.stdout.write(`still fencing ${target} after ${waitS} s; \`carbonado fence status\` follows it\n`)
  return 1
}

/** `carbonado fence ack NODE --yes`: an administrator confirms NODE is off (fence_ack_manual). */
export async function fenceAck(args: string[]): Promise<number> {
  const command = 'fence ack'
  const { values, positionals } = parseFlags(command, args, { ...COMMON, yes: { type: 'boolean' } }, 1)
  const target = targetArg(command, positionals)
  if (values.yes !== true) {
    throw new CarbError('CARB_ERR_USAGE', `${command}: this tells the cluster that ${target} is powered off or otherwise certainly stopped, and lets others take its services; if that is not true, two nodes run them. Check it, then add --yes`)
  }
  const config = await configFrom(command, values)
  const node = nodeNameFrom(command, values, config)
  const answer = await ask(config, node, { cmd: 'fence-ack', target, who: who() })
  process.stdout.write(`${target} acknowledged off by ${who()} on ${node} (operation ${String(answer.id)}); every member reads it from the quorum disk\n`)
  return 0
}

/** `carbonado fence status`: this node's fencing operations, newest last. */
export async function fenceStatus(args: string[]): Promise<number> {
  const command = 'fence status'
  const { values } = parseFlags(command, args, { ...COMMON, json: { type: 'boolean' } }, 0)
  const config = await configFrom(command, values)
  const node = nodeNameFrom(command, values, config)
  const ops = await operations(config, node)
  if (values.json === true) process.stdout.write(`${JSON.stringify(ops, null, 2)}\n`)
  else process.stdout.write(ops.length === 0 ? `no fencing operations on ${node}\n` : `${ops.map(describe).join('\n')}\n`)
  return 0
}
