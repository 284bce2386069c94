/**
 * Reads and writes that bypass the page cache. On real shared storage another node's writes
 * never pass through our page cache, so a cached read could return a stale copy of its status
 * block. Writes matter as much: a buffered write of one 512-byte block into a block device
 * whose cache works in 4096-byte blocks rewrites the whole 4096 bytes from this node's cached
 * copy, putting back stale versions of up to seven *other* nodes' blocks (one writer per block
 * would not hold). So writes go through the same O_DIRECT (and O_DSYNC) descriptor, from the
 * same aligned window, and a block device that refuses them is refused at open.
 * O_DIRECT needs the memory address, the file offset and the length aligned (to the device's
 * logical block size, or the page size on some paths); offsets and lengths are multiples of
 * the block size already, but Node cannot ask for aligned memory. We try, in order:
 *  1. the memory of a WebAssembly.Memory, which V8 maps page-aligned;
 *  2. a slack buffer of window + 4 KiB from Buffer.allocUnsafeSlow, at the first offset
 *     where an O_DIRECT pread is accepted (found by trial, step 8 bytes);
 * each probed with a read of the whole window, since some kernels accept a misaligned buffer
 * for a read that stays within one page and refuse a longer one. Should a later direct read
 * still fail with EINVAL, the reader switches to ordinary reads for good.
 *
 * Where O_DIRECT is impossible (tmpfs, a 4Kn device under 512-byte blocks, non-Linux) the
 * reader falls back to ordinary reads and says so in `directIo`.
 */
import { constants, promises as fs } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/** Alignment never needs more than a page; trying every 8 bytes finds any malloc alignment. */
const ALIGN_SLACK_BYTES = 4096
const ALIGN_PROBE_STEP_BYTES = 8

export interface BlockReader {
  readonly directIo: boolean
  /** Reads `length` bytes at `position` into a fresh Buffer; fewer bytes at the end of the device. */
  read(position: number, length: number): Promise<Buffer>
  /** Writes `data` at `position`, synced (O_DSYNC); returns the bytes written. */
  write(position: number, data: Buffer): Promise<number>
  close(): Promise<void>
}

/** Ordinary reads and O_DSYNC writes through an already open handle (which the caller owns and closes). */
export function cachedReader(handle: FileHandle): BlockReader {
  return {
    directIo: false,
    async read(position, length) {
      const buf = Buffer.alloc(length)
      const { bytesRead } = await handle.read(buf, 0, length, position)
      return buf.subarray(0, bytesRead)
    },
    async write(position, data) {
      const { bytesWritten } = await handle.write(data, 0, data.length, position)
      return bytesWritten
    },
    close: async () => undefined,
  }
}

const WASM_PAGE_BYTES = 65536

async function accepts(handle: FileHandle, window: Buffer): Promise<'yes' | 'no' | 'never'> {
  try {
    await handle.read(window, 0, window.length, 0)
    return 'yes'
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EINVAL' ? 'no' : 'never'
  }
}

/** A window of `windowBytes` at which O_DIRECT reads of the whole window work, or undefined. */
async function findAlignedWindow(handle: FileHandle, windowBytes: number): Promise<Buffer | undefined> {
  const pages = Math.ceil(windowBytes / WASM_PAGE_BYTES)
  const pageAligned = Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, windowBytes)
  const first = await accepts(handle, pageAligned)
  if (first === 'yes') return pageAligned
  if (first === 'never') return undefined
  const slack = Buffer.allocUnsafeSlow(windowBytes + ALIGN_SLACK_BYTES)
  for (let offset = 0; offset < ALIGN_SLACK_BYTES; offset += ALIGN_PROBE_STEP_BYTES) {
    const window = slack.subarray(offset, offset + windowBytes)
    const verdict = await accepts(handle, window)
    if (verdict === 'yes') return window
    if (verdict === 'never') return undefined
  }
  return undefined
}

class DirectReader implements BlockReader {
  private broken = false

  /** `strict`: a block device, where falling back to cached writes would be unsafe. */
  constructor(private readonly handle: FileHandle, private readonly window: Buffer, private readonly fallback: BlockReader, private readonly strict: boolean) {}

  get directIo(): boolean { return !this.broken }

  async read(position: number, length: number): Promise<Buffer> {
    if (length > this.window.length) throw new RangeError(`direct read of ${length} bytes exceeds the ${this.window.length}-byte aligned window`)
    if (this.broken) return this.fallback.read(position, length)
    try {
      const { bytesRead } = await this.handle.read(this.window, 0, length, position)
      return Buffer.from(this.window.subarray(0, bytesRead))
    } catch (error) {
      this.fallBack(error)
      return this.fallback.read(position, length)
    }
  }

  async write(position: number, data: Buffer): Promise<number> {
    if (data.length > this.window.length) throw new RangeError(`direct write of ${data.length} bytes exceeds the ${this.window.length}-byte aligned window`)
    if (this.broken) return this.fallback.write(position, data)
    data.copy(this.window, 0)
    try {
      const { bytesWritten } = await this.handle.write(this.window, 0, data.length, position)
      return bytesWritten
    } catch (error) {
      this.fallBack(error)
      return this.fallback.write(position, data)
    }
  }

  /** EINVAL: this path refuses direct I/O after all; a file falls back to cached I/O for good, a block device never. */
  private fallBack(error: unknown): void {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL' || this.strict) throw error
    this.broken = true
  }

  close(): Promise<void> { return this.handle.close() }
}

/**
 * An O_DIRECT reader and writer for I/O of at most `maxReadBytes` (a multiple of `blockSize`),
 * or the fallback (cached reads, O_DSYNC writes through `fallback`) when the path refuses
 * O_DIRECT. Callers must not run two operations at once (one window). The device must hold at
 * least `maxReadBytes` (the probe reads that much at position 0). `blockDevice`: direct I/O is
 * required once it works (a later EINVAL is an error, not a fallback).
 */
export async function openBlockReader(path: string, fallback: FileHandle, maxReadBytes: number, blockDevice = false): Promise<BlockReader> {
  const direct = (constants as Record<string, number | undefined>).O_DIRECT
  if (direct === undefined) return cachedReader(fallback)
  let handle: FileHandle
  try {
    handle = await fs.open(path, constants.O_RDWR | constants.O_DSYNC | direct)
  } catch {
    return cachedReader(fallback)
  }
  const window = await findAlignedWindow(handle, maxReadBytes)
  if (window === undefined) {
    await handle.close()
    return cachedReader(fallback)
  }
  return new DirectReader(handle, window, cachedReader(fallback), blockDevice)
}
