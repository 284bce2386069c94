/**
 * One simulated machine: power, a clock running at its own rate, a disk path, heartbeat
 * endpoints, a journal that survives daemon restarts (in memory: memory-level), an optional
 * hardware watchdog, and the daemon: the real NodeRuntime on a platform made of these.
 *
 * Faults a machine takes: power off (everything stops, writes in flight are lost, whole or torn),
 * power on (the daemon starts after a boot delay), daemon kill (SIGKILL: resources keep
 * running; the watchdog, closed without its magic byte, keeps counting), pause and resume
 * (SIGSTOP/SIGCONT of the daemon). An exit of the daemon (poison pill, in-process watchdog)
 * is followed by a restart, as systemd's Restart= does.
 */
import { MemoryLevel } from 'memory-level'
import type { ClusterConfig } from '../../src/config/load.js'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { JournalStore, type JournalDb } from '../../journal/store.js'
import { journalValueEncoding } from '../../journal/codec.js'
import { NodeRuntime } from '../../src/runtime/node.js'
import type { Platform, Timers } from '../../src/runtime/platform.js'
import type { ControlHandler, ControlRequest } from '../../src/runtime/control.js'
import type { Logger } from '../../src/runtime/log.js'
import type { Clock } from '../../src/clock.js'
import { seeded } from '../helpers/random.js'
import type { SimDisk } from './disk.js'
import type { SimNetwork } from './network.js'
import type { SimPowerSwitch, SimResources } from './resources.js'
import type { SimProcess, World } from './world.js'

export interface SimParts {
  world: World
  config: ClusterConfig
  disk: SimDisk
  network: SimNetwork
  resources: SimResources
  powerSwitch: SimPowerSwitch
  key: Buffer
  /** Every log line of every daemon, with the virtual time. */
  log: (machine: string, level: string, message: string, fields: Record<string, unknown>) => void
  /** systemd's RestartSec: a daemon that exited starts again after this. */
  restartDelayMs: number
  bootDelayMs: number
}

/** Wall clock of every machine at virtual time 0 (2026-01-01T00:00:00Z). */
const WALL_EPOCH_MS = 1_767_225_600_000

export class SimMachine {
  /** Power cycles: an agent or write of an earlier boot died with it. */
  boot = 1
  powered = true
  process: SimProcess | null = null
  runtime: NodeRuntime | null = null
  private control: ControlHandler | null = null
  private pathOf: { powerLoss(): void } | null = null
  readonly journalDb: JournalDb & MemoryLevel<Buffer, unknown>
  readonly exits: { atMs: number; code: number; reason: string }[] = []
  private daemons = 0
  private restartPending = false
  /** The hardware watchdog: armed by a daemon, counts while not fed, resets the machine at its timeout. */
  private watchdog: { armed: boolean; lastFeedMs: number; timeoutMs: number } | null = null

  constructor(readonly name: string, readonly id: number, readonly rate: number, private readonly parts: SimParts, private readonly seed: number, readonly wallOffsetMs = 0) {
    this.journalDb = new MemoryLevel<Buffer, unknown>({ keyEncoding: 'buffer', valueEncoding: journalValueEncoding }) as JournalDb & MemoryLevel<Buffer, unknown>
  }

  get running(): boolean { return this.process !== null && this.process.alive }

  /** This machine's monotonic clock: its own rate, counted from virtual time 0. */
  monotonicMs(): number { return this.parts.world.nowMs * this.rate }

  /** Starts the daemon (as `systemctl start` would). */
  startDaemon(): void {
    if (!this.powered || this.running) return
    const process: SimProcess = { name: `${this.name}#${++this.daemons}`, alive: true, paused: false, held: [] }
    this.process = process
    this.runtime = null
    NodeRuntime.start({ config: this.parts.config, nodeName: this.name, log: this.logger(), platform: this.platform(process) })
      .then((runtime) => { if (process.alive) this.runtime = runtime })
      .catch((error: unknown) => {
        if (!process.alive) return
        this.parts.log(this.name, 'error', `daemon did not start: ${(error as Error).message}`, {})
        this.endProcess(process)
        this.scheduleRestart()
      })
  }

  /** SIGKILL of the daemon: its code never runs again; resources keep running. */
  killDaemon(): void {
    if (this.process !== null) this.endProcess(this.process)
  }

  pause(): void { if (this.process !== null && this.process.alive) this.process.paused = true }

  resume(): void { if (this.process !== null && this.process.paused) this.parts.world.resume(this.process) }

  get paused(): boolean { return this.process?.paused === true }

  /** Power cut (a fence, a crash): nothing of this boot runs any more. */
  powerOff(): void {
    if (!this.powered) return
    this.killDaemon()
    this.pathOf?.powerLoss()
    this.parts.resources.powerLoss(this.name)
    this.powered = false
    this.watchdog = null
    this.boot++
  }

  /** Power on: the daemon starts after the boot delay. */
  powerOn(): void {
    if (this.powered) return
    this.powered = true
    const boot = this.boot
    this.parts.world.after(this.parts.bootDelayMs, null, () => { if (this.boot === boot) this.startDaemon() })
  }

  /** A clean stop (SIGTERM), as `systemctl stop`; resolves with the daemon's answer. */
  async stopDaemon(): Promise<boolean> {
    const runtime = this.runtime
    const process = this.process
    if (runtime === null || process === null || !process.alive) return false
    const ok = await runtime.stop()
    if (process.alive) this.endProcess(process)
    return ok
  }

  /** A control-socket request to this node's daemon; the answers it sent. */
  async request(request: ControlRequest): Promise<unknown[]> {
    const answers: unknown[] = []
    if (this.control === null || !this.running) throw new Error(`${this.name}: no daemon to ask (${request.cmd})`)
    await this.control(request, (value) => answers.push(value))
    return answers
  }

  private endProcess(process: SimProcess): void {
    process.alive = false
    process.held = []
    if (this.process === process) { this.process = null; this.runtime = null; this.control = null }
  }

  private scheduleRestart(): void {
    if (this.restartPending) return
    this.restartPending = true
    const boot = this.boot
    this.parts.world.after(this.parts.restartDelayMs, null, () => {
      this.restartPending = false
      if (this.boot === boot) this.startDaemon()
    })
  }

  /** Checked by the world every watchdog period: an armed, unfed watchdog resets the machine. */
  watchdogCheck(): void {
    const w = this.watchdog
    if (w === null || !w.armed || !this.powered) return
    if (this.parts.world.nowMs - w.lastFeedMs > w.timeoutMs) {
      this.parts.log(this.name, 'error', `hardware watchdog fired (not fed for ${Math.round(this.parts.world.nowMs - w.lastFeedMs)} ms): machine reset`, {})
      this.powerOff()
      this.powerOn()
    }
  }

  private logger(): Logger {
    return { log: (level, message, fields = {}) => this.parts.log(this.name, level, message, fields) }
  }

  private platform(process: SimProcess): Platform {
    const { world, disk, network, resources, powerSwitch, key } = this.parts
    const clock: Clock = { monotonicMs: () => this.monotonicMs(), wallMs: () => Math.floor(WALL_EPOCH_MS + this.wallOffsetMs + this.monotonicMs()) }
    const rate = this.rate
    const timers: Timers = {
      after: (ms, fn) => world.after(ms / rate, process, fn),
      every: (ms, fn) => {
        let cancel = (): void => undefined
        let stopped = false
        const tick = (): void => { if (stopped) return; cancel = world.after(ms / rate, process, tick); fn() }
        cancel = world.after(ms / rate, process, tick)
        return () => { stopped = true; cancel() }
      },
      sleep: (ms) => new Promise((resolve) => { world.after(ms / rate, process, resolve) }),
    }
    const random = seeded(this.seed * 7919 + this.id * 104729 + this.daemons)
    return {
      clock, timers, random,
      loadKey: async () => key,
      openDisk: async (path, options) => {
        const path_ = disk.open(this.name, process)
        this.pathOf = path_
        return QuorumDisk.openOn(path, path_, disk.bytes.length, options)
      },
      openJournal: async (dir) => {
        await this.journalDb.open()
        return JournalStore.openOn(dir, this.journalDb)
      },
      openChannel: async (index, address) => network.bind(this.name, process, index, address.host, address.port),
      openWatchdog: async (_device, selfFenceAfterMs) => {
        const watchdog = { armed: true, lastFeedMs: world.nowMs, timeoutMs: Math.floor(selfFenceAfterMs / 2) }
        this.watchdog = watchdog
        const check = (): void => { world.after(watchdog.timeoutMs + 1, null, () => { if (this.watchdog === watchdog) this.watchdogCheck() }) }
        check()
        return {
          feed: async () => { if (process.alive && !process.paused) { watchdog.lastFeedMs = world.nowMs; check() } },
          disarm: async () => { watchdog.armed = false },
          abandon: async () => undefined,
        }
      },
      listenControl: async (_path, handler) => {
        this.control = handler
        return { close: async () => { if (this.process === process) this.control = null } }
      },
      listenDashboard: async () => null,
      runAgent: (spec, op, options) => resources.run(this.name, () => this.boot, process, spec, op, options),
      fenceOff: (agent, target) => powerSwitch.fenceOff(this.name, process, agent, target),
      exit: (code, reason) => {
        this.exits.push({ atMs: world.nowMs, code, reason })
        this.parts.log(this.name, 'error', `daemon exited with code ${code}: ${reason}`, {})
        this.endProcess(process)
        this.scheduleRestart()
      },
      serviceManager: () => null,
    }
  }
}
