/**
 * The chaos lab: a temp dir, the network of network.ts (hosts, switch, client), the power of
 * each host, and the client process that polls the floating address over HTTP. What runs on
 * the hosts is added on top: Carbonado (cluster.ts) or, for the comparison bench, keepalived.
 *
 * Every step registers its undo with the Cleanup (newest first): the client, then the
 * namespaces (SIGKILL of everything in them), then the temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { packageRoot } from '../helpers/cluster.js'
import type { Cleanup } from './cleanup.js'
import { parseAnswer, type Answer } from './downtime.js'
import { FLOATING_ADDRESS, LAB_PREFIX, createNetwork, cutPower, hostOf, restorePower, type LabNetwork, type LossMethod } from './network.js'

export const ROOT = packageRoot(import.meta.dirname)
/** Compiled helpers the lab runs as processes (`npm run build` / the test suite's pretest build them). */
export const DIST = {
  cli: join(ROOT, 'dist/src/cli/main.js'),
  client: join(ROOT, 'dist/test/chaos/client.js'),
  server: join(ROOT, 'dist/test/chaos/http-server.js'),
  pduAgent: join(ROOT, 'dist/test/chaos/pdu-agent.js'),
}
export const HTTP_PORT = 8080
/** A lab directory kept for a post-mortem holds this file; the sweep of dead labs leaves it. */
export const KEPT_MARK = '.kept'
/** The client's pace: a request every 50 ms, each given 1 s, at most 40 at once. */
export const CLIENT_INTERVAL_MS = 50
const CLIENT_TIMEOUT_MS = 1000
const CLIENT_IN_FLIGHT_MAX = 40

export interface LabOptions {
  hosts: readonly string[]
  say: (line: string) => void
  /** Keep the temp dir (logs, witness, journals) after the run. */
  keep?: boolean
  loss?: LossMethod
}

export class Lab {
  /** Every answer the client got since the last `forgetAnswersBefore`. */
  answers: Answer[] = []
  private client: ChildProcess | null = null
  private readonly powered = new Map<string, boolean>()
  /** One power operation at a time per host (the switch and the harness may act at once). */
  private readonly powerLocks = new Map<string, Promise<unknown>>()

  private constructor(readonly cleanup: Cleanup, readonly dir: string, readonly net: LabNetwork, readonly say: (line: string) => void) {
    for (const host of net.hosts) this.powered.set(host.name, true)
  }

  static async create(cleanup: Cleanup, options: LabOptions): Promise<Lab> {
    const dir = await mkdtemp(join(tmpdir(), `${LAB_PREFIX}-${process.pid}-`))
    cleanup.add(`removing ${dir}`, async () => {
      if (options.keep !== true) return rm(dir, { recursive: true, force: true })
      await writeFile(join(dir, KEPT_MARK), 'kept by --keep: sweep.ts leaves this directory alone\n')
      options.say(`# kept ${dir}`)
    })
    const net = createNetwork(cleanup, options.hosts, options.loss)
    return new Lab(cleanup, dir, net, options.say)
  }

  get hostNames(): string[] { return this.net.hosts.map((h) => h.name) }

  isOn(name: string): boolean { return this.powered.get(name) === true }

  private locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.powerLocks.get(name) ?? Promise.resolve()).then(fn, fn)
    this.powerLocks.set(name, next.catch(() => undefined))
    return next
  }

  /** The power cut (hosts.ts powerOff): every process of the host, its link and its addresses. */
  powerOff(name: string): Promise<number[]> {
    return this.locked(name, async () => {
      this.powered.set(name, false)
      return cutPower(hostOf(this.net, name))
    })
  }

  /** Boot: the interface up with the host's own address only; what runs on it is started by the caller. */
  powerOn(name: string): Promise<void> {
    return this.locked(name, async () => {
      restorePower(hostOf(this.net, name))
      this.powered.set(name, true)
    })
  }

  /** Starts the client in its namespace, polling http://FLOATING:8080/. */
  startClient(): void {
    const url = `http://${FLOATING_ADDRESS}:${HTTP_PORT}/`
    const child = spawn('ip', ['netns', 'exec', this.net.client.netns, process.execPath, DIST.client, url, String(CLIENT_INTERVAL_MS), String(CLIENT_TIMEOUT_MS), String(CLIENT_IN_FLIGHT_MAX)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    this.cleanup.add('stopping the client', async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const answer = parseAnswer(line)
      if (answer !== null) this.answers.push(answer)
    })
    createInterface({ input: child.stderr! }).on('line', (line) => this.say(`# client: ${line}`))
    this.client = child
  }

  /** Drops answers that ended before `ms` (a long soak keeps only what it still measures). */
  forgetAnswersBefore(ms: number): void {
    this.answers = this.answers.filter((a) => a.doneMs >= ms)
  }

  /** The node named by the last `count` answers, if they all came from it and all after `sinceMs`; else null. */
  steadyOwner(count: number, sinceMs: number): string | null {
    const recent = this.answers.slice(-count)
    if (recent.length < count || recent.some((a) => a.node === null || a.sentMs < sinceMs)) return null
    const [first] = recent
    return recent.every((a) => a.node === first!.node) ? first!.node : null
  }

  get clientRunning(): boolean {
    return this.client !== null && this.client.exitCode === null && this.client.signalCode === null
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
