/**
 * The peer to beat on speed (DESIGN.md): keepalived moving the same floating address between
 * two hosts of the same lab (test/chaos/lab.ts: network namespaces on a bridge of their own,
 * the client polling http://10.214.0.100:8080/ from a fourth namespace every 50 ms). Each host
 * runs the same HTTP server as Carbonado's service (test/chaos/http-server.ts), always; only
 * the address moves, as keepalived is usually deployed.
 *
 * keepalived's VRRP: the master sends an advertisement every advert_int; a backup that hears
 * none for 3 x advert_int + skew (skew = (256 - priority) / 256 x advert_int) becomes master,
 * adds the address and sends gratuitous ARPs. It waits for nothing else: no disk, no proof
 * that the old master stopped (VRRP has no fencing), so after a partition both sides may
 * hold the address. Both instances are BACKUP with nopreempt and equal priority, so a host
 * that boots again does not take the address back (unless it hears no advertisement before
 * its own master-down timer: then both are master a moment and the higher address keeps it).
 * Advertisements go to VRRP's multicast group on the lab's bridge, keepalived's default; the
 * bridge lives in a namespace of the lab, so nothing leaves it.
 *
 * A sample: from the moment the master's host loses power (hosts.ts powerOff: every process,
 * its link, its addresses) to the first successful answer to a request sent after the cut was
 * complete.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Cleanup } from '../test/chaos/cleanup.js'
import { firstAnswerSentAfter, spread, type Spread } from '../test/chaos/downtime.js'
import { DIST, HTTP_PORT, Lab, sleep } from '../test/chaos/lab.js'
import { FLOATING_ADDRESS, hostOf } from '../test/chaos/network.js'

export const KEEPALIVED = ['/usr/sbin/keepalived', '/sbin/keepalived'].find(existsSync) ?? null
const HOSTS = ['a', 'b'] as const
const READY_WITHIN_MS = 30_000

export interface KeepalivedProfile { advertIntS: number; vrrpVersion: 2 | 3 }

export interface KeepalivedResult extends Spread {
  version: string
  masterDownMs: number
  /** Cuts not counted: the backup was already master (it had missed advertisements) when the master was cut. */
  discarded: number
}

export function keepalivedVersion(): string {
  if (KEEPALIVED === null) return 'not installed'
  // keepalived prints its version on stderr.
  const r = spawnSync(KEEPALIVED, ['--version'], { encoding: 'utf8' })
  return /Keepalived v(\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown'
}

/** 3 x advert_int + (256 - priority) / 256 x advert_int, priority 100. */
export const masterDownMs = (p: KeepalivedProfile): number => Math.round((3 + (256 - 100) / 256) * p.advertIntS * 1000)

function config(name: string, p: KeepalivedProfile): string {
  return `global_defs {
  router_id carb_${name}
  vrrp_version ${p.vrrpVersion}
}
vrrp_instance web {
  state BACKUP
  nopreempt
  interface carb0
  virtual_router_id 51
  priority 100
  advert_int ${p.advertIntS}
  virtual_ipaddress {
    ${FLOATING_ADDRESS}/24 dev carb0
  }
}
`
}

/** keepalived's state changes as it logs them ("Entering MASTER STATE"), with when this process read them. */
interface StateChange { state: string; atMs: number }
interface HostProcs { server: ChildProcess; keepalived: ChildProcess; states: StateChange[] }

/** The host boots: its HTTP server, then keepalived (in the foreground, logging to stdout). */
async function bootHost(lab: Lab, name: string, p: KeepalivedProfile, procs: Map<string, HostProcs>): Promise<void> {
  if (!lab.isOn(name)) await lab.powerOn(name)
  const netns = hostOf(lab.net, name).netns
  const conf = join(lab.dir, `keepalived-${name}.conf`)
  await writeFile(conf, config(name, p))
  const ready = join(lab.dir, `ready-${name}-${Date.now()}`)
  const server = spawn('ip', ['netns', 'exec', netns, process.execPath, DIST.server, String(HTTP_PORT), name, '/dev/null', ready], { stdio: 'ignore' })
  for (const until = Date.now() + READY_WITHIN_MS; !existsSync(ready); await sleep(20)) if (Date.now() > until) throw new Error(`keepalived bench: the HTTP server on ${name} does not listen`)
  const pid = (f: string): string => join(lab.dir, `keepalived-${name}.${f}.pid`)
  // A boot starts with an empty /run: a pid file left by the power cut would name a live process of the other host.
  for (const f of ['main', 'vrrp']) await rm(pid(f), { force: true })
  const keepalived = spawn('ip', ['netns', 'exec', netns, KEEPALIVED!, '--dont-fork', '--log-console', '--log-detail', '--no-syslog', '--vrrp', '--use-file', conf, '--pid', pid('main'), '--vrrp_pid', pid('vrrp')], { stdio: ['ignore', 'pipe', 'pipe'] })
  const states: StateChange[] = []
  for (const stream of [keepalived.stdout!, keepalived.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => { const m = /Entering (\w+) STATE/.exec(line); if (m !== null) states.push({ state: m[1]!, atMs: Date.now() }) })
  }
  procs.set(name, { server, keepalived, states })
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  for (const until = Date.now() + timeoutMs; !check(); await sleep(20)) if (Date.now() > until) throw new Error(`keepalived bench: not within ${timeoutMs} ms: ${what}`)
}

/** `runs` power cuts of the master at profile `p`; the distribution of cut to first answer. */
export async function benchKeepalived(runs: number, p: KeepalivedProfile): Promise<KeepalivedResult> {
  if (KEEPALIVED === null) throw new Error('keepalived is not installed (Debian package keepalived)')
  const cleanup = new Cleanup()
  const samples: number[] = []
  let discarded = 0
  try {
    const lab = await Lab.create(cleanup, { hosts: HOSTS, say: () => {} })
    const procs = new Map<string, HostProcs>()
    cleanup.add('stopping keepalived and the servers', () => { for (const h of procs.values()) for (const c of [h.keepalived, h.server]) if (c.exitCode === null) c.kill('SIGKILL') })
    for (const name of HOSTS) await bootHost(lab, name, p, procs)
    lab.startClient()
    await waitFor('an answer from the master', () => lab.steadyOwner(5, 0) !== null, READY_WITHIN_MS)
    for (let attempt = 0; samples.length < runs; attempt++) {
      if (attempt >= 2 * runs) throw new Error(`keepalived bench: ${discarded} of ${attempt} samples discarded (the backup became master before the cut)`)
      const master = lab.steadyOwner(5, 0)!
      const backup = HOSTS.find((h) => h !== master)!
      const isBackup = (): boolean => procs.get(backup)!.states.at(-1)?.state === 'BACKUP'
      await waitFor(`${backup} is BACKUP`, isBackup, READY_WITHIN_MS)
      // Cut at a random phase of the advertisement cycle, as a real crash would.
      await sleep(Math.random() * p.advertIntS * 1000)
      const cutAt = Date.now()
      const backupBeforeCut = isBackup()
      await lab.powerOff(master)
      // Requests sent while the cut was under way may still have been answered by the master.
      const offAt = Date.now()
      await waitFor(`an answer from ${backup} after the cut`, () => firstAnswerSentAfter(lab.answers, offAt) !== undefined, READY_WITHIN_MS)
      const first = firstAnswerSentAfter(lab.answers, offAt)!
      if (first.node !== backup) throw new Error(`keepalived bench: ${first.node} answered after ${master} was cut`)
      // A sample counts only if the backup became master because of the cut: a backup that
      // missed advertisements (a loaded machine) and took over before it had two masters.
      const tookOver = procs.get(backup)!.states.filter((c) => c.state === 'MASTER').at(-1)
      if (backupBeforeCut && tookOver !== undefined && tookOver.atMs >= cutAt) samples.push(first.doneMs - cutAt)
      else discarded += 1
      await bootHost(lab, master, p, procs)
      const bootedAt = Date.now()
      await waitFor(`one master, one backup, and steady answers from the master after ${master} booted`, () => {
        const last = HOSTS.map((h) => procs.get(h)!.states.at(-1)?.state)
        const leader = HOSTS.find((_, i) => last[i] === 'MASTER')
        return leader !== undefined && last.filter((x) => x === 'BACKUP').length === 1 && lab.steadyOwner(5, bootedAt) === leader
      }, READY_WITHIN_MS)
      lab.forgetAnswersBefore(cutAt)
    }
  } finally {
    await cleanup.run()
  }
  return { ...spread(samples)!, version: keepalivedVersion(), masterDownMs: masterDownMs(p), discarded }
}
