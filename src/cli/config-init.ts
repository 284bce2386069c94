/**
 * `carbonado config init` (Kimberlite's `member_config`): the cluster file from flags, or from
 * questions on a terminal for whatever the flags left out, checked by the real loader, shown
 * and confirmed, then stored on the quorum disk (the next configuration version, services
 * kept) and written to --out. Without a terminal every required answer must come as a flag
 * and --yes must confirm; a missing one is a one-line usage error naming its flag.
 */
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { parseFlags, type FlagSpec } from './args.js'
import { Prompter } from './prompt.js'
import { clusterFileMode, existingText, refuseExisting, writeClusterFile } from './output-file.js'
import { CarbError, isCarbError } from '../errors.js'
import type { ClusterConfig } from '../config/load.js'
import { QuorumDisk } from '../disk/quorum-disk.js'
import { initDisk } from '../disk/disk-init.js'
import { checkClusterFileSize } from '../config/cluster-file-record.js'
import { checkWriterIdle, storeClusterFile, type Stored } from '../config/cluster-file-store.js'
import { clusterYaml, validateClusterYaml } from '../config/init-yaml.js'
import {
  DEFAULT_KEY_FILE, HEARTBEAT_PORT_BASE, NAME_PATTERN, checkFence, checkFenceFlag, checkFenceList, checkHeartbeat, checkName,
  checkNodeCount, checkNodeFlag, checkNodeId, checkPath, checkTimingFlag, type FenceAnswer, type InitAnswers, type NodeAnswer,
} from '../config/init-answers.js'

const COMMAND = 'config init'
export const DEFAULT_CLUSTER_FILE = '/etc/carbonado/cluster.yaml'

export const CONFIG_INIT_FLAGS: FlagSpec = {
  out: { type: 'string' }, cluster: { type: 'string' }, disk: { type: 'string' },
  node: { type: 'string', multiple: true }, fence: { type: 'string', multiple: true },
  'key-file': { type: 'string' }, timing: { type: 'string', multiple: true },
  yes: { type: 'boolean' }, 'no-disk-write': { type: 'boolean' }, 'init-disk': { type: 'boolean' }, force: { type: 'boolean' },
}

type Given = Partial<Pick<InitAnswers, 'cluster' | 'disk' | 'authKeyFile'>> & Pick<InitAnswers, 'nodes' | 'timing'> & { fence: { node: string; method: FenceAnswer; text: string }[] }

/** A flag's value through its checker: a bad one is a usage error naming the flag. */
function flag<T>(name: string, text: string, check: (text: string) => T): T {
  try {
    return check(text)
  } catch (error) {
    if (!isCarbError(error)) throw error
    throw new CarbError('CARB_ERR_USAGE', `${COMMAND}: --${name} "${text}": ${error.message}`)
  }
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [])

function fromFlags(values: Record<string, unknown>, cwd: string): Given {
  const given: Given = { nodes: [], timing: {}, fence: [] }
  if (typeof values.cluster === 'string') given.cluster = flag('cluster', values.cluster, (t) => checkName(t, 'the cluster name'))
  if (typeof values.disk === 'string') given.disk = flag('disk', values.disk, (t) => checkPath(t, cwd))
  if (typeof values['key-file'] === 'string') given.authKeyFile = flag('key-file', values['key-file'], (t) => checkPath(t, cwd))
  for (const text of list(values.node)) given.nodes.push(flag('node', text, (t) => checkNodeFlag(t, given.nodes)))
  for (const text of list(values.timing)) {
    const [name, ms] = flag('timing', text, checkTimingFlag)
    given.timing[name] = ms
  }
  for (const text of list(values.fence)) given.fence.push({ ...flag('fence', text, (t) => checkFenceFlag(t, null)), text })
  return given
}

/** The --fence methods grouped per node, checked against the nodes and the cluster file's rules. */
function fenceFromFlags(given: Given, nodes: readonly NodeAnswer[]): Map<string, FenceAnswer[]> {
  const fence = new Map<string, FenceAnswer[]>()
  for (const { node, method } of given.fence) {
    if (!nodes.some((n) => n.name === node)) throw new CarbError('CARB_ERR_USAGE', `${COMMAND}: --fence ${node}=...: no node named "${node}" (nodes: ${nodes.map((n) => n.name).join(', ')})`)
    fence.set(node, [...(fence.get(node) ?? []), method])
  }
  for (const [node, methods] of fence) flag('fence', given.fence.filter((f) => f.node === node).map((f) => f.text).join('" --fence "'), () => checkFenceList(methods, node))
  return fence
}

function missing(name: string, what: string): CarbError {
  return new CarbError('CARB_ERR_USAGE', `${COMMAND}: --${name} is required without a terminal (${what}); see \`carbonado ${COMMAND} --help\``)
}

function fromFlagsOnly(given: Given): InitAnswers {
  if (given.cluster === undefined) throw missing('cluster', 'the cluster name')
  if (given.nodes.length < 2) throw missing('node', `at least 2 nodes as NAME:ID:HOST:PORT[,HOST:PORT]..., got ${given.nodes.length}`)
  if (given.disk === undefined) throw missing('disk', 'the quorum disk')
  return { cluster: given.cluster, disk: given.disk, authKeyFile: given.authKeyFile ?? DEFAULT_KEY_FILE, nodes: given.nodes, fence: fenceFromFlags(given, given.nodes), timing: given.timing }
}

const thisHost = (): string => (hostname().split('.')[0] ?? '').toLowerCase()

async function askNode(p: Prompter, i: number, nodes: readonly NodeAnswer[]): Promise<NodeAnswer> {
  const names = nodes.map((n) => n.name)
  const host = thisHost()
  const name = await p.ask(`Host name of node ${i + 1}`, i === 0 && NAME_PATTERN.test(host) && !names.includes(host) ? host : undefined, (t) => checkName(t, 'a node name', names))
  const ids = nodes.map((n) => n.id)
  let freeId = i + 1
  while (ids.includes(freeId)) freeId++
  const id = await p.ask(`Node id of ${name} (1..16, its slot on the quorum disk)`, String(freeId), (t) => checkNodeId(t, ids))
  const channels = nodes[0]?.heartbeat.length
  const question = `Heartbeat addresses of ${name} (host[:port], comma-separated, one per network; channel i defaults to port ${HEARTBEAT_PORT_BASE}+i)`
  const heartbeat = await p.ask(question, channels === undefined || channels === 1 ? `${name}:${HEARTBEAT_PORT_BASE}` : undefined, (t) => checkHeartbeat(t, channels, nodes.flatMap((n) => n.heartbeat)))
  return { name, id, heartbeat }
}

/** Kimberlite's order: cluster name, members and their heartbeat channels, quorum disk, power switches; then the key. */
async function askMissing(p: Prompter, given: Given, cwd: string): Promise<InitAnswers> {
  const cluster = given.cluster ?? await p.ask('Cluster name', undefined, (t) => checkName(t, 'the cluster name'))
  const nodes = [...given.nodes]
  if (nodes.length < 2) {
    const count = await p.ask('Number of nodes', '2', checkNodeCount)
    for (let i = nodes.length; i < count; i++) nodes.push(await askNode(p, i, nodes))
  }
  const disk = given.disk ?? await p.ask('Quorum disk (a shared block device, or a file on shared storage; it holds the primary and the shadow copy)', undefined, (t) => checkPath(t, cwd))
  const fence = fenceFromFlags(given, nodes)
  for (const node of nodes) {
    if (fence.has(node.name)) continue
    fence.set(node.name, await p.ask(`Fence methods of ${node.name} (none, poison-pill, or /path/to/fence_agent[:key=value,...]; several separated by ";")`, 'none', (t) => checkFence(t, node.name)))
  }
  const authKeyFile = given.authKeyFile ?? await p.ask('Authentication key file (the same on every node; never stored on the disk)', DEFAULT_KEY_FILE, (t) => checkPath(t, cwd))
  return { cluster, disk, authKeyFile, nodes, fence, timing: given.timing }
}

/** The node whose disk blocks carry the write: the one named like this host, else the lowest id. */
function writerNode(config: ClusterConfig): { id: number; name: string } {
  const here = config.nodes.find((n) => n.name === thisHost())
  return here ?? [...config.nodes].sort((a, b) => a.id - b.id)[0]!
}

/** Whether the disk needs `disk init` first (allowed with --init-disk); a foreign or broken disk throws. */
async function probeDisk(config: ClusterConfig, initAllowed: boolean): Promise<boolean> {
  const hint = `run \`carbonado disk init --disk ${config.disk} --cluster ${config.cluster}\` first, or add --init-disk`
  if (!existsSync(config.disk)) {
    if (initAllowed) return true
    throw new CarbError('CARB_ERR_DISK_OPEN', `does not exist; ${hint}`, config.disk)
  }
  try {
    await (await QuorumDisk.open(config.disk, { expectClusterName: config.cluster })).close()
    return false
  } catch (error) {
    if (!isCarbError(error) || error.code !== 'CARB_ERR_DISK_BAD_MAGIC') throw error
    if (initAllowed) return true
    throw new CarbError('CARB_ERR_DISK_BAD_MAGIC', `not a Carbonado quorum disk yet (no header in either copy); ${hint}`, config.disk)
  }
}

/** The loader's verdict on the text; its error names the file as not written. */
function loadable(text: string, out: string): ClusterConfig {
  try {
    return validateClusterYaml(text, out)
  } catch (error) {
    if (!isCarbError(error)) throw error
    throw new CarbError(error.code, error.message, `${out} (not written)`)
  }
}

async function store(config: ClusterConfig, text: string, needsInit: boolean): Promise<Stored> {
  if (needsInit) await initDisk(config.disk, { clusterName: config.cluster })
  const writer = writerNode(config)
  const disk = await QuorumDisk.open(config.disk, { expectClusterName: config.cluster })
  try {
    await checkWriterIdle(disk, writer.id, writer.name, Date.now(), config.timing.diskDeadAfterMs)
    const writtenBy = `config init on node ${writer.name} (host ${hostname()})`
    return await storeClusterFile(disk, { nodeId: writer.id, text, writtenBy, nodeNames: config.nodes.map((n) => n.name) })
  } finally {
    await disk.close()
  }
}

function keyReminder(config: ClusterConfig): string {
  const others = config.nodes.map((n) => n.name).filter((n) => n !== writerNode(config).name).join(', ')
  const create = existsSync(config.authKeyFile) ? '' : `create it (carbonado key generate ${config.authKeyFile}), then `
  return `the authentication key ${config.authKeyFile} is not on the quorum disk (anyone who can read the shared disk could forge heartbeats with it): ${create}copy it to ${others} (mode 0600); on each of them run: carbonado config join --disk ${config.disk}`
}

export async function configInit(args: string[]): Promise<number> {
  const { values } = parseFlags(COMMAND, args, CONFIG_INIT_FLAGS)
  const cwd = process.cwd()
  const out = resolve(cwd, typeof values.out === 'string' ? values.out : DEFAULT_CLUSTER_FILE)
  const force = values.force === true
  if (!force && await existingText(out) !== null) throw refuseExisting(COMMAND, out)
  const interactive = process.stdin.isTTY === true
  if (!interactive && values.yes !== true) throw new CarbError('CARB_ERR_USAGE', `${COMMAND}: --yes is required without a terminal (there is no one to confirm the file)`)
  const given = fromFlags(values, cwd)
  const prompter = interactive ? new Prompter(COMMAND) : null
  try {
    const answers = prompter === null ? fromFlagsOnly(given) : await askMissing(prompter, given, cwd)
    const text = clusterYaml(answers)
    const config = loadable(text, out)
    checkClusterFileSize(text, out)
    const diskWrite = values['no-disk-write'] !== true
    const needsInit = diskWrite && await probeDisk(config, values['init-disk'] === true)
    if (prompter !== null) {
      prompter.say(`\n--- ${out}\n${text}---`)
      const where = diskWrite ? ` and to the quorum disk ${config.disk}${needsInit ? ' (initializing it first)' : ''}` : ''
      if (values.yes !== true && !await prompter.confirm(`Write this to ${out}${where}?`, true)) {
        prompter.say('nothing written')
        return 1
      }
    }
    return await finish(config, text, out, force, diskWrite, needsInit)
  } finally {
    prompter?.close()
  }
}

async function finish(config: ClusterConfig, text: string, out: string, force: boolean, diskWrite: boolean, needsInit: boolean): Promise<number> {
  if (diskWrite) {
    const stored = await store(config, text, needsInit)
    const kept = stored.services === 0 ? 'no services yet' : `${stored.services} services kept`
    process.stdout.write(`${needsInit ? `initialized ${config.disk} for cluster ${config.cluster}; ` : ''}stored the cluster file on ${config.disk} as configuration version ${stored.version} (${stored.previous === undefined ? 'first cluster file' : `replacing the one of version ${stored.previous.version}`}; ${kept})\n`)
  }
  const outcome = await writeClusterFile(COMMAND, out, text, force, clusterFileMode(config))
  process.stdout.write(`${outcome === 'unchanged' ? 'unchanged' : outcome} ${out}\n${keyReminder(config)}\n`)
  return 0
}
