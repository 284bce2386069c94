/** What `carbonado status` shows: this node's view of every member, from its machines. */
import type { AnyMachineSnapshot } from 'xstate'
import type { NodeConfig } from '../config/load.js'
import type { Decision } from './machine-host.js'
import type { PeerContext } from '../../machines/membership.js'
import type { LocalContext } from '../../machines/local-node.js'
import type { FenceOpStatus } from './fence-shell.js'
import type { ServiceStatus } from './service-shell.js'

export interface MemberView {
  name: string
  id: number
  self: boolean
  state: string
  incarnation: number | null
  lastDiskWriteAgoMs: number | null
  diskSeq: number | null
  heartbeatAgoMs: (number | null)[]
  problem: string | null
}

export interface StatusView {
  cluster: string
  node: string
  incarnation: number
  wallMs: number
  members: MemberView[]
  /** The service configuration version this node runs, and each service's owner and local state. */
  configVersion: number
  services: ServiceStatus[]
  /** This node's fencing operations (fence-shell.ts), oldest first. */
  fencing: FenceOpStatus[]
  counters: Record<string, unknown>
}

export interface StatusInputs {
  cluster: string
  node: NodeConfig
  peers: NodeConfig[]
  incarnation: number
  now: number
  wallMs: number
  local: AnyMachineSnapshot | undefined
  peerView: (name: string) => AnyMachineSnapshot | undefined
  heartbeats: unknown
  host: unknown
  journal: unknown
  configVersion: number
  services: ServiceStatus[]
  fencing: FenceOpStatus[]
}

const ago = (now: number, at: number | null): number | null => (at === null ? null : Math.max(0, Math.round(now - at)))

export function statusView(s: StatusInputs): StatusView {
  const local = s.local?.context as LocalContext | undefined
  const members: MemberView[] = [{
    name: s.node.name, id: s.node.id, self: true, state: String(s.local?.value ?? 'none'), incarnation: s.incarnation,
    lastDiskWriteAgoMs: ago(s.now, local?.evidence.lastWriteOkAt ?? null), diskSeq: local?.evidence.lastWriteSeq ?? null,
    heartbeatAgoMs: [], problem: local?.diskError ?? null,
  }]
  for (const peer of s.peers) {
    const snap = s.peerView(peer.name)
    const c = snap?.context as PeerContext | undefined
    members.push({
      name: peer.name, id: peer.id, self: false, state: String(snap?.value ?? 'none'), incarnation: c?.incarnation ?? null,
      lastDiskWriteAgoMs: ago(s.now, c?.evidence.diskChangedAt ?? null), diskSeq: c?.evidence.diskSeq ?? null,
      heartbeatAgoMs: (c?.evidence.heartbeatAt ?? []).map((at) => ago(s.now, at)), problem: c?.diskReadError ?? null,
    })
  }
  members.sort((a, b) => a.id - b.id)
  return { cluster: s.cluster, node: s.node.name, incarnation: s.incarnation, wallMs: s.wallMs, members, configVersion: s.configVersion, services: s.services, fencing: s.fencing, counters: { heartbeats: s.heartbeats, machines: s.host, journal: s.journal } }
}

const ms = (v: number | null): string => (v === null ? '-' : v < 10000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`)

export function formatStatus(view: StatusView): string {
  const header = `Cluster ${view.cluster}, seen from ${view.node} (incarnation ${view.incarnation}) at ${new Date(view.wallMs).toISOString()}`
  const rows = [['ID', 'NODE', 'STATE', 'INC', 'DISK SEQ', 'LAST DISK WRITE', 'LAST HEARTBEAT (per channel)', 'PROBLEM']]
  for (const m of view.members) {
    rows.push([
      String(m.id), m.self ? `${m.name} (this node)` : m.name, m.state, m.incarnation === null ? '-' : String(m.incarnation),
      m.diskSeq === null ? '-' : String(m.diskSeq), ms(m.lastDiskWriteAgoMs) + (m.lastDiskWriteAgoMs === null ? '' : ' ago'),
      m.self ? '(n/a)' : m.heartbeatAgoMs.map((h, i) => `ch${i} ${ms(h)}`).join(', '), m.problem ?? '',
    ])
  }
  const services = [['SERVICE', 'OWNER', 'HERE', 'ENABLED', 'LEASE']]
  for (const v of view.services) services.push([v.name, v.holder ?? '-', v.localState, v.enabled ? 'yes' : 'no', String(v.leaseInstance)])
  const serviceLines = view.services.length === 0 ? [`No services (configuration version ${view.configVersion}).`] : [`Services (configuration version ${view.configVersion}):`, ...aligned(services)]
  return [header, ...aligned(rows), '', ...serviceLines, ...fencingLines(view.fencing)].join('\n')
}

/** Fencing operations, the last try of each: why a takeover waits shows here. */
function fencingLines(ops: FenceOpStatus[]): string[] {
  if (ops.length === 0) return []
  const rows = [['FENCING', 'STATE', 'REQUESTED BY', 'LAST TRY']]
  for (const op of ops) rows.push([op.target, op.state, op.requestedBy, lastTry(op).slice(0, 160)])
  return ['', ...aligned(rows)]
}

/** How a fencing operation stands, in one line: its proof, else its last try, else why it ended. */
export function lastTry(op: FenceOpStatus): string {
  const last = op.attempts.at(-1)
  if (op.proof !== null) return `fenced by ${op.proof.name}: ${op.proof.detail}`
  return last === undefined ? (op.lastError ?? op.cancelReason ?? '-') : `${last.name} round ${last.round}: ${last.outcome} ${last.detail}`
}

function aligned(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
}

export function describeDecision(d: Decision): string {
  const { from, to, effects } = d.transition
  const change = JSON.stringify(from) === JSON.stringify(to) ? `stays ${String(to)}` : `${String(from)} -> ${String(to)}`
  const detail = effects.map((e) => {
    const { type, ...rest } = e as { type: string; reason?: string }
    return `${type.replace('effect.', '')}${rest.reason === undefined ? '' : `: ${rest.reason}`}`
  }).join('; ')
  return `decision ${d.machine} ${change} on ${d.transition.event}${detail === '' ? '' : ` (${detail})`}`
}
