/**
 * What the dashboard page shows, as one JSON document built from what the node already
 * knows: its status view (the same as `carbonado status`), its recent decisions and its
 * machines. Pure: the server (dashboard-server.ts) calls it on every push and the page only
 * draws it.
 */
import type { MachineInstance } from '../runtime/machine-host.js'
import type { RecentDecision } from '../runtime/recent-decisions.js'
import { lastTry, type MemberView, type StatusView } from '../runtime/status-view.js'
import { explainStep } from '../../journal/explain.js'
import { stateLeafPaths } from './state-path.js'
import type { ServiceStatus } from '../runtime/service-shell.js'

export interface FencingRow { id: string; target: string; state: string; requestedBy: string; reason: string; lastTry: string }

export interface DecisionRow {
  wallMs: number
  machine: string
  type: string
  from: string
  to: string
  event: string
  /** One line, as `carbonado replay --explain` says it (journal/explain.ts). */
  summary: string
  /** The readings the machine decided on (the input, the evidence it held). */
  evidence: string[]
  /** The `reason` of every effect that has one. */
  reasons: string[]
}

export interface MachineRow {
  id: string
  type: string
  /** Every active leaf state as a dot path (`running`, `leaving.stopping`); parallel states give several. */
  paths: string[]
  /** The last change of state this node still remembers (from the recent decisions), if any. */
  last: { from: string; to: string; event: string } | null
}

export interface DashboardModel {
  cluster: string
  node: string
  incarnation: number
  wallMs: number
  configVersion: number
  /** No token file: the page shows no write action and the server refuses every one. */
  readOnly: boolean
  members: MemberView[]
  services: ServiceStatus[]
  fencing: FencingRow[]
  decisions: DecisionRow[]
  machines: MachineRow[]
}

export interface ModelInputs {
  status: StatusView
  /** Newest first (RecentDecisions.list()). */
  decisions: readonly RecentDecision[]
  machines: readonly MachineInstance[]
  readOnly: boolean
}

const pathOf = (value: unknown): string => stateLeafPaths(value).join(', ')

function decisionRow(node: string, d: RecentDecision): DecisionRow {
  const reasons = d.transition.effects.map((e) => e.reason).filter((r): r is string => typeof r === 'string')
  const incarnation = Number(/#(\d+)$/.exec(d.machine)?.[1] ?? 0)
  const explained = explainStep({ node, incarnation, seq: d.seq, machine: d.machine, type: d.type, input: d.input, contextBefore: d.contextBefore, transition: d.transition, wallMs: d.wallMs, stamp: null })
  return {
    wallMs: d.wallMs, machine: d.machine, type: d.type, from: pathOf(d.transition.from), to: pathOf(d.transition.to), event: d.transition.event,
    summary: explained.summary, evidence: explained.evidence, reasons,
  }
}

function machineRow(m: MachineInstance, decisions: readonly RecentDecision[]): MachineRow {
  const moved = decisions.find((d) => d.machine === m.id && pathOf(d.transition.from) !== pathOf(d.transition.to))
  const last = moved === undefined ? null : { from: pathOf(moved.transition.from), to: pathOf(moved.transition.to), event: moved.transition.event }
  return { id: m.id, type: m.type, paths: stateLeafPaths(m.value), last }
}

export function dashboardModel(inputs: ModelInputs): DashboardModel {
  const { status } = inputs
  return {
    cluster: status.cluster, node: status.node, incarnation: status.incarnation, wallMs: status.wallMs, configVersion: status.configVersion,
    readOnly: inputs.readOnly,
    members: status.members,
    services: status.services,
    fencing: status.fencing.map((op) => ({ id: op.id, target: op.target, state: op.state, requestedBy: op.requestedBy, reason: op.reason, lastTry: lastTry(op) })),
    decisions: inputs.decisions.map((d) => decisionRow(status.node, d)),
    machines: inputs.machines.map((m) => machineRow(m, inputs.decisions)),
  }
}

/**
 * What must reach the page at once when it changes: everything but the clock, the ages and
 * the disk sequence numbers, which move on every reading (they are refreshed on a slower beat).
 */
export function modelSignature(model: DashboardModel): string {
  const members = model.members.map(({ lastDiskWriteAgoMs: _disk, heartbeatAgoMs: _heartbeats, diskSeq: _seq, ...rest }) => rest)
  return JSON.stringify({ ...model, wallMs: 0, members })
}
