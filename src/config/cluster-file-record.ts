/**
 * The cluster file as the quorum disk keeps it (`config init` writes it, `config join` reads
 * it back: Kimberlite's `member_config --init=/dev/raw/raw1`). It rides in the versioned
 * configuration document beside the services (config-store.ts), so it is written through the
 * same disk-Paxos register with the same no-lost-update rule, and every services change
 * carries it on unchanged. Pure: shape, hash and size.
 *
 * The authentication key is never part of it: see cluster-file-store.ts.
 */
import { createHash } from 'node:crypto'
import { CarbError } from '../errors.js'
import { asObject, readInteger, readString, rejectUnknown } from './fields.js'

export interface ClusterFileRecord {
  /** The YAML exactly as `config init` wrote it to its --out file. */
  text: string
  /** sha256 of the UTF-8 text, hex: `config join` checks it before writing anything. */
  sha256: string
  /** Who wrote it, for `config join` to report: `config init on node a (host vm1)`. */
  writtenBy: string
  /** The configuration version that stored it. */
  version: number
}

/**
 * 16 KiB: a sixteen-node cluster file with two channels and a fence agent per node is about
 * 4 KiB; the cap leaves three quarters of the default 64 KiB configuration buffer to the
 * services, whatever the cluster file holds. Smaller disk geometries are checked against
 * their own buffer as well (cluster-file-store.ts).
 */
export const CLUSTER_FILE_BYTES_MAX = 16 * 1024

const SHA256_HEX = /^[0-9a-f]{64}$/

export const sha256Text = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

export function clusterFileRecord(text: string, writtenBy: string, version: number): ClusterFileRecord {
  return { text, sha256: sha256Text(text), writtenBy, version }
}

/** The size rule alone, so `config init` can refuse before it asks the disk anything. */
export function checkClusterFileSize(text: string, where: string): void {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > CLUSTER_FILE_BYTES_MAX) {
    throw new CarbError('CARB_ERR_CONFIG_TOO_LARGE', `the cluster file takes ${bytes} bytes; the quorum disk keeps at most ${CLUSTER_FILE_BYTES_MAX} (the rest of the configuration buffer is for services)`, where)
  }
}

/**
 * The record's shape, as the configuration reader meets it. The hash is not checked here: the
 * whole document already passed the pointer's sha256, and a bad record must not make the
 * services unreadable; `config join` checks it before using the text.
 */
export function readClusterFileRecord(where: string, path: string, value: unknown): ClusterFileRecord {
  const obj = asObject(where, path, value)
  rejectUnknown(where, path, obj, ['text', 'sha256', 'writtenBy', 'version'])
  const text = readString(where, `${path}.text`, obj.text)
  if (Buffer.byteLength(text, 'utf8') > CLUSTER_FILE_BYTES_MAX) throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}.text: longer than ${CLUSTER_FILE_BYTES_MAX} bytes`, where)
  return {
    text,
    sha256: readString(where, `${path}.sha256`, obj.sha256, SHA256_HEX, 'must be 64 lower-case hex digits'),
    writtenBy: readString(where, `${path}.writtenBy`, obj.writtenBy),
    version: readInteger(where, `${path}.version`, obj.version, 1, Number.MAX_SAFE_INTEGER),
  }
}
