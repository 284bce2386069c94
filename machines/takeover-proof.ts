/**
 * When may a node take a service's lease from its holder? DESIGN.md safety rule 2 as one
 * pure function: only when the holder's incarnation that took the lease is proven stopped.
 * The answer names its proof, and the shell journals that proof with LEASE_ACQUIRED, so an
 * incident review can read which proof allowed each takeover.
 *
 * The proofs, in the order they are tried:
 *   - left-cleanly: the holder wrote "down" after its services stopped (a clean leave
 *     writes it only then: NodeRuntime.stop);
 *   - restarted: the holder writes the disk as a newer incarnation, and a node stops every
 *     resource of the leases it held before it first writes as a new incarnation (startup
 *     clean-up), so the old incarnation's resources are stopped;
 *   - fenced: a fencing operation against that incarnation (or a later one) succeeded, or an
 *     administrator acknowledged the node is off;
 *   - self-fence-deadline: only when the holder has NO fence method configured: its disk
 *     status has been silent past diskDeadAfterMs, which the timing relations put beyond its
 *     self-fence deadline stretched by the clock-rate error (config/timing.ts), and no
 *     heartbeat says otherwise. A node that merely *reports* itself out is not proven
 *     stopped by that: it is still stopping. Death and silence count only for an incarnation
 *     this node has read on the disk: a lease naming a newer one was written since.
 * Anything else is a wait, with the reason; `needsFencing` says the shell should fence.
 */

export type TakeoverProof =
  | { kind: 'free' }
  | { kind: 'own' }
  | { kind: 'left-cleanly'; incarnation: number }
  | { kind: 'restarted'; incarnation: number }
  | { kind: 'fenced'; incarnation: number; method: string; detail: string }
  | { kind: 'self-fence-deadline'; incarnation: number; diskSilentMs: number; diskDeadAfterMs: number }

export interface HolderView {
  nodeId: number
  name: string
  /** Membership's state of the holder on this node: up, suspect, dead, left, unknown… */
  state: string
  /** The holder's newest incarnation seen on the disk, if any. */
  incarnation: number | null
  /** The disk has been silent past diskDeadAfterMs and no heartbeat is fresh (liveness.ts 'dead'). */
  silentPastDeadline: boolean
  diskSilentMs: number
  /** The holder's fencing topology has at least one method. */
  fenceable: boolean
  /** The holder's status block was unreadable at the last read: its silence proves nothing. */
  diskUnreadable?: boolean
}

export interface FenceRecord { incarnation: number | null; method: string; detail: string }

export interface ProofInput {
  self: number
  lease: { holder: number; incarnation: number }
  holder: HolderView | null
  /** Successful fencing operations against the holder (newest last). */
  fenced: readonly FenceRecord[]
  diskDeadAfterMs: number
}

export type ProofVerdict =
  | { ok: true; proof: TakeoverProof }
  | { ok: false; reason: string; needsFencing: boolean }

/**
 * A fence of an incarnation stops incarnation `held` when it is that one or a later one
 * (power off ends everything before it). A fence of an unknown incarnation (an
 * acknowledgement for a node never seen on the disk) covers only while no incarnation of the
 * holder has been seen: records live on the disk, and must never cover a later restart.
 */
function covers(record: FenceRecord, held: number, seen: number | null): boolean {
  return record.incarnation === null ? seen === null : record.incarnation >= held
}

export function takeoverProof(input: ProofInput): ProofVerdict {
  const { lease, holder } = input
  if (lease.holder === 0) return { ok: true, proof: { kind: 'free' } }
  if (lease.holder === input.self) return { ok: true, proof: { kind: 'own' } }
  if (holder === null) return { ok: false, reason: `holder node ${lease.holder} is not in the cluster file`, needsFencing: false }
  const seen = holder.incarnation ?? 0
  if (holder.state === 'left' && seen >= lease.incarnation) return { ok: true, proof: { kind: 'left-cleanly', incarnation: seen } }
  if (seen > lease.incarnation && ['up', 'suspect', 'left'].includes(holder.state)) return { ok: true, proof: { kind: 'restarted', incarnation: seen } }
  const fence = [...input.fenced].reverse().find((r) => covers(r, lease.incarnation, holder.incarnation))
  // A fence that "succeeded" while the holder still shows up alive as that incarnation (an agent
  // that cut the wrong outlet, an acknowledgement of a running node) proves nothing.
  if (fence !== undefined && holder.state === 'up' && seen === lease.incarnation) {
    return { ok: false, reason: `holder ${holder.name} was reported fenced by ${fence.method} but is up as incarnation ${seen}: not proven gone`, needsFencing: false }
  }
  if (fence !== undefined) return { ok: true, proof: { kind: 'fenced', incarnation: fence.incarnation ?? lease.incarnation, method: fence.method, detail: fence.detail } }
  // The lease names an incarnation this node has not yet seen on the disk: the holder restarted
  // and wrote since this node's last read, so the silence and death this node knows of belong
  // to an older incarnation and prove nothing about the one holding the lease.
  if (seen < lease.incarnation) return { ok: false, reason: `the lease names ${holder.name} incarnation ${lease.incarnation}, newer than the ${seen === 0 ? 'none' : `incarnation ${seen}`} this node has read on the disk: waiting to read it`, needsFencing: false }
  if (holder.state !== 'dead') return { ok: false, reason: `holder ${holder.name} is ${holder.state}, not proven gone`, needsFencing: false }
  if (holder.fenceable) return { ok: false, reason: `holder ${holder.name} is dead: waiting for it to be fenced`, needsFencing: true }
  if (holder.silentPastDeadline && holder.diskUnreadable === true) {
    return { ok: false, reason: `holder ${holder.name}'s status block is unreadable: its silence does not prove it stopped (fence it, or \`carbonado fence ack\`)`, needsFencing: false }
  }
  if (holder.silentPastDeadline) {
    return { ok: true, proof: { kind: 'self-fence-deadline', incarnation: lease.incarnation, diskSilentMs: Math.round(holder.diskSilentMs), diskDeadAfterMs: input.diskDeadAfterMs } }
  }
  return { ok: false, reason: `holder ${holder.name} reports itself out but still writes the disk: waiting for it to stop (a newer incarnation) or fall silent`, needsFencing: false }
}

export function describeProof(proof: TakeoverProof): string {
  switch (proof.kind) {
    case 'free': return 'the lease was free'
    case 'own': return 'this node held it'
    case 'left-cleanly': return `the holder left cleanly (incarnation ${proof.incarnation} wrote "down")`
    case 'restarted': return `the holder restarted as incarnation ${proof.incarnation} (its old resources were stopped before it rejoined)`
    case 'fenced': return `the holder was fenced by ${proof.method} (incarnation ${proof.incarnation}): ${proof.detail}`
    case 'self-fence-deadline': return `no fence method: the holder's disk was silent ${proof.diskSilentMs} ms > diskDeadAfterMs ${proof.diskDeadAfterMs}, past its self-fence deadline`
  }
}
