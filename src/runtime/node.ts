/**
 * The node daemon: sources (disk reads, heartbeats, timers) become timed inputs, the
 * MachineHost decides and journals, and effects run only after the journal batch that
 * decided them is durable. The local machine is checked before every outward action
 * (disk write, heartbeat), so a node resumed after a long pause fences itself before it
 * can tell anyone it is alive.
 */
import type { Subscription } from 'rxjs'
import type { Clock } from '../clock.js'
import { checkIntervalMs, diskSuspectAfterMs } from '../config/timing.js'
import { findNode, type ClusterConfig, type NodeConfig } from '../config/load.js'
import { fencingProvesStop } from '../config/fencing.js'
import { CarbError, isCarbError } from '../errors.js'
import type { QuorumDisk } from '../disk/quorum-disk.js'
import { Heartbeats } from '../net/heartbeats.js'
import type { JournalStore } from '../../journal/store.js'
import { HybridClock, fromPair, toPair } from '../../journal/hlc.js'
import { DECISION_CODE_VERSION } from '../../machines/registry.js'
import { reportedState, type LocalInput } from '../../machines/local-node.js'
import type { PeerInput } from '../../machines/membership.js'
import type { MembershipEffect } from '../../machines/events.js'
import { MachineHost, type Decision } from './machine-host.js'
import type { Logger } from './log.js'
import { describeDecision, statusView, type StatusView } from './status-view.js'
import { DropLog } from './drop-log.js'
import { ServiceShell, type MemberState } from './service-shell.js'
import { proposeConfig } from '../config/config-store.js'
import { FenceShell, type PeerSnapshot } from './fence-shell.js'
import { assessLiveness } from '../../machines/liveness.js'
import type { PeerContext } from '../../machines/membership.js'
import type { HolderView } from '../../machines/takeover-proof.js'
import { platformRetry } from './shell-deps.js'
import { realPlatform, settleWithin, type Cancel, type ControlServer, type Platform, type WatchdogDevice } from './platform.js'
import { answerError, type ControlHandler, type ControlRequest } from './control.js'
import { readOnlySocketPath } from './control-access.js'
import { RecentDecisions } from './recent-decisions.js'
import type { DashboardBackend, DashboardServer } from '../web/dashboard-server.js'
import { EXIT_FENCED, EXIT_STOP_FAILED, EXIT_WATCHDOG } from './exit-codes.js'
import type { ServiceManagerLink } from './systemd-notify.js'
import { statusLine, watchdogHealthy } from './systemd-status.js'
import { mailboxReadFailure, pillsFor, readOutboxes, type OutboxRead } from '../disk/mailbox.js'

/** How often a stopping node looks whether the disk cycle in progress has ended. */
const DISK_IDLE_POLL_MS = 10
/** How often the STATUS= summary is recomputed for systemd; sent only when it changed. */
const STATUS_REPORT_INTERVAL_MS = 1000
/** Pings at half of WatchdogSec, but never more often than this (a misconfigured tiny WatchdogSec must not spawn a storm). */
const WATCHDOG_PING_MIN_MS = 250

export interface NodeOptions {
  config: ClusterConfig
  nodeName: string
  log: Logger
  /** Clock, timers, disk, network, agents and exit: realPlatform, or the simulator's. */
  platform?: Platform
}


export class NodeRuntime {
  private readonly clock: Clock
  private readonly platform: Platform
  private readonly self: NodeConfig
  private readonly peers: NodeConfig[]
  private incarnation = 0
  private readonly decisions: Decision[] = []
  private readonly timers: Cancel[] = []
  private readonly dropLog = new DropLog()
  private subscriptions: Subscription[] = []
  private diskBusy = false
  private stopping = false
  /** Stopping, but services are still being stopped: disk cycles and heartbeats go on. */
  private leaving = false
  private get halted(): boolean { return this.stopping && !this.leaving }
  private control: ControlServer | null = null
  private controlReadOnly: ControlServer | null = null
  private dashboard: DashboardServer | null = null
  /** systemd's notify socket, when systemd started this process (systemd-notify.ts). */
  private serviceManager: ServiceManagerLink | null = null
  private lastStatusLine: string | null = null
  private readonly startedAtMs: number
  /** The last decisions carried out, for the dashboard. */
  private readonly recent = new RecentDecisions()
  private readonly host: MachineHost
  private readonly services: ServiceShell
  private readonly fence: FenceShell
  /** When each node was last seen coming up (monotonic ms), for failback's stability wait. */
  private readonly upSince = new Map<string, number>()
  /** Start of the last disk cycle whose status write (and mailbox read) succeeded. */
  private lastGoodCycleStart: number | null = null
  private exited = false
  /** The last error seen in each peer's mailbox block, to log changes only. */
  private readonly mailboxProblems = new Map<number, string | null>()
  private flushing: Promise<void> = Promise.resolve()

  private constructor(
    private readonly options: NodeOptions,
    private readonly disk: QuorumDisk,
    private readonly journal: JournalStore,
    private readonly heartbeats: Heartbeats,
    private readonly watchdog: WatchdogDevice | null,
    /** Stamps the journal and every heartbeat and disk write; moved past every stamp received (journal/hlc.ts). */
    private readonly hlc: HybridClock,
  ) {
    this.platform = options.platform ?? realPlatform
    this.clock = this.platform.clock
    this.startedAtMs = this.clock.monotonicMs()
    this.self = findNode(options.config, options.nodeName)
    this.peers = options.config.nodes.filter((n) => n.name !== options.nodeName)
    this.host = new MachineHost(journal, (d) => this.decisions.push(d))
    this.services = new ServiceShell({
      config: options.config, self: this.self, disk, host: this.host, clock: this.clock, platform: this.platform, log: options.log,
      commit: () => this.commit(), members: () => this.members(), incarnation: () => this.incarnation,
      holderView: (nodeId) => this.holderView(nodeId), fenced: (nodeId) => this.fence.fenced(nodeId),
      requestFence: (nodeId, reason) => this.fence.request(nodeId, reason, 'lease'), isMember: () => this.localState() === 'member',
      escalate: (service, reason) => this.escalate(service, reason),
    })
    this.fence = new FenceShell({
      config: options.config, self: this.self, disk, host: this.host, clock: this.clock, platform: this.platform, log: options.log,
      commit: () => this.commit(), incarnation: () => this.incarnation, peerView: (name) => this.peerSnapshot(name), hlc,
      runsServices: () => !this.services.quiet(), isMember: () => this.localState() === 'member' && !this.halted,
    })
  }

  static async start(options: NodeOptions): Promise<NodeRuntime> {
    const { config, nodeName } = options
    const self = findNode(config, nodeName)
    const platform = options.platform ?? realPlatform
    const clock = platform.clock
    const key = await platform.loadKey(config.authKeyFile)
    const acceptKeys = await Promise.all(config.authKeyAcceptFiles.map((file) => platform.loadKey(file)))
    const disk = await platform.openDisk(self.disk, { expectClusterName: config.cluster, clock })
    const journal = await platform.openJournal(self.journalDir)
    const hlc = new HybridClock(() => clock.wallMs())
    journal.stampWith(hlc)
    let heartbeats: Heartbeats
    try {
      heartbeats = await Heartbeats.open({
        clusterUuid: disk.clusterUuid, key, acceptKeys, localNodeId: self.id, localAddresses: self.heartbeat, clock, hlc, openChannel: platform.openChannel,
        peers: config.nodes.filter((n) => n.name !== nodeName).map((n) => ({ nodeId: n.id, name: n.name, addresses: n.heartbeat })),
      })
    } catch (error) {
      await journal.close()
      await disk.close()
      throw error
    }
    let watchdog: WatchdogDevice | null = null
    try {
      if (config.watchdog.device !== null) watchdog = await platform.openWatchdog(config.watchdog.device, config.timing.selfFenceAfterMs)
    } catch (error) {
      await heartbeats.close()
      await journal.close()
      await disk.close()
      throw error
    }
    const node = new NodeRuntime(options, disk, journal, heartbeats, watchdog, hlc)
    const closeAll = async (): Promise<void> => {
      await watchdog?.disarm()
      await heartbeats.close()
      await journal.close()
      await disk.close()
    }
    try {
      await node.fence.load()
      const { failed, incarnationMax } = await node.services.cleanupStale()
      if (failed.length > 0) {
        throw new CarbError('CARB_ERR_CLEANUP_FAILED', `start-up clean-up could not stop ${failed.join(', ')}, whose lease names this node: not joining (fence this node, or stop them by hand)`, self.name)
      }
      await node.begin(await node.previousIncarnation(incarnationMax))
    } catch (error) {
      await node.closeListeners()
      await closeAll()
      throw error
    }
    return node
  }

  /**
   * The highest incarnation this node has had: its status block's, or a lease's that names it.
   * An unreadable (not merely never written) status block refuses the start: a node that came
   * back as incarnation 1 below the one its peers know would look silent to them, and they
   * would take its services while it runs them.
   */
  private async previousIncarnation(fromLeases: number): Promise<number> {
    const own = await this.disk.readStatus(this.self.id)
    if (!own.ok && own.empty !== true) {
      throw new CarbError('CARB_ERR_DISK_UNREADABLE', `this node's own status block is unreadable (${own.error.oneLine()}): cannot choose an incarnation above the last one; not joining (check the disk, or \`carbonado disk init --force\` a disk that is lost)`, this.self.name)
    }
    return Math.max(own.ok ? own.status.incarnation : 0, fromLeases)
  }

  private get localId(): string { return `local#${this.incarnation}` }
  private peerId(name: string): string { return `peer:${name}#${this.incarnation}` }

  private async begin(previous: number): Promise<void> {
    this.subscriptions.push(this.heartbeats.received$.subscribe((p) => this.onHeartbeat(p)))
    this.subscriptions.push(this.heartbeats.dropped$.subscribe((d) => {
      const line = this.dropLog.note(d.from, d.reason, this.clock.monotonicMs())
      if (line !== null) this.options.log.log('warn', line)
    }))
    this.newIncarnation(previous + 1)
    await this.openDashboard()
    await this.openControl()
    const timing = this.options.config.timing
    this.linkServiceManager()
    this.every(checkIntervalMs(timing), () => this.checkAll())
    this.every(timing.heartbeatIntervalMs, () => this.sendHeartbeat())
    this.every(timing.diskIntervalMs, () => this.diskCycle())
    void this.diskCycle()
    this.options.log.log('info', `node ${this.self.name} (id ${this.self.id}) starting as incarnation ${this.incarnation}; disk ${this.self.disk}${this.disk.directIo ? ' (O_DIRECT reads)' : ''}`)
    const methods = this.self.fence.map((m) => m.method)
    if (this.watchdog === null && methods.length > 0 && methods.every((m) => m === 'poison-pill')) {
      this.options.log.log('warn', `${this.self.name} can be fenced only by poison pill and has no watchdog.device: a pill stops this node only while its daemon runs, so it is no takeover proof; peers take over on the self-fence deadline, and a frozen daemon's services keep running (add a power fence or a watchdog)`)
    }
  }

  /** The live dashboard, when this node has one (config/dashboard.ts); its failure to listen refuses the start. */
  private async openDashboard(): Promise<void> {
    const settings = this.self.dashboard
    if (settings === null) return
    const backend: DashboardBackend = {
      snapshot: () => ({ status: this.status(), decisions: this.recent.list(), machines: this.host.instances() }),
      control: (request) => this.ask(request),
      nodeNames: this.options.config.nodes.map((n) => n.name),
      onDecision: (listener) => this.recent.subscribe(listener),
    }
    this.dashboard = await this.platform.listenDashboard(settings, backend)
    if (this.dashboard === null) return
    const { host, port } = this.dashboard.address
    const access = this.dashboard.readOnly ? 'read-only: no dashboard.tokenFile' : `write actions need the token of ${settings.tokenFile ?? ''}`
    this.options.log.log('info', `dashboard on http://${host.includes(':') ? `[${host}]` : host}:${port}/ (${access})`)
  }

  /** The control handler's first answer, in-process (the dashboard's writes go the CLI's way). */
  private async ask(request: ControlRequest): Promise<Record<string, unknown>> {
    let first: Record<string, unknown> | undefined
    await this.onControl(request, (value) => { first ??= value as Record<string, unknown> })
    if (first === undefined) throw new CarbError('CARB_ERR_CONTROL_PROTOCOL', `no answer to ${request.cmd}`, 'dashboard')
    if (typeof first.error === 'string') throw answerError(first, 'dashboard')
    return first
  }

  /**
   * SIGHUP: the cluster key files are read again from `config` (the cluster file re-read) and
   * used from the next packet on: a key rotation without a restart (README). A key file that
   * fails its checks leaves the keys as they were (the error says which file).
   */
  async reloadKeys(config: ClusterConfig): Promise<void> {
    const key = await this.platform.loadKey(config.authKeyFile)
    const acceptKeys = await Promise.all(config.authKeyAcceptFiles.map((file) => this.platform.loadKey(file)))
    this.heartbeats.setKeys(key, acceptKeys)
    this.options.log.log('info', `cluster key reloaded: sending with ${config.authKeyFile}${acceptKeys.length > 0 ? `, also accepting ${config.authKeyAcceptFiles.join(', ')}` : ''}`)
  }

  /** The admin socket and its read-only twin (control-access.ts). */
  private async openControl(): Promise<void> {
    const { controlGroup, controlAdminGroup } = this.options.config
    const onWarning = (message: string): void => this.options.log.log('warn', message)
    const handler: ControlHandler = (req, send) => this.onControl(req, send)
    this.control = await this.platform.listenControl(this.self.controlSocket, handler, { mode: 0o660, group: controlAdminGroup, readOnly: false, onWarning })
    this.controlReadOnly = await this.platform.listenControl(readOnlySocketPath(this.self.controlSocket), handler, { mode: 0o660, group: controlGroup, readOnly: true, onWarning })
  }

  private async closeListeners(): Promise<void> {
    await this.dashboard?.close()
    this.dashboard = null
    await this.control?.close()
    this.control = null
    await this.controlReadOnly?.close()
    this.controlReadOnly = null
  }

  /**
   * Under systemd (Type=notify): STATUS= now and whenever the summary changes, WATCHDOG=1 at
   * half the unit's WatchdogSec while healthy (systemd-status.ts); READY=1 comes with the join.
   */
  private linkServiceManager(): void {
    this.serviceManager = this.platform.serviceManager((message) => this.options.log.log('warn', message))
    const link = this.serviceManager
    if (link === null) return
    // READY=1 goes with the join (effect); a node that joined before this point is ready now.
    this.reportStatus(this.localState() === 'member' ? { READY: '1' } : {})
    this.every(STATUS_REPORT_INTERVAL_MS, () => this.reportStatus())
    if (link.watchdogMs !== null) this.every(Math.max(WATCHDOG_PING_MIN_MS, link.watchdogMs / 2), () => { if (this.healthy()) link.notify({ WATCHDOG: '1' }) })
  }

  private reportStatus(extra: Record<string, string> = {}): void {
    const line = statusLine(this.status())
    if (line === this.lastStatusLine && Object.keys(extra).length === 0) return
    this.lastStatusLine = line
    this.serviceManager?.notify({ ...extra, STATUS: line })
  }

  private healthy(): boolean {
    const { selfFenceAfterMs, selfFenceStopMs } = this.options.config.timing
    return watchdogHealthy({
      halted: this.halted, localState: this.localState(), nowMs: this.clock.monotonicMs(), startedAtMs: this.startedAtMs,
      lastGoodCycleStartMs: this.lastGoodCycleStart, selfFenceAfterMs, selfFenceStopMs,
    })
  }

  private every(intervalMs: number, body: () => unknown): void {
    this.timers.push(this.platform.timers.every(intervalMs, () => {
      try { void Promise.resolve(body()).catch((error: unknown) => this.fail(error)) } catch (error) { this.fail(error) }
    }))
  }

  private fail(error: unknown): void {
    this.options.log.log('error', isCarbError(error) ? error.oneLine() : String((error as Error).stack ?? error))
  }

  /** A fresh generation of machines: this node's view starts over with its new incarnation. */
  private newIncarnation(incarnation: number): void {
    for (const id of this.host.ids()) this.host.remove(id)
    this.incarnation = incarnation
    const now = this.clock.monotonicMs()
    const { config } = this.options
    this.journal.append({ v: 1, t: 'start', node: this.self.name, nodeId: this.self.id, incarnation, codeVersion: DECISION_CODE_VERSION, wallMs: this.clock.wallMs(), atMs: now, cluster: config.cluster })
    const local: LocalInput = { node: this.self.name, nodeId: this.self.id, incarnation, startedAt: now, selfFenceAfterMs: config.timing.selfFenceAfterMs, stopReserveMs: config.timing.selfFenceStopMs }
    this.host.create(this.localId, 'local', local, now)
    const timing = { diskSuspectAfterMs: diskSuspectAfterMs(config.timing), diskDeadAfterMs: config.timing.diskDeadAfterMs, peerDeadAfterMs: config.timing.peerDeadAfterMs, diskReadIntervalMs: config.timing.diskIntervalMs }
    for (const peer of this.peers) {
      const input: PeerInput = { peer: peer.name, nodeId: peer.id, startedAt: now, channels: Math.max(this.self.heartbeat.length, peer.heartbeat.length), timing, leavesAfterOut: true }
      this.host.create(this.peerId(peer.name), 'peer', input, now)
    }
    this.upSince.clear()
    this.services.recreate()
    this.fence.recreate()
    this.commit()
  }

  /** A peer's machine context and state, for proofs and fencing. */
  private peerSnapshot(name: string): PeerSnapshot | null {
    const view = this.host.view(this.peerId(name))
    if (view === undefined) return null
    const context = view.context as PeerContext
    const now = this.clock.monotonicMs()
    const a = assessLiveness(context.evidence, context.timing, now, context.startedAt)
    return { state: String(view.value), incarnation: context.incarnation, silentPastDeadline: a.liveness === 'dead', diskSilentMs: a.diskAgeMs, diskUnreadable: context.diskReadError !== null }
  }

  private holderView(nodeId: number): HolderView | null {
    const node = this.options.config.nodes.find((n) => n.id === nodeId)
    if (node === undefined) return null
    const peer = this.peerSnapshot(node.name)
    if (peer === null) return null
    return { nodeId, name: node.name, ...peer, fenceable: fencingProvesStop(node.fence, this.options.config.watchdog) }
  }

  /** This node's membership view, as placement reads it. */
  private members(): { name: string; nodeId: number; state: MemberState; upSinceMs: number | null }[] {
    const local = this.localState()
    const selfState: MemberState = local === 'member' ? 'self-member' : local === 'out' ? 'self-out' : local === 'left' ? 'left' : 'self-joining'
    return [
      { name: this.self.name, nodeId: this.self.id, state: selfState, upSinceMs: this.upSince.get(this.self.name) ?? null },
      ...this.peers.map((p) => ({ name: p.name, nodeId: p.id, state: String(this.host.view(this.peerId(p.name))?.value ?? 'unknown') as MemberState, upSinceMs: this.upSince.get(p.name) ?? null })),
    ]
  }

  localState(): string {
    return String(this.host.view(this.localId)?.value ?? 'none')
  }

  /** Check the local machine first; peers only while this node is a member. */
  private checkAll(): void {
    const at = this.clock.monotonicMs()
    this.backstop(at)
    this.host.deliver(this.localId, { type: 'CHECK', at })
    if (this.localState() === 'member') for (const peer of this.peers) this.host.deliver(this.peerId(peer.name), { type: 'CHECK', at })
    if (!this.halted) this.services.check(at)
    if (!this.halted) this.fence.check(at, this.localState() === 'member')
    this.commit()
  }

  /**
   * The in-process watchdog's last line, independent of the machines and of the journal: a node
   * whose last good disk cycle started more than selfFenceAfterMs ago while a resource may
   * still run (a stop overran, a clean stop or an escalation is still stopping, the journal
   * stalled the self-fence effect) exits now, before peers may count it gone.
   */
  private backstop(at: number): void {
    if (this.exited || this.lastGoodCycleStart === null || !this.services.resourcesMayRun()) return
    const silentMs = at - this.lastGoodCycleStart
    if (silentMs > this.options.config.timing.selfFenceAfterMs) {
      this.exit(EXIT_WATCHDOG, `in-process watchdog: no good disk write for ${Math.round(silentMs)} ms (selfFenceAfterMs ${this.options.config.timing.selfFenceAfterMs}) and a resource may still run; exiting before peers may take over`)
    }
  }

  private onHeartbeat(p: { at: number; channel: number; senderId: number; incarnation: number; seq: number; state: string; senderWallMs: number; senderLogical: number }): void {
    const peer = this.peers.find((n) => n.id === p.senderId)
    if (peer === undefined || this.halted) return
    this.hlc.receive({ wallMs: p.senderWallMs, logical: p.senderLogical })
    const state = p.state as 'joining' | 'up' | 'leaving' | 'out'
    this.host.deliver(this.peerId(peer.name), { type: 'HEARTBEAT', at: p.at, channel: p.channel, incarnation: p.incarnation, seq: p.seq, state }, `hb:${p.channel}`)
    this.commit()
  }

  private async sendHeartbeat(): Promise<void> {
    this.checkAll()
    if (this.halted) return
    await this.heartbeats.send({ incarnation: this.incarnation, state: reportedState(this.localState()) as 'joining' | 'up' | 'leaving' | 'out' })
  }

  /** Read every peer's status, then write ours. Skipped while the previous cycle still waits on the disk. */
  private async diskCycle(): Promise<void> {
    if (this.diskBusy || this.halted) return
    this.diskBusy = true
    try {
      this.checkAll()
      await this.readPeers()
      // A good write is credited from the start of this cycle's mailbox read, never later: a
      // pill written after that read must not extend this node's self-fence deadline.
      const cycleStart = this.clock.monotonicMs()
      const mailboxError = await this.readPills()
      const wrote = await this.writeOwnStatus(undefined, mailboxError, cycleStart)
      if (wrote) this.lastGoodCycleStart = cycleStart
      // The hardware watchdog is fed only by a member whose status reached the disk this cycle,
      // and only if the cycle was quick: the reset must still come before peers count it dead.
      const quick = this.clock.monotonicMs() - cycleStart <= this.options.config.timing.diskIntervalMs
      if (wrote && quick && this.localState() === 'member' && !this.halted) await this.watchdog?.feed()
      // Services are placed only by a member. Out (self-fenced or poisoned): the self-fence stops
      // everything, and the old incarnation's service machines must not act beside it (place,
      // stop, release); joining: a node that cannot write the disk yet must not take leases.
      // Not awaited: reading every lease register takes many disk operations, and the next
      // status write must not wait behind them (with 100 services on 16 nodes the scans made
      // nodes miss their own deadline: bench/scaling.ts). The shell runs one cycle at a time.
      if (!this.halted && this.localState() === 'member') void this.services.cycle().catch((error: unknown) => this.fail(error))
    } finally {
      this.diskBusy = false
    }
  }

  private async readPeers(): Promise<void> {
    const reads = await this.disk.readAllStatus()
    const at = this.clock.monotonicMs()
    for (const peer of this.peers) {
      const read = reads.find((r) => r.nodeId === peer.id)
      if (read === undefined || this.halted) continue
      if (read.ok) {
        if (read.status.hlc !== undefined) this.hlc.receive(fromPair(read.status.hlc))
        this.host.deliver(this.peerId(peer.name), { type: 'DISK_STATUS', at, seq: Number(read.seq), incarnation: read.status.incarnation, state: read.status.state }, 'disk')
      } else if (read.empty !== true) {
        this.host.deliver(this.peerId(peer.name), { type: 'DISK_UNREADABLE', at, code: read.error.code })
      }
    }
    this.commit()
  }

  /**
   * Poison pills addressed to this incarnation (disk/mailbox.ts). Returns the code of a
   * mailbox that could not be read: the cycle then does not count as a good disk write, so a
   * node that cannot see its pills fences itself by its deadline, as one that cannot write.
   */
  private async readPills(): Promise<string | null> {
    if (this.halted) return null
    let reads: OutboxRead[]
    try {
      reads = await readOutboxes(this.disk)
    } catch (error) {
      return isCarbError(error) ? error.code : 'CARB_ERR_DISK_IO'
    }
    for (const read of reads) if (read.ok && read.outbox.hlc !== undefined) this.hlc.receive(fromPair(read.outbox.hlc))
    const at = this.clock.monotonicMs()
    const state = this.localState()
    for (const { from, message } of pillsFor(reads, this.self.id, this.incarnation)) {
      const sender = this.peers.find((p) => p.id === from)?.name ?? `node-${from}`
      if (state === 'member' || state === 'joining') this.host.deliver(this.localId, { type: 'POISON_PILL', at, from: sender, action: message.action })
    }
    this.commit()
    this.fence.observe(reads)
    this.reportBadMailboxes(reads)
    return mailboxReadFailure(reads)
  }

  /** A corrupt or foreign mailbox block of a configured node: logged when its error changes, never believed. */
  private reportBadMailboxes(reads: readonly OutboxRead[]): void {
    for (const peer of this.peers) {
      const read = reads[peer.id - 1]
      const problem = read === undefined || read.ok || read.empty ? null : read.error.oneLine()
      if (problem !== (this.mailboxProblems.get(peer.id) ?? null)) {
        if (problem !== null) this.options.log.log('warn', `mailbox of ${peer.name} unreadable (its pills cannot reach this node): ${problem}`)
        this.mailboxProblems.set(peer.id, problem)
      }
    }
  }

  /** True when the status reached both copies (and the mailbox area could be read). */
  private async writeOwnStatus(state = reportedState(this.localState()), mailboxError: string | null = null, creditFrom?: number): Promise<boolean> {
    const startedAt = creditFrom ?? this.clock.monotonicMs()
    const localId = this.localId
    let event: { type: 'DISK_WRITE_OK'; at: number; seq: number } | { type: 'DISK_WRITE_FAILED'; at: number; code: string }
    try {
      const result = await this.disk.writeStatus(this.self.id, { nodeId: this.self.id, name: this.self.name, incarnation: this.incarnation, state, wallMs: this.clock.wallMs(), hlc: toPair(this.hlc.tick()) })
      event = result.primaryOk && result.shadowOk && mailboxError === null
        ? { type: 'DISK_WRITE_OK', at: startedAt, seq: Number(result.seq) }
        : { type: 'DISK_WRITE_FAILED', at: startedAt, code: result.errors[0]?.code ?? mailboxError ?? 'CARB_ERR_DISK_IO' }
    } catch (error) {
      event = { type: 'DISK_WRITE_FAILED', at: startedAt, code: isCarbError(error) ? error.code : ((error as NodeJS.ErrnoException).code ?? 'CARB_ERR_DISK_IO') }
    }
    if (this.host.has(localId)) this.host.deliver(localId, event, event.type === 'DISK_WRITE_OK' ? 'write' : undefined)
    this.commit()
    return event.type === 'DISK_WRITE_OK'
  }

  /** The disk cycle in progress, if any, has ended (called once no new cycle can start). */
  private async diskIdle(): Promise<void> {
    while (this.diskBusy) await this.platform.timers.sleep(DISK_IDLE_POLL_MS)
  }

  /** Make the journal durable, then carry out the decisions it recorded (STYLE.md §1). */
  private commit(): void {
    const decided = this.decisions.splice(0)
    this.flushing = this.flushing.then(async () => {
      try {
        await this.journal.flush()
      } catch (error) {
        // Effects wait for a durable journal (STYLE §1), with one exception: a self-fence only
        // stops, and dropping it would leave resources running on a node that is out.
        this.fail(error)
        for (const d of decided) if ((d.transition.effects as MembershipEffect[]).some((e) => e.type === 'effect.selfFence')) this.effect(d)
        return
      }
      for (const d of decided) this.effect(d)
    }).catch((error: unknown) => this.fail(error))
  }

  private effect(d: Decision): void {
    this.recent.record(d, this.clock.wallMs())
    this.options.log.log('info', describeDecision(d), { machine: d.machine, from: d.transition.from, to: d.transition.to, event: d.transition.event, effects: d.transition.effects })
    if (d.machine.startsWith('service:')) { this.services.effect(d); return }
    if (d.machine.startsWith('fence:')) { this.fence.effect(d); return }
    for (const e of d.transition.effects as MembershipEffect[]) {
      if (e.type === 'effect.peerUp') this.upSince.set(e.peer, d.atMs)
      if (e.type === 'effect.joined') { this.upSince.set(this.self.name, d.atMs); this.reportStatus({ READY: '1' }) }
      if (e.type === 'effect.peerDead' || e.type === 'effect.peerLeft' || e.type === 'effect.peerSuspect') this.upSince.delete(e.peer)
      // Also while a clean stop or an escalation is stopping: the self-fence's budget and exit
      // timer then bound stops that would otherwise keep their full timeouts.
      if (e.type === 'effect.selfFence' && e.incarnation === this.incarnation && !this.exited) void this.selfFenced(e.incarnation, e.pill !== undefined ? `poison pill from ${e.pill.from}` : null)
    }
  }

  /**
   * Stop every service resource within selfFenceStopMs (the local machine went out that long
   * before the deadline), then start over as the next incarnation; after a poison pill, exit.
   * The in-process watchdog: if the stops are not done by the deadline, the process exits at
   * once, so nothing of this incarnation can act after peers may take over. (A hardware
   * watchdog, where configured, resets the machine instead: it is no longer fed.)
   */
  private async selfFenced(incarnation: number, pill: string | null): Promise<void> {
    // With a hardware watchdog, feeding stops for good: it resets the machine at its timeout.
    if (this.watchdog !== null) { this.options.log.log('error', 'self-fenced: the hardware watchdog is no longer fed and will reset this machine'); void this.watchdog.abandon() }
    const budgetMs = this.options.config.timing.selfFenceStopMs
    const cancelWatchdog = this.platform.timers.after(budgetMs, () => this.exit(EXIT_WATCHDOG, `in-process watchdog: resources of incarnation ${incarnation} not stopped within selfFenceStopMs ${budgetMs}; exiting before the self-fence deadline`))
    const stopped = await this.services.stopEverything(pill ?? `self-fenced as incarnation ${incarnation}`, budgetMs)
    cancelWatchdog()
    if (!stopped) { this.exit(EXIT_WATCHDOG, `in-process watchdog: a resource of incarnation ${incarnation} did not stop; exiting before the self-fence deadline`); return }
    if (pill !== null) { await this.acknowledgePill(pill); return }
    if (this.stopping || incarnation !== this.incarnation) return
    this.options.log.log('warn', `self-fenced as incarnation ${incarnation}; rejoining as incarnation ${incarnation + 1}`)
    this.newIncarnation(incarnation + 1)
  }

  /**
   * Every resource stopped after a poison pill: the last word on the disk is "down" (no disk
   * cycle may write after it), which is the sender's acknowledgement and every peer's
   * left-cleanly proof; then exit. A disk that does not take it within a disk interval or the
   * stop reserve, whichever is longer, leaves the sender to its other proofs.
   */
  private async acknowledgePill(pill: string): Promise<void> {
    this.stopping = true
    const { diskIntervalMs, selfFenceStopMs } = this.options.config.timing
    const budgetMs = Math.max(diskIntervalMs, selfFenceStopMs)
    const wrote = await settleWithin(this.platform.timers, (async () => {
      await this.diskIdle()
      const ok = await this.writeOwnStatus('down')
      await this.flushing
      return ok
    })(), budgetMs).catch(() => false)
    this.exit(EXIT_FENCED, `fenced by ${pill}: every resource stopped${wrote === true ? '; "down" written' : `; "down" not written within ${budgetMs} ms`}; exiting`)
  }

  /**
   * A stop failed (the service machine is `failed`, holding the lease). With a fence method
   * for this node, it leaves the cluster the way a node that lost the disk does: everything
   * else stops within selfFenceStopMs, the process exits without writing "down", peers count
   * it dead and fence it (the power cut ends the resource that would not stop), then take the
   * services over on that proof. With none, nothing could prove the resource stopped: the
   * service stays failed here and keeps its lease until an administrator stops it by hand.
   */
  private escalate(service: string, reason: string): void {
    // A poison pill stops only a running daemon: leaving would make it "succeed" against nobody
    // while the resource that would not stop still runs. Only a power fence or a hardware
    // watchdog ends that resource.
    const canEnd = this.self.fence.some((m) => m.method === 'agent') || this.watchdog !== null
    if (!canEnd) {
      this.options.log.log('error', `service ${service}: ${reason}; ${this.self.name} has no power fence and no watchdog: the service stays failed here and keeps its lease (stop it by hand, then \`carbonado service disable ${service}\`)`)
      return
    }
    if (this.stopping) return
    this.options.log.log('error', `service ${service}: ${reason}; leaving the cluster so that ${this.self.name} is fenced (${this.self.fence.map((m) => m.name).join(', ')})`)
    this.stopping = true
    const budgetMs = this.options.config.timing.selfFenceStopMs
    void this.services.stopEverything(`a stop of ${service} failed; this node must be fenced`, budgetMs)
      .then(() => this.exit(EXIT_STOP_FAILED, `exiting so that peers fence ${this.self.name}: a stop of ${service} failed`))
  }

  private exit(code: number, reason: string): void {
    if (this.exited) return
    this.exited = true
    this.options.log.log('error', reason)
    this.stopping = true
    for (const cancel of this.timers) cancel()
    this.platform.exit(code, reason)
  }

  status(): StatusView {
    return statusView({
      cluster: this.options.config.cluster, node: this.self, peers: this.peers, incarnation: this.incarnation,
      now: this.clock.monotonicMs(), wallMs: this.clock.wallMs(),
      local: this.host.view(this.localId), peerView: (name) => this.host.view(this.peerId(name)),
      heartbeats: this.heartbeats.counters(), host: this.host.counters, journal: this.journal.stats(),
      configVersion: this.services.version, services: this.services.status(), fencing: this.fence.status(),
    })
  }

  private async onControl(request: { cmd: string; [field: string]: unknown }, send: (value: unknown) => void): Promise<void> {
    if (request.cmd === 'status') { send(this.status()); return }
    if (request.cmd === 'services') { send({ version: this.services.version, doc: this.services.configDoc, services: this.services.status() }); return }
    if (request.cmd === 'config-propose') { await this.proposeConfig(request, send); return }
    if (request.cmd === 'export') {
      await this.flushing
      let count = 0
      for await (const stored of this.journal.read()) { send(stored); count++ }
      send({ end: true, count, node: this.self.name })
      return
    }
    if (request.cmd === 'fence' || request.cmd === 'fence-ack') { this.fenceByHand(request, send); return }
    if (request.cmd === 'fence-status') { send({ operations: this.fence.status() }); return }
    send({ error: `unknown command "${request.cmd}" (status, export, services, config-propose, fence, fence-ack, fence-status)` })
  }

  /** `carbonado fence NODE` and `carbonado fence ack NODE`: the request is journaled with the operation it starts. */
  private fenceByHand(request: { cmd: string; [field: string]: unknown }, send: (value: unknown) => void): void {
    const who = typeof request.who === 'string' ? request.who.slice(0, 64) : 'an administrator'
    try {
      if (typeof request.target !== 'string') throw new CarbError('CARB_ERR_USAGE', `${request.cmd}: no target node named`)
      const id = request.cmd === 'fence'
        ? this.fence.request(request.target, `fenced by hand by ${who}`, `admin:${who}`)
        : this.fence.ack(request.target, who)
      send({ ok: true, id })
    } catch (error) {
      send({ error: isCarbError(error) ? error.oneLine() : String(error), code: isCarbError(error) ? error.code : undefined })
    }
  }

  /** An administrator's change: propose it as the next configuration version (config-store.ts). */
  private async proposeConfig(request: { [field: string]: unknown }, send: (value: unknown) => void): Promise<void> {
    try {
      const names = this.options.config.nodes.map((n) => n.name)
      const doc = await proposeConfig(this.disk, this.self.id, Number(request.expectVersion), request.doc as never, names, platformRetry(this.platform))
      this.options.log.log('info', `configuration version ${doc.version} written by ${String(request.who ?? 'an administrator')}`)
      send({ ok: true, version: doc.version })
      void this.services.cycle()
    } catch (error) {
      send({ error: isCarbError(error) ? error.oneLine() : String(error), code: isCarbError(error) ? error.code : undefined })
    }
  }

  /**
   * Clean stop: stop this node's services and release their leases (the disk and heartbeats
   * keep running meanwhile, so peers see a live node), then leave (so peers need not wait for
   * a timeout), write "down", flush, close.
   */
  /** Clean stop (SIGTERM). False when a service did not stop in time: "down" was not written. */
  async stop(): Promise<boolean> {
    if (this.stopping) return false
    this.stopping = true
    this.leaving = true
    this.serviceManager?.notify({ STOPPING: '1', STATUS: `leaving: stopping ${this.services.status().filter((s) => s.localState !== 'stopped' && s.localState !== 'disabled').length} services, then writing "down"` })
    this.services.shutdown(this.clock.monotonicMs())
    const deadline = this.clock.monotonicMs() + this.services.stopBudgetMs()
    while (!this.services.quiet() && this.clock.monotonicMs() < deadline) await this.platform.timers.sleep(50)
    const stoppedAll = this.services.quiet()
    if (!stoppedAll) this.options.log.log('error', 'services did not stop in time; leaving without writing "down" (their leases stay held until this node is fenced or counted gone)')
    this.leaving = false
    for (const cancel of this.timers) cancel()
    const at = this.clock.monotonicMs()
    this.host.flushAll()
    if (this.localState() === 'member' || this.localState() === 'joining') this.host.deliver(this.localId, { type: 'SHUTDOWN', at })
    this.commit()
    await this.diskIdle()
    if (stoppedAll) await this.writeOwnStatus('down').catch((error: unknown) => this.fail(error))
    await this.flushing
    for (const s of this.subscriptions) s.unsubscribe()
    await this.closeListeners()
    await this.heartbeats.close()
    await this.journal.close()
    await this.disk.close()
    if (stoppedAll) await this.watchdog?.disarm()
    else await this.watchdog?.abandon()
    this.options.log.log('info', `node ${this.self.name} stopped (incarnation ${this.incarnation})`)
    return stoppedAll
  }
}
