/** What every shell of the node runtime (services, fencing) is given by NodeRuntime. */
import type { Clock } from '../clock.js'
import type { ClusterConfig, NodeConfig } from '../config/load.js'
import type { QuorumDisk } from '../disk/quorum-disk.js'
import type { MachineHost } from './machine-host.js'
import type { Logger } from './log.js'

export interface ShellDeps {
  config: ClusterConfig
  self: NodeConfig
  disk: QuorumDisk
  host: MachineHost
  clock: Clock
  log: Logger
  /** Journal what was delivered, then carry out the decisions (NodeRuntime.commit). */
  commit: () => void
  /** This node's current incarnation. */
  incarnation: () => number
}
