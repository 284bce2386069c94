/**
 * Where a service should run now, from this node's membership view and the service's
 * decided lease: a pure function, recomputed by the shell on every membership, lease or
 * configuration change and delivered to the service machine as PLACE.
 *
 * Rules (rgmanager's ordered failover domains, with Kimberlite's caution):
 *   - a disabled service has no owner;
 *   - a lease holder that is not proven gone keeps the service unless a move is wanted: an
 *     administrator's relocation to another eligible node that is up, or failback to an
 *     eligible node that ranks before it in the domain and has been up for
 *     failbackStableMs. A suspect holder is never moved away from: no takeover on suspicion;
 *   - otherwise the relocation target if it is up and eligible, else the first node of the
 *     domain that is up and has not failed the service (failedOn). When no such node is up,
 *     failedOn is ignored: retrying beats leaving the service down;
 *   - but not while a node that ranks before that one is still unknown (not yet heard from
 *     since this node started) or suspect: when a whole cluster starts at once, every node
 *     would otherwise take the free lease for itself before hearing from the preferred node
 *     (Pacemaker's dc-deadtime wait), and a node whose own disk reads run late, suspecting
 *     everyone, would try to take every free service at once. Both states end, up or dead,
 *     within diskDeadAfterMs, so the wait is bounded;
 *   - nodes outside the domain are never chosen.
 * Every verdict carries a short human reason.
 */

export type PlacementNodeState = 'up' | 'suspect' | 'dead' | 'left' | 'out' | 'unknown' | 'self-member' | 'self-joining' | 'self-out'

export interface PlacementInput {
  service: {
    name: string
    enabled: boolean
    /** Ordered failover domain; the first node is the preferred one. */
    domain: string[]
    failback: boolean
    /** The administrator's manual relocation target: a standing preference until cleared. */
    relocateTo?: string | null
  }
  /** This node's membership view, self included. */
  nodes: { name: string; state: PlacementNodeState; upSinceMs: number | null }[]
  /** The current decided lease: a null holder means free. */
  lease: { holder: string | null; failedOn: string[] }
  self: string
  now: number
  failbackStableMs: number
}

export interface Placement {
  owner: string | null
  reason: string
}

/** Proven gone: these states mean the node runs nothing (fenced, self-fenced or left cleanly). */
const GONE: readonly PlacementNodeState[] = ['dead', 'left', 'out', 'self-out']
/** Neither up nor gone yet: a node ranked before the candidate in this state is waited for. */
const UNDECIDED: readonly PlacementNodeState[] = ['unknown', 'suspect']
/** Able to take a service now. */
const UP: readonly PlacementNodeState[] = ['up', 'self-member']

interface View {
  input: PlacementInput
  domain: string[]
  stateOf(name: string): PlacementNodeState
  upSince(name: string): number | null
  isUp(name: string): boolean
  failed(name: string): boolean
}

function view(input: PlacementInput): View {
  const nodes = new Map<string, PlacementInput['nodes'][number]>()
  for (const n of input.nodes) if (!nodes.has(n.name)) nodes.set(n.name, n)
  const domain = input.service.domain.filter((name, i, all) => all.indexOf(name) === i)
  const stateOf = (name: string): PlacementNodeState => nodes.get(name)?.state ?? 'unknown'
  return {
    input,
    domain,
    stateOf,
    upSince: (name) => nodes.get(name)?.upSinceMs ?? null,
    isUp: (name) => UP.includes(stateOf(name)),
    failed: (name) => input.lease.failedOn.includes(name),
  }
}

function list(names: readonly string[]): string {
  return `[${names.join(',')}]`
}

function seconds(ms: number): string {
  return `${Math.floor(ms / 1000)} s`
}

/** No up domain node outside failedOn: failedOn is ignored, better to retry than to stay down. */
function ignoreFailedOn(v: View): boolean {
  return !v.domain.some((name) => v.isUp(name) && !v.failed(name))
}

/** The relocation target when it can take the service: in the domain, up, and not failed here (unless failedOn is ignored). */
function relocationTarget(v: View, strictFailedOn: boolean): string | null {
  const target = v.input.service.relocateTo ?? null
  if (target === null || !v.domain.includes(target) || !v.isUp(target)) return null
  if (v.failed(target) && (strictFailedOn || !ignoreFailedOn(v))) return null
  return target
}

/** The first domain node before the holder that is up, has not failed the service, and has been up for failbackStableMs. */
function failbackTarget(v: View, holder: string): { name: string; upForMs: number } | null {
  const { now, failbackStableMs } = v.input
  for (const name of v.domain) {
    if (name === holder) return null
    const since = v.upSince(name)
    if (!v.isUp(name) || v.failed(name) || since === null || now - since < failbackStableMs) continue
    return { name, upForMs: now - since }
  }
  return null
}

function keepOrMove(v: View, holder: string): Placement {
  const state = v.stateOf(holder)
  if (state === 'suspect') return { owner: holder, reason: `holder ${holder} is suspect: no move on suspicion` }
  const relocateTo = relocationTarget(v, true)
  if (relocateTo !== null && relocateTo !== holder) return { owner: relocateTo, reason: `relocation to ${relocateTo} requested and ${relocateTo} is up` }
  if (v.input.service.relocateTo === holder) return { owner: holder, reason: `holder ${holder} is the relocation target` }
  if (v.input.service.failback) {
    const back = failbackTarget(v, holder)
    if (back !== null) return { owner: back.name, reason: `${back.name} is preferred and up for ${seconds(back.upForMs)}: failback` }
  }
  return { owner: holder, reason: `holder ${holder} is ${state === 'self-member' ? 'up' : state}` }
}

function choose(v: View, why: string): Placement {
  const relocateTo = relocationTarget(v, false)
  if (relocateTo !== null) return { owner: relocateTo, reason: `${why}: relocation target ${relocateTo} is up` }
  const ignore = ignoreFailedOn(v)
  const first = v.domain.find((name) => v.isUp(name) && (ignore || !v.failed(name)))
  if (first === undefined) return { owner: null, reason: `${why}: no node of domain ${list(v.domain)} is up` }
  const undecided = v.domain.slice(0, v.domain.indexOf(first)).find((name) => UNDECIDED.includes(v.stateOf(name)) && (ignore || !v.failed(name)))
  if (undecided !== undefined) return { owner: null, reason: `${why}: waiting to learn whether ${undecided} (${v.stateOf(undecided)}), before ${first} in domain ${list(v.domain)}, is up` }
  const note = ignore && v.failed(first) ? ` (it failed there before, failedOn ${list(v.input.lease.failedOn)} ignored: no other node is up)` : ''
  return { owner: first, reason: `${why}: first up in domain ${list(v.domain)} is ${first}${note}` }
}

export function placement(input: PlacementInput): Placement {
  if (!input.service.enabled) return { owner: null, reason: 'service disabled' }
  const v = view(input)
  const holder = input.lease.holder
  if (holder === null) return choose(v, 'no holder')
  const state = v.stateOf(holder)
  if (!GONE.includes(state)) return keepOrMove(v, holder)
  return choose(v, `holder ${holder} ${state === 'self-out' ? 'out' : state}`)
}
