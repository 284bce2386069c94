/**
 * The simulated heartbeat network: each node's channel is an endpoint `ip:port`; a datagram
 * is lost, delayed, duplicated or blocked by a partition (one-way blocks make asymmetric
 * partitions) according to the current faults. The real Heartbeats service runs on top
 * (HMAC, replay guard, address checks): only the wire is simulated.
 */
import { Subject } from 'rxjs'
import type { Datagram, DatagramChannel } from '../../src/net/heartbeat-channel.js'
import { CarbError } from '../../src/errors.js'
import type { SimProcess, World } from './world.js'

export interface NetFaults {
  lossRate: number
  duplicateRate: number
  delayMinMs: number
  delayMaxMs: number
  /** "from>to" machine pairs whose datagrams are dropped. */
  blocked: Set<string>
}

export class SimNetwork {
  readonly faults: NetFaults = { lossRate: 0, duplicateRate: 0, delayMinMs: 0.1, delayMaxMs: 2, blocked: new Set() }
  private readonly endpoints = new Map<string, SimChannel>()
  delivered = 0
  dropped = 0

  constructor(private readonly world: World, private readonly random: () => number) {}

  /** Blocks every datagram between the groups (both ways); machines in no group keep their links. */
  partition(groups: string[][]): void {
    for (const a of groups) for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.faults.blocked.add(`${x}>${y}`)
  }

  heal(): void { this.faults.blocked.clear() }

  bind(machine: string, process: SimProcess, index: number, ip: string, port: number): SimChannel {
    const key = `${ip}:${port}`
    const existing = this.endpoints.get(key)
    if (existing !== undefined && existing.process.alive) throw new CarbError('CARB_ERR_NET_BIND', `cannot bind heartbeat channel ${index} (EADDRINUSE)`, key)
    const channel = new SimChannel(this, machine, process, index, ip, port)
    this.endpoints.set(key, channel)
    return channel
  }

  transmit(from: SimChannel, msg: Buffer, ip: string, port: number): void {
    const to = this.endpoints.get(`${ip}:${port}`)
    const { faults } = this
    if (to === undefined || !to.process.alive || to.closed || faults.blocked.has(`${from.machine}>${to.machine}`) || this.random() < faults.lossRate) {
      this.dropped++
      return
    }
    const copies = this.random() < faults.duplicateRate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const delayMs = faults.delayMinMs + this.random() * (faults.delayMaxMs - faults.delayMinMs)
      const datagram: Datagram = { msg: Buffer.from(msg), ip: from.local.ip, port: from.local.port, from: `${from.local.ip}:${from.local.port}` }
      this.world.after(delayMs, to.process, () => { if (!to.closed) { this.delivered++; to.subject.next(datagram) } })
    }
  }
}

export class SimChannel implements DatagramChannel {
  readonly subject = new Subject<Datagram>()
  readonly datagrams$ = this.subject.asObservable()
  readonly local: { ip: string; port: number; family: 4 }
  closed = false

  constructor(private readonly network: SimNetwork, readonly machine: string, readonly process: SimProcess, readonly index: number, ip: string, port: number) {
    this.local = { ip, port, family: 4 }
  }

  async send(msg: Buffer, ip: string, port: number): Promise<void> {
    if (this.closed) throw new Error('socket closed')
    this.network.transmit(this, msg, ip, port)
  }

  async close(): Promise<void> {
    this.closed = true
    this.subject.complete()
  }
}
