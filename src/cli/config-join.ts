/**
 * `carbonado config join --disk DEV` (Kimberlite's `member_config --init=/dev/raw/raw1`):
 * the cluster file `config init` stored on the quorum disk, hash checked and loaded by the
 * real loader, written to --out on a node it names. The authentication key is not on the
 * disk (cluster-file-store.ts says why): the command says where to copy it.
 */
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { parseFlags, requireString } from './args.js'
import { clusterFileMode, writeClusterFile } from './output-file.js'
import { DEFAULT_CLUSTER_FILE } from './config-init.js'
import { CarbError, isCarbError } from '../errors.js'
import { parseConfig, type ClusterConfig, type NodeConfig } from '../config/load.js'
import { QuorumDisk } from '../disk/quorum-disk.js'
import { readStoredClusterFile } from '../config/cluster-file-store.js'
import type { ClusterFileRecord } from '../config/cluster-file-record.js'

const COMMAND = 'config join'

async function readFromDisk(path: string): Promise<{ record: ClusterFileRecord; configVersion: number; clusterName: string }> {
  const disk = await QuorumDisk.open(path)
  try {
    return { ...await readStoredClusterFile(disk), clusterName: disk.header.clusterName }
  } finally {
    await disk.close()
  }
}

/** The stored text through the real loader, as it will be read at `out`; a failure names the disk. */
function load(path: string, record: ClusterFileRecord, out: string, clusterName: string): ClusterConfig {
  let config: ClusterConfig
  try {
    config = parseConfig(record.text, out)
  } catch (error) {
    if (!isCarbError(error)) throw error
    throw new CarbError(error.code, `the stored cluster file (configuration version ${record.version}) does not load: ${error.message}`, path)
  }
  if (config.cluster !== clusterName) {
    throw new CarbError('CARB_ERR_DISK_FOREIGN_CLUSTER', `the stored cluster file is for cluster "${config.cluster}", the disk header says "${clusterName}"`, path)
  }
  return config
}

function thisNode(config: ClusterConfig, path: string, named: unknown): NodeConfig {
  const names = config.nodes.map((n) => n.name).join(', ')
  if (typeof named === 'string') {
    const node = config.nodes.find((n) => n.name === named)
    if (node === undefined) throw new CarbError('CARB_ERR_NODE_UNKNOWN', `--node ${named}: not a node of the cluster file stored on ${path} (nodes: ${names})`, COMMAND)
    return node
  }
  const host = (hostname().split('.')[0] ?? '').toLowerCase()
  const node = config.nodes.find((n) => n.name === host)
  if (node === undefined) throw new CarbError('CARB_ERR_USAGE', `${COMMAND}: this host "${host}" is not a node of the cluster file stored on ${path} (nodes: ${names}); give --node NAME`)
  return node
}

function reminders(config: ClusterConfig, node: NodeConfig, path: string): string[] {
  const lines: string[] = []
  if (resolve(path) !== node.disk) lines.push(`note: the file names the quorum disk ${node.disk} for node ${node.name}, but you read it from ${path}; if the device is named differently here, set nodes[].disk for ${node.name}`)
  lines.push(existsSync(config.authKeyFile)
    ? `the authentication key ${config.authKeyFile} is present; it must be the same file as on the other nodes`
    : `copy the authentication key to ${config.authKeyFile} (mode 0600) from a node that has it: it is never stored on the quorum disk, because anything that can read the shared disk could then forge heartbeats`)
  return lines
}

export async function configJoin(args: string[]): Promise<number> {
  const { values } = parseFlags(COMMAND, args, { disk: { type: 'string' }, out: { type: 'string' }, node: { type: 'string', short: 'n' }, force: { type: 'boolean' } })
  const path = requireString(COMMAND, values, 'disk')
  const out = resolve(typeof values.out === 'string' ? values.out : DEFAULT_CLUSTER_FILE)
  const { record, configVersion, clusterName } = await readFromDisk(path)
  const config = load(path, record, out, clusterName)
  const node = thisNode(config, path, values.node)
  const outcome = await writeClusterFile(COMMAND, out, record.text, values.force === true, clusterFileMode(config))
  const origin = `cluster ${config.cluster}, stored as configuration version ${record.version} by ${record.writtenBy}${configVersion === record.version ? '' : `; the disk is now at version ${configVersion}`}`
  process.stdout.write(`${outcome} ${out} (${origin}); this is node ${node.name} (id ${node.id})\n${reminders(config, node, path).join('\n')}\n`)
  return 0
}
