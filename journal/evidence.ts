/**
 * Why a machine took a transition, in words: the input that caused it and the readings the
 * machine held when it decided (its context before the input). Pure; one describer per
 * machine type. Used by `carbonado replay --explain`, the visualizer and the dashboard.
 */
import type { PeerContext } from '../machines/membership.js'
import type { LocalContext } from '../machines/local-node.js'
import type { ServiceContext } from '../machines/service.js'
import type { FencingContext } from '../machines/fencing.js'
import type { PlainEvent } from '../machines/step.js'

type Input = { type: string; at: number; [field: string]: unknown }

const ms = (value: number): string => `${Math.round(value)} ms`
const ago = (at: number | null, now: number): string => (at === null ? 'never' : `${ms(now - at)} before`)
/** A recorded value as text: a string as it is (a flat state), anything else as JSON (a nested state, a field). */
export const valueText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? String(value))
const text = valueText

/** The input itself, as one line. */
export function describeInput(type: string, e: Input): string {
  switch (e.type) {
    case 'HEARTBEAT': return `heartbeat on channel ${text(e.channel)}: incarnation ${text(e.incarnation)}, seq ${text(e.seq)}, says ${text(e.state)}`
    case 'DISK_STATUS': return `disk status read: seq ${text(e.seq)}, incarnation ${text(e.incarnation)}, says ${text(e.state)}`
    case 'DISK_UNREADABLE': return `status block unreadable in both copies: ${text(e.code)}`
    case 'DISK_WRITE_OK': return `own status write completed: seq ${text(e.seq)} (credited from its start)`
    case 'DISK_WRITE_FAILED': return `own status write failed: ${text(e.code)}`
    case 'POISON_PILL': return `poison pill from ${text(e.from)} read from the quorum disk (${text(e.action)})`
    case 'SHUTDOWN': return 'clean stop asked (administrator or systemd)'
    case 'PLACE': return `placement: owner ${e.owner === null ? 'none' : text(e.owner)} (${text(e.reason)})`
    case 'LEASE_ACQUIRED': return `lease acquired (version ${text(e.lver)})${e.proof === undefined ? '' : `, proof: ${text(e.proof)}`}`
    case 'LEASE_REFUSED': return `lease refused: holder ${text(e.holder)} (${text(e.reason)})`
    case 'LEASE_RELEASED': return `lease released (version ${text(e.lver)})`
    case 'LEASE_RELEASE_FAILED': return `lease release failed: ${text(e.reason)}`
    case 'LEASE_LOST': return `lease lost to ${text(e.holder)}: ${text(e.reason)}`
    case 'AGENT_DONE': return `agent result: ${text(e.op)} of resource ${text(e.resource)} ${text(e.outcome)}${e.detail === '' ? '' : ` (${text(e.detail)})`}`
    case 'ENABLE': case 'DISABLE': case 'RESTART': return `administrator: ${e.type.toLowerCase()}`
    case 'CONFIGURE': return `configuration changed: ${Array.isArray(e.resources) ? e.resources.length : '?'} resources, ${e.enabled === true ? 'enabled' : 'disabled'}`
    case 'METHOD_DONE': return `fence method ${text(e.method)} answered ${text(e.outcome)}: ${text(e.detail)}`
    case 'ACK': return `administrator acknowledged the fence by hand (${text(e.who)})`
    case 'CANCEL': return `fencing cancelled: ${text(e.reason)}`
    case 'CHECK': return type === 'service' ? 'timer: periodic check (monitor due, retry)' : type === 'fencing' ? 'timer: race delay or backoff over' : 'timer: deadline check'
    default: return `input ${e.type}`
  }
}

function peerEvidence(c: PeerContext, e: Input): string[] {
  const lines = [
    c.evidence.diskSeq === null
      ? `disk: no status write seen since watching began ${ms(e.at - c.startedAt)} before`
      : `disk: seq ${c.evidence.diskSeq}, last new write seen ${ago(c.evidence.diskChangedAt, e.at)}`,
    ...c.evidence.heartbeatAt.map((at, i) => `heartbeat channel ${i}: ${at === null ? 'nothing heard yet' : `last heard ${ms(e.at - at)} before`}`),
    ...(c.timing.diskReadIntervalMs === undefined ? [] : [c.evidence.diskReadAt === undefined || c.evidence.diskReadAt === null
      ? 'own reads of its block: none completed yet (silence counted up to now)'
      : `own reads of its block: last completed ${ms(e.at - c.evidence.diskReadAt)} before; silence is counted up to ${c.timing.diskReadIntervalMs} ms after it`]),
    `known incarnation: ${c.incarnation ?? 'none yet'}`,
    `rule: suspect after ${c.timing.diskSuspectAfterMs} ms of disk silence; dead after ${c.timing.diskDeadAfterMs} ms of disk silence and ${c.timing.peerDeadAfterMs} ms of silence on every channel`,
  ]
  if (c.diskReadError !== null) lines.push(`last disk read error: ${c.diskReadError}`)
  return lines
}

function localEvidence(c: LocalContext, e: Input): string[] {
  const reserve = c.stopReserveMs ?? 0
  const lines = [
    c.evidence.lastWriteOkAt === null
      ? `own status: no completed write since start ${ms(e.at - c.startedAt)} before`
      : `own status: last completed write seq ${c.evidence.lastWriteSeq ?? '?'}, started ${ago(c.evidence.lastWriteOkAt, e.at)}`,
    `rule: out when no write completed for ${c.selfFenceAfterMs - reserve} ms (selfFenceAfterMs ${c.selfFenceAfterMs}${reserve > 0 ? ` less ${reserve} ms to stop resources` : ''})`,
  ]
  if (c.diskError !== null) lines.push(`last write error: ${c.diskError}`)
  return lines
}

function serviceEvidence(c: ServiceContext): string[] {
  const lines = [
    `lease: ${c.lease.held ? `held (version ${c.lease.lver ?? '?'})` : 'not held'}${c.lease.op === null ? '' : `, ${c.lease.op} in flight`}`,
    `placement in force: ${c.placement === null ? 'none' : `owner ${c.placement.owner ?? 'none'} (${c.placement.reason})`}`,
    `resources up to: ${c.upTo} of ${c.active.length || c.resources.length}${c.inFlight === null ? '' : `; agent call in flight: ${c.inFlight.op} of resource ${c.inFlight.resource}`}`,
    `recovery: ${c.recovery.policy}, ${c.restarts.length} of ${c.recovery.maxRestarts} restarts used in ${c.recovery.windowMs} ms`,
  ]
  if (!c.enabled) lines.push('disabled by the administrator')
  if (c.failure !== null) lines.push(`failure being handled: ${c.failure.op} of ${c.failure.resourceName} ${c.failure.outcome} (${c.failure.detail})`)
  return lines
}

function fencingEvidence(c: FencingContext): string[] {
  return [
    `target: ${c.target} incarnation ${c.targetIncarnation ?? 'unknown'}, requested by ${c.requestedBy}: ${c.reason}`,
    `methods: ${c.methods.map((m) => m.name).join(', ') || 'none'}; round ${c.round} of ${c.retry.roundsMax}`,
    ...(c.lastError === null ? [] : [`last failure: ${c.lastError}`]),
  ]
}

/** The readings behind a transition of machine type `type`: the input first, then the context. */
export function describeEvidence(type: string, contextBefore: unknown, input: Input): string[] {
  const first = describeInput(type, input)
  if (typeof contextBefore !== 'object' || contextBefore === null) return [first]
  if (type === 'peer') return [first, ...peerEvidence(contextBefore as PeerContext, input)]
  if (type === 'local') return [first, ...localEvidence(contextBefore as LocalContext, input)]
  if (type === 'service') return [first, ...serviceEvidence(contextBefore as ServiceContext)]
  if (type === 'fencing') return [first, ...fencingEvidence(contextBefore as FencingContext)]
  return [first]
}

/** What an effect asks for, in a few words. */
export function describeEffect(effect: PlainEvent): string {
  const f = effect as Record<string, unknown>
  switch (effect.type) {
    case 'effect.peerUp': return `up (${text(f.reason)})`
    case 'effect.peerSuspect': return `suspect: ${text(f.reason)}`
    case 'effect.peerDead': return `dead: ${text(f.reason)}`
    case 'effect.peerLeft': return 'left cleanly'
    case 'effect.peerRestarted': return `restarted as incarnation ${text(f.newIncarnation)}`
    case 'effect.zombie': return `zombie: incarnation ${text(f.incarnation)} still active after it was declared dead (${text(f.source)})`
    case 'effect.joined': return `joined as incarnation ${text(f.incarnation)}`
    case 'effect.selfFence': return `self-fence: ${text(f.reason)}`
    case 'effect.leave': return 'leave the cluster'
    case 'effect.acquireLease': return 'acquire the lease'
    case 'effect.releaseLease': return `release the lease${f.failedHere === true ? ' (failed here)' : ''}`
    case 'effect.agent': return `${text(f.op)} ${text(f.resourceName)}`
    case 'effect.escalate': return `escalate (fence this node): ${text(f.reason)}`
    case 'effect.disableService': return `disable the service: ${text(f.reason)}`
    case 'effect.fenceMethod': return `fence ${text(f.target)} with ${text(f.name)} (round ${text(f.round)})`
    case 'effect.fenceMethodFailed': return `${text(f.name)} ${text(f.outcome)}: ${text(f.detail)}`
    case 'effect.fenceRetry': return `retry in ${text(f.waitMs)} ms`
    case 'effect.fenceGaveUp': return `gave up after ${text(f.rounds)} rounds: ${text(f.reason)}`
    case 'effect.fenced': return `fenced ${text(f.target)}: ${text((f.proof as { name?: unknown } | undefined)?.name)}`
    case 'effect.fenceCancelled': return `cancelled: ${text(f.reason)}`
    default: return effect.type.replace(/^effect\./, '')
  }
}

/** The name a reader knows the machine by: "peer b", "service web", "fence b", "node a". */
export function subjectOf(type: string, contextBefore: unknown): string {
  const c = (typeof contextBefore === 'object' && contextBefore !== null ? contextBefore : {}) as Record<string, unknown>
  if (type === 'peer') return String(c.peer ?? '?')
  if (type === 'service') return String(c.service ?? '?')
  if (type === 'fencing') return String(c.target ?? '?')
  if (type === 'local') return String(c.node ?? '?')
  return '?'
}

const LABEL: Readonly<Record<string, string>> = { peer: 'peer', local: 'node', service: 'service', fencing: 'fence' }
export const labelOf = (type: string, subject: string): string => `${LABEL[type] ?? type} ${subject}`
