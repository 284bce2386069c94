/**
 * A simulated cluster: N machines running the real NodeRuntime (membership, service and
 * fencing machines, their shells, the quorum-disk code, the heartbeat service, the journal)
 * on one World, with a simulated disk, network, resources and power switch. Everything
 * random comes from the seed, split into one stream per part so that a fault added to one
 * part does not reshuffle the others.
 *
 * The cluster file is real YAML read by the real parser; the quorum disk is laid out by the
 * real `disk init` code and the services are written by the real configuration store.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, type ClusterConfig } from '../../src/config/load.js'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { copyBlocks, geometryWithDefaults } from '../../src/disk/layout.js'
import { proposeConfig } from '../../src/config/config-store.js'
import { addService } from '../../src/config/service-edit.js'
import { EMPTY_SERVICES, type ServicesDoc } from '../../src/config/services.js'
import type { Timing } from '../../src/config/timing.js'
import { seeded } from '../helpers/random.js'
import { SimDisk } from './disk.js'
import { SimMachine } from './machine.js'
import { SimNetwork } from './network.js'
import { SimPowerSwitch, SimResources } from './resources.js'
import { World, type SimProcess } from './world.js'

export type Protection = 'power' | 'watchdog' | 'pill' | 'none'

export interface SimService {
  name: string
  domain: string[]
  failback: boolean
  /** Resources of the service, started in order. */
  resources: number
  policy?: 'restart-then-relocate' | 'relocate' | 'disable'
}

export interface SimOptions {
  seed: number
  nodes: string[]
  services: SimService[]
  timing: Partial<Timing>
  /** power: a power fence and a poison pill; watchdog: a watchdog and a poison pill; pill: a pill only; none: no fence method. */
  protection: Protection
  /** Each machine's clock rate (1 = exact); missing ones run at 1. */
  rates?: number[]
  /** Each machine's wall clock ahead (+) or behind (-) the others, in ms; missing ones: 0. */
  wallOffsetsMs?: number[]
  failbackStableMs?: number
  monitorIntervalMs?: number
}

export interface LogLine { atMs: number; machine: string; level: string; message: string; fields: Record<string, unknown> }

/** The quorum area of every simulation: 16 nodes and 16 services fit, 512-byte blocks. */
export const GEOMETRY = { blockSize: 512 as const, maxNodes: 16, maxServices: 16, configBlocks: 8 }
const HEARTBEAT_PORTS = [5405, 5406]
/** How long a machine cut by the power switch stays off. */
const FENCED_OFF_MS = 5000
let diskTemplate: Promise<Buffer> | undefined

/** A freshly initialized quorum disk image (made once per process by the real `disk init`). */
function freshDiskImage(): Promise<Buffer> {
  diskTemplate ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'carbonado-sim-'))
    try {
      const path = join(dir, 'quorum.disk')
      await QuorumDisk.init(path, { clusterName: 'sim', geometry: GEOMETRY })
      return await readFile(path)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })()
  return diskTemplate.then((b) => Buffer.from(b))
}

export function clusterYaml(options: SimOptions): string {
  const timing = Object.entries(options.timing).map(([k, v]) => `${k}: ${v}`).join(', ')
  const nodes = options.nodes.map((name, i) => {
    const ip = `10.99.0.${i + 1}`
    const fence = options.protection === 'power'
      ? `\n    fence: [{ method: agent, agent: /sim/fence_switch, port: ${name}, timeoutMs: 5000 }, { method: poison-pill }]`
      : options.protection === 'watchdog' || options.protection === 'pill' ? '\n    fence: [{ method: poison-pill }]' : ''
    return `  - name: ${name}\n    id: ${i + 1}\n    heartbeat: [${HEARTBEAT_PORTS.map((p) => `"${ip}:${p}"`).join(', ')}]${fence}`
  })
  return [
    'cluster: sim',
    'disk: /sim/quorum.disk',
    'authKeyFile: /sim/authkey',
    'journalDir: /sim/journal/{node}',
    'controlSocket: /sim/{node}.sock',
    `timing: { ${timing} }`,
    'fencing: { retryBaseMs: 1000, retryMaxMs: 8000, roundsMax: 50 }',
    ...(options.protection === 'watchdog' ? ['watchdog: { device: /dev/watchdog }'] : []),
    'nodes:',
    ...nodes,
  ].join('\n')
}

export class Simulation {
  readonly world = new World()
  readonly log: LogLine[] = []
  readonly config: ClusterConfig
  readonly machines = new Map<string, SimMachine>()
  readonly disk: SimDisk
  readonly network: SimNetwork
  readonly resources: SimResources
  readonly powerSwitch: SimPowerSwitch
  /** Lines the scenario or fault plan adds (what was done to the cluster, when). */
  readonly actions: { atMs: number; text: string }[] = []
  private constructor(readonly options: SimOptions, image: Buffer) {
    const stream = (n: number): (() => number) => seeded((options.seed * 2654435761 + n * 40503) >>> 0)
    this.config = parseConfig(clusterYaml(options), '/sim/cluster.yaml')
    this.disk = new SimDisk(image, this.world, stream(1), { minMs: 0.2, maxMs: 4, slowRate: 0.01, slowMs: 40 })
    const copyBytes = copyBlocks(geometryWithDefaults(GEOMETRY)) * GEOMETRY.blockSize
    this.disk.mayTear = (position) => {
      const other = position < copyBytes ? position + copyBytes : position - copyBytes
      return image.subarray(other, other + GEOMETRY.blockSize).some((b) => b !== 0)
    }
    this.network = new SimNetwork(this.world, stream(2))
    this.resources = new SimResources(this.world, stream(3))
    // Without a power fence or a watchdog, a resource must stop within selfFenceStopMs or it may
    // outlive its node's deadline (README "Limits of this release"): the simulated resources of
    // such a cluster stop within a quarter of it, two resources in a row within half.
    if (options.protection === 'none' || options.protection === 'pill') this.resources.stopMaxMs = Math.min(300, Math.floor(this.config.timing.selfFenceStopMs / 4))
    // A machine the switch cut is powered on again a little later, as a fence agent's reboot
    // action (Pacemaker's default) or an administrator would: it rejoins as a new incarnation.
    this.powerSwitch = new SimPowerSwitch(this.world, stream(4), (name) => {
      const m = this.machine(name)
      m.powerOff()
      this.world.after(FENCED_OFF_MS, null, () => m.powerOn())
    })
    const parts = {
      world: this.world, config: this.config, disk: this.disk, network: this.network, resources: this.resources, powerSwitch: this.powerSwitch,
      key: Buffer.alloc(32, 7), restartDelayMs: 2000, bootDelayMs: 3000,
      log: (machine: string, level: string, message: string, fields: Record<string, unknown>) => this.log.push({ atMs: this.world.nowMs, machine, level, message, fields }),
    }
    options.nodes.forEach((name, i) => this.machines.set(name, new SimMachine(name, i + 1, options.rates?.[i] ?? 1, parts, options.seed, options.wallOffsetsMs?.[i] ?? 0)))
  }

  static async create(options: SimOptions): Promise<Simulation> {
    const sim = new Simulation(options, await freshDiskImage())
    await sim.writeServices()
    return sim
  }

  machine(name: string): SimMachine {
    const m = this.machines.get(name)
    if (m === undefined) throw new Error(`no machine "${name}" (machines: ${[...this.machines.keys()].join(', ')})`)
    return m
  }

  act(text: string): void {
    this.actions.push({ atMs: this.world.nowMs, text })
  }

  /** The services document every simulation starts with, written through the real configuration store. */
  servicesDoc(): ServicesDoc {
    const ctx = { where: 'simulation', nodeNames: this.options.nodes, maxServices: GEOMETRY.maxServices }
    const monitorIntervalMs = this.options.monitorIntervalMs ?? 2000
    let doc: ServicesDoc = EMPTY_SERVICES
    for (const s of this.options.services) {
      doc = addService(doc, {
        name: s.name, domain: s.domain, failback: s.failback, failbackStableMs: this.options.failbackStableMs ?? 5000,
        recovery: { policy: s.policy ?? 'restart-then-relocate', maxRestarts: 2, windowMs: 60_000 },
        resources: Array.from({ length: s.resources }, (_, i) => ({ type: 'script', name: `r${i}`, path: `/sim/agents/${s.name}-r${i}`, monitorIntervalMs, startTimeoutMs: 3000, stopTimeoutMs: 3000, monitorTimeoutMs: 1500 })),
      }, ctx)
    }
    return doc
  }

  private async writeServices(): Promise<void> {
    if (this.options.services.length === 0) return
    const admin: SimProcess = { name: 'admin', alive: true, paused: false, held: [] }
    const disk = await this.settle(QuorumDisk.openOn('/sim/quorum.disk', this.disk.open('admin', admin), this.disk.bytes.length))
    const random = seeded(this.options.seed)
    await this.settle(proposeConfig(disk, 1, 0, this.servicesDoc(), this.options.nodes, { random, sleepMs: (ms) => new Promise((r) => { this.world.after(ms, admin, r) }) }))
    admin.alive = false
  }

  /** Runs the world until `promise` settles (at most `limitMs` of virtual time). */
  async settle<T>(promise: Promise<T>, limitMs = 600_000): Promise<T> {
    let done = false
    const watched = promise.finally(() => { done = true })
    watched.catch(() => undefined)
    const end = this.world.nowMs + limitMs
    while (!done && this.world.nowMs < end) await this.world.runUntil(this.world.nowMs + 10)
    if (!done) throw new Error(`did not settle within ${limitMs} ms of virtual time`)
    return watched
  }

  startAll(): void {
    for (const m of this.machines.values()) m.startDaemon()
  }

  async run(ms: number): Promise<void> {
    await this.world.runUntil(this.world.nowMs + ms)
  }

  /** Machines on which the service may run (the ground truth of the simulated resources). */
  holders(service: string): string[] {
    return this.resources.holders(service)
  }

  /** Machines on which every resource of the service runs. */
  runningOn(service: string): string[] {
    const def = this.options.services.find((s) => s.name === service)
    if (def === undefined) throw new Error(`no service "${service}"`)
    return this.resources.runningOn(service, Array.from({ length: def.resources }, (_, i) => `r${i}`))
  }
}
