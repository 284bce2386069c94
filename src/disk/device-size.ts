/**
 * The size of a plain file or a block device. fstat reports 0 for a block device and Node
 * has no lseek(SEEK_END), so for devices we search for the last readable 512-byte sector
 * with one-byte positional reads (a read at or past the end returns 0 bytes). Device sizes
 * are whole sectors, so the answer is exact.
 */
import type { FileHandle } from 'node:fs/promises'

const SECTOR_BYTES = 512
/** 2^53 bytes: beyond any device, and where doubling would leave safe integers. */
const MAX_SECTOR_EXPONENT = 44

async function sectorReadable(handle: FileHandle, sector: number, probe: Buffer): Promise<boolean> {
  const { bytesRead } = await handle.read(probe, 0, 1, sector * SECTOR_BYTES)
  return bytesRead === 1
}

async function deviceSizeBytes(handle: FileHandle): Promise<number> {
  const probe = Buffer.alloc(1)
  if (!(await sectorReadable(handle, 0, probe))) return 0
  let low = 0 // readable
  let high = 1 // first candidate that may be unreadable
  for (let step = 0; step < MAX_SECTOR_EXPONENT && (await sectorReadable(handle, high, probe)); step++) {
    low = high
    high *= 2
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    if (await sectorReadable(handle, middle, probe)) low = middle
    else high = middle
  }
  return (low + 1) * SECTOR_BYTES
}

export async function sizeBytes(handle: FileHandle): Promise<{ sizeBytes: number; isBlockDevice: boolean }> {
  const stat = await handle.stat()
  if (stat.isBlockDevice()) return { sizeBytes: await deviceSizeBytes(handle), isBlockDevice: true }
  return { sizeBytes: stat.size, isBlockDevice: false }
}
