/**
 * The built-in file-system agent on a real ext4 file system on a loop device, mounted under
 * a temp dir. Everything mounted, attached or started is undone in teardowns.
 */
import t from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runAgent } from '../../src/agents/run.js'
import type { FsSpec } from '../../src/agents/types.js'
import { loopExt4, mountsUnder } from './fixtures/loop-fs.js'
import { createNetns, netnsProblem } from './fixtures/netns.js'
import { OPTIONS, isAlive, killIfAlive, missingTool } from './fixtures/system.js'

const skip = missingTool('losetup', 'mkfs.ext4', 'mount', 'umount', 'fuser')
const fsSpec = (device: string, mountPoint: string, extra: Partial<FsSpec> = {}): FsSpec => ({ type: 'fs', name: 'data', device, mountPoint, fsType: 'ext4', ...extra })

/** A process whose working directory is inside `dir`: what makes a mount busy. */
function holdBusy(t: { teardown(fn: () => unknown): void }, dir: string): { pid: number; exited: Promise<string | null> } {
  const child = spawn('sleep', ['60'], { cwd: dir, stdio: 'ignore' })
  t.teardown(() => killIfAlive(child.pid!))
  return { pid: child.pid!, exited: new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))) }
}

t.test('start mounts, monitor sees it, stop unmounts; both idempotent', { skip: skip ?? false }, async (t) => {
  const { device, base } = await loopExt4(t)
  const mountPoint = join(base, 'mnt', 'data')
  const spec = fsSpec(device, mountPoint, { options: 'noatime' })
  t.match(await runAgent(spec, 'validate', OPTIONS), { outcome: 'ok' })
  t.match(await runAgent(spec, 'monitor', OPTIONS), { outcome: 'not-running' })
  t.match(await runAgent(spec, 'start', OPTIONS), { outcome: 'ok', exitCode: 0, detail: new RegExp(`mount -t ext4 ${device} ${mountPoint}: exit 0`) })
  t.same(mountsUnder(base), [mountPoint], 'mounted, the mount point created')
  await writeFile(join(mountPoint, 'file'), 'data')
  t.match(await runAgent(spec, 'start', OPTIONS), { outcome: 'ok', exitCode: null, detail: /already mounted on/ })
  t.match(await runAgent(spec, 'monitor', OPTIONS), { outcome: 'ok' })
  t.match(await runAgent(spec, 'stop', OPTIONS), { outcome: 'ok', detail: /umount: exit 0$/ })
  t.same(mountsUnder(base), [])
  t.match(await runAgent(spec, 'stop', OPTIONS), { outcome: 'ok', detail: /nothing to unmount/ })
  t.match(await runAgent(spec, 'monitor', OPTIONS), { outcome: 'not-running' })
})

t.test('a busy file system: forced unmount kills the holder; without force the stop fails', { skip: skip ?? false }, async (t) => {
  const { device, base } = await loopExt4(t)
  const mountPoint = join(base, 'busy')
  const spec = fsSpec(device, mountPoint)
  t.match(await runAgent(spec, 'start', OPTIONS), { outcome: 'ok' })
  await mkdir(join(mountPoint, 'work'))
  const gentle = holdBusy(t, join(mountPoint, 'work'))
  const refused = await runAgent({ ...spec, forceUnmount: false }, 'stop', OPTIONS)
  t.match(refused, { outcome: 'failed', detail: /umount: exit 32; still mounted and forceUnmount is off/ })
  t.match(refused.output, /target is busy/)
  t.ok(isAlive(gentle.pid), 'nothing was killed')
  const forced = await runAgent(spec, 'stop', OPTIONS)
  t.match(forced, { outcome: 'ok', detail: /umount: exit 32; fuser -k -TERM: exit 0; umount: exit 0/ })
  t.equal(await gentle.exited, 'SIGTERM', 'the process holding the mount was killed')
  t.same(mountsUnder(base), [], 'and the file system is unmounted')
})

t.test('a device already mounted elsewhere is refused, under any name', { skip: skip ?? false }, async (t) => {
  const { device, base } = await loopExt4(t)
  const first = join(base, 'first')
  const second = join(base, 'second')
  t.match(await runAgent(fsSpec(device, first), 'start', OPTIONS), { outcome: 'ok' })
  const twice = await runAgent(fsSpec(device, second), 'start', OPTIONS)
  t.match(twice, { outcome: 'failed', exitCode: null, detail: `data start: ${device} is already mounted on ${first} on this node; refusing to mount it on ${second} too` })
  // A second device node for the same disk (as /dev/mapper names and /dev/dm-N are).
  const { rdev } = statSync(device)
  const alias = join(base, 'alias-node')
  execFileSync('mknod', [alias, 'b', String(Math.floor(rdev / 256) & 0xfff), String(rdev & 0xff)])
  const aliased = await runAgent(fsSpec(alias, second), 'start', OPTIONS)
  t.match(aliased, { outcome: 'failed', detail: new RegExp(`${alias} is already mounted on ${first}`) }, 'recognised by major:minor')
  t.same(mountsUnder(base), [first], 'nothing else was mounted')
  t.match(await runAgent(fsSpec(alias, first), 'monitor', OPTIONS), { outcome: 'ok' }, 'monitor under the alias sees the mount too')
  t.match(await runAgent(fsSpec(device, first), 'stop', OPTIONS), { outcome: 'ok' })
})

t.test('a mount point taken by another file system, a missing device, a file as device', { skip: skip ?? false }, async (t) => {
  const { device, base } = await loopExt4(t)
  const taken = join(base, 'taken')
  await mkdir(taken)
  execFileSync('mount', ['-t', 'tmpfs', 'carb-test-tmpfs', taken])
  t.match(await runAgent(fsSpec(device, taken), 'start', OPTIONS), { outcome: 'failed', detail: new RegExp(`${taken} already has carb-test-tmpfs mounted on it`) })
  t.match(await runAgent(fsSpec(device, taken), 'monitor', OPTIONS), { outcome: 'not-running', detail: /\(carb-test-tmpfs is\)/ })
  t.match(await runAgent(fsSpec(device, taken), 'stop', OPTIONS), { outcome: 'ok' }, 'not ours to unmount')
  t.same(mountsUnder(base), [taken])
  const ghost = fsSpec(join(base, 'no-such-device'), join(base, 'g'))
  t.match(await runAgent(ghost, 'validate', OPTIONS), { outcome: 'misconfigured', detail: /does not exist/ })
  t.match(await runAgent(ghost, 'start', OPTIONS), { outcome: 'failed', detail: /does not exist/ })
  t.match(await runAgent(ghost, 'monitor', OPTIONS), { outcome: 'not-running' })
  t.match(await runAgent(ghost, 'stop', OPTIONS), { outcome: 'ok' })
  t.match(await runAgent(fsSpec(join(base, 'disk.img'), join(base, 'g')), 'start', OPTIONS), { outcome: 'misconfigured', detail: /is not a block device/ })
})

const netnsSkip = skip ?? netnsProblem()
t.test('RunOptions.netns does not make a mount vanish', { skip: netnsSkip ?? false }, async (t) => {
  const { device, base } = await loopExt4(t)
  const ns = createNetns(t)
  const mountPoint = join(base, 'in-ns')
  t.match(await runAgent(fsSpec(device, mountPoint), 'start', { ...OPTIONS, netns: ns.name }), { outcome: 'ok' })
  t.same(mountsUnder(base), [mountPoint], 'still mounted after mount exited')
  t.match(await runAgent(fsSpec(device, mountPoint), 'stop', { ...OPTIONS, netns: ns.name }), { outcome: 'ok' })
})
