/**
 * Two simulated hosts (test/helpers/hosts.ts): two network namespaces joined by a veth pair,
 * a node process in each, a real ext4 file system on a loop device as the shared disk. One
 * service `web` = that file system, a floating IP, and a script that writes into the file
 * system. The floating IP must be configured on the owner's host only (`ip addr`), the file
 * system mounted in the owner's mount namespace only, through a power cut of the owner, its
 * reboot (no failback) and a relocation back.
 *
 * The dead host's address: SIGKILL of the node process alone would leave 10.213.0.100 on
 * host A, because the namespace (A's kernel) outlives the process, while A's mount vanished
 * with A's mount namespace. Neither a dead machine (nothing left) nor a crashed daemon on a
 * live machine (both left) looks like that. So "the machine dies" is a power cut: every
 * process of the namespace is SIGKILLed, then its interface goes down and loses its
 * addresses, as RAM does (helpers/hosts.ts `powerOff`). That A then has no floating address
 * is the simulation's doing, not Carbonado's; what the test shows is that B takes the
 * address and the disk only after A is proven gone, and that A, rebooted with its boot-time
 * address only, does not take them back until told to.
 *
 * Every step is undone in a teardown, even when a check fails: processes, mounts (they live
 * in the nodes' mount namespaces and go with their processes), the loop device, the
 * namespaces, the temp dir.
 */
import t, { type Test } from 'tap'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TEST_TIMING, runCli, type LogLine } from '../helpers/cluster.js'
import {
  HOST_IFACE, HOST_PREFIX, HOST_SUBNET, HostCluster, OwnershipWatch, addressesOn, createHostPair, describeDaemon, hostsProblem,
  mountNamespaceOf, mountsIn, pidsIn, powerOff, powerOn, readAs, readUnmounted, sharedExt4, tempDir, type SharedDisk,
} from '../helpers/hosts.js'
import { describeRuns, overlaps, parseRuns } from '../helpers/witness.js'

const { diskDeadAfterMs, diskIntervalMs } = TEST_TIMING
const UP_WITHIN_MS = 15_000
const FLOATING = `${HOST_SUBNET}.100`
const CIDR = `${FLOATING}/${HOST_PREFIX}`
const TIMINGS = 'monitorIntervalMs: 300, startTimeoutMs: 5000, stopTimeoutMs: 5000, monitorTimeoutMs: 2000'
/** With failback off, the rebooted preferred node is watched this long to see it take nothing. */
const NO_FAILBACK_WATCH_MS = 2500

/**
 * The service's own resource: proves it runs where the file system is by writing into it.
 * start refuses when the file system is not mounted here (resources start in order: fs, ip,
 * app); each monitor appends a tick, so the log is a witness (helpers/witness.ts) of when
 * each node ran the service. The running mark is on the shared file system, so it is seen
 * only where that is mounted.
 */
const OWNER_SCRIPT = `#!/bin/sh
mnt="MOUNT_POINT"
node="\${CARBONADO_NODE:?CARBONADO_NODE is not set}"
log="$mnt/owner.log"
mark="$mnt/running.$node"
now() { date +%s%N; }
case "$1" in
  start)
    mountpoint -q "$mnt" || { echo "$mnt is not mounted on $node" >&2; exit 1; }
    echo "$node start $(now)" >> "$log" && touch "$mark"
    exit $? ;;
  stop)
    [ -f "$mark" ] || exit 0
    echo "$node stop $(now)" >> "$log" && rm -f "$mark"
    exit $? ;;
  status)
    [ -f "$mark" ] || exit 3
    echo "$node tick $(now)" >> "$log"
    exit 0 ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2 ;;
esac
`

async function installScript(dir: string, mountPoint: string): Promise<string> {
  const path = join(dir, 'owner-service.sh')
  await writeFile(path, OWNER_SCRIPT.replace('MOUNT_POINT', mountPoint))
  await chmod(path, 0o755)
  return path
}

function resources(disk: SharedDisk, mountPoint: string, script: string): string[] {
  return [
    `{type: fs, name: data, device: ${disk.device}, mountPoint: ${mountPoint}, fsType: ext4, ${TIMINGS}}`,
    `{type: ip, name: vip, address: ${FLOATING}, prefix: ${HOST_PREFIX}, interface: ${HOST_IFACE}, ${TIMINGS}}`,
    `{type: script, name: app, path: ${script}, ${TIMINGS}}`,
  ]
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** `node start` lines in the owner log as the live node `name` sees it (its mount namespace). */
function startsSeenBy(c: HostCluster, name: string, log: string): number {
  const pid = c.pid(name)
  if (pid === null) return 0
  try { return parseRuns(readAs(pid, log)).filter((r) => r.node === name).length } catch { return 0 }
}

/**
 * Waits until `owner` alone has the address and the disk mounted and its script has started
 * `starts` times in all; returns when that was first seen.
 */
async function waitOwner(c: HostCluster, watch: OwnershipWatch, owner: string, starts: number, log: string, timeoutMs: number): Promise<number> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const s = await watch.sample()
    if (s.address.join() === owner && s.mounted.join() === owner && startsSeenBy(c, owner, log) >= starts) return s.atMs
    if (Date.now() > deadline) {
      throw new Error(`${owner} did not become the only owner within ${timeoutMs} ms (address on [${s.address.join(',')}], mounted on [${s.mounted.join(',')}]); ownership: ${watch.describe()}\n${c.recentLogs()}`)
    }
    await sleep(50)
  }
}

/** The owner's host alone has the address; the owner's node alone (not even the root namespace) has the disk mounted. */
function checkOwner(t: Test, c: HostCluster, disk: SharedDisk, mountPoint: string, owner: string): void {
  for (const host of c.hosts) {
    const has = addressesOn(host).includes(CIDR)
    t.equal(has, host.name === owner, `${CIDR} ${host.name === owner ? 'is' : 'is not'} on ${HOST_IFACE} of host ${host.name}`)
    const pid = c.pid(host.name)
    const mounts = pid === null ? [] : mountsIn(pid, disk.majorMinor)
    t.same(mounts, host.name === owner ? [mountPoint] : [], `${disk.device} ${host.name === owner ? 'is' : 'is not'} mounted in the mount namespace of node ${host.name}${pid === null ? ' (powered off)' : ''}`)
  }
  t.same(mountsIn('self', disk.majorMinor), [], `${disk.device} is not mounted in the root mount namespace`)
}

function agentLine(c: HostCluster, name: string, prefix: string, from: number): LogLine | undefined {
  return c.node(name).lines.slice(from).find((l) => l.message.startsWith(prefix))
}

t.test('two hosts: the floating IP and the ext4 disk are on the owner only, through a power cut, a reboot and a relocation', { skip: hostsProblem() ?? false }, async (t) => {
  const dir = await tempDir(t, 'carbonado-hosts-')
  const [a, b] = createHostPair(t, ['a', 'b'])
  const disk = await sharedExt4(t, dir)
  const mountPoint = join(dir, 'mnt', 'web')
  const ownerLog = join(mountPoint, 'owner.log')
  await mkdir(mountPoint, { recursive: true })
  const script = await installScript(dir, mountPoint)
  const c = await HostCluster.create(t, dir, [a, b])
  const watch = new OwnershipWatch(c, CIDR, disk)

  c.start('a')
  c.start('b')
  for (const [observer, peer] of [['a', 'b'], ['b', 'a']] as const) await c.waitPeer(observer, peer, 'up', UP_WITHIN_MS)
  for (const host of [a, b]) t.same(describeDaemon(c.pid(host.name)!, host), { isNode: true, inHostNetns: true, ownMountNs: true }, `node ${host.name} runs in host ${host.name}, in a mount namespace of its own`)
  t.not(mountNamespaceOf(c.pid('a')!), mountNamespaceOf(c.pid('b')!), 'the two nodes do not share a mount namespace')
  watch.start(25, t)

  const added = await c.cli('a', 'service', 'add', 'web', '--domain', 'a,b', '--failback', 'off', ...resources(disk, mountPoint, script).flatMap((r) => ['--resource', r]))
  t.equal(added.code, 0, `service add: ${added.stdout}${added.stderr}`)
  await waitOwner(c, watch, 'a', 1, ownerLog, 15_000)
  checkOwner(t, c, disk, mountPoint, 'a')

  // The power cut: host A loses every process, its mounts with them, and its addresses.
  const pidA = c.pid('a')!
  const markCut = c.node('b').lines.length
  const cutAt = Date.now()
  const killed = await powerOff(a)
  t.ok(killed.includes(pidA), `the power cut killed node a (pid ${pidA}) and everything it ran (${killed.length} processes)`)
  t.equal(await c.node('a').exited, null, 'node a died by a signal')
  await waitOwner(c, watch, 'b', 1, ownerLog, diskDeadAfterMs + 10_000)
  checkOwner(t, c, disk, mountPoint, 'b')
  const afterTakeover = parseRuns(readAs(c.pid('b')!, ownerLog))
  t.same(afterTakeover.map((r) => r.node), ['a', 'b'], `b's mount of the disk holds a's earlier run and b's new one: ${describeRuns(afterTakeover)}`)
  const bStartMs = Number(afterTakeover[1]!.fromNs / 1_000_000n)
  t.ok(bStartMs - cutAt >= diskDeadAfterMs - diskIntervalMs - 100, `b did not take over before a was proven gone (${bStartMs - cutAt} ms)`)
  const dead = await c.waitPeer('b', 'a', 'dead', 1000, markCut)
  const startedOnB = ['data', 'vip'].map((r) => Date.parse(agentLine(c, 'b', `web/${r} start: ok`, markCut)?.time ?? ''))
  t.comment(`takeover after the power cut: a declared dead ${Date.parse(dead.time) - cutAt} ms, disk mounted on b ${startedOnB[0]! - cutAt} ms, address on b ${startedOnB[1]! - cutAt} ms, script started ${bStartMs - cutAt} ms`)

  // A boots with its own address only and rejoins; with failback off, web stays on b.
  powerOn(a)
  t.same(addressesOn(a), [`${a.address}/${HOST_PREFIX}`], 'host a boots with its own address only')
  const markB = c.node('b').lines.length
  c.start('a')
  await c.waitPeer('b', 'a', 'up', UP_WITHIN_MS, markB)
  await c.waitPeer('a', 'b', 'up', UP_WITHIN_MS)
  await sleep(NO_FAILBACK_WATCH_MS)
  checkOwner(t, c, disk, mountPoint, 'b')
  const list = await c.cli('a', 'service', 'list', '--json')
  t.equal(list.code, 0, `service list: ${list.stderr}`)
  t.match(JSON.parse(list.stdout), { services: [{ name: 'web', holder: 'b', localState: 'stopped' }] }, 'failback off: the rebooted preferred node leaves web on b')

  // Relocation: b stops everything (address removed, file system unmounted) before a starts.
  const markA = c.node('a').lines.length
  const markRelocate = c.node('b').lines.length
  const moved = await c.cli('b', 'service', 'relocate', 'web', '--to', 'a')
  t.equal(moved.code, 0, `relocate: ${moved.stdout}${moved.stderr}`)
  await waitOwner(c, watch, 'a', 2, ownerLog, 15_000)
  checkOwner(t, c, disk, mountPoint, 'a')
  // The address and the mount are up before the last start's log line (a gratuitous ARP takes
  // about 3 s after the address is added): wait for the lines, bounded.
  for (const deadline = Date.now() + 15_000; Date.now() < deadline && agentLine(c, 'a', 'web/app start: ok', markA) === undefined;) await sleep(50)
  const stoppedOnB = ['app', 'vip', 'data'].map((r) => agentLine(c, 'b', `web/${r} stop: ok`, markRelocate))
  const startedOnA = ['data', 'vip', 'app'].map((r) => agentLine(c, 'a', `web/${r} start: ok`, markA))
  const allLogged = stoppedOnB.every((l) => l !== undefined) && startedOnA.every((l) => l !== undefined)
  t.ok(allLogged, `b logged its three stops and a its three starts${allLogged ? '' : `\n${c.recentLogs()}`}`)
  const lastStopOnB = Math.max(...stoppedOnB.map((l) => Date.parse(l?.time ?? '')))
  const firstStartOnA = Math.min(...startedOnA.map((l) => Date.parse(l?.time ?? '')))
  t.ok(lastStopOnB <= firstStartOnA, `b's unmount finished (${lastStopOnB}) before a's mount did (${firstStartOnA})`)

  // Clean stops: the non-owner first, then the owner, which stops web on its way out.
  for (const name of ['b', 'a']) t.equal(await c.stop(name), 0, `${name} stops cleanly`)
  await watch.stop()
  for (const host of [a, b]) {
    t.same(addressesOn(host), [`${host.address}/${HOST_PREFIX}`], `host ${host.name} has its own address only`)
    t.same(pidsIn(host.netns), [], `no process is left in host ${host.name}`)
  }
  t.same(mountsIn('self', disk.majorMinor), [], `${disk.device} is not mounted in the root mount namespace`)
  t.same(watch.doubles, [], `never two hosts with ${CIDR}, never two nodes with the disk mounted (${watch.sampled} samples, ${watch.rate.toFixed(0)}/s): ${watch.describe()}`)
  t.same(watch.errors, [], 'every ownership sample could be taken')

  const runs = parseRuns(readUnmounted(disk, mountPoint, 'owner.log'))
  t.same(runs.map((r) => `${r.node}${r.stopped ? '' : ' (died)'}`), ['a (died)', 'b', 'a'], `the disk's own log: a, cut; b; a (${describeRuns(runs)})`)
  t.same(overlaps(runs).map((o) => `${o.a.node}/${o.b.node}`), [], `never two owners: ${describeRuns(runs)}`)

  const errors = c.processes.flatMap((p) => p.lines.filter((l) => l.level === 'error').map((l) => `${p.name}: ${l.message}`))
  t.same(errors, [], 'no node process logged an error')
  for (const name of ['a', 'b']) {
    const r = runCli(['replay', '--journal', c.journal(name)])
    t.equal(r.code, 0, `journal of ${name} replays: ${r.stdout.trim()} ${r.stderr.trim()}`)
  }
})
