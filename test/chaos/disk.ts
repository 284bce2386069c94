/**
 * The shared quorum disk of the chaos lab: one image file, and one loop device over it per
 * node, so that each node reaches the same disk through a path of its own
 * (`nodes[].disk`), as hosts on a SAN do, and one node's path can fail alone. Loop devices
 * over one file are coherent: the loop driver reads and writes through the file's page
 * cache, which they share, and the nodes write with O_DSYNC and read with O_DIRECT.
 *
 * The disk fault: device-mapper's `error` or `flakey` target would give real I/O errors, but
 * this kernel may have no device-mapper (`dmsetup version` fails: no /dev/mapper/control);
 * then a node's path is made unusable by switching its loop device read-only
 * (`blockdev --setro`): its writes fail (EPERM) while its reads still work, which is what a
 * node that "cannot write its status" sees. `diskFaultMethod()` says which applies.
 */
import { execFileSync } from 'node:child_process'
import { truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Cleanup } from './cleanup.js'

/** 2 copies x 1601 blocks of 512 bytes fit with room to spare. */
const IMAGE_BYTES = 4 << 20

export interface QuorumDisk {
  image: string
  /** Each node's own path to the disk. */
  paths: Map<string, string>
  /** The device is read-only now (its node's writes fail). */
  broken: Set<string>
}

const firstLine = (error: unknown): string => ((error as { stderr?: Buffer | string }).stderr?.toString() || (error as Error).message).trim().split('\n')[0] ?? ''

/** What a disk fault does on this kernel, in one line for the run's header. */
export function diskFaultMethod(): string {
  let dm: string
  try {
    execFileSync('dmsetup', ['version'], { stdio: 'pipe' })
    dm = 'device-mapper is available, but the lab does not use it yet'
  } catch (error) {
    dm = `device-mapper unavailable (dmsetup: ${firstLine(error)})`
  }
  return `${dm}: a disk fault switches the node's own loop device read-only (blockdev --setro): its writes fail with EPERM, its reads still work`
}

function detach(device: string): void {
  try { execFileSync('blockdev', ['--setrw', device], { stdio: 'pipe' }) } catch { /* detached already, or never read-only */ }
  execFileSync('losetup', ['-d', device], { stdio: 'pipe' })
}

/** The image in `dir` and one loop device per node; every device is detached by the cleanup. */
export async function createQuorumDisk(cleanup: Cleanup, dir: string, nodes: readonly string[]): Promise<QuorumDisk> {
  const image = join(dir, 'quorum.img')
  await writeFile(image, '')
  await truncate(image, IMAGE_BYTES)
  const disk: QuorumDisk = { image, paths: new Map(), broken: new Set() }
  for (const node of nodes) {
    const device = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim()
    if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup printed "${device}", not a loop device`)
    cleanup.add(`detaching ${device} (${node}'s path to the quorum disk)`, () => detach(device))
    disk.paths.set(node, device)
  }
  return disk
}

function pathOf(disk: QuorumDisk, node: string): string {
  const device = disk.paths.get(node)
  if (device === undefined) throw new Error(`no disk path for ${node}`)
  return device
}

/** `node`'s path fails: its writes to the quorum disk return errors. */
export function breakPath(disk: QuorumDisk, node: string): void {
  execFileSync('blockdev', ['--setro', pathOf(disk, node)], { stdio: 'pipe' })
  disk.broken.add(node)
}

/** `node`'s path works again. */
export function repairPath(disk: QuorumDisk, node: string): void {
  execFileSync('blockdev', ['--setrw', pathOf(disk, node)], { stdio: 'pipe' })
  disk.broken.delete(node)
}
