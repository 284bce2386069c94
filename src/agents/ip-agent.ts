/**
 * A floating IP address, built in (no external agent): `ip addr add/del` on one interface,
 * idempotent both ways, and a gratuitous ARP after start so neighbours stop sending to the
 * node that had the address before.
 *
 * `arping` in the resource: absent, the announcement is sent when the `arping` binary is on
 * the agent PATH and skipped when it is not (IPaddr2 and keepalived announce by default: a
 * neighbour whose ARP cache still names the old node keeps sending there until the entry
 * expires); false, never sent; true, required: on a node without arping, validate and start
 * answer misconfigured (the address is not added, and the start is not retried on that node).
 */
import { isIP } from 'node:net'
import { finish, runCommand, type AgentContext } from './context.js'
import { findInPath, agentEnvironment } from './environment.js'
import { findAddress, isMissingDevice, parseIpAddrJson, type InterfaceAddress } from './ip-addresses.js'
import { abnormalOutcome, describeRun } from './result.js'
import type { ProcessRun } from './run-process.js'
import type { AgentResult, IpSpec } from './types.js'

/**
 * `arping -U -c 3`: three announcements a second apart (arping takes whole seconds), as
 * IPaddr2 does by default; one lost frame does not leave a neighbour pointing at the old node.
 */
export const ARPING_COUNT = 3
/** arping -c 3 takes about 3 s; this bounds it on its own, inside the start's deadline. */
export const ARPING_TIMEOUT_MS = 5000

type Listing = { run: ProcessRun; addresses: InterfaceAddress[] | null; missingDevice: boolean; text: string }

async function listAddresses(spec: IpSpec, ctx: AgentContext): Promise<Listing> {
  const mark = ctx.capture.mark()
  const run = await runCommand(ctx, ['ip', '-j', 'addr', 'show', 'dev', spec.interface])
  const output = ctx.capture.since(mark)
  const missingDevice = run.exitCode !== 0 && isMissingDevice(output)
  const addresses = abnormalOutcome(run) === null && run.exitCode === 0 ? parseIpAddrJson(output) : null
  const text = missingDevice ? `interface ${spec.interface} does not exist` : `ip addr show: ${describeRun(run, ctx.deadline.timeoutMs)}`
  return { run, addresses, missingDevice, text }
}

function cidr(spec: IpSpec): string {
  return `${spec.address}/${spec.prefix}`
}

export async function runIpAgent(spec: IpSpec, ctx: AgentContext): Promise<AgentResult> {
  const listing = await listAddresses(spec, ctx)
  const abnormal = abnormalOutcome(listing.run)
  if (abnormal !== null) return finish(ctx, abnormal, listing.run, listing.text)
  if (listing.addresses === null) {
    // Stopped is stopped: without the interface, the address cannot be served from here.
    if (ctx.op === 'stop' && listing.missingDevice) return finish(ctx, 'ok', listing.run, `${listing.text}: nothing to remove`)
    const outcome = ctx.op === 'validate' && listing.missingDevice ? 'misconfigured' : 'failed'
    return finish(ctx, outcome, listing.run, listing.text)
  }
  const present = findAddress(listing.addresses, spec.address)
  const otherPrefix = present !== undefined && present.prefix !== spec.prefix ? `${spec.address} is on ${spec.interface} with prefix /${present.prefix}, not /${spec.prefix}` : null
  switch (ctx.op) {
    case 'validate': {
      const arping = arpingPlan(spec, ctx)
      if (arping.missingRequired) return finish(ctx, 'misconfigured', listing.run, arping.why)
      return finish(ctx, 'ok', listing.run, `interface ${spec.interface} exists`)
    }
    case 'monitor':
      if (otherPrefix !== null) return finish(ctx, 'failed', listing.run, otherPrefix)
      return finish(ctx, present === undefined ? 'not-running' : 'ok', listing.run, `${cidr(spec)} ${present === undefined ? 'is not' : 'is'} on ${spec.interface}`)
    case 'start': {
      const arping = arpingPlan(spec, ctx)
      if (arping.missingRequired) return finish(ctx, 'misconfigured', listing.run, arping.why)
      if (otherPrefix !== null) return finish(ctx, 'failed', listing.run, otherPrefix)
      return present === undefined ? addAddress(spec, ctx, arping) : finish(ctx, 'ok', listing.run, `${cidr(spec)} already on ${spec.interface}`)
    }
    case 'stop':
      if (present === undefined || otherPrefix !== null) return finish(ctx, 'ok', listing.run, `${cidr(spec)} is not on ${spec.interface}: nothing to remove`)
      return deleteAddress(spec, ctx)
  }
}

async function addAddress(spec: IpSpec, ctx: AgentContext, arping: ArpingPlan): Promise<AgentResult> {
  const run = await runCommand(ctx, ['ip', 'addr', 'add', cidr(spec), 'dev', spec.interface])
  const ran = `ip addr add ${cidr(spec)} dev ${spec.interface}: ${describeRun(run, ctx.deadline.timeoutMs)}`
  const outcome = abnormalOutcome(run) ?? (run.exitCode === 0 ? 'ok' : 'failed')
  if (outcome !== 'ok') return finish(ctx, outcome, run, ran)
  return finish(ctx, 'ok', run, `${ran}; ${arping.send ? await announce(spec, ctx) : arping.why}`)
}

/** Whether a start announces the address; if not, why, and whether that makes the resource misconfigured on this node. */
interface ArpingPlan { send: boolean; why: string; missingRequired: boolean }

function arpingPlan(spec: IpSpec, ctx: AgentContext): ArpingPlan {
  // IPv6 neighbours learn from the unsolicited neighbour advertisements the kernel sends itself.
  if (isIP(spec.address) === 6) return { send: false, why: 'no gratuitous ARP for IPv6', missingRequired: false }
  if (spec.arping === false) return { send: false, why: 'no gratuitous ARP (arping: false)', missingRequired: false }
  const env = agentEnvironment({}, ctx.options.env)
  if (findInPath('arping', env) !== null) return { send: true, why: '', missingRequired: false }
  if (spec.arping === true) return { send: false, why: `arping: true, but arping is not installed (not on the agent PATH ${env.PATH ?? ''})`, missingRequired: true }
  return { send: false, why: 'arping is not installed: no gratuitous ARP sent', missingRequired: false }
}

/** Gratuitous ARP. Its failure is reported, never a start failure: the address is up either way. */
async function announce(spec: IpSpec, ctx: AgentContext): Promise<string> {
  const run = await runCommand(ctx, ['arping', '-q', '-U', '-c', String(ARPING_COUNT), '-I', spec.interface, spec.address], { timeoutMs: ARPING_TIMEOUT_MS })
  const ran = `arping: ${describeRun(run, ARPING_TIMEOUT_MS)}`
  return abnormalOutcome(run) === null && run.exitCode === 0 ? `${ran}, ${ARPING_COUNT} gratuitous ARPs sent` : `${ran} (ignored: the address is up)`
}

async function deleteAddress(spec: IpSpec, ctx: AgentContext): Promise<AgentResult> {
  const run = await runCommand(ctx, ['ip', 'addr', 'del', cidr(spec), 'dev', spec.interface])
  const ran = `ip addr del ${cidr(spec)} dev ${spec.interface}: ${describeRun(run, ctx.deadline.timeoutMs)}`
  const abnormal = abnormalOutcome(run)
  if (abnormal !== null) return finish(ctx, abnormal, run, ran)
  if (run.exitCode === 0) return finish(ctx, 'ok', run, ran)
  // Removed by someone else meanwhile? Then it is stopped all the same.
  const again = await listAddresses(spec, ctx)
  const gone = again.addresses !== null && findAddress(again.addresses, spec.address) === undefined
  return finish(ctx, gone ? 'ok' : 'failed', run, `${ran}; ${gone ? 'address is gone' : 'address is still there'}`)
}
