/**
 * Inputs of the membership machines. Every input carries `at`, the monotonic reading of
 * the observing node's clock when the evidence arrived; machines never read a clock.
 */

/** What a node says about itself, on the disk and in its heartbeats. */
export type ReportedState = 'joining' | 'up' | 'leaving' | 'down' | 'out'

/** The peer's status block was read (every disk cycle; seq unchanged means no new write). */
export type DiskStatusEvent = { type: 'DISK_STATUS'; at: number; seq: number; incarnation: number; state: ReportedState }
/** The peer's status block failed its checks in both copies (code names why). */
export type DiskUnreadableEvent = { type: 'DISK_UNREADABLE'; at: number; code: string }
/** An authenticated, non-replayed heartbeat arrived on a channel. */
export type HeartbeatEvent = { type: 'HEARTBEAT'; at: number; channel: number; incarnation: number; seq: number; state: ReportedState }
/** Time has passed: evaluate deadlines at `at`. */
export type CheckEvent = { type: 'CHECK'; at: number }

export type PeerEvent = DiskStatusEvent | DiskUnreadableEvent | HeartbeatEvent | CheckEvent

/** This node's own status write finished; `at` is when the write *started* (the conservative reading). */
export type DiskWriteOkEvent = { type: 'DISK_WRITE_OK'; at: number; seq: number }
export type DiskWriteFailedEvent = { type: 'DISK_WRITE_FAILED'; at: number; code: string }
/** The administrator or systemd asked this node to leave cleanly. */
export type ShutdownEvent = { type: 'SHUTDOWN'; at: number }

/** A peer's fence message for this incarnation was read from the quorum disk (disk/mailbox.ts). */
export type PoisonPillEvent = { type: 'POISON_PILL'; at: number; from: string; action: 'off' | 'reset' }

export type LocalEvent = DiskWriteOkEvent | DiskWriteFailedEvent | CheckEvent | ShutdownEvent | PoisonPillEvent

/** Effects the machines ask the shell for (emitted events); the journal records them with the transition. */
export type MembershipEffect =
  | { type: 'effect.peerUp'; peer: string; incarnation: number; reason: string }
  | { type: 'effect.peerSuspect'; peer: string; reason: string }
  | { type: 'effect.peerDead'; peer: string; incarnation: number | null; reason: string }
  | { type: 'effect.peerLeft'; peer: string; incarnation: number | null }
  | { type: 'effect.peerRestarted'; peer: string; oldIncarnation: number; newIncarnation: number }
  | { type: 'effect.zombie'; peer: string; incarnation: number; source: 'disk' | 'heartbeat' }
  | { type: 'effect.joined'; node: string; incarnation: number }
  | { type: 'effect.selfFence'; node: string; incarnation: number; reason: string; pill?: { from: string; action: 'off' | 'reset' } }
  | { type: 'effect.leave'; node: string; incarnation: number }
