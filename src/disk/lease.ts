/**
 * Service leases: who may run service i, decided on disk-Paxos register serviceRegister(i)
 * (paxos-rules.ts for the protocol and its safety argument). The register's value is
 * { holder, incarnation, failedOn } (payloads.ts ServiceLeaseValue); holder 0 = free. The
 * register never decides a value twice for one instance, and every value was proposed by a
 * node that read the one before it, so each change of holder was checked against the holder
 * it replaced:
 *
 * - acquire proposes { holder: self } only when the current holder is 0, is this node (any
 *   incarnation: a restarted node re-acquires, in a new instance), or `mayTakeFrom` allows
 *   it (the runtime passes membership's "holder proven gone": fenced, or silent past its
 *   self-fence deadline, DESIGN.md safety rule 2). Held by this very incarnation already =
 *   acquired, without a new instance.
 * - release proposes { holder: 0 } only when the current holder is this node.
 * - failedOn (nodes where the service failed, for placement to avoid) survives acquisitions;
 *   a release with failedHere adds this node (most recent last), one without removes it.
 *   Node ids are unique in it, so it never exceeds maxNodes entries.
 *
 * Renewal, as in sanlock: a lease has no expiry of its own and no per-lease renewal writes.
 * It stays held while its holder's status block keeps being renewed; when the holder stops
 * renewing, membership (not this file) decides when it is proven gone, and only then does
 * `mayTakeFrom` let another node take the lease.
 *
 * planAcquire and planRelease are the pure rules (table-tested); the rest is I/O through
 * paxos-register.ts's updateRegister (bounded attempts, randomized backoff, injectable).
 *
 * Outcomes an 'io' leaves unknown: a proposal whose phase-2 or commit write failed may still
 * be adopted and committed by the next proposer. The caller must then not run the service
 * (it was not told "acquired"), and a later readLease that shows this node as holder means
 * it must either acquire again (same node: allowed) or release.
 */
import type { CarbError, CarbErrorCode } from '../errors.js'
import { serviceRegister } from './layout.js'
import { readRegister, updateRegister, type BallotDisk, type Plan, type RetryOptions } from './paxos-register.js'
import { serviceLeaseProblem, type LeaseCommitted, type ServiceLeaseValue } from './payloads.js'

export type { ServiceLeaseValue } from './payloads.js'

/** A service lease as the disk decided it; instance 0 = never acquired (free). */
export interface LeaseView extends ServiceLeaseValue {
  instance: number
}

export interface LeaseSelf {
  nodeId: number
  incarnation: number
}

/** Null when the lease may be taken from `current.holder`, else why not. */
export type MayTakeFrom = (current: LeaseView) => string | null

export type AcquireResult =
  | { acquired: true; instance: number }
  | { acquired: false; holder: number; reason: string; code: CarbErrorCode }

export type ReleaseResult =
  | { released: true; instance: number }
  | { released: false; holder: number; reason: string; code: CarbErrorCode }

const FREE: LeaseView = { instance: 0, holder: 0, incarnation: 0, failedOn: [] }

/** Pure: the lease a register decision stands for. */
export function leaseView(current: LeaseCommitted | null): LeaseView {
  if (current === null) return FREE
  const value = current.value as ServiceLeaseValue
  return { instance: current.instance, holder: value.holder, incarnation: value.incarnation, failedOn: [...value.failedOn] }
}

type Refusal = { refused: true; holder: number; reason: string; code: CarbErrorCode }
type AcquirePlan = Plan<Refusal | { refused: false; instance: number }>

/** Pure: what acquiring means given the current lease. */
export function planAcquire(current: LeaseView, self: LeaseSelf, mayTakeFrom: MayTakeFrom): AcquirePlan {
  if (current.holder === self.nodeId && current.incarnation === self.incarnation) return { finish: { refused: false, instance: current.instance } }
  const proposal: ServiceLeaseValue = { holder: self.nodeId, incarnation: self.incarnation, failedOn: current.failedOn }
  if (current.holder === 0 || current.holder === self.nodeId) return { propose: proposal }
  const reason = mayTakeFrom(current)
  if (reason === null) return { propose: proposal }
  return { finish: { refused: true, holder: current.holder, reason, code: 'CARB_ERR_LEASE_HELD' } }
}

/** Pure: what releasing means given the current lease. */
export function planRelease(current: LeaseView, self: LeaseSelf, failedHere: boolean, maxNodes: number): Plan<Refusal> {
  if (current.holder !== self.nodeId) {
    const reason = current.holder === 0 ? 'the lease is free' : `the lease is held by node ${current.holder}`
    return { finish: { refused: true, holder: current.holder, reason: `cannot release: ${reason}`, code: 'CARB_ERR_LEASE_NOT_HELD' } }
  }
  const others = current.failedOn.filter((nodeId) => nodeId !== self.nodeId)
  const failedOn = failedHere ? [...others, self.nodeId].slice(-maxNodes) : others
  return { propose: { holder: 0, incarnation: 0, failedOn } satisfies ServiceLeaseValue }
}

function ref(serviceIndex: number, nodeId: number): { register: number; nodeId: number; valueProblem: (value: unknown) => string | undefined } {
  return { register: serviceRegister(serviceIndex), nodeId, valueProblem: serviceLeaseProblem }
}

/** The lease of service `serviceIndex`; throws (with the bad block's code) when a ballot block is unreadable. */
export async function readLease(disk: BallotDisk, serviceIndex: number): Promise<LeaseView> {
  const { instance, value } = await readRegister(disk, serviceRegister(serviceIndex), { valueProblem: serviceLeaseProblem })
  return instance === 0 ? FREE : leaseView({ instance, value })
}

function gaveUp(reason: 'contention' | 'stale' | 'io', current: LeaseCommitted | null, errors: CarbError[], attempts: number): { holder: number; reason: string; code: CarbErrorCode } {
  const holder = leaseView(current).holder
  const first = errors[0]
  if (reason === 'io' && first !== undefined) return { holder, reason: `disk: ${first.oneLine()}`, code: first.code }
  return { holder, reason: `no decision after ${attempts} attempts (${reason})`, code: reason === 'io' ? 'CARB_ERR_DISK_IO' : 'CARB_ERR_LEASE_CONTENTION' }
}

/**
 * `onPlan` sees the lease every attempt planned against: the last one is the value a decided
 * proposal replaced (the caller journals the proof for that one, not for an earlier attempt's).
 */
export async function acquireLease(disk: BallotDisk, serviceIndex: number, self: LeaseSelf, mayTakeFrom: MayTakeFrom, options: Partial<RetryOptions> = {}, onPlan?: (current: LeaseView) => void): Promise<AcquireResult> {
  const plan = (current: LeaseCommitted | null): AcquirePlan => {
    const view = leaseView(current)
    onPlan?.(view)
    return planAcquire(view, self, mayTakeFrom)
  }
  const result = await updateRegister(disk, ref(serviceIndex, self.nodeId), plan, options)
  if (result.kind === 'decided') return { acquired: true, instance: result.instance }
  if (result.kind === 'gave-up') return { acquired: false, ...gaveUp(result.reason, result.current, result.errors, result.attempts) }
  const answer = result.answer
  return answer.refused ? { acquired: false, holder: answer.holder, reason: answer.reason, code: answer.code } : { acquired: true, instance: answer.instance }
}

export async function releaseLease(disk: BallotDisk, serviceIndex: number, self: LeaseSelf, how: { failedHere: boolean }, options: Partial<RetryOptions> = {}): Promise<ReleaseResult> {
  const plan = (current: LeaseCommitted | null): Plan<Refusal> => planRelease(leaseView(current), self, how.failedHere, disk.geometry.maxNodes)
  const result = await updateRegister(disk, ref(serviceIndex, self.nodeId), plan, options)
  if (result.kind === 'decided') return { released: true, instance: result.instance }
  if (result.kind === 'gave-up') return { released: false, ...gaveUp(result.reason, result.current, result.errors, result.attempts) }
  return { released: false, holder: result.answer.holder, reason: result.answer.reason, code: result.answer.code }
}
