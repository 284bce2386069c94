/**
 * "Disk Paxos: racing processes": real node processes, each with its own QuorumDisk on one
 * disk file, propose at once. Checkers: every instance learned with one value by everyone,
 * instances contiguous; lease holders never overlap; a proposer SIGKILLed between phase 2 and
 * its commit has its value adopted and committed by the next one.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { readRegister } from '../../src/disk/paxos-register.js'
import { readLease } from '../../src/disk/lease.js'
import { leaseSlot, type Geometry } from '../../src/disk/layout.js'
import { transpileTree } from './fixtures/transpile.js'

const REPO = join(import.meta.dirname, '..', '..')
/** The worker and the disk code it imports, transpiled to plain JS once (fixtures/transpile.ts says why). */
const WORKER = transpileTree(join(import.meta.dirname, 'fixtures', 'paxos-worker.ts'), REPO, t.testdir())
const small: Geometry = { blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 }
/** The subtest type (tap's last `test` overload takes only the callback). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]
const REGISTER_NODES = [1, 2, 3, 4]
const REGISTER_ITERATIONS = 50
const LEASE_NODES = [1, 2, 3]
const LEASE_HOLDS = 8

interface Worker { child: ChildProcess; out: string; err: string; exited: Promise<[number | null, string | null]> }

function startWorker(t: TapTest, args: string[], env: Record<string, string> = {}): Worker {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  const worker: Worker = { child, out: '', err: '', exited: once(child, 'exit') as Promise<[number | null, string | null]> }
  child.stdout!.on('data', (chunk: Buffer) => { worker.out += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { worker.err += chunk.toString() })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  return worker
}

async function until(worker: Worker, text: string): Promise<void> {
  for (let i = 0; i < 600 && !worker.out.includes(text); i++) {
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) throw new Error(`worker ended before "${text}": ${worker.err}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (!worker.out.includes(text)) throw new Error(`worker never printed "${text}": ${worker.err}`)
}

/** Start workers, let them all open the disk, then release them at once; wait for their stats. */
async function race(t: TapTest, argsList: string[][]): Promise<Record<string, number>[]> {
  const workers = argsList.map((args) => startWorker(t, args))
  const spawnedAt = performance.now()
  for (const w of workers) await until(w, 'ready\n')
  t.comment(`${workers.length} workers ready after ${(performance.now() - spawnedAt).toFixed(0)} ms`)
  for (const w of workers) w.child.stdin!.write('go\n')
  const stats: Record<string, number>[] = []
  for (const w of workers) {
    const [code] = await w.exited
    t.equal(code, 0, `worker exited cleanly ${w.err}`)
    const line = /done (\{.*\})\n/.exec(w.out)
    stats.push(line === null ? {} : JSON.parse(line[1]!))
  }
  return stats
}

async function freshDisk(dir: string): Promise<string> {
  const path = join(dir, 'quorum.disk')
  await QuorumDisk.init(path, { clusterName: 'race', geometry: small })
  return path
}

interface Learned { instance: number; value: string; how: string }

async function readLog(path: string): Promise<Learned[]> {
  const text = await fs.readFile(path, 'utf8').catch(() => '')
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Learned)
}

/** The checker: per instance one value across every log; instances 1..max all learned; each log in order. */
function checkLearned(logs: Learned[][]): { problems: string[]; instances: number } {
  const problems: string[] = []
  const byInstance = new Map<number, Set<string>>()
  logs.forEach((log, i) => {
    for (let k = 1; k < log.length; k++) if (log[k]!.instance < log[k - 1]!.instance) problems.push(`log ${i + 1} goes back from ${log[k - 1]!.instance} to ${log[k]!.instance}`)
    for (const entry of log) byInstance.set(entry.instance, (byInstance.get(entry.instance) ?? new Set()).add(entry.value))
  })
  for (const [instance, values] of byInstance) if (values.size > 1) problems.push(`instance ${instance} learned as ${[...values].join(' and ')}`)
  const numbers = [...byInstance.keys()].sort((a, b) => a - b)
  numbers.forEach((n, i) => { if (n !== i + 1) problems.push(`instance ${i + 1} missing (next learned is ${n})`) })
  return { problems: problems.slice(0, 10), instances: numbers.length }
}

t.test('four processes propose on one register at once: one value per instance, no gaps', async (t) => {
  const dir = t.testdir()
  const path = await freshDisk(dir)
  const logs = REGISTER_NODES.map((n) => join(dir, `node${n}.jsonl`))
  const stats = await race(t, REGISTER_NODES.map((n) => ['register', path, String(n), logs[n - 1]!, String(REGISTER_ITERATIONS)]))
  const learned = await Promise.all(logs.map(readLog))
  const { problems, instances } = checkLearned(learned)
  t.same(problems, [], 'every process learned the same value for every instance')
  const foreign = learned.flatMap((log, i) => log.filter((e) => e.how === 'decided' && !e.value.startsWith(`n${i + 1}#`)))
  t.same(foreign, [], '"decided" (mine) is always the process\'s own value')
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  const final = await readRegister(disk, 1)
  t.equal(final.instance, instances, 'the register ends at the last instance anyone learned')
  const total = (field: string): number => stats.reduce((sum, s) => sum + (s[field] ?? 0), 0)
  t.equal(total('decided') + total('adopted') + total('stale') + total('contention') + total('io'), REGISTER_NODES.length * REGISTER_ITERATIONS, 'every iteration accounted for')
  t.ok(total('decided') >= instances - total('adopted'), 'each instance was decided by someone')
  t.equal(total('io'), 0, 'no I/O failures on a healthy disk')
  t.ok(total('contention') + total('stale') > 0, 'the processes did collide')
  t.comment(`${instances} instances; per node ${JSON.stringify(stats.map(({ decided, adopted, stale, contention, ms }) => ({ decided, adopted, stale, contention, ms })))}`)
})

/** start/stop lines in append order; intervals must be disjoint in both order and hrtime. */
function checkWitness(text: string): { problems: string[]; holds: Map<number, number> } {
  const problems: string[] = []
  const holds = new Map<number, number>()
  let holder: { node: number; at: bigint } | null = null
  let lastStop = 0n
  for (const line of text.split('\n').filter((l) => l !== '')) {
    const [what, nodeText, atText] = line.split(' ')
    const node = Number(nodeText)
    const at = BigInt(atText!)
    if (what === 'start') {
      if (holder !== null) problems.push(`node ${node} started while node ${holder.node} held the lease`)
      if (at < lastStop) problems.push(`node ${node} started at ${at}, before the previous stop at ${lastStop}`)
      holder = { node, at }
      holds.set(node, (holds.get(node) ?? 0) + 1)
    } else {
      if (holder?.node !== node) problems.push(`node ${node} stopped without holding the lease`)
      holder = null
      lastStop = at
    }
  }
  if (holder !== null) problems.push(`node ${holder.node} never stopped`)
  return { problems: problems.slice(0, 10), holds }
}

t.test('three processes race for one service lease: holders never overlap', async (t) => {
  const dir = t.testdir()
  const path = await freshDisk(dir)
  const witness = join(dir, 'witness.log')
  await fs.writeFile(witness, '')
  const stats = await race(t, LEASE_NODES.map((n) => ['lease', path, String(n), witness, String(LEASE_HOLDS)]))
  const { problems, holds } = checkWitness(await fs.readFile(witness, 'utf8'))
  t.same(problems, [], 'no two holders at once')
  t.same(LEASE_NODES.map((n) => holds.get(n)), LEASE_NODES.map(() => LEASE_HOLDS), 'each node held it as many times as it asked')
  t.equal(stats.reduce((sum, s) => sum + (s.releaseFailures ?? 0), 0), 0, 'every release succeeded')
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  t.match(await readLease(disk, 0), { holder: 0, failedOn: [] }, 'free at the end')
  t.comment(`${LEASE_NODES.length * LEASE_HOLDS} holds; per node ${JSON.stringify(stats.map(({ acquired, refused, ms }) => ({ acquired, refused, ms })))}`)
})

t.test('a proposer SIGKILLed between phase 2 and its commit: the next one adopts and commits its value', async (t) => {
  const dir = t.testdir()
  const path = await freshDisk(dir)
  const logA = join(dir, 'a.jsonl')
  const a = startWorker(t, ['register', path, '1', logA, '5'], { CARB_TEST_KILL_BEFORE_COMMIT: '3' })
  await until(a, 'ready\n')
  a.child.stdin!.write('go\n')
  const [, signal] = await a.exited
  t.equal(signal, 'SIGKILL', 'the worker killed itself before its third commit')
  t.same((await readLog(logA)).filter((e) => e.how === 'decided').map((e) => e.instance), [1, 2], 'it had decided two instances')
  const disk = await QuorumDisk.open(path)
  t.teardown(() => disk.close())
  t.same(await readRegister(disk, 1), { instance: 2, value: 'n1#2' }, 'instance 3 is not committed')
  const own = await disk.readBlock('lease', leaseSlot(disk.geometry, 1, 1))
  t.match(own, { ok: true, block: { payload: { instance: 3, bal: 65536 + 1, inp: 'n1#3', committed: { instance: 2 } } } }, 'but node 1 accepted n1#3 for it')

  const logB = join(dir, 'b.jsonl')
  const stats = await race(t, [['register', path, '2', logB, '1']])
  t.match(stats, [{ adopted: 1 }])
  t.match(await readLog(logB), [{ instance: 2, value: 'n1#2', how: 'read' }, { instance: 3, value: 'n1#3', how: 'adopted' }], 'node 2 proposed for instance 3 and decided node 1\'s value')
  t.same(await readRegister(disk, 1), { instance: 3, value: 'n1#3' }, 'committed')
})
