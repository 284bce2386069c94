/**
 * The simulated shared disk: one byte array (the LUN) seen by every machine through its own
 * path. A path adds a latency to every operation, serves them in order, and can stall (every
 * operation waits for the stall's end) or fail (EIO) for a window, as a SAN path does.
 * Bytes change when a write completes; a write in flight when its machine loses power reaches
 * the medium whole or not at all. `corrupt` flips a byte of one block copy (bit rot).
 *
 * The real QuorumDisk runs on top (QuorumDisk.openOn): header checks, block codec, both
 * copies, repair, disk-Paxos: only the medium is simulated.
 */
import type { BlockReader } from '../../src/disk/direct-io.js'
import { toProcess, type World, type SimProcess } from './world.js'

export interface PathFaults {
  /** Every operation issued before this waits until it (a stalled path). */
  stallUntilMs: number
  /** Operations completing before this fail with EIO. */
  failUntilMs: number
  /** Extra probability that one operation fails with EIO. */
  errorRate: number
}

export interface DiskLatency { minMs: number; maxMs: number; slowRate: number; slowMs: number }

export class SimDisk {
  readonly paths = new Map<string, PathFaults>()
  /** Writes cut by a power loss, and blocks corrupted: for the transcript. */
  readonly damage: string[] = []
  /** Whether a write at this byte may be torn by a power loss (set by the simulation, which knows the layout). */
  mayTear: (position: number) => boolean = () => false

  constructor(readonly bytes: Buffer, private readonly world: World, private readonly random: () => number, readonly latency: DiskLatency) {}

  faultsOf(machine: string): PathFaults {
    let faults = this.paths.get(machine)
    if (faults === undefined) {
      faults = { stallUntilMs: 0, failUntilMs: 0, errorRate: 0 }
      this.paths.set(machine, faults)
    }
    return faults
  }

  /** Flips one byte in the middle of block copy `offset` (a block-sized region). */
  corrupt(offset: number, blockSize: number, why: string): void {
    const at = offset + Math.floor(blockSize / 2)
    this.bytes[at] = (this.bytes[at] ?? 0) ^ 0xff
    this.damage.push(`${Math.round(this.world.nowMs)} corrupt byte ${at} (${why})`)
  }

  /** The path of `machine`, owned by its daemon `process`. */
  open(machine: string, process: SimProcess): SimDiskPath {
    return new SimDiskPath(this, machine, process, this.world, this.random)
  }
}

interface InFlightWrite { position: number; data: Buffer; lost: boolean }

export class SimDiskPath implements BlockReader {
  readonly directIo = true
  private busyUntilMs = 0
  private readonly inFlight = new Set<InFlightWrite>()

  constructor(private readonly disk: SimDisk, readonly machine: string, private readonly process: SimProcess, private readonly world: World, private readonly random: () => number) {}

  /** When an operation issued now completes: after the path's queue, any stall, and its latency. */
  private completionMs(): number {
    const { latency } = this.disk
    const faults = this.disk.faultsOf(this.machine)
    const start = Math.max(this.world.nowMs, this.busyUntilMs, faults.stallUntilMs)
    let took = latency.minMs + this.random() * (latency.maxMs - latency.minMs)
    if (this.random() < latency.slowRate) took += latency.slowMs
    this.busyUntilMs = start + took
    return this.busyUntilMs
  }

  private failsAt(atMs: number): boolean {
    const faults = this.disk.faultsOf(this.machine)
    return atMs < faults.failUntilMs || this.random() < faults.errorRate
  }

  /**
   * The medium acts at completion as the world (a stopped or killed daemon's I/O still
   * completes in the kernel); the result reaches the daemon as its own event.
   */
  read(position: number, length: number): Promise<Buffer> {
    const doneMs = this.completionMs()
    return new Promise((resolve, reject) => {
      this.world.at(doneMs, null, () => {
        const failed = this.failsAt(doneMs)
        const bytes = Buffer.from(this.disk.bytes.subarray(position, Math.min(position + length, this.disk.bytes.length)))
        toProcess(this.world, this.process, () => (failed ? reject(eio(this.machine, 'read', position)) : resolve(bytes)))
      })
    })
  }

  write(position: number, data: Buffer): Promise<number> {
    const doneMs = this.completionMs()
    const write: InFlightWrite = { position, data: Buffer.from(data), lost: false }
    this.inFlight.add(write)
    return new Promise((resolve, reject) => {
      this.world.at(doneMs, null, () => {
        if (write.lost) return
        this.inFlight.delete(write)
        const failed = this.failsAt(doneMs)
        if (!failed) write.data.copy(this.disk.bytes, position)
        toProcess(this.world, this.process, () => (failed ? reject(eio(this.machine, 'write', position)) : resolve(data.length)))
      })
    })
  }

  /**
   * Power lost: each write in flight is lost, reaches the medium whole, or is torn (a prefix:
   * its CRC then fails). A torn write is made only where `mayTear` allows it: a block whose
   * other copy holds a written block, so the block stays readable (a one-sector block write
   * is atomic on real disks; the torn case stands for a device that is not).
   */
  powerLoss(): void {
    for (const write of this.inFlight) {
      write.lost = true
      if (this.random() < 0.5) continue
      const torn = this.disk.mayTear(write.position) && this.random() < 0.5
      const bytes = torn ? 1 + Math.floor(this.random() * (write.data.length - 1)) : write.data.length
      write.data.copy(this.disk.bytes, write.position, 0, bytes)
      this.disk.damage.push(`${Math.round(this.world.nowMs)} write by ${this.machine} at byte ${write.position} ${torn ? `torn after ${bytes} bytes` : 'reached the disk whole'} as the power went`)
    }
    this.inFlight.clear()
  }

  async close(): Promise<void> {}
}

function eio(machine: string, op: string, position: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: simulated I/O error on ${machine}'s path (${op} at byte ${position})`), { code: 'EIO' })
}
