/**
 * The quorum disk on a real block device: a loop device over a sparse file (we run as root).
 * Every loop device this file attaches is detached in a teardown, even when a check fails.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { diskPrint, diskTest } from '../../src/disk/commands.js'
import { blockOffset, geometryWithDefaults, requiredBytes } from '../../src/disk/layout.js'

function losetupProblem(): string | undefined {
  try {
    execFileSync('losetup', ['--version'], { stdio: 'ignore' })
  } catch {
    return 'losetup is not installed'
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'attaching a loop device needs root'
  return undefined
}

/** A loop device over a new sparse file of `sizeBytes`, detached when the test ends. */
async function loopDevice(t: { testdir(): string; teardown(fn: () => unknown): void }, sizeBytes: number): Promise<string> {
  const file = join(t.testdir(), 'backing.img')
  await fs.writeFile(file, '')
  await fs.truncate(file, sizeBytes)
  const device = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim()
  t.teardown(() => { execFileSync('losetup', ['-d', device]) })
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup printed "${device}", not a loop device`)
  return device
}

const problem = losetupProblem()
if (problem !== undefined) {
  t.test('quorum disk on a loop device', { skip: `skipped: ${problem}` }, async () => undefined)
} else {
  t.test('init, write, read, test and print on /dev/loopN', async (t) => {
    const device = await loopDevice(t, 16 << 20)
    const header = await QuorumDisk.init(device, { clusterName: 'web' })
    t.equal(header.blockSize, 4096)
    await t.rejects(QuorumDisk.init(device, { clusterName: 'db' }), { code: 'CARB_ERR_DISK_ALREADY_INITIALIZED', message: /"web"/ })
    const disk = await QuorumDisk.open(device, { expectClusterName: 'web' })
    t.teardown(() => disk.close())
    t.equal(disk.directIo, true, 'reads of a block device bypass the page cache')
    t.match(await disk.writeStatus(1, { nodeId: 1, name: 'servidor1', incarnation: 2, state: 'up', wallMs: Date.now() }), { seq: 1n, primaryOk: true, shadowOk: true })
    t.match(await disk.writeStatus(2, { nodeId: 2, name: 'servidor2', incarnation: 1, state: 'joining', wallMs: Date.now() }), { seq: 1n })
    t.match(await disk.readStatus(1), { ok: true, seq: 1n, source: 'primary', status: { name: 'servidor1', incarnation: 2 } })
    const all = await disk.readAllStatus()
    t.equal(all.length, 16)
    t.match(all.slice(0, 3), [{ ok: true, status: { name: 'servidor1' } }, { ok: true, status: { state: 'joining' } }, { ok: false, empty: true }])
    t.match(await disk.testScratch(1), { ok: true, directIo: true })
    const test = await diskTest(device, 2, { expectClusterName: 'web' })
    t.match(test, { ok: true, directIo: true })
    t.match(test.text, /O_DIRECT/)
    const print = await diskPrint(device)
    t.match(print.header, { clusterName: 'web', directIo: true })
    t.match(print.text, /servidor1 +up/)
    t.match(print.text, /servidor2 +joining/)
    t.match(print.text, /reads +O_DIRECT/)
  })

  t.test('a write by another opener is seen at once, and corruption falls back to the shadow', async (t) => {
    const device = await loopDevice(t, 4 << 20)
    await QuorumDisk.init(device, { clusterName: 'web', geometry: { blockSize: 512 } })
    const writer = await QuorumDisk.open(device)
    const reader = await QuorumDisk.open(device)
    t.teardown(async () => { await writer.close(); await reader.close() })
    for (let round = 1; round <= 3; round++) {
      await writer.writeStatus(3, { nodeId: 3, name: 'c', incarnation: 1, state: 'up', wallMs: round })
      t.match(await reader.readStatus(3), { ok: true, seq: BigInt(round), status: { wallMs: round } })
    }
    const raw = await fs.open(device, 'r+')
    const position = blockOffset(writer.geometry, 0, 'status', 3) + 100
    await raw.write(Buffer.from([0xa5, 0x5a]), 0, 2, position)
    await raw.sync()
    await raw.close()
    t.match(await reader.readStatus(3), { ok: true, seq: 3n, source: 'shadow' })
  })

  t.test('a device smaller than the geometry is refused, naming both sizes', async (t) => {
    const device = await loopDevice(t, 256 * 1024)
    const needBytes = requiredBytes(geometryWithDefaults())
    await t.rejects(QuorumDisk.init(device, { clusterName: 'web' }), { code: 'CARB_ERR_DISK_TOO_SMALL', message: new RegExp(`${256 * 1024} bytes.*${needBytes}`) })
  })
  // Regression: status, ballot and mailbox blocks were once written with buffered O_DSYNC
  // writes. Through a block device whose page cache works in 4 KiB blocks (any device whose
  // size is a multiple of 4 KiB), a 512-byte write was a read-modify-write of the whole 4 KiB
  // from this node's cache, which O_DIRECT reads never refresh: it put back the neighbours'
  // blocks as this node had last cached them. Writes now go through the O_DIRECT descriptor.
  t.test('a node writing through a 4 KiB-cached device never reverts a neighbour\'s 512-byte block', async (t) => {
    const geometry = { blockSize: 512 as const, maxNodes: 4, maxServices: 4, configBlocks: 4 }
    const file = join(t.testdir(), 'shared.img')
    await QuorumDisk.init(file, { clusterName: 'web', geometry })
    await fs.truncate(file, Math.ceil(requiredBytes(geometry) / 4096) * 4096)
    const device = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim()
    t.teardown(() => { execFileSync('losetup', ['-d', device]) })
    t.equal(execFileSync('blockdev', ['--getbsz', device], { encoding: 'utf8' }).trim(), '4096', 'the device caches 4 KiB blocks')
    const viaDevice = await QuorumDisk.open(device, { expectClusterName: 'web' })
    const viaFile = await QuorumDisk.open(file, { expectClusterName: 'web' })
    t.teardown(async () => { await viaDevice.close(); await viaFile.close() })
    const status = (nodeId: number, name: string) => ({ nodeId, name, incarnation: 1, state: 'up' as const, wallMs: Date.now() })
    await viaDevice.writeStatus(1, status(1, 'a'))
    for (let round = 0; round < 3; round++) {
      const bWrote = await viaFile.writeStatus(2, status(2, 'b'))
      await viaDevice.writeStatus(1, status(1, 'a'))
      const seen = await viaFile.readStatus(2)
      t.ok(seen.ok && seen.seq === bWrote.seq, `round ${round}: b's block holds b's last write (seq ${bWrote.seq}); read ${seen.ok ? `seq ${seen.seq}` : seen.error.oneLine()}`)
    }
  })
}
