/**
 * The fencing shell (DESIGN.md "machines decide, the shell acts"): one fencing machine
 * (machines/fencing.ts) per operation against a node, in the MachineHost so every input is
 * journaled; this file carries out the methods the machines ask for and brings the results
 * back as inputs.
 *
 *   - agent: a fence agent by the fence-agents stdin protocol (fence/agent.ts `fenceOff`);
 *   - poison-pill: a message in this node's outbox on the quorum disk (disk/mailbox.ts) for
 *     the target's incarnation; counted as fenced after the message wait, the time within
 *     which the target has either read it and stopped, or failed to reach the disk and
 *     fenced itself: selfFenceAfterMs stretched by the clock-rate error plus one disk cycle.
 *
 * An operation is started for a node whose lease must be taken (service-shell.ts), or by an
 * administrator (`carbonado fence NODE`); `carbonado fence ack NODE` acknowledges it is off.
 * A node that runs no service waits fencing.raceDelayMs first, so in a fence race the node
 * running services fences first and survives. Fencing starts only while this node is a
 * member: a node out of the cluster fences nobody.
 */
import type { NodeConfig } from '../config/load.js'
import type { AgentMethod } from '../config/fencing.js'
import { diskDeadAfterMinMs } from '../config/timing.js'
import { CarbError, isCarbError } from '../errors.js'
import { toPair } from '../../journal/hlc.js'
import { noticesAbout, readOutboxes, writeOutbox, withNotice, withPill, withoutPill, type Outbox, type OutboxRead } from '../disk/mailbox.js'
import type { FenceRecord } from '../../machines/takeover-proof.js'
import type { FenceEffect, FenceInput } from '../../machines/fencing-events.js'
import type { FenceAttempt, FencingContext } from '../../machines/fencing.js'
import type { Decision } from './machine-host.js'
import type { ShellDeps } from './shell-deps.js'

/** Operations kept per target after they ended, for status and proofs. */
const FENCE_HISTORY_MAX = 8
/** States in which an operation is still going (not succeeded, cancelled). */
const ACTIVE_STATES = ['delaying', 'fencing', 'backoff', 'failed']

export interface PeerSnapshot {
  state: string
  incarnation: number | null
  silentPastDeadline: boolean
  diskSilentMs: number
  /** Its status block was unreadable at the last read. */
  diskUnreadable: boolean
}

export interface FenceShellDeps extends ShellDeps {
  peerView: (name: string) => PeerSnapshot | null
  /** This node holds or runs a service now (the race delay does not apply to it). */
  runsServices: () => boolean
  /** This node is a member: a node out of the cluster fences nobody. */
  isMember: () => boolean
}

export interface FenceOpStatus {
  id: string
  target: string
  state: string
  requestedBy: string
  reason: string
  lastError: string | null
  attempts: FenceAttempt[]
  proof: { name: string; detail: string } | null
  cancelReason: string | null
}

interface Operation { id: string; target: NodeConfig; incarnation: number | null }

export class FenceShell {
  private readonly operations: Operation[] = []
  private readonly records = new Map<number, FenceRecord[]>()
  private outbox: Outbox
  private opCount = 0

  constructor(private readonly deps: FenceShellDeps) {
    this.outbox = { from: deps.self.id, fromIncarnation: 0, messages: [], fenced: [] }
  }

  /**
   * Start-up: carry this node's outbox over from the disk (its fence notices stay proofs for
   * the others; its pills are taken back by `check` once their targets restart).
   */
  async load(): Promise<void> {
    const own = (await readOutboxes(this.deps.disk))[this.deps.self.id - 1]
    if (own !== undefined && own.ok) this.outbox = { ...own.outbox }
    for (const notice of this.outbox.fenced) this.remember(notice.node, { incarnation: notice.incarnation, method: notice.method, detail: notice.detail })
  }

  /** Successful fencing of `nodeId`, newest last (the takeover proofs). */
  fenced(nodeId: number): readonly FenceRecord[] {
    return this.records.get(nodeId) ?? []
  }

  private node(nodeId: number | string): NodeConfig {
    const node = this.deps.config.nodes.find((n) => n.id === nodeId || n.name === nodeId)
    if (node === undefined || node.id === this.deps.self.id) {
      throw new CarbError('CARB_ERR_FENCE_UNKNOWN_NODE', `cannot fence ${JSON.stringify(nodeId)}: ${node === undefined ? 'no such node in the cluster file' : 'a node does not fence itself'}`)
    }
    return node
  }

  private active(target: NodeConfig): Operation | undefined {
    return this.operations.find((op) => op.target.id === target.id && ACTIVE_STATES.includes(this.state(op)))
  }

  private state(op: Operation): string {
    return String(this.deps.host.view(op.id)?.value ?? 'gone')
  }

  /**
   * Starts an operation against `nodeId` unless one is going; returns its machine id. An
   * operation that gave up (failed) answers a lease's request as it is (it waits for an
   * acknowledgement), but an administrator's request replaces it with a fresh one: "try again".
   */
  request(nodeId: number | string, reason: string, requestedBy: string): string {
    const target = this.node(nodeId)
    const going = this.active(target)
    const at = this.deps.clock.monotonicMs()
    if (going !== undefined && !(requestedBy.startsWith('admin:') && this.state(going) === 'failed')) return going.id
    if (going !== undefined) this.deps.host.deliver(going.id, { type: 'CANCEL', at, reason: `replaced by a new request of ${requestedBy}` })
    const id = this.create(target, reason, requestedBy, at)
    if (this.deps.isMember()) this.deps.host.deliver(id, { type: 'CHECK', at })
    this.deps.commit()
    return id
  }

  /** A new operation's machine, journaled with its input; nothing asked of it yet. */
  private create(target: NodeConfig, reason: string, requestedBy: string, at: number): string {
    const incarnation = this.deps.peerView(target.name)?.incarnation ?? null
    const { fencing } = this.deps.config
    const input: FenceInput = {
      target: target.name, targetId: target.id, targetIncarnation: incarnation, requestedBy, reason,
      methods: target.fence.map((m) => ({ name: m.name, kind: m.method === 'agent' ? 'agent' as const : 'poison-pill' as const })),
      delayMs: this.deps.runsServices() ? 0 : fencing.raceDelayMs,
      retry: { baseMs: fencing.retryBaseMs, maxMs: fencing.retryMaxMs, roundsMax: fencing.roundsMax },
      startedAt: at,
    }
    this.opCount += 1
    const id = `fence:${target.name}:${this.opCount}#${this.deps.incarnation()}`
    this.deps.host.create(id, 'fencing', input, at)
    this.operations.push({ id, target, incarnation })
    this.trim(target)
    this.deps.log.log('warn', `fencing ${target.name} (incarnation ${incarnation ?? 'unknown'}) requested by ${requestedBy}: ${reason}${input.delayMs > 0 ? ` (race delay ${input.delayMs} ms: this node runs no service)` : ''}`)
    return id
  }

  /**
   * An administrator confirms `nodeId` is off (fence_ack_manual): journaled as the ACK input.
   * With no operation going, one is created and acknowledged at once, never asked to act.
   */
  ack(nodeId: number | string, who: string): string {
    const target = this.node(nodeId)
    const at = this.deps.clock.monotonicMs()
    const id = this.active(target)?.id ?? this.create(target, `acknowledged off by ${who}`, `admin:${who}`, at)
    this.deps.host.deliver(id, { type: 'ACK', at, who })
    this.deps.commit()
    return id
  }

  private trim(target: NodeConfig): void {
    const mine = this.operations.filter((op) => op.target.id === target.id)
    for (const old of mine.slice(0, Math.max(0, mine.length - FENCE_HISTORY_MAX))) {
      if (ACTIVE_STATES.includes(this.state(old))) continue
      this.deps.host.remove(old.id)
      this.operations.splice(this.operations.indexOf(old), 1)
    }
  }

  /**
   * Tick: deadlines (race delay, backoff) while this node is a member; an operation whose
   * target proved itself gone another way (restarted, left) is cancelled.
   */
  check(at: number, member: boolean): void {
    for (const op of this.operations) {
      if (!ACTIVE_STATES.includes(this.state(op))) continue
      const peer = this.deps.peerView(op.target.name)
      const restarted = peer !== null && peer.incarnation !== null && peer.state === 'up' && (op.incarnation === null || peer.incarnation > op.incarnation)
      if (peer !== null && (restarted || peer.state === 'left')) this.deps.host.deliver(op.id, { type: 'CANCEL', at, reason: restarted ? `${op.target.name} restarted as incarnation ${peer.incarnation}` : `${op.target.name} left cleanly` })
      else if (member) this.deps.host.deliver(op.id, { type: 'CHECK', at })
    }
    for (const message of this.outbox.messages) {
      const target = this.deps.config.nodes.find((n) => n.id === message.to)
      const peer = target === undefined ? null : this.deps.peerView(target.name)
      if (peer !== null && peer.incarnation !== null && peer.incarnation > message.incarnation && peer.state === 'up') void this.takeBackPill(message.to)
    }
  }

  /** Carry out what a fencing machine asked (after the journal batch that decided it is durable). */
  effect(d: Decision): void {
    const op = this.operations.find((o) => o.id === d.machine)
    for (const e of d.transition.effects as FenceEffect[]) {
      if (e.type === 'effect.fenceMethod' && op !== undefined && !this.deps.isMember()) this.deps.log.log('warn', `fencing ${e.target}: not running ${e.name}: this node is no longer a member`)
      else if (e.type === 'effect.fenceMethod' && op !== undefined) void this.runMethod(op, e)
      else if (e.type === 'effect.fenced') this.record(e)
      else if (e.type === 'effect.fenceMethodFailed') this.deps.log.log('error', `fencing ${e.target}: ${e.name} ${e.outcome}: ${e.detail}`)
      else if (e.type === 'effect.fenceRetry') this.deps.log.log('warn', `fencing ${e.target}: every method failed in round ${e.round}; next round in ${e.waitMs} ms`)
      else if (e.type === 'effect.fenceGaveUp') this.deps.log.log('error', `fencing ${e.target} ${e.rounds === 0 ? 'cannot start' : `failed after ${e.rounds} rounds`} (${e.reason}): its services stay where they are until \`carbonado fence ack ${e.target}\``)
      else if (e.type === 'effect.fenceCancelled') this.deps.log.log('info', `fencing ${e.target} cancelled: ${e.reason}`)
    }
  }

  private record(e: Extract<FenceEffect, { type: 'effect.fenced' }>): void {
    this.remember(e.targetId, { incarnation: e.targetIncarnation, method: e.proof.name, detail: e.proof.detail })
    this.deps.log.log('warn', `fenced ${e.target} (incarnation ${e.targetIncarnation ?? 'unknown'}) by ${e.proof.name}: ${e.proof.detail}`)
    // Tell every member through this node's outbox, so whichever node takes over has the proof.
    this.outbox = withNotice({ ...this.outbox, fromIncarnation: this.deps.incarnation() }, { node: e.targetId, incarnation: e.targetIncarnation, method: e.proof.name, detail: e.proof.detail.slice(0, 400), wallMs: Math.round(this.deps.clock.wallMs()) })
    void this.publish()
  }

  private remember(nodeId: number, record: FenceRecord): void {
    const list = this.records.get(nodeId) ?? []
    const same = list.some((r) => r.incarnation === record.incarnation && r.method === record.method && r.detail === record.detail)
    if (!same) this.records.set(nodeId, [...list, record].slice(-FENCE_HISTORY_MAX))
  }

  /** Fence notices other members published (disk/mailbox.ts): their proofs count here too. */
  observe(reads: readonly OutboxRead[]): void {
    for (const node of this.deps.config.nodes) {
      if (node.id === this.deps.self.id) continue
      for (const { from, notice } of noticesAbout(reads, this.deps.self.id, node.id)) {
        const sender = this.deps.config.nodes.find((n) => n.id === from)?.name ?? `node ${from}`
        this.remember(node.id, { incarnation: notice.incarnation, method: notice.method, detail: `${notice.detail} (fenced by ${sender})` })
      }
    }
  }

  private async publish(): Promise<void> {
    try {
      await writeOutbox(this.deps.disk, this.deps.self.id, this.stamped())
    } catch (error) {
      this.deps.log.log('warn', `could not publish this node's mailbox (fence notices, pills): ${isCarbError(error) ? error.oneLine() : String(error)}`)
    }
  }

  private async runMethod(op: Operation, e: Extract<FenceEffect, { type: 'effect.fenceMethod' }>): Promise<void> {
    const method = op.target.fence[e.method]
    let done: { outcome: 'ok' | 'failed' | 'timeout' | 'misconfigured'; detail: string }
    try {
      if (method === undefined) done = { outcome: 'misconfigured', detail: `method ${e.method} is no longer configured` }
      else if (method.method === 'agent') done = await this.runAgent(method, op.target)
      else done = await this.poisonPill(op)
    } catch (error) {
      done = { outcome: 'failed', detail: isCarbError(error) ? error.oneLine() : String(error) }
    }
    if (!this.deps.host.has(op.id)) return
    this.deps.host.deliver(op.id, { type: 'METHOD_DONE', at: this.deps.clock.monotonicMs(), call: e.call, method: e.method, ...done })
    this.deps.commit()
  }

  private async runAgent(method: AgentMethod, target: NodeConfig): Promise<{ outcome: 'ok' | 'failed' | 'timeout' | 'misconfigured'; detail: string }> {
    this.deps.log.log('warn', `fencing ${target.name}: ${method.name} off (port ${method.port})`)
    const result = await this.deps.platform.fenceOff({ agent: method.agent, params: method.params, timeoutMs: method.timeoutMs }, { port: method.port, nodename: target.name }, { onOutput: (line) => this.deps.log.log('info', `fence ${method.name}: ${line}`) })
    return { outcome: result.outcome, detail: result.detail }
  }

  /** The message wait: the target has read the pill and stopped, or fenced itself, by then. */
  messageWaitMs(): number {
    return diskDeadAfterMinMs(this.deps.config.timing)
  }

  private async poisonPill(op: Operation): Promise<{ outcome: 'ok' | 'failed'; detail: string }> {
    if (op.incarnation === null) return { outcome: 'failed', detail: `incarnation of ${op.target.name} unknown: a pill must name the incarnation it stops` }
    this.outbox = withPill({ ...this.outbox, fromIncarnation: this.deps.incarnation() }, { to: op.target.id, incarnation: op.incarnation, action: 'off', sentWallMs: this.deps.clock.wallMs() })
    await writeOutbox(this.deps.disk, this.deps.self.id, this.stamped())
    // Read it back as the target will (primary, else shadow): a pill that cannot be read stops nobody.
    const back = (await readOutboxes(this.deps.disk))[this.deps.self.id - 1]
    const seen = back !== undefined && back.ok && back.outbox.messages.some((m) => m.to === op.target.id && m.incarnation === op.incarnation)
    if (!seen) return { outcome: 'failed', detail: `poison pill for ${op.target.name} written but not read back: ${back === undefined || back.ok ? 'message missing' : back.error.oneLine()}` }
    const waitMs = this.messageWaitMs()
    this.deps.log.log('warn', `fencing ${op.target.name}: poison pill for incarnation ${op.incarnation} written; waiting up to ${waitMs} ms`)
    const endMs = this.deps.clock.monotonicMs() + waitMs
    for (;;) {
      const answer = this.pillAnswer(op.target.name, op.incarnation)
      if (answer !== null) return { outcome: 'ok', detail: `poison pill for incarnation ${op.incarnation}: ${answer}` }
      const leftMs = endMs - this.deps.clock.monotonicMs()
      if (leftMs <= 0) break
      await this.deps.platform.timers.sleep(Math.min(leftMs, this.deps.config.timing.diskIntervalMs))
    }
    // SBD's rule: a target whose daemon is frozen or gone never reads the pill; only a
    // hardware watchdog, whose timeout is below selfFenceAfterMs, has reset it by now.
    if (this.deps.config.watchdog.device !== null) return { outcome: 'ok', detail: `poison pill for incarnation ${op.incarnation} on the disk for the message wait (${waitMs} ms), backed by the hardware watchdog` }
    return { outcome: 'failed', detail: `no answer to the poison pill for incarnation ${op.incarnation} within ${waitMs} ms (${op.target.name} neither wrote "down" nor restarted), and no hardware watchdog backs a pill: a daemon that is frozen or gone may have left resources running` }
  }

  /** The target's answer to a pill, as this node's membership sees it: "down" written, or restarted. */
  private pillAnswer(name: string, incarnation: number): string | null {
    const seen = this.deps.peerView(name)
    if (seen === null || seen.incarnation === null) return null
    if (seen.state === 'left' && seen.incarnation >= incarnation) return `${name} stopped everything and wrote "down"`
    if (seen.incarnation > incarnation) return `${name} restarted as incarnation ${seen.incarnation} (its start-up clean-up stopped the old resources)`
    return null
  }

  /** The target restarted: its pill would stop nobody, and must not stop a later incarnation. */
  private async takeBackPill(to: number): Promise<void> {
    this.outbox = withoutPill(this.outbox, to)
    await this.publish()
  }

  /** Operations of the previous incarnation were removed with it; records and pills stay. */
  recreate(): void {
    this.operations.splice(0)
  }

  status(): FenceOpStatus[] {
    return this.operations.map((op) => {
      const c = (this.deps.host.view(op.id)?.context ?? {}) as Partial<FencingContext>
      return {
        id: op.id, target: op.target.name, state: this.state(op), requestedBy: c.requestedBy ?? '', reason: c.reason ?? '',
        lastError: c.lastError ?? null, attempts: c.attempts ?? [], proof: c.proof ?? null, cancelReason: c.cancelReason ?? null,
      }
    })
  }

  /** The outbox as written: stamped with this node's hybrid clock, so readers order after it. */
  private stamped(): Outbox {
    return this.deps.hlc === undefined ? this.outbox : { ...this.outbox, hlc: toPair(this.deps.hlc.tick()) }
  }
}
