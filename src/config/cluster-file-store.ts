/**
 * The cluster file on the quorum disk: stored by `config init` as the next configuration
 * version (the services stay as they were), read back by `config join`.
 *
 * Why it rides in the configuration document: that document already has one writer per
 * block (each node's own buffers, register 0 deciding whose buffer is current) and a
 * no-lost-update rule (a change made against version N is refused once someone else took
 * N+1). A second area would need both again. The price is room: the cluster file shares the
 * 64 KiB buffer with the services, so it is capped (cluster-file-record.ts).
 *
 * Why the authentication key is not stored: the quorum disk is readable by everything that
 * can see the LUN (the other nodes, the SAN's zoning, snapshots and backups of the volume, a
 * VM image); whoever holds the key can forge heartbeats that every node accepts. The key
 * travels once, by hand (scp), to each node's 0600 file.
 *
 * Who writes: `config init` proposes as one node of the new file, with that node's buffers and
 * ballot block, so that node's daemon must not be running at the same moment (one writer per
 * block): `checkWriterIdle` refuses when its status block was written recently.
 */
import { CarbError } from '../errors.js'
import type { QuorumDisk, StatusRead } from '../disk/quorum-disk.js'
import type { ProposeOptions } from '../disk/paxos-register.js'
import { configCapacityBytes, packedConfigBytes, proposeConfig, readConfig } from './config-store.js'
import { checkClusterFileSize, clusterFileRecord, sha256Text, type ClusterFileRecord } from './cluster-file-record.js'

export interface StoreRequest {
  /** The node whose blocks carry the proposal: a node of the new cluster file. */
  nodeId: number
  text: string
  writtenBy: string
  /** The new file's nodes: services already on the disk must name only these. */
  nodeNames: readonly string[]
  /** Refuse (CARB_ERR_CONFIG_VERSION) unless the disk is at this configuration version. */
  expectVersion?: number
}

export interface Stored { version: number; previous: ClusterFileRecord | undefined; services: number }

/** Make `text` the stored cluster file, as configuration version current + 1. */
export async function storeClusterFile(disk: QuorumDisk, request: StoreRequest, options: ProposeOptions = {}): Promise<Stored> {
  checkClusterFileSize(request.text, disk.path)
  const { doc } = await readConfig(disk, [])
  if (request.expectVersion !== undefined && request.expectVersion !== doc.version) {
    throw new CarbError('CARB_ERR_CONFIG_VERSION', `expected configuration version ${request.expectVersion}, but the disk is at version ${doc.version}; nothing changed`, disk.path)
  }
  const version = doc.version + 1
  const next = { ...doc, version, clusterFile: clusterFileRecord(request.text, request.writtenBy, version) }
  const bytes = packedConfigBytes(next)
  const capacity = configCapacityBytes(disk.geometry)
  if (bytes > capacity) {
    throw new CarbError('CARB_ERR_CONFIG_TOO_LARGE', `the cluster file (${Buffer.byteLength(request.text)} bytes) with the ${doc.services.length} services takes ${bytes} bytes; this disk's configuration buffer holds ${capacity} (${disk.geometry.configBlocks} blocks of ${disk.geometry.blockSize})`, disk.path)
  }
  const written = await proposeConfig(disk, request.nodeId, doc.version, { ...next, version: doc.version }, request.nodeNames, options)
  return { version: written.version, previous: doc.clusterFile, services: doc.services.length }
}

/** The stored cluster file, its hash checked; a disk without one is CARB_ERR_DISK_NO_CLUSTER_FILE. */
export async function readStoredClusterFile(disk: QuorumDisk): Promise<{ record: ClusterFileRecord; configVersion: number }> {
  const { doc } = await readConfig(disk, [])
  const record = doc.clusterFile
  if (record === undefined) {
    const what = doc.version === 0 ? 'no configuration at all' : `configuration version ${doc.version}, services only`
    throw new CarbError('CARB_ERR_DISK_NO_CLUSTER_FILE', `holds no cluster file (${what}); run \`carbonado config init --disk ${disk.path}\` on the first node`, disk.path)
  }
  if (sha256Text(record.text) !== record.sha256) {
    throw new CarbError('CARB_ERR_DISK_UNREADABLE', `the stored cluster file (configuration version ${record.version}) does not match its sha256; nothing written`, disk.path)
  }
  return { record, configVersion: doc.version }
}

/** A status of one of the live states written less than `withinMs` ago (by the wall clock). */
export function statusLooksLive(read: StatusRead, nowWallMs: number, withinMs: number): boolean {
  if (!read.ok) return false
  const { state, wallMs } = read.status
  return (state === 'joining' || state === 'up' || state === 'leaving') && Math.abs(nowWallMs - wallMs) < withinMs
}

/**
 * Refuse to write with node `nodeId`'s blocks while its daemon may be running (it writes the
 * same buffers and ballot block when a service changes). A node that crashed stops looking
 * live after `withinMs` (the file's diskDeadAfterMs: when its peers count it dead too).
 */
export async function checkWriterIdle(disk: QuorumDisk, nodeId: number, name: string, nowWallMs: number, withinMs: number): Promise<void> {
  const read = await disk.readStatus(nodeId)
  if (!statusLooksLive(read, nowWallMs, withinMs) || !read.ok) return
  const ageS = ((nowWallMs - read.status.wallMs) / 1000).toFixed(1)
  throw new CarbError('CARB_ERR_NODE_RUNNING', `node ${name} (id ${nodeId}) looks running (status "${read.status.state}" written ${ageS} s ago): its daemon writes the same configuration blocks; stop it first (systemctl stop carbonado), then run config init again`, disk.path)
}
