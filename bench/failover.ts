/**
 * Failover time: SIGKILL (or, for the handover, SIGTERM) of the node that runs a service to the
 * moment the service's start script has completed on the survivor, at the given timings (shipped defaults unless told
 * otherwise). Two real `carbonado node run` processes on loopback share a file-backed quorum
 * disk; the service is added with the real CLI and has one LSB script resource whose `start`
 * appends "<node> started <ns since the epoch>" as its last act, so the sample is read from
 * the file, not from when the bench happened to poll it.
 *
 * A "dead machine" is its node process and the service's worker, both SIGKILLed. Failback is
 * off and the victim alternates: the killed node is restarted as a fresh process and rejoins
 * while the survivor keeps the service, and the next sample kills the survivor. One sample
 * then costs one failover plus one rejoin; failback (default failbackStableMs 30000) would
 * add a 30 s wait and a stop/release/acquire/start on every sample without measuring more.
 *
 * The survivor's log splits each sample: detection (kill to its "dead" decision on the
 * victim, or its "left" one after SIGTERM), lease (dead to its service machine entering `starting`, i.e. the placement on the
 * next disk cycle and the disk-Paxos acquisition), start (to the script's "started" line).
 */
import { chmod, writeFile } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestCluster, runCli, type LogLine } from '../test/helpers/cluster.js'
import { DEFAULT_TIMING, type Timing } from '../src/config/timing.js'
import { distribution, type Distribution } from './detection.js'

export interface FailoverResult extends Distribution {
  /** Parts of each sample, from the survivor's log: kill→dead, dead→starting, starting→started. */
  detection: Distribution
  lease: Distribution
  start: Distribution
}

const NODES = ['a', 'b'] as const
const UP_WITHIN_MS = 30_000
const POLL_MS = 20

/** The service: start runs a worker (the service) and records its completion; stop and status per LSB. */
const SCRIPT = `#!/bin/sh
# Failover bench service. start: launch the worker, then append "<node> started <ns>" and exit 0.
# stop: 0 once the worker is gone (also when it was not running). status: 0 running, 3 stopped.
dir="BENCH_DIR"
node="\${CARBONADO_NODE:?CARBONADO_NODE is not set}"
pidfile="$dir/$node.pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$1" in
  start)
    if ! running; then
      # The worker also ends when the node that started it is gone, so a bench that dies leaks nothing.
      nodepid=$PPID
      ( while kill -0 "$nodepid" 2>/dev/null; do sleep 1; done ) </dev/null >/dev/null 2>&1 &
      echo $! > "$pidfile"
    fi
    echo "$node started $(date +%s%N)" >> "$dir/starts.log"
    exit 0 ;;
  stop)
    if running; then kill "$(cat "$pidfile")"; while running; do sleep 0.02; done; fi
    rm -f "$pidfile"
    exit 0 ;;
  status)
    if running; then exit 0; fi
    exit 3 ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2 ;;
esac
`

interface Start { node: string; atMs: number }

function starts(c: TestCluster): Start[] {
  const file = join(c.dir, 'starts.log')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    const m = /^(\S+) started (\d+)$/.exec(line.trim())
    return m === null ? [] : [{ node: m[1]!, atMs: Number(BigInt(m[2]!) / 1000n) / 1000 }]
  })
}

/** The first start on `node` among the lines after the first `seen`; rejects after timeoutMs. */
async function waitStart(c: TestCluster, node: string, seen: number, timeoutMs: number): Promise<Start> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const hit = starts(c).slice(seen).find((s) => s.node === node)
    if (hit !== undefined) return hit
    if (Date.now() > deadline) {
      const logs = [...c.nodes.values()].map((p) => `--- ${p.name}\n${p.raw.filter((l) => !l.includes('"machine":"peer')).slice(-20).join('\n')}`).join('\n')
      throw new Error(`failover bench: ${node} did not start the service within ${timeoutMs} ms; starts ${JSON.stringify(starts(c))}\n${logs}`)
    }
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

function killWorker(c: TestCluster, node: string): void {
  const file = join(c.dir, `${node}.pid`)
  if (!existsSync(file)) return
  try { process.kill(Number(readFileSync(file, 'utf8').trim()), 'SIGKILL') } catch { /* already gone */ }
}

function expectStarts(c: TestCluster, count: number): void {
  const seen = starts(c)
  if (seen.length !== count) throw new Error(`failover bench: expected ${count} starts of the service, found ${JSON.stringify(seen)}`)
}

const serviceEntered = (to: string) => (l: LogLine): boolean => typeof l.machine === 'string' && l.machine.startsWith('service:web#') && l.to === to

async function bothUp(c: TestCluster, from: Record<string, number>): Promise<void> {
  for (const o of NODES) for (const p of NODES) if (o !== p) await c.waitPeer(o, p, 'up', UP_WITHIN_MS, from[o] ?? 0)
}

/**
 * How the owner goes: SIGKILL of the node and its worker (a dead machine: peers must detect it
 * and prove it gone), or SIGTERM of the node (a clean stop: it stops the service, releases the
 * lease and writes "down", so peers count it left and take over at once).
 */
export type Ending = 'SIGKILL' | 'SIGTERM'

/** One failover: end `victim`, wait for the survivor's start; returns the sample and its parts. */
async function failOnce(c: TestCluster, victim: string, survivor: string, timing: Timing, ending: Ending): Promise<{ totalMs: number; detectionMs: number; leaseMs: number; startMs: number }> {
  // At a random phase of the disk cycle, as a real crash or a stop would come.
  await new Promise((r) => setTimeout(r, Math.random() * timing.diskIntervalMs))
  const mark = c.node(survivor).lines.length
  const seen = starts(c).length
  const killedAt = Date.now()
  if (ending === 'SIGKILL') {
    c.node(victim).child.kill('SIGKILL')
    killWorker(c, victim)
  } else {
    c.node(victim).child.kill('SIGTERM')
  }
  const started = await waitStart(c, survivor, seen, timing.diskDeadAfterMs * 3)
  if (ending === 'SIGTERM' && await c.node(victim).exited !== 0) throw new Error(`failover bench: ${victim} did not stop cleanly on SIGTERM`)
  const dead = await c.waitPeer(survivor, victim, ending === 'SIGKILL' ? 'dead' : 'left', 5000, mark)
  const starting = await c.waitFor(survivor, serviceEntered('starting'), 5000, mark)
  const deadAt = Date.parse(dead.time)
  const startingAt = Date.parse(starting.time)
  return { totalMs: Math.round(started.atMs - killedAt), detectionMs: deadAt - killedAt, leaseMs: startingAt - deadAt, startMs: Math.round(started.atMs - startingAt) }
}

export async function benchFailover(runs: number, timing: Timing = DEFAULT_TIMING, ending: Ending = 'SIGKILL'): Promise<FailoverResult> {
  const c = await TestCluster.create([...NODES], { timing: { ...timing } })
  const parts = { total: [] as number[], detection: [] as number[], lease: [] as number[], start: [] as number[] }
  try {
    const script = join(c.dir, 'bench-service.sh')
    await writeFile(script, SCRIPT.replace('BENCH_DIR', c.dir))
    await chmod(script, 0o755)
    c.startAll()
    await bothUp(c, {})
    const added = runCli(['service', 'add', 'web', '--domain', NODES.join(','), '--failback', 'off', '--resource', `{type: script, name: app, path: ${script}}`, '-c', c.file, '--node', 'a'])
    if (added.code !== 0) throw new Error(`failover bench: service add failed: ${added.stdout}${added.stderr}`)
    let owner = (await waitStart(c, 'a', 0, UP_WITHIN_MS)).node
    for (let run = 0; run < runs; run++) {
      // One start to begin with and one per failover: anything else is a service that moved (or ran twice) unasked.
      expectStarts(c, run + 1)
      const survivor = NODES.find((n) => n !== owner)!
      const sample = await failOnce(c, owner, survivor, timing, ending)
      parts.total.push(sample.totalMs)
      parts.detection.push(sample.detectionMs)
      parts.lease.push(sample.leaseMs)
      parts.start.push(sample.startMs)
      // The machine comes back as a fresh process; the survivor keeps the service (failback off).
      const marks = Object.fromEntries(NODES.map((n) => [n, n === owner ? 0 : c.node(n).lines.length]))
      c.start(owner)
      await bothUp(c, marks)
      owner = survivor
    }
    expectStarts(c, runs + 1)
  } finally {
    await cleanup(c)
  }
  return { ...distribution(parts.total), detection: distribution(parts.detection), lease: distribution(parts.lease), start: distribution(parts.start) }
}

/** Node processes first (so no new start runs), then the workers, then the directory. */
async function cleanup(c: TestCluster): Promise<void> {
  for (const p of c.nodes.values()) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
    await p.exited
  }
  for (const n of NODES) killWorker(c, n)
  await c.destroy()
}
