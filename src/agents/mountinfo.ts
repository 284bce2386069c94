/**
 * /proc/self/mountinfo, parsed (proc(5)): which device is mounted where. Devices are matched
 * by major:minor, not by name, because one disk has many names (/dev/loop3 and a second
 * node for it, /dev/mapper/vg-lv and /dev/dm-0). Pure except for reading the file.
 */
import { readFile } from 'node:fs/promises'

export interface MountEntry {
  /** "major:minor" of the mounted file system's device, as the kernel reports it. */
  majorMinor: string
  /** Where in the file system the mount starts ("/" unless a bind mount of a subdirectory). */
  root: string
  mountPoint: string
  fsType: string
  source: string
}

/** The kernel writes space, tab, newline and backslash in names as \ooo octal. */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
}

/**
 * `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue`:
 * six fixed fields, optional fields up to a lone "-", then type, source and super options.
 */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const separator = fields.indexOf('-', 6)
    if (fields.length < 10 || separator < 0 || separator + 2 >= fields.length) continue
    entries.push({
      majorMinor: fields[2]!,
      root: unescapeMountField(fields[3]!),
      mountPoint: unescapeMountField(fields[4]!),
      fsType: fields[separator + 1]!,
      source: unescapeMountField(fields[separator + 2]!),
    })
  }
  return entries
}

export async function readMountinfo(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'))
}

/** glibc's major()/minor() of a dev_t (12+ bits of major, 20 of minor, split for history). */
export function majorMinorOf(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n)
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n)
  return `${major}:${minor}`
}

/** How a device is recognised in mountinfo: its major:minor if it is a block device, and its names. */
export interface DeviceIdentity { majorMinor: string | null; names: string[] }

export function isDevice(entry: MountEntry, device: DeviceIdentity): boolean {
  if (device.majorMinor !== null && entry.majorMinor === device.majorMinor) return true
  return device.names.includes(entry.source)
}

/**
 * What is visible at `mountPoint`: the last mount there in mountinfo order (a later mount on
 * the same point hides the earlier ones), or undefined.
 */
export function topMountAt(entries: readonly MountEntry[], mountPoint: string): MountEntry | undefined {
  return entries.filter((e) => e.mountPoint === mountPoint).at(-1)
}
