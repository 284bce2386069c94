/**
 * What the dashboard page shows, as one JSON document built from what the node already
 * knows: its status view (the same as `carbonado status`), its recent decisions and its
 * machines. Pure: the server (dashboard-server.ts) calls it on every push and the page only
 * draws it.
 */
import type { MachineInstance } from '../runtime/machine-host.js'
import type { RecentDecision } from '../runtime/recent-decisions.js'
import { describeDecision, lastTry, type MemberView, type StatusView } from '../runtime/status-view.js'
import type { ServiceStatus } from '../runtime/service-shell.js'

export interface FencingRow { id: string; target: string; state: string; requestedBy: string; reason: string; lastTry: string }

export interface DecisionRow {
  wallMs: number
  machine: string
  type: string
  from: string
  to: string
  event: string
  /** One line: from -> to on EVENT (effect: reason; ...), as the node's log says it. */
  summary: string
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

/** The machine type of a machine id (`peer:b#3` → peer, `local#3` → local, `fence:b:1#3` → fencing). */
export function machineType(id: string): string {
  const head = /^[a-z]+/.exec(id)?.[0] ?? id
  return head === 'fence' ? 'fencing' : head
}

/** An xstate state value as leaf paths: `'up'` → [up], `{ leaving: 'stopping' }` → [leaving.stopping]. */
export function statePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [`${prefix}${value}`]
  if (typeof value !== 'object' || value === null) return [`${prefix}${String(value)}`]
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length === 0) return [prefix.slice(0, -1)]
  return entries.flatMap(([key, child]) => statePaths(child, `${prefix}${key}.`))
}

const pathOf = (value: unknown): string => statePaths(value).join(', ')

function decisionRow(d: RecentDecision): DecisionRow {
  const reasons = d.transition.effects.map((e) => e.reason).filter((r): r is string => typeof r === 'string')
  const summary = describeDecision(d).replace(/^decision \S+ /, '')
  return { wallMs: d.wallMs, machine: d.machine, type: machineType(d.machine), from: pathOf(d.transition.from), to: pathOf(d.transition.to), event: d.transition.event, summary, reasons }
}

function machineRow(m: MachineInstance, decisions: readonly RecentDecision[]): MachineRow {
  const moved = decisions.find((d) => d.machine === m.id && pathOf(d.transition.from) !== pathOf(d.transition.to))
  const last = moved === undefined ? null : { from: pathOf(moved.transition.from), to: pathOf(moved.transition.to), event: moved.transition.event }
  return { id: m.id, type: m.type, paths: statePaths(m.value), last }
}

export function dashboardModel(inputs: ModelInputs): DashboardModel {
  const { status } = inputs
  return {
    cluster: status.cluster, node: status.node, incarnation: status.incarnation, wallMs: status.wallMs, configVersion: status.configVersion,
    readOnly: inputs.readOnly,
    members: status.members,
    services: status.services,
    fencing: status.fencing.map((op) => ({ id: op.id, target: op.target, state: op.state, requestedBy: op.requestedBy, reason: op.reason, lastTry: lastTry(op) })),
    decisions: inputs.decisions.map(decisionRow),
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
