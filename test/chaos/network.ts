/**
 * The chaos lab's network: N hosts and one client, each a network namespace with an interface
 * `carb0` (test/helpers/hosts.ts HOST_IFACE, so its powerOff/powerOn apply), all joined by veth
 * pairs to a bridge that lives in a namespace of its own (the "switch"), never in the root
 * namespace. Addresses exist only inside these namespaces, on LAB_SUBNET (10.214.0.0/24;
 * hosts.ts uses 10.213.0): host i at .i+1, the floating address at .100, the client at .200.
 * Every veth is created directly inside its namespaces, so no interface name is ever taken in
 * the root namespace.
 *
 * Faults on one host's link: the switch port down (a pulled cable), and packet loss on the
 * link, both directions: `tc netem` where the kernel has it, else iptables' `statistic` match
 * (random drop at the host's input, and at every other namespace's input for frames from the
 * host's MAC: dropping at OUTPUT would make the node's own sends fail with EPERM, which a
 * lossy wire never does). Which one is used is reported.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { HOST_IFACE, HOST_PREFIX, hostsProblem, pidsIn, powerOff, powerOn, type SimHost } from '../helpers/hosts.js'
import type { Cleanup } from './cleanup.js'

const execFileAsync = promisify(execFile)

export const LAB_SUBNET = '10.214.0'
export const FLOATING_ADDRESS = `${LAB_SUBNET}.100`
export const CLIENT_ADDRESS = `${LAB_SUBNET}.200`
/** Every namespace, loop device backing file and temp dir of a lab starts with this and the owner's pid (sweep.ts). */
export const LAB_PREFIX = 'carb-chaos'
const BRIDGE = 'br0'
/** Processes of a namespace are gone within this after SIGKILL, or removing it fails loudly. */
const KILL_WAIT_MS = 5000

export interface LabHost extends SimHost {
  /** The host's port on the switch (in the switch namespace). */
  port: string
}

export type LossMethod = { kind: 'netem' } | { kind: 'iptables' } | { kind: 'none'; why: string }

export interface LabNetwork {
  id: string
  switchNs: string
  hosts: LabHost[]
  client: { netns: string; address: string; port: string }
  loss: LossMethod
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function inNs(netns: string, argv: string[]): string {
  return execFileSync('ip', ['netns', 'exec', netns, ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

const firstLine = (error: unknown): string => ((error as { stderr?: string }).stderr || (error as Error).message).trim().split('\n')[0] ?? ''

/** Why the lab cannot be built here (a skip reason), or null. */
export function labProblem(): string | null {
  const hosts = hostsProblem()
  if (hosts !== null) return hosts
  const probe = `${LAB_PREFIX}-${process.pid}-probe`
  try {
    ip(['netns', 'add', probe])
    ip(['-n', probe, 'link', 'add', 'br0', 'type', 'bridge'])
    ip(['-n', probe, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'])
    return null
  } catch (error) {
    return `cannot create a bridge and veth pairs in a network namespace: ${firstLine(error)}`
  } finally {
    try { ip(['netns', 'del', probe]) } catch { /* never created */ }
  }
}

/** Which way this kernel can lose packets on a link (probed in a throw-away namespace). */
export function probeLoss(): LossMethod {
  const probe = `${LAB_PREFIX}-${process.pid}-lossprobe`
  try {
    ip(['netns', 'add', probe])
    ip(['-n', probe, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'])
    let netemWhy = ''
    try {
      inNs(probe, ['tc', 'qdisc', 'add', 'dev', 'v0', 'root', 'netem', 'loss', '1%'])
      return { kind: 'netem' }
    } catch (error) {
      netemWhy = `tc netem: ${firstLine(error)}`
    }
    const iptables = ['/usr/sbin/iptables', '/sbin/iptables'].find(existsSync)
    if (iptables === undefined) return { kind: 'none', why: `${netemWhy}; iptables is not installed (Debian package iptables)` }
    try {
      inNs(probe, ['iptables', '-w', '-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.01', '-j', 'DROP'])
      return { kind: 'iptables' }
    } catch (error) {
      return { kind: 'none', why: `${netemWhy}; iptables statistic: ${firstLine(error)}` }
    }
  } catch (error) {
    return { kind: 'none', why: `probe namespace: ${firstLine(error)}` }
  } finally {
    try { ip(['netns', 'del', probe]) } catch { /* never created */ }
  }
}

export function describeLoss(loss: LossMethod): string {
  if (loss.kind === 'netem') return 'packet loss by tc netem on both ends of the link'
  if (loss.kind === 'iptables') return 'packet loss by iptables statistic (this kernel has no netem qdisc): random drop at the host\'s input and at every other namespace\'s input for frames from the host\'s MAC'
  return `no packet-loss fault: ${loss.why}`
}

/** SIGKILL to everything in the namespace until nothing is left, then remove it. */
async function removeNamespace(netns: string): Promise<void> {
  for (const until = Date.now() + KILL_WAIT_MS; ;) {
    const left = pidsIn(netns)
    if (left.length === 0) break
    if (Date.now() > until) throw new Error(`processes still in ${netns} after SIGKILL: ${left.join(', ')}`)
    for (const pid of left) { try { process.kill(pid, 'SIGCONT'); process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
    await new Promise((r) => setTimeout(r, 20))
  }
  ip(['netns', 'del', netns])
}

function addNamespace(cleanup: Cleanup, netns: string): void {
  ip(['netns', 'add', netns])
  cleanup.add(`removing namespace ${netns}`, () => removeNamespace(netns))
  ip(['-n', netns, 'link', 'set', 'lo', 'up'])
}

/** A port on the switch: `carb0` inside `netns`, `port` on the bridge. */
function plug(switchNs: string, netns: string, port: string): void {
  ip(['link', 'add', HOST_IFACE, 'netns', netns, 'type', 'veth', 'peer', 'name', port, 'netns', switchNs])
  ip(['-n', switchNs, 'link', 'set', port, 'master', BRIDGE])
  ip(['-n', switchNs, 'link', 'set', port, 'up'])
}

/** The switch, `names.length` hosts (powered on: carb0 up with its address) and the client. */
export function createNetwork(cleanup: Cleanup, names: readonly string[], loss: LossMethod = probeLoss()): LabNetwork {
  const id = `${LAB_PREFIX}-${process.pid}-${Math.floor(Math.random() * 1e6)}`
  const switchNs = `${id}-sw`
  addNamespace(cleanup, switchNs)
  ip(['-n', switchNs, 'link', 'add', BRIDGE, 'type', 'bridge'])
  ip(['-n', switchNs, 'link', 'set', BRIDGE, 'up'])
  const hosts: LabHost[] = names.map((name, i) => ({ name, netns: `${id}-${name}`, address: `${LAB_SUBNET}.${i + 1}`, port: `p-${name}` }))
  for (const host of hosts) {
    addNamespace(cleanup, host.netns)
    plug(switchNs, host.netns, host.port)
    powerOn(host)
  }
  const client = { netns: `${id}-client`, address: CLIENT_ADDRESS, port: 'p-client' }
  addNamespace(cleanup, client.netns)
  plug(switchNs, client.netns, client.port)
  ip(['-n', client.netns, 'addr', 'add', `${client.address}/${HOST_PREFIX}`, 'dev', HOST_IFACE])
  ip(['-n', client.netns, 'link', 'set', HOST_IFACE, 'up'])
  return { id, switchNs, hosts, client, loss }
}

export function hostOf(net: LabNetwork, name: string): LabHost {
  const host = net.hosts.find((h) => h.name === name)
  if (host === undefined) throw new Error(`no host ${name} in the lab`)
  return host
}

/** The host's cable at the switch: pulled (down) or plugged back (up). */
export function setLink(net: LabNetwork, name: string, up: boolean): void {
  ip(['-n', net.switchNs, 'link', 'set', hostOf(net, name).port, up ? 'up' : 'down'])
}

function macOf(host: LabHost): string {
  const [link] = JSON.parse(ip(['-n', host.netns, '-j', 'link', 'show', 'dev', HOST_IFACE])) as { address: string }[]
  if (link === undefined) throw new Error(`no ${HOST_IFACE} on host ${host.name}`)
  return link.address
}

/** The iptables rules that make `host`'s link lose `percent` of its frames, as [namespace, rule] pairs. */
function lossRules(net: LabNetwork, host: LabHost, percent: number): [string, string[]][] {
  const p = (percent / 100).toFixed(3)
  const random = ['-m', 'statistic', '--mode', 'random', '--probability', p, '-j', 'DROP']
  const others = [...net.hosts.filter((h) => h !== host).map((h) => h.netns), net.client.netns]
  const mac = macOf(host)
  return [[host.netns, ['INPUT', ...random]], ...others.map((ns): [string, string[]] => [ns, ['INPUT', '-m', 'mac', '--mac-source', mac, ...random]])]
}

/**
 * `percent` loss on both directions of the host's link until the returned function is called
 * (that function never throws; it reports what it could not undo).
 */
export async function startLoss(net: LabNetwork, name: string, percent: number): Promise<() => Promise<string | null>> {
  const host = hostOf(net, name)
  const run = async (netns: string, argv: string[]): Promise<void> => { await execFileAsync('ip', ['netns', 'exec', netns, ...argv]) }
  if (net.loss.kind === 'netem') {
    const ends: [string, string][] = [[host.netns, HOST_IFACE], [net.switchNs, host.port]]
    for (const [netns, dev] of ends) await run(netns, ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'loss', `${percent}%`])
    return undoAll(ends.map(([netns, dev]) => () => run(netns, ['tc', 'qdisc', 'del', 'dev', dev, 'root'])))
  }
  if (net.loss.kind === 'iptables') {
    const rules = lossRules(net, host, percent)
    for (const [netns, rule] of rules) await run(netns, ['iptables', '-w', '-I', ...rule])
    return undoAll(rules.map(([netns, rule]) => () => run(netns, ['iptables', '-w', '-D', ...rule])))
  }
  throw new Error(describeLoss(net.loss))
}

function undoAll(steps: (() => Promise<void>)[]): () => Promise<string | null> {
  return async () => {
    const failed: string[] = []
    for (const step of steps) { try { await step() } catch (error) { failed.push(firstLine(error)) } }
    return failed.length === 0 ? null : failed.join('; ')
  }
}

/** The power cut of hosts.ts: every process of the host SIGKILLed, its interface down and its addresses gone. */
export const cutPower = (host: LabHost): Promise<number[]> => powerOff(host)
/** Boot: the interface up with the host's own address only. */
export const restorePower = (host: LabHost): void => powerOn(host)
