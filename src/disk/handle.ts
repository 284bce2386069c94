/**
 * Opening the quorum device and whole-buffer positional writes, with failures turned into
 * named errors that say which device and which block.
 */
import { constants, promises as fs } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { CarbError } from '../errors.js'

/** Read-write with every write synced to the device before it returns (O_DSYNC). */
export async function openDevice(path: string, create: boolean): Promise<FileHandle> {
  const flags = constants.O_RDWR | constants.O_DSYNC | (create ? constants.O_CREAT : 0)
  try {
    return await fs.open(path, flags, 0o600)
  } catch (error) {
    throw new CarbError('CARB_ERR_DISK_OPEN', `cannot open for read-write: ${errnoText(error)}`, path)
  }
}

export function errnoText(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  return e.code === undefined ? String(e.message ?? error) : `${e.code} ${e.message}`
}

export function ioError(error: unknown, where: string): CarbError {
  return error instanceof CarbError ? error : new CarbError('CARB_ERR_DISK_IO', errnoText(error), where)
}

/** Writes all of `buf` at `position`; a short write is an error (a torn block). */
export async function writeFully(handle: FileHandle, buf: Buffer, position: number, where: string): Promise<void> {
  let bytesWritten: number
  try {
    ;({ bytesWritten } = await handle.write(buf, 0, buf.length, position))
  } catch (error) {
    throw ioError(error, where)
  }
  if (bytesWritten !== buf.length) throw new CarbError('CARB_ERR_DISK_IO', `short write: ${bytesWritten} of ${buf.length} bytes at byte ${position}`, where)
}

/** Reads up to `length` bytes at `position`; fewer at the end of the device. */
export async function readAt(handle: FileHandle, position: number, length: number, where: string): Promise<Buffer> {
  const buf = Buffer.alloc(length)
  try {
    const { bytesRead } = await handle.read(buf, 0, length, position)
    return buf.subarray(0, bytesRead)
  } catch (error) {
    throw ioError(error, where)
  }
}
