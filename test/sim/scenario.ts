/**
 * Scenario files (STYLE.md §5, after etcd raft's interaction tests): a readable script run on
 * the simulator, whose transcript (the commands, what the cluster decided, what was checked)
 * is compared with the expected transcript checked in beside it.
 *
 *   # comment
 *   cluster a b c                      machines (first line that is not a setting)
 *   protection power|watchdog|pill|none
 *   timing fast|shipped
 *   seed N
 *   rate a 0.97                        machine a's clock runs 3 % slow (default 1)
 *   service web domain a,b,c [failback|no-failback] [resources N] [policy P]
 *   start a b | start all              start daemons
 *   stop a                             clean stop (systemctl stop)
 *   kill a                             SIGKILL of the daemon (resources keep running)
 *   crash a | power-on a               power cut / power back (daemon starts after boot)
 *   pause a | resume a                 SIGSTOP / SIGCONT of the daemon
 *   partition a|b,c | one-way a>b | heal
 *   disk-stall a MS | disk-errors a RATE | disk-ok a
 *   resource-crash web on a            the service's first resource dies on a
 *   stops-hang a [off]                 every stop on a overruns its timeout (a resource that will not stop)
 *   switch-fail MS                     the power switch fails every operation for MS
 *   admin disable web | admin enable web | admin relocate web to b | admin fence a from b
 *   tick MS                            let virtual time pass
 *   expect service web on b | expect service web stopped | expect node a STATE | expect converged
 *
 * After the last line every safety checker runs (single owner, replay, takeover proofs); a
 * failed expect or checker is written into the transcript, so it differs from the expected one.
 */
import { relocateService, setEnabled } from '../../src/config/service-edit.js'
import type { ServicesDoc } from '../../src/config/services.js'
import { FAST_TIMING } from './faults.js'
import { GEOMETRY, Simulation, type Protection, type SimOptions, type SimService } from './cluster.js'
import { check } from './run-seed.js'
import type { StoredRecord } from '../../journal/records.js'

/** `journals`: every machine's journal at the end (for explain tests). */
export interface ScenarioResult { transcript: string; failures: string[]; journals: Map<string, StoredRecord[]> }

interface Setup { nodes: string[]; protection: Protection; timing: 'fast' | 'shipped'; seed: number; services: SimService[]; rates: Map<string, number> }

const at = (ms: number): string => (ms / 1000).toFixed(3).padStart(8)

function parseService(words: string[], where: string): SimService {
  const [name, ...rest] = words
  if (name === undefined) throw new Error(`${where}: service needs a name`)
  const service: SimService = { name, domain: [], failback: true, resources: 1 }
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]
    if (word === 'domain') service.domain = (rest[++i] ?? '').split(',')
    else if (word === 'failback') service.failback = true
    else if (word === 'no-failback') service.failback = false
    else if (word === 'resources') service.resources = Number(rest[++i])
    else if (word === 'policy') service.policy = rest[++i] as SimService['policy']
    else throw new Error(`${where}: unknown service option "${word}"`)
  }
  if (service.domain.length === 0) throw new Error(`${where}: service ${name} needs a domain`)
  return service
}

/** Settings come first; the first command starts the simulation with them. */
function readSetup(lines: { text: string; where: string }[]): { setup: Setup; rest: { text: string; where: string }[] } {
  const setup: Setup = { nodes: [], protection: 'power', timing: 'fast', seed: 1, services: [], rates: new Map() }
  let i = 0
  for (; i < lines.length; i++) {
    const [verb, ...words] = lines[i]!.text.split(/\s+/)
    if (verb === 'cluster') setup.nodes = words
    else if (verb === 'protection') setup.protection = words[0] as Protection
    else if (verb === 'timing') setup.timing = words[0] as 'fast' | 'shipped'
    else if (verb === 'seed') setup.seed = Number(words[0])
    else if (verb === 'rate') setup.rates.set(words[0] ?? '', Number(words[1]))
    else if (verb === 'service') setup.services.push(parseService(words, lines[i]!.where))
    else break
  }
  if (setup.nodes.length < 2) throw new Error('a scenario starts with "cluster" and at least two machines')
  return { setup, rest: lines.slice(i) }
}

export async function runScenario(text: string, file: string): Promise<ScenarioResult> {
  const lines = text.split('\n').map((raw, n) => ({ text: raw.replace(/#.*/, '').trim(), where: `${file}:${n + 1}` })).filter((l) => l.text !== '')
  const { setup, rest } = readSetup(lines)
  const options: SimOptions = {
    seed: setup.seed, nodes: setup.nodes, services: setup.services, protection: setup.protection,
    timing: setup.timing === 'fast' ? FAST_TIMING : {}, failbackStableMs: 5000, monitorIntervalMs: 1000,
    rates: setup.nodes.map((n) => setup.rates.get(n) ?? 1),
  }
  const sim = await Simulation.create(options)
  const out: string[] = [`${at(0)} setup ${setup.nodes.length} machines, ${setup.timing} timing, protection ${setup.protection}, seed ${setup.seed}`]
  const failures: string[] = []
  let shown = 0
  const flushLog = (): void => {
    for (; shown < sim.log.length; shown++) {
      const line = sim.log[shown]!
      if (interesting(line.message, line.level)) out.push(`${at(line.atMs)}   ${line.machine}: ${line.message}`)
    }
  }
  for (const line of rest) {
    flushLog()
    out.push(`${at(sim.world.nowMs)} > ${line.text}`)
    const result = await command(sim, line.text, line.where)
    flushLog()
    if (result !== null) {
      out.push(`${at(sim.world.nowMs)}   ${result}`)
      if (result.startsWith('FAILED')) failures.push(`${line.where}: ${result}`)
    }
  }
  const { verdicts, journals } = await check(sim)
  for (const v of verdicts.filter((v) => v.checker !== 'convergence')) {
    out.push(`${at(sim.world.nowMs)} check ${v.checker}: ${v.valid === true ? 'valid' : v.valid === false ? `INVALID ${v.problems.join('; ')}` : 'unknown'}`)
    if (v.valid === false) failures.push(`${file}: ${v.checker}: ${v.problems.join('; ')}`)
  }
  return { transcript: `${out.join('\n')}\n`, failures, journals }
}

/** State changes, fencing and errors; not the steady "stays" decisions or agent chatter. */
function interesting(message: string, level: string): boolean {
  if (level === 'error') return true
  if (!message.startsWith('decision ')) return /^(fencing|self-fenced|configuration version)/.test(message)
  return !/ stays /.test(message)
}

async function command(sim: Simulation, text: string, where: string): Promise<string | null> {
  const [verb, ...w] = text.split(/\s+/)
  const m = (name: string | undefined) => sim.machine(name ?? '')
  const names = (list: string[]): string[] => (list[0] === 'all' ? [...sim.machines.keys()] : list)
  switch (verb) {
    case 'start': for (const name of names(w)) m(name).startDaemon(); return null
    case 'stop': { const ok = await sim.settle(m(w[0]).stopDaemon()); return `stopped ${w[0]}${ok ? '' : ' (services did not all stop)'}` }
    case 'kill': m(w[0]).killDaemon(); return null
    case 'crash': m(w[0]).powerOff(); return null
    case 'power-on': m(w[0]).powerOn(); return null
    case 'pause': m(w[0]).pause(); return null
    case 'resume': m(w[0]).resume(); return null
    case 'partition': sim.network.partition((w[0] ?? '').split('|').map((g) => g.split(','))); return null
    case 'one-way': { const [x, y] = (w[0] ?? '').split('>'); sim.network.faults.blocked.add(`${x}>${y}`); return null }
    case 'heal': sim.network.heal(); return null
    case 'disk-stall': sim.disk.faultsOf(w[0] ?? '').stallUntilMs = sim.world.nowMs + Number(w[1]); return null
    case 'disk-errors': sim.disk.faultsOf(w[0] ?? '').errorRate = Number(w[1]); return null
    case 'disk-ok': Object.assign(sim.disk.faultsOf(w[0] ?? ''), { stallUntilMs: 0, failUntilMs: 0, errorRate: 0 }); return null
    case 'stops-hang': sim.resources.faultsOf(w[0] ?? '').stopsHang = w[1] !== 'off'; return null
    case 'switch-fail': sim.powerSwitch.faults.failUntilMs = sim.world.nowMs + Number(w[0]); return null
    case 'resource-crash': return sim.resources.crash(w[2] ?? '', w[0] ?? '', 'r0') ? null : `FAILED: ${w[0]} was not running on ${w[2]}`
    case 'admin': return admin(sim, w, where)
    case 'tick': await sim.run(Number(w[0])); return null
    case 'expect': return expect(sim, w, where)
    default: throw new Error(`${where}: unknown command "${verb}"`)
  }
}

/** An administrator's change, proposed through a running node's control socket as the CLI does. */
async function admin(sim: Simulation, w: string[], where: string): Promise<string> {
  if (w[0] === 'fence') return fenceByHand(sim, w[1] ?? '', w[3] ?? '')
  const node = [...sim.machines.values()].find((x) => x.running)
  if (node === undefined) return 'FAILED: no daemon runs to take the change'
  const [answer] = await sim.settle(node.request({ cmd: 'services' }))
  const { doc } = answer as { doc: ServicesDoc; services: { name: string; holder: string | null }[] }
  const ctx = { where, nodeNames: sim.options.nodes, maxServices: GEOMETRY.maxServices }
  const service = w[1] ?? ''
  const owner = (answer as { services: { name: string; holder: string | null }[] }).services.find((s) => s.name === service)?.holder ?? null
  const next = w[0] === 'disable' ? setEnabled(doc, service, false, ctx)
    : w[0] === 'enable' ? setEnabled(doc, service, true, ctx)
      : w[0] === 'relocate' ? relocateService(doc, service, w[3] ?? null, owner, ctx)
        : null
  if (next === null) throw new Error(`${where}: unknown admin command "${w[0]}"`)
  const answers = await sim.settle(node.request({ cmd: 'config-propose', expectVersion: doc.version, doc: next, who: 'scenario' }))
  const result = answers[0] as { ok?: boolean; version?: number; error?: string }
  return result.ok === true ? `configuration version ${result.version}` : `FAILED: ${result.error}`
}

/** `admin fence a from b`: `carbonado fence a` run on b. */
async function fenceByHand(sim: Simulation, target: string, from: string): Promise<string> {
  const answers = await sim.settle(sim.machine(from).request({ cmd: 'fence', target, who: 'scenario' }))
  const result = answers[0] as { ok?: boolean; id?: string; error?: string }
  return result.ok === true ? `fencing operation ${result.id}` : `FAILED: ${result.error}`
}

function expect(sim: Simulation, w: string[], where: string): string {
  if (w[0] === 'service') {
    const running = sim.runningOn(w[1] ?? '')
    const holders = sim.holders(w[1] ?? '')
    const want = w[2] === 'stopped' ? [] : [w[3] ?? '']
    const ok = JSON.stringify(running) === JSON.stringify(want) && JSON.stringify(holders) === JSON.stringify(want)
    return `${ok ? 'ok' : 'FAILED'}: service ${w[1]} runs on [${running.join(',')}]${ok ? '' : `, held on [${holders.join(',')}]; want [${want.join(',')}]`}`
  }
  if (w[0] === 'node') {
    const state = sim.machine(w[1] ?? '').runtime?.localState() ?? 'none'
    return `${state === w[2] ? 'ok' : 'FAILED'}: node ${w[1]} is ${state}`
  }
  if (w[0] === 'converged') {
    const wrong = sim.options.services.filter((s) => sim.runningOn(s.name).length !== 1 || sim.holders(s.name).length !== 1)
    return wrong.length === 0 ? 'ok: every service runs exactly once' : `FAILED: ${wrong.map((s) => `${s.name} on [${sim.holders(s.name).join(',')}]`).join(', ')}`
  }
  throw new Error(`${where}: unknown expectation "${w.join(' ')}"`)
}
