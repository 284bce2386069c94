/**
 * Where a file system's device is mounted on this node, read from mountinfo: the facts the
 * fs agent decides on.
 */
import { realpath, stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { isDevice, majorMinorOf, readMountinfo, topMountAt, type DeviceIdentity, type MountEntry } from './mountinfo.js'
import type { FsSpec } from './types.js'

/**
 * The device's major:minor and the names it may appear under as a mount source; a source
 * that is not a path ("server:/export", "tmpfs") is known by its name alone.
 */
export async function identify(device: string): Promise<DeviceIdentity | 'missing' | 'not-block'> {
  if (!isAbsolute(device)) return { majorMinor: null, names: [device] }
  try {
    const info = await stat(device, { bigint: true })
    if (!info.isBlockDevice()) return 'not-block'
    return { majorMinor: majorMinorOf(info.rdev), names: [device, await realpath(device)] }
  } catch {
    return 'missing'
  }
}

/** The mount point as the kernel names it (symbolic links resolved), or null if it does not exist. */
async function kernelPath(mountPoint: string): Promise<string | null> {
  try {
    return await realpath(mountPoint)
  } catch {
    return null
  }
}

export interface FsState {
  device: DeviceIdentity
  /** Null when the mount point does not exist (so nothing can be mounted on it). */
  mountPoint: string | null
  entries: MountEntry[]
  /** Our device is what is visible at the mount point. */
  mountedHere: boolean
  /** Mount points other than ours where the (block) device is mounted. */
  elsewhere: string[]
}

export async function readFsState(spec: FsSpec, device: DeviceIdentity): Promise<FsState> {
  const entries = await readMountinfo()
  // The configured path first (mountinfo names are canonical): resolving a mount point
  // stats it, and a stat on a file system whose server is dead hangs.
  const literal = entries.some((e) => e.mountPoint === spec.mountPoint)
  const mountPoint = literal ? spec.mountPoint : await kernelPath(spec.mountPoint)
  const top = mountPoint === null ? undefined : topMountAt(entries, mountPoint)
  // Only a block device is corrupted by a second mount; NFS or tmpfs may be mounted many times.
  const elsewhere = device.majorMinor === null ? [] : entries.filter((e) => isDevice(e, device) && e.mountPoint !== mountPoint).map((e) => e.mountPoint)
  return { device, mountPoint, entries, mountedHere: top !== undefined && isDevice(top, device), elsewhere: [...new Set(elsewhere)] }
}

export function describeState(spec: FsSpec, state: FsState): string {
  if (state.mountedHere) return `${spec.device} is mounted on ${spec.mountPoint}`
  const top = state.mountPoint === null ? undefined : topMountAt(state.entries, state.mountPoint)
  const there = top === undefined ? '' : ` (${top.source} is)`
  return `${spec.device} is not mounted on ${spec.mountPoint}${there}`
}
