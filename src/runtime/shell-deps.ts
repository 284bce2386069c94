/** What every shell of the node runtime (services, fencing) is given by NodeRuntime. */
import type { Clock } from '../clock.js'
import type { ClusterConfig, NodeConfig } from '../config/load.js'
import type { QuorumDisk } from '../disk/quorum-disk.js'
import type { MachineHost } from './machine-host.js'
import type { Logger } from './log.js'
import type { Platform } from './platform.js'
import type { RetryOptions } from '../disk/paxos-register.js'
import type { HybridClock } from '../../journal/hlc.js'

export interface ShellDeps {
  config: ClusterConfig
  self: NodeConfig
  disk: QuorumDisk
  host: MachineHost
  clock: Clock
  /** Timers, randomness and agents (real, or the simulator's). */
  platform: Platform
  log: Logger
  /** Journal what was delivered, then carry out the decisions (NodeRuntime.commit). */
  commit: () => void
  /** This node's current incarnation. */
  incarnation: () => number
  /** Stamps what this node writes to the disk for others to read (journal/hlc.ts); tests may leave it out. */
  hlc?: HybridClock
}

/** Disk-Paxos backoff on the platform's randomness and timers. */
export function platformRetry(platform: Platform): Pick<RetryOptions, 'random' | 'sleepMs'> {
  return { random: () => platform.random(), sleepMs: (ms) => platform.timers.sleep(ms) }
}
