/**
 * Reads that bypass the page cache. On real shared storage another node's writes never pass
 * through our page cache, so a cached read could return a stale copy of its status block.
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
  close(): Promise<void>
}

/** Ordinary reads through an already open handle (which the caller owns and closes). */
export function cachedReader(handle: FileHandle): BlockReader {
  return {
    directIo: false,
    async read(position, length) {
      const buf = Buffer.alloc(length)
      const { bytesRead } = await handle.read(buf, 0, length, position)
      return buf.subarray(0, bytesRead)
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

  constructor(private readonly handle: FileHandle, private readonly window: Buffer, private readonly fallback: BlockReader) {}

  get directIo(): boolean { return !this.broken }

  async read(position: number, length: number): Promise<Buffer> {
    if (length > this.window.length) throw new RangeError(`direct read of ${length} bytes exceeds the ${this.window.length}-byte aligned window`)
    if (this.broken) return this.fallback.read(position, length)
    try {
      const { bytesRead } = await this.handle.read(this.window, 0, length, position)
      return Buffer.from(this.window.subarray(0, bytesRead))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error
      this.broken = true
      return this.fallback.read(position, length)
    }
  }

  close(): Promise<void> { return this.handle.close() }
}

/**
 * An O_DIRECT reader for reads of at most `maxReadBytes` (a multiple of `blockSize`), or the
 * fallback when the path refuses O_DIRECT. Callers must not run two reads at once (one window).
 * The device must hold at least `maxReadBytes` (the probe reads that much at position 0).
 */
export async function openBlockReader(path: string, fallback: FileHandle, maxReadBytes: number): Promise<BlockReader> {
  const direct = (constants as Record<string, number | undefined>).O_DIRECT
  if (direct === undefined) return cachedReader(fallback)
  let handle: FileHandle
  try {
    handle = await fs.open(path, constants.O_RDONLY | direct)
  } catch {
    return cachedReader(fallback)
  }
  const window = await findAlignedWindow(handle, maxReadBytes)
  if (window === undefined) {
    await handle.close()
    return cachedReader(fallback)
  }
  return new DirectReader(handle, window, cachedReader(fallback))
}
