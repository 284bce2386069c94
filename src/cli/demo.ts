/**
 * `carbonado demo`: a cluster on this machine in a temporary directory: N nodes on
 * loopback (two heartbeat channels each), a file-backed quorum disk, a fast timing
 * profile. Prints every decision and a status table; kill a node and watch the others.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSocket } from 'node:dgram'
import { createInterface } from 'node:readline'
import { parseFlags, positiveNumber } from './args.js'
import { CarbError } from '../errors.js'
import { generateKeyFile } from '../net/key-file.js'
import { diskInit } from '../disk/commands.js'
import { fetchStatus } from './status.js'
import { formatStatus } from '../runtime/status-view.js'
import { findNode, loadConfig } from '../config/load.js'

/** Fast enough to watch, and still satisfying every timing relation. */
export const DEMO_TIMING = { heartbeatIntervalMs: 250, peerDeadAfterMs: 2000, diskIntervalMs: 500, selfFenceAfterMs: 3000, diskDeadAfterMs: 4000 }

async function freePort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  socket.close()
  return port
}

export async function writeDemoCluster(dir: string, nodes: number): Promise<string> {
  const names = 'abcdefghijklmnop'.slice(0, nodes).split('')
  const lines = ['cluster: demo', 'disk: quorum.disk', 'authKeyFile: authkey', 'journalDir: journal/{node}', 'controlSocket: run/{node}.sock', 'timing:']
  for (const [k, v] of Object.entries(DEMO_TIMING)) lines.push(`  ${k}: ${v}`)
  lines.push('nodes:')
  for (const [i, name] of names.entries()) {
    lines.push(`  - name: ${name}`, `    id: ${i + 1}`, `    heartbeat: ["127.0.0.1:${await freePort()}", "127.0.0.1:${await freePort()}"]`)
  }
  const file = join(dir, 'cluster.yaml')
  await writeFile(file, `${lines.join('\n')}\n`)
  await generateKeyFile(join(dir, 'authkey'))
  await diskInit(join(dir, 'quorum.disk'), { clusterName: 'demo', geometry: { blockSize: 512, maxNodes: 16, maxServices: 16, configBlocks: 16 } })
  return file
}

function startNode(cli: string, file: string, name: string): ChildProcess {
  const child = spawn(process.execPath, [cli, 'node', 'run', '-c', file, '--node', name], { stdio: ['ignore', 'pipe', 'pipe'] })
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`))
  }
  return child
}

export async function demo(args: string[]): Promise<number> {
  const { values } = parseFlags('demo', args, { nodes: { type: 'string' }, dir: { type: 'string' }, interval: { type: 'string' }, duration: { type: 'string' }, keep: { type: 'boolean' } })
  const count = positiveNumber('demo', 'nodes', values.nodes, 3)
  if (!Number.isInteger(count) || count < 2 || count > 16) throw new CarbError('CARB_ERR_USAGE', `demo: --nodes must be 2..16, got ${count}`)
  const dir = typeof values.dir === 'string' ? values.dir : await mkdtemp(join(tmpdir(), 'carbonado-demo-'))
  const file = await writeDemoCluster(dir, count)
  const cli = process.argv[1]!
  const names = 'abcdefghijklmnop'.slice(0, count).split('')
  const children = new Map(names.map((n) => [n, startNode(cli, file, n)]))
  process.stdout.write(`demo cluster in ${dir}: ${names.map((n) => `${n} (pid ${children.get(n)!.pid})`).join(', ')}\n`)
  process.stdout.write(`try: kill -9 ${children.get(names[names.length - 1]!)!.pid}   # and watch the others declare it dead\n`)
  process.stdout.write(`     kill -STOP ${children.get(names[0]!)!.pid}; sleep 6; kill -CONT ${children.get(names[0]!)!.pid}   # it fences itself and rejoins\n`)
  process.stdout.write(`     node ${cli} status -c ${file} --node ${names[0]} --interval 2\n`)
  const intervalMs = positiveNumber('demo', 'interval', values.interval, 5) * 1000
  const timer = setInterval(() => { void printStatus(file, names, children) }, intervalMs)
  const durationMs = values.duration === undefined ? null : positiveNumber('demo', 'duration', values.duration, 1) * 1000
  let durationTimer: NodeJS.Timeout | undefined
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
    if (durationMs !== null) durationTimer = setTimeout(resolve, durationMs)
  })
  clearTimeout(durationTimer)
  clearInterval(timer)
  await stopAll(children)
  if (values.keep !== true && typeof values.dir !== 'string') await rm(dir, { recursive: true, force: true })
  process.stdout.write(`demo stopped${values.keep === true || typeof values.dir === 'string' ? `; files kept in ${dir}` : ''}\n`)
  return 0
}

async function printStatus(file: string, names: string[], children: Map<string, ChildProcess>): Promise<void> {
  const config = await loadConfig(file)
  const alive = names.find((n) => children.get(n)!.exitCode === null && children.get(n)!.signalCode === null)
  if (alive === undefined) return
  try {
    process.stdout.write(`\n${formatStatus(await fetchStatus(findNode(config, alive).controlSocket))}\n\n`)
  } catch (error) {
    process.stdout.write(`(status of ${alive} unavailable: ${(error as Error).message})\n`)
  }
}

async function stopAll(children: Map<string, ChildProcess>): Promise<void> {
  const waits = [...children.values()].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return }
    child.once('exit', () => resolve())
    child.kill('SIGCONT')
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  }))
  await Promise.all(waits)
}
