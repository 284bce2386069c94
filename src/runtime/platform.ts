/**
 * Everything the node runtime touches outside its own memory, in one place: the clock and
 * timers, randomness, the quorum disk, the journal, the heartbeat sockets, the watchdog, the
 * control socket, resource agents, fence agents and the process exit (STYLE.md §2).
 *
 * The daemon runs on `realPlatform`. The deterministic simulator (test/sim/) gives each
 * simulated node a platform of virtual time, an in-memory disk, a simulated network and
 * simulated agents, so the same NodeRuntime, shells and machines run there unchanged.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { realClock, type Clock } from '../clock.js'
import { QuorumDisk, type OpenOptions } from '../disk/quorum-disk.js'
import { JournalStore } from '../../journal/store.js'
import { HeartbeatChannel, type DatagramChannel } from '../net/heartbeat-channel.js'
import type { HostPort } from '../net/address.js'
import { loadKeyFile } from '../net/key-file.js'
import { runAgent } from '../agents/run.js'
import type { AgentOp, AgentResult, ResourceSpec, RunOptions } from '../agents/types.js'
import { fenceOff, type FenceAgentCall, type FenceAgentOptions, type FenceAgentResult, type FenceTarget } from '../fence/agent.js'
import { Watchdog } from './watchdog.js'
import { listenControl, type ControlHandler, type SocketAccess } from './control.js'
import { systemdLinkFromEnv, type ServiceManagerLink } from './systemd-notify.js'
import type { DashboardSettings } from '../config/dashboard.js'
import { startDashboard, type DashboardBackend, type DashboardServer } from '../web/dashboard-server.js'

/** Cancels a timer; calling it again does nothing. */
export type Cancel = () => void

export interface Timers {
  /** Runs `fn` once after `ms`. */
  after(ms: number, fn: () => void): Cancel
  /** Runs `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Cancel
  sleep(ms: number): Promise<void>
}

/** What the runtime needs of a watchdog device (src/runtime/watchdog.ts). */
export interface WatchdogDevice {
  feed(): Promise<void>
  disarm(): Promise<void>
  abandon(): Promise<void>
}

/** An open control socket; null where the platform has none (the simulator). */
export interface ControlServer { close(): Promise<void> }

export interface Platform {
  clock: Clock
  timers: Timers
  /** Uniform in [0, 1): backoff jitter of disk-Paxos proposals. */
  random(): number
  loadKey(path: string): Promise<Buffer>
  openDisk(path: string, options: OpenOptions): Promise<QuorumDisk>
  openJournal(dir: string): Promise<JournalStore>
  openChannel(index: number, address: HostPort): Promise<DatagramChannel>
  openWatchdog(device: string, selfFenceAfterMs: number): Promise<WatchdogDevice>
  listenControl(path: string, handler: ControlHandler, access: SocketAccess): Promise<ControlServer | null>
  /** The live dashboard (src/web/), when configured; null where the platform serves none (the simulator). */
  listenDashboard(settings: DashboardSettings, backend: DashboardBackend): Promise<DashboardServer | null>
  runAgent(spec: ResourceSpec, op: AgentOp, options: RunOptions): Promise<AgentResult>
  fenceOff(agent: FenceAgentCall, target: FenceTarget, options: FenceAgentOptions): Promise<FenceAgentResult>
  /** The process must end now. Never returns to the caller's logic in production. */
  exit(code: number, reason: string): void
  /** systemd's notify socket when it started this process (systemd-notify.ts); null elsewhere (the simulator). */
  serviceManager(onError: (message: string) => void): ServiceManagerLink | null
}

export const realTimers: Timers = {
  after(ms, fn) {
    const timer = setTimeout(fn, ms)
    return () => clearTimeout(timer)
  },
  every(ms, fn) {
    const timer = setInterval(fn, ms)
    return () => clearInterval(timer)
  },
  sleep: (ms) => sleep(ms),
}

export const realPlatform: Platform = {
  clock: realClock,
  timers: realTimers,
  random: Math.random,
  loadKey: loadKeyFile,
  openDisk: (path, options) => QuorumDisk.open(path, options),
  openJournal: (dir) => JournalStore.open(dir),
  openChannel: (index, address) => HeartbeatChannel.open(index, address),
  openWatchdog: (device, selfFenceAfterMs) => Watchdog.open(device, selfFenceAfterMs),
  async listenControl(path, handler, access) {
    const server = await listenControl(path, handler, access)
    return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
  },
  listenDashboard: startDashboard,
  runAgent,
  fenceOff,
  exit: (code) => process.exit(code),
  serviceManager: (onError) => systemdLinkFromEnv(process.env, process.pid, onError),
}

/** `promise`, or undefined once `ms` have passed on `timers`, whichever comes first. */
export async function settleWithin<T>(timers: Timers, promise: Promise<T>, ms: number): Promise<T | undefined> {
  let cancel: Cancel = () => undefined
  const expiry = new Promise<undefined>((resolve) => { cancel = timers.after(ms, () => resolve(undefined)) })
  try {
    return await Promise.race([promise, expiry])
  } finally {
    cancel()
  }
}
