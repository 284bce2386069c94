/**
 * The quorum disk (Kimberlite's raw1 primary + raw2 shadow): typed reads and writes of
 * blocks in both copies of the quorum area.
 *
 * - Writes are whole blocks, primary then shadow, each synced (O_DSYNC) before the next.
 *   The block bytes are identical in both copies (a block records its index within its copy).
 * - Reads of other nodes' blocks bypass the page cache (O_DIRECT) where the device allows
 *   it; `directIo` says whether it does.
 * - One writer per block: `writeStatus(nodeId, …)` writes only status block nodeId, with
 *   this process's own sequence counter, which continues from the highest sequence found in
 *   either copy of that block on its first write.
 * - Repair: a read that finds the primary unreadable and the shadow good rewrites the
 *   primary from the shadow only when asked with `repairAs` equal to the block's writer
 *   (a reader never writes another node's block). Besides, every writeStatus rewrites both
 *   copies, so a writer's next write repairs its own block in any case.
 * - Operations run one at a time (one O_DIRECT window; the daemon's cycle is serial anyway).
 * - A lease register's maxNodes ballot blocks are contiguous, and `readLeaseRegister` reads
 *   them like `readAllStatus` reads the status area: one read of the primary, one of the
 *   shadow only if a primary block failed (paxos-register.ts builds Disk Paxos on it).
 */
import { randomBytes } from 'node:crypto'
import { realClock, type Clock } from '../clock.js'
import { CarbError } from '../errors.js'
import { decodeBlock, encodeBlock, type BlockFields, type DecodeResult } from './block.js'
import { sizeBytes } from './device-size.js'
import { openBlockReader, type BlockReader } from './direct-io.js'
import { initDisk, type InitOptions } from './disk-init.js'
import { ioError, openDevice, readAt } from './handle.js'
import { findHeader, type FoundHeader } from './header-scan.js'
import { blockIndex, blockOffset, leaseSlot, requiredBytes, type BlockKind, type Copy, type Geometry } from './layout.js'
import { mergeCopies, type MergedRead } from './merge-copies.js'
import type { HeaderPayload, NodeStatus } from './payloads.js'

export type { InitOptions } from './disk-init.js'
export type { NodeStatus, HeaderPayload } from './payloads.js'

export interface OpenOptions {
  /** Refuse a disk that belongs to another cluster (CARB_ERR_DISK_FOREIGN_CLUSTER). */
  expectClusterName?: string
  clock?: Clock
}

export type StatusRead =
  | { nodeId: number; ok: true; seq: bigint; status: NodeStatus; source: 'primary' | 'shadow' }
  | { nodeId: number; ok: false; error: CarbError; empty?: boolean }

/** One node's block of an area (a lease register's ballot, a mailbox), as `readLeaseRegister` / `readMailboxArea` found it. */
export type LeaseBlockRead =
  | { nodeId: number; ok: true; seq: bigint; payload: unknown; source: 'primary' | 'shadow' }
  | { nodeId: number; ok: false; error: CarbError; empty?: boolean }

export interface WriteResult { seq: bigint; primaryOk: boolean; shadowOk: boolean; errors: CarbError[] }

export interface ReadOptions {
  /** Only this node may have written the block (CARB_ERR_DISK_WRONG_WRITER otherwise). */
  writer?: number
  /** The caller's node id: repair the primary from the shadow if the caller wrote the block. */
  repairAs?: number
}

export interface ScratchResult {
  ok: boolean; writeMs: number; readMs: number; seq: bigint
  primaryOk: boolean; shadowOk: boolean; directIo: boolean; errors: CarbError[]
}

const COPIES: readonly Copy[] = [0, 1]
const COPY_NAMES = ['primary', 'shadow'] as const

export class QuorumDisk {
  readonly header: HeaderPayload
  readonly geometry: Geometry
  readonly clusterUuid: Buffer
  /** Which copy the header was read from at open. */
  readonly headerSource: 'primary' | 'shadow'
  private readonly seqs = new Map<string, bigint>()
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  private constructor(
    readonly path: string,
    /** Closing it closes the device. */
    private readonly reader: BlockReader,
    found: FoundHeader,
    private readonly clock: Clock,
  ) {
    this.header = found.header
    this.geometry = found.geometry
    this.clusterUuid = found.clusterUuid
    this.headerSource = found.source
  }

  /** Whether reads bypass the page cache (O_DIRECT). */
  get directIo(): boolean { return this.reader.directIo }

  static init(path: string, options: InitOptions): Promise<HeaderPayload> {
    return initDisk(path, options)
  }

  static async open(path: string, options: OpenOptions = {}): Promise<QuorumDisk> {
    const handle = await openDevice(path, false)
    try {
      const { sizeBytes: haveBytes, isBlockDevice } = await sizeBytes(handle)
      const found = await QuorumDisk.readHeader(path, (position, length) => readAt(handle, position, length, path), haveBytes, options.expectClusterName)
      const direct = await openBlockReader(path, handle, found.geometry.maxNodes * found.geometry.blockSize, isBlockDevice)
      if (isBlockDevice && !direct.directIo) {
        await direct.close()
        throw new CarbError('CARB_ERR_DISK_OPEN', `the block device refuses O_DIRECT I/O of ${found.geometry.blockSize}-byte blocks (a 4Kn device needs \`disk init --block-size 4096\`): cached writes would rewrite neighbouring nodes' blocks from a stale cache`, path)
      }
      const reader: BlockReader = {
        directIo: direct.directIo,
        read: (position, length) => direct.read(position, length),
        write: (position, data) => direct.write(position, data),
        close: async () => { await direct.close(); await handle.close() },
      }
      return new QuorumDisk(path, reader, found, options.clock ?? realClock)
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  /**
   * Opens the quorum area on a device the caller provides (the simulator's in-memory disk):
   * the same header checks, block codec, copies and repair rules as a real device.
   */
  static async openOn(path: string, device: BlockReader, deviceBytes: number, options: OpenOptions = {}): Promise<QuorumDisk> {
    const found = await QuorumDisk.readHeader(path, (position, length) => device.read(position, length), deviceBytes, options.expectClusterName)
    return new QuorumDisk(path, device, found, options.clock ?? realClock)
  }

  private static async readHeader(path: string, read: (position: number, length: number) => Promise<Buffer>, haveBytes: number, expectClusterName: string | undefined): Promise<FoundHeader> {
    const found = await findHeader(read, haveBytes, path)
    if ('error' in found) throw found.error
    const name = found.header.clusterName
    if (expectClusterName !== undefined && name !== expectClusterName) {
      throw new CarbError('CARB_ERR_DISK_FOREIGN_CLUSTER', `quorum disk belongs to cluster "${name}", not "${expectClusterName}"`, path)
    }
    const needBytes = requiredBytes(found.geometry)
    if (haveBytes < needBytes) throw new CarbError('CARB_ERR_DISK_SHORT', `${haveBytes} bytes, but its header's geometry needs ${needBytes}`, path)
    return found
  }

  /** Run disk operations one at a time, in call order. */
  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new CarbError('CARB_ERR_DISK_IO', 'quorum disk is closed', this.path)
      return operation()
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  private where(kind: BlockKind, slot: number, copy?: Copy): string {
    const name = kind === 'status' || kind === 'mailbox' || kind === 'scratch' ? `${kind} block of node ${slot}` : `${kind} block ${slot}`
    return `${this.path}: ${name}${copy === undefined ? '' : ` (${COPY_NAMES[copy]})`}`
  }

  private decode(buf: Buffer, kind: BlockKind, slot: number, copy: Copy, writer: number | undefined): DecodeResult {
    const { blockSize } = this.geometry
    const index = blockIndex(this.geometry, kind, slot)
    return decodeBlock(buf, { blockSize, kind, clusterUuid: this.clusterUuid, index, where: this.where(kind, slot, copy), ...(writer === undefined ? {} : { writer }) })
  }

  /** One copy of one block, read around the page cache where possible; I/O errors become failures. */
  private async readCopy(kind: BlockKind, slot: number, copy: Copy, writer?: number): Promise<{ result: DecodeResult; raw?: Buffer }> {
    try {
      const raw = await this.reader.read(blockOffset(this.geometry, copy, kind, slot), this.geometry.blockSize)
      return { result: this.decode(raw, kind, slot, copy, writer), raw }
    } catch (error) {
      return { result: { ok: false, error: ioError(error, this.where(kind, slot, copy)) } }
    }
  }

  private async readBothCopies(kind: BlockKind, slot: number, options: ReadOptions): Promise<MergedRead> {
    const primary = await this.readCopy(kind, slot, 0, options.writer)
    if (primary.result.ok) return mergeCopies(primary.result, primary.result, this.where(kind, slot))
    const shadow = await this.readCopy(kind, slot, 1, options.writer)
    const merged = mergeCopies(primary.result, shadow.result, this.where(kind, slot))
    if (merged.ok && shadow.raw !== undefined && options.repairAs !== undefined && options.repairAs === merged.block.writer) {
      await this.writeRaw(shadow.raw, blockOffset(this.geometry, 0, kind, slot), this.where(kind, slot, 0)).catch(() => undefined)
    }
    return merged
  }

  /** One whole block, through the direct (uncached) path where there is one; a short write is a torn block. */
  private async writeRaw(block: Buffer, position: number, where: string): Promise<void> {
    let written: number
    try {
      written = await this.reader.write(position, block)
    } catch (error) {
      throw ioError(error, where)
    }
    if (written !== block.length) throw new CarbError('CARB_ERR_DISK_IO', `short write: ${written} of ${block.length} bytes at byte ${position}`, where)
  }

  /** The next sequence for a block this process writes: after the highest in either copy, the first time. */
  private async nextSeq(kind: BlockKind, slot: number): Promise<bigint> {
    const key = `${kind}:${slot}`
    let last = this.seqs.get(key)
    if (last === undefined) {
      last = 0n
      for (const copy of COPIES) {
        const { result } = await this.readCopy(kind, slot, copy)
        if (result.ok && result.block.seq > last) last = result.block.seq
      }
    }
    this.seqs.set(key, last + 1n)
    return last + 1n
  }

  private async writeUnqueued(kind: BlockKind, slot: number, writer: number, payload: unknown): Promise<WriteResult> {
    if (!Number.isInteger(writer) || writer < 0 || writer > 0xffff) throw new CarbError('CARB_ERR_USAGE', `writer node id must be 0..65535, got ${writer}`, this.where(kind, slot))
    const seq = await this.nextSeq(kind, slot)
    const { blockSize } = this.geometry
    const index = blockIndex(this.geometry, kind, slot)
    const block = encodeBlock({ blockSize, kind, clusterUuid: this.clusterUuid, writer, index, seq, payload })
    const okByCopy: boolean[] = []
    const errors: CarbError[] = []
    for (const copy of COPIES) {
      try {
        await this.writeRaw(block, blockOffset(this.geometry, copy, kind, slot), this.where(kind, slot, copy))
        okByCopy.push(true)
      } catch (error) {
        errors.push(ioError(error, this.where(kind, slot, copy)))
        okByCopy.push(false)
      }
    }
    return { seq, primaryOk: okByCopy[0] === true, shadowOk: okByCopy[1] === true, errors }
  }

  /** Generic write of one block to both copies (mailbox, lease, config). */
  async writeBlock(kind: BlockKind, slot: number, writer: number, payload: unknown): Promise<WriteResult> {
    if (kind === 'header') throw new CarbError('CARB_ERR_USAGE', 'the header is written only by disk init', this.path)
    return this.serial(() => this.writeUnqueued(kind, slot, writer, payload))
  }

  /** Generic read of one block: primary, else shadow. */
  readBlock(kind: BlockKind, slot: number, options: ReadOptions = {}): Promise<MergedRead> {
    return this.serial(() => this.readBothCopies(kind, slot, options))
  }

  /** Write node `nodeId`'s own status block (both copies). `status.nodeId` must be `nodeId`. */
  async writeStatus(nodeId: number, status: NodeStatus): Promise<WriteResult> {
    if (status.nodeId !== nodeId) throw new CarbError('CARB_ERR_USAGE', `node ${nodeId} may write only its own status, got status of node ${status.nodeId}`, this.where('status', nodeId))
    blockIndex(this.geometry, 'status', nodeId)
    return this.serial(() => this.writeUnqueued('status', nodeId, nodeId, status))
  }

  async readStatus(nodeId: number, options: { repairAs?: number } = {}): Promise<StatusRead> {
    const merged = await this.readBlock('status', nodeId, { writer: nodeId, ...options })
    return statusRead(nodeId, merged)
  }

  /** Every status slot 1..maxNodes: one read of the primary status area, one of the shadow's only if needed. */
  readAllStatus(): Promise<StatusRead[]> {
    return this.serial(async () => {
      const primary = await this.readStatusArea(0)
      const needShadow = primary.some((r) => !r.ok)
      const shadow = needShadow ? await this.readStatusArea(1) : primary
      return primary.map((p, i) => statusRead(i + 1, mergeCopies(p, shadow[i] ?? p, this.where('status', i + 1))))
    })
  }

  private readStatusArea(copy: Copy): Promise<DecodeResult[]> {
    return this.readArea(copy, 'status', 1, 'status area')
  }

  /**
   * The maxNodes ballot blocks of one lease register (slots leaseSlot(register, 1..maxNodes),
   * contiguous), each checked to be written by its own node: one read of the primary, one of
   * the shadow only if needed. Entry i is node i + 1's block.
   */
  readLeaseRegister(register: number): Promise<LeaseBlockRead[]> {
    return this.serial(async () => {
      const firstSlot = leaseSlot(this.geometry, register, 1)
      const area = `lease register ${register}`
      const primary = await this.readArea(0, 'lease', firstSlot, area)
      const shadow = primary.some((r) => !r.ok) ? await this.readArea(1, 'lease', firstSlot, area) : primary
      return primary.map((p, i) => leaseBlockRead(i + 1, mergeCopies(p, shadow[i] ?? p, `${this.path}: ${area}, ballot block of node ${i + 1}`)))
    })
  }

  /**
   * Every mailbox block 1..maxNodes (each written only by its node: the messages that node
   * sends, disk/mailbox.ts), read like the status area: one read of the primary, one of the
   * shadow only if a primary block failed. Entry i is node i + 1's block.
   */
  readMailboxArea(): Promise<LeaseBlockRead[]> {
    return this.serial(async () => {
      const primary = await this.readArea(0, 'mailbox', 1, 'mailbox area')
      const shadow = primary.some((r) => !r.ok) ? await this.readArea(1, 'mailbox', 1, 'mailbox area') : primary
      return primary.map((p, i) => leaseBlockRead(i + 1, mergeCopies(p, shadow[i] ?? p, this.where('mailbox', i + 1))))
    })
  }

  /** maxNodes consecutive blocks of `kind` from `firstSlot` in one read; block i must be written by node i + 1. */
  private async readArea(copy: Copy, kind: BlockKind, firstSlot: number, name: string): Promise<DecodeResult[]> {
    const { blockSize, maxNodes } = this.geometry
    let area: Buffer | undefined
    let failure: CarbError | undefined
    try {
      area = await this.reader.read(blockOffset(this.geometry, copy, kind, firstSlot), maxNodes * blockSize)
    } catch (error) {
      failure = ioError(error, `${this.path}: ${name} (${COPY_NAMES[copy]})`)
    }
    const results: DecodeResult[] = []
    for (let nodeId = 1; nodeId <= maxNodes; nodeId++) {
      const slot = firstSlot + nodeId - 1
      if (area === undefined) results.push({ ok: false, error: failure ?? new CarbError('CARB_ERR_DISK_IO', 'no data', this.path) })
      else results.push(this.decode(area.subarray((nodeId - 1) * blockSize, nodeId * blockSize), kind, slot, copy, nodeId))
    }
    return results
  }

  /** `disk test`: write a random scratch block to both copies, read both back, compare. */
  testScratch(nodeId: number): Promise<ScratchResult> {
    return this.serial(async () => {
      const nonce = randomBytes(16).toString('hex')
      const writeStartMs = this.clock.monotonicMs()
      const write = await this.writeUnqueued('scratch', nodeId, nodeId, { nodeId, nonce })
      const readStartMs = this.clock.monotonicMs()
      const copies = [await this.readCopy('scratch', nodeId, 0, nodeId), await this.readCopy('scratch', nodeId, 1, nodeId)]
      const readMs = this.clock.monotonicMs() - readStartMs
      const errors = [...write.errors]
      const matches = copies.map(({ result }, copy) => {
        if (!result.ok) { errors.push(result.error); return false }
        const same = result.block.seq === write.seq && (result.block.payload as { nonce?: unknown }).nonce === nonce
        if (!same) errors.push(new CarbError('CARB_ERR_DISK_IO', 'read back differs from what was written', this.where('scratch', nodeId, copy as Copy)))
        return same
      })
      const primaryOk = write.primaryOk && matches[0] === true
      const shadowOk = write.shadowOk && matches[1] === true
      return { ok: primaryOk && shadowOk, writeMs: readStartMs - writeStartMs, readMs, seq: write.seq, primaryOk, shadowOk, directIo: this.directIo, errors }
    })
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      this.closed = true
      await this.reader.close()
    }).catch(() => undefined)
  }
}

function statusRead(nodeId: number, merged: MergedRead): StatusRead {
  if (!merged.ok) return { nodeId, ok: false, error: merged.error, ...(merged.empty === true ? { empty: true } : {}) }
  return { nodeId, ok: true, seq: merged.block.seq, status: merged.block.payload as NodeStatus, source: merged.source }
}

function leaseBlockRead(nodeId: number, merged: MergedRead): LeaseBlockRead {
  if (!merged.ok) return { nodeId, ok: false, error: merged.error, ...(merged.empty === true ? { empty: true } : {}) }
  return { nodeId, ok: true, seq: merged.block.seq, payload: merged.block.payload, source: merged.source }
}

export type { BlockFields, MergedRead }
