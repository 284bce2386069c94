/**
 * A network power switch (a PDU) for test "machines" (TestCluster `machines: true`): it stands
 * outside every machine, as a real one does. "off PLUG" runs the project's stand-in switch,
 * test/fence/fixtures/fence_kill, in this process's (host) PID namespace, and answers only once
 * the whole machine is gone. Nodes reach it through test/integration/fixtures/fencing-agents-pdu,
 * an ordinary fence agent of the fence-agents stdin protocol (ipaddr, ipport, port). fence_kill
 * itself cannot be a node's agent here: run inside one machine's PID namespace, it cannot signal
 * a process of another machine.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { switchServer } from './switch-lines.js'
import { join } from 'node:path'
import { packageRoot } from './cluster.js'

/** From the sources, also when this file runs compiled from dist/ (test/journals/make-sample.ts). */
const ROOT = packageRoot(import.meta.dirname)
const FENCE_KILL = join(ROOT, 'test/fence/fixtures/fence_kill')
/** The PDU agent and an agent that cannot reach its device (executables in the sources). */
export const PDU_AGENT = join(ROOT, 'test/integration/fixtures/fencing-agents-pdu')
export const FAILING_AGENT = join(ROOT, 'test/integration/fixtures/fencing-agents-fail')
const POLL_MS = 50
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** One "off" the switch carried out: fence_kill's word, and when the whole machine was seen gone. */
export interface Cut { action: string; plug: string; code: number; output: string; killedAtMs: number; answeredAtMs: number }

export interface PowerSwitch {
  port: number
  cuts: Cut[]
  piddir: string
  /** How long the switch takes to act on "off" (a real PDU's relay, a BMC's power command take a while). */
  actMs: number
  close: () => Promise<void>
}

/** fence_kill, run here (host PID namespace) against the plugs of `piddir`. */
function fenceKill(piddir: string, action: string, plug: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', [FENCE_KILL], { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (d: Buffer) => { output += d.toString('utf8') })
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
    child.stdin.end(`action=${action}\nport=${plug}\npiddir=${piddir}\n`)
  })
}

/** The processes directly under `pid` (for a machine's plug: its node daemon, PID 1 of the machine). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number)
  } catch {
    return []
  }
}

/** How long the switch waits for a machine's last process after fence_kill reported it off. */
const MACHINE_GONE_WAIT_MS = 5000

/**
 * "off PLUG": fence_kill cuts the plug; the switch answers only once the machine's PID 1 (the
 * node daemon) is gone too, which the kernel allows only after every process of the machine
 * died. fence_kill alone reports "off" when the plug process is gone, which comes first: the
 * daemon dies of the plug's death signal an instant later, and its service workers after it.
 */
async function switchOff(sw: PowerSwitch, action: string, plug: string): Promise<{ code: number; output: string }> {
  const plugFile = join(sw.piddir, `${plug}.pid`)
  const plugPid = /^[a-z0-9_-]+$/.test(plug) && existsSync(plugFile) ? Number(readFileSync(plugFile, 'utf8').trim()) : null
  const inside = plugPid === null ? [] : childrenOf(plugPid)
  await sleep(sw.actMs)
  const killed = await fenceKill(sw.piddir, action, plug)
  const killedAtMs = Date.now()
  let { code, output } = killed
  for (let waited = 0; code === 0 && inside.some(alive); waited += POLL_MS) {
    if (waited >= MACHINE_GONE_WAIT_MS) { code = 1; output += `Failed: machine ${plug} still has processes ${inside.filter(alive).join(' ')} after ${MACHINE_GONE_WAIT_MS} ms\n`; break }
    await sleep(POLL_MS)
  }
  sw.cuts.push({ action, plug, code, output, killedAtMs, answeredAtMs: Date.now() })
  return { code, output }
}

/** A network PDU on 127.0.0.1: "ACTION PLUG" in, fence_kill's output and "exit N" out. */
export async function startSwitch(actMs = 0): Promise<PowerSwitch> {
  const sw: PowerSwitch = { port: 0, cuts: [], piddir: '', actMs, close: async () => {} }
  const { server, close } = switchServer(async (action, plug) => {
    const { code, output } = await (action === 'off' || action === 'reboot' ? switchOff(sw, action, plug) : fenceKill(sw.piddir, action, plug))
    return `${output.trimEnd()}\nexit ${code}\n`
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  sw.port = (server.address() as { port: number }).port
  sw.close = close
  return sw
}

/** A node's fence topology line: the PDU, by the fencing-agents-pdu agent copied into the cluster dir. */
export const pduTopology = (dir: string, sw: PowerSwitch): string =>
  `fence: [{ method: agent, name: pdu, agent: ${join(dir, 'fencing-agents-pdu')}, params: { ipaddr: 127.0.0.1, ipport: ${sw.port} }, timeoutMs: 10000 }]`

/** A live process (a zombie holds nothing). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}
