/**
 * `disk init` (Kimberlite's `diskutil -I`): size the device, refuse to overwrite a quorum
 * disk that is already someone's unless forced, zero both copies, write the header twice.
 */
import { randomBytes } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { CarbError } from '../errors.js'
import { realClock, type Clock } from '../clock.js'
import { encodeBlock } from './block.js'
import { sizeBytes } from './device-size.js'
import { openDevice, readAt, writeFully } from './handle.js'
import { findHeader, SHADOW_SCAN_LIMIT_BYTES } from './header-scan.js'
import { blockOffset, geometryWithDefaults, requiredBytes, type Geometry } from './layout.js'
import type { HeaderPayload } from './payloads.js'

export interface InitOptions {
  clusterName: string
  geometry?: Partial<Geometry>
  /** Overwrite a disk that already holds a valid Carbonado header. */
  force?: boolean
  /** Size for a plain file created or extended here; at least the geometry's requiredBytes. */
  createSizeBytes?: number
  clock?: Clock
}

const ZERO_CHUNK_BYTES = 1 << 20

/** Make sure the device holds `needBytes`; a plain file is created or extended to size. */
async function ensureSize(handle: FileHandle, path: string, needBytes: number, createSizeBytes: number | undefined): Promise<number> {
  const { sizeBytes: haveBytes, isBlockDevice } = await sizeBytes(handle)
  if (isBlockDevice) {
    if (haveBytes < needBytes) throw new CarbError('CARB_ERR_DISK_TOO_SMALL', `device holds ${haveBytes} bytes; this geometry needs ${needBytes}`, path)
    return haveBytes
  }
  const wantBytes = Math.max(needBytes, createSizeBytes ?? 0)
  if (haveBytes >= wantBytes) return haveBytes
  await handle.truncate(wantBytes)
  return wantBytes
}

async function refuseIfInitialized(handle: FileHandle, path: string, haveBytes: number): Promise<void> {
  const existing = await findHeader((position, length) => readAt(handle, position, length, path), haveBytes, path)
  if ('error' in existing) return
  const { clusterName, clusterUuid } = existing.header
  throw new CarbError('CARB_ERR_DISK_ALREADY_INITIALIZED', `already a quorum disk of cluster "${clusterName}" (uuid ${clusterUuid}, found in the ${existing.source} copy); use --force to overwrite`, path)
}

/**
 * Zero both copies, and beyond them the whole region where a shadow header could be found
 * by a scan, so a header of an earlier, larger layout cannot be mistaken for ours.
 */
async function zeroArea(handle: FileHandle, path: string, needBytes: number, haveBytes: number): Promise<void> {
  const endBytes = Math.max(needBytes, Math.min(haveBytes, SHADOW_SCAN_LIMIT_BYTES))
  const zeros = Buffer.alloc(ZERO_CHUNK_BYTES)
  for (let position = 0; position < endBytes; position += ZERO_CHUNK_BYTES) {
    const length = Math.min(ZERO_CHUNK_BYTES, endBytes - position)
    await writeFully(handle, zeros.subarray(0, length), position, `${path} (zeroing at byte ${position})`)
  }
}

export async function initDisk(path: string, options: InitOptions): Promise<HeaderPayload> {
  const geometry = geometryWithDefaults(options.geometry)
  if (options.clusterName === '') throw new CarbError('CARB_ERR_USAGE', 'disk init: the cluster name must not be empty', path)
  const needBytes = requiredBytes(geometry)
  const handle = await openDevice(path, true)
  try {
    const haveBytes = await ensureSize(handle, path, needBytes, options.createSizeBytes)
    if (options.force !== true) await refuseIfInitialized(handle, path, haveBytes)
    await zeroArea(handle, path, needBytes, haveBytes)
    const clusterUuid = randomBytes(16)
    const header: HeaderPayload = {
      clusterName: options.clusterName, clusterUuid: clusterUuid.toString('hex'), ...geometry,
      createdAtWallMs: Math.floor((options.clock ?? realClock).wallMs()),
    }
    const block = encodeBlock({ blockSize: geometry.blockSize, kind: 'header', clusterUuid, writer: 0, index: 0, seq: 1n, payload: header })
    await writeFully(handle, block, blockOffset(geometry, 0, 'header', 0), `${path} (primary header)`)
    await writeFully(handle, block, blockOffset(geometry, 1, 'header', 0), `${path} (shadow header)`)
    return header
  } finally {
    await handle.close()
  }
}
