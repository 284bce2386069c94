/**
 * The service configuration on the quorum disk, versioned with no lost updates.
 *
 * Writing version N+1: the node writes the whole document (msgpack, split into blocks) into
 * its own buffer N+1 mod 2 (one writer per block; the parity means the current version N,
 * if it is ours, is never overwritten by the candidate), then proposes on disk-Paxos
 * register 0 the pointer { version: N+1, writer, buffer, parts, bytes, sha256 } for
 * instance N+1 exactly. If the register already moved past N, or another node's pointer is
 * decided for N+1, the change is refused with CARB_ERR_CONFIG_VERSION: two administrators
 * changing the configuration at once, one wins, the other re-reads and retries.
 *
 * Reading: the register's current pointer names the buffer; the blocks must all carry that
 * version and the bytes must hash to the pointer's sha256, else the read is reported as
 * unreadable (a writer may be overwriting an old buffer; the next cycle reads again).
 */
import { createHash } from 'node:crypto'
import { Packr } from 'msgpackr'
import { CarbError } from '../errors.js'
import { payloadCapacity } from '../disk/block.js'
import { CONFIG_REGISTER, configSlot, type Geometry } from '../disk/layout.js'
import type { QuorumDisk } from '../disk/quorum-disk.js'
import { DEFAULT_RETRY, proposeAt, readRegister, type ProposeOptions } from '../disk/paxos-register.js'
import { EMPTY_SERVICES, readServicesDoc, type ServicesDoc } from './services.js'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })
/** Room in a block for the part's own fields around its slice of the document. */
const PART_OVERHEAD_BYTES = 48
/** Reads of the register when our proposal ended 'stale', to learn whether our pointer was chosen. */
const DECIDED_READ_ATTEMPTS = 3

export interface ConfigPointer { version: number; writer: number; buffer: 0 | 1; parts: number; bytes: number; sha256: string }

export interface ConfigRead { doc: ServicesDoc; pointer: ConfigPointer | null }

function isPointer(value: unknown): value is ConfigPointer {
  const p = value as Partial<ConfigPointer> | null
  return typeof p === 'object' && p !== null && Number.isSafeInteger(p.version) && Number.isSafeInteger(p.writer) &&
    (p.buffer === 0 || p.buffer === 1) && Number.isSafeInteger(p.parts) && Number.isSafeInteger(p.bytes) && typeof p.sha256 === 'string'
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

/** Bytes one configuration buffer holds on a disk of this geometry. */
export function configCapacityBytes(geometry: Geometry): number {
  return geometry.configBlocks * (payloadCapacity(geometry.blockSize) - PART_OVERHEAD_BYTES)
}

/** Bytes a document takes in a buffer (its msgpack form). */
export function packedConfigBytes(doc: ServicesDoc): number {
  return (packr.pack(doc) as Buffer).length
}

/** The current configuration: version 0 and no services on a disk that never had one. */
export async function readConfig(disk: QuorumDisk, nodeNames: readonly string[]): Promise<ConfigRead> {
  const current = await readRegister(disk, CONFIG_REGISTER)
  if (current.instance === 0 || current.value === null) return { doc: EMPTY_SERVICES, pointer: null }
  const where = `${disk.path}: configuration version ${current.instance}`
  if (!isPointer(current.value) || current.value.version !== current.instance || !fitsGeometry(current.value, disk.geometry)) {
    throw new CarbError('CARB_ERR_DISK_BAD_PAYLOAD', `register 0 holds no valid configuration pointer for instance ${current.instance}`, where)
  }
  const pointer = current.value
  const chunks: Buffer[] = []
  for (let part = 0; part < pointer.parts; part++) {
    const read = await disk.readBlock('config', configSlot(disk.geometry, pointer.writer, pointer.buffer, part), { writer: pointer.writer })
    if (!read.ok) throw new CarbError('CARB_ERR_DISK_UNREADABLE', `part ${part} of node ${pointer.writer}'s buffer ${pointer.buffer}: ${read.error.message}`, where)
    const payload = (read.block.payload ?? {}) as { version?: unknown; part?: unknown; data?: unknown }
    if (payload.version !== pointer.version || payload.part !== part || !Buffer.isBuffer(payload.data)) {
      throw new CarbError('CARB_ERR_DISK_UNREADABLE', `part ${part} of node ${pointer.writer}'s buffer ${pointer.buffer} holds version ${String(payload.version)}, not ${pointer.version}`, where)
    }
    chunks.push(payload.data)
  }
  const bytes = Buffer.concat(chunks)
  if (bytes.length !== pointer.bytes || sha256(bytes) !== pointer.sha256) {
    throw new CarbError('CARB_ERR_DISK_UNREADABLE', `the ${pointer.parts} parts do not hash to the decided sha256 (a newer write may be in progress)`, where)
  }
  const doc = readServicesDoc(where, unpackDocument(bytes, where), nodeNames, disk.geometry.maxServices)
  return { doc, pointer }
}

/** A pointer a reader can follow: its writer's buffer exists and holds `parts` blocks. */
function fitsGeometry(p: ConfigPointer, g: Geometry): boolean {
  return p.writer >= 1 && p.writer <= g.maxNodes && p.parts >= 1 && p.parts <= g.configBlocks && p.bytes >= 0
}

/** The decided bytes as one msgpack value; bytes that are not one are a bad payload, never a crash. */
function unpackDocument(bytes: Buffer, where: string): unknown {
  try {
    return packr.unpack(bytes)
  } catch (error) {
    throw new CarbError('CARB_ERR_DISK_BAD_PAYLOAD', `the configuration document does not decode: ${(error as Error).message}`, where)
  }
}

async function writeCandidate(disk: QuorumDisk, nodeId: number, doc: ServicesDoc): Promise<ConfigPointer> {
  const bytes = packr.pack(doc) as Buffer
  const chunkBytes = payloadCapacity(disk.geometry.blockSize) - PART_OVERHEAD_BYTES
  const parts = Math.max(1, Math.ceil(bytes.length / chunkBytes))
  const where = `${disk.path}: configuration version ${doc.version}`
  if (parts > disk.geometry.configBlocks) {
    throw new CarbError('CARB_ERR_SERVICE_LIMIT', `the configuration takes ${bytes.length} bytes; a buffer of ${disk.geometry.configBlocks} blocks holds ${configCapacityBytes(disk.geometry)}`, where)
  }
  const buffer = (doc.version % 2) as 0 | 1
  for (let part = 0; part < parts; part++) {
    const data = bytes.subarray(part * chunkBytes, (part + 1) * chunkBytes)
    const result = await disk.writeBlock('config', configSlot(disk.geometry, nodeId, buffer, part), nodeId, { version: doc.version, part, data })
    if (!result.primaryOk || !result.shadowOk) throw new CarbError('CARB_ERR_DISK_IO', `writing part ${part}: ${result.errors[0]?.message ?? 'failed'}`, where)
  }
  return { version: doc.version, writer: nodeId, buffer, parts, bytes: bytes.length, sha256: sha256(bytes) }
}

/**
 * Whether version `version` was decided as our pointer. Only answerable while it is still the
 * current version; if someone already moved past it, we report a version error, and the
 * administrator who re-reads finds the change applied.
 */
async function decidedAs(disk: QuorumDisk, version: number, pointer: ConfigPointer, sleepMs: (ms: number) => Promise<void>): Promise<boolean> {
  for (let attempt = 0; attempt < DECIDED_READ_ATTEMPTS; attempt++) {
    try {
      const current = await readRegister(disk, CONFIG_REGISTER)
      const value = current.value
      return current.instance === version && isPointer(value) && value.writer === pointer.writer && value.sha256 === pointer.sha256 && value.buffer === pointer.buffer
    } catch {
      // a block being rewritten by its owner right now reads as unreadable: read again
      await sleepMs(5 * (attempt + 1))
    }
  }
  return false
}

/**
 * Make `next` the configuration version `expectVersion + 1`, or refuse with
 * CARB_ERR_CONFIG_VERSION when that version is (or becomes) someone else's.
 */
export async function proposeConfig(disk: QuorumDisk, nodeId: number, expectVersion: number, next: ServicesDoc, nodeNames: readonly string[], options: ProposeOptions = {}): Promise<ServicesDoc> {
  const version = expectVersion + 1
  const doc: ServicesDoc = readServicesDoc('configuration change', { ...next, version }, nodeNames, disk.geometry.maxServices)
  const current = await readRegister(disk, CONFIG_REGISTER)
  if (current.instance !== expectVersion) {
    throw new CarbError('CARB_ERR_CONFIG_VERSION', `the change was made against version ${expectVersion}, but the cluster is at version ${current.instance}; re-read and retry`, disk.path)
  }
  const pointer = await writeCandidate(disk, nodeId, doc)
  const result = await proposeAt(disk, CONFIG_REGISTER, nodeId, version, pointer, options)
  if (result.decided && result.mine) return doc
  // Another proposer may have adopted and committed our own pointer before we saw our decision.
  if (!result.decided && await decidedAs(disk, version, pointer, options.sleepMs ?? DEFAULT_RETRY.sleepMs)) return doc
  const by = result.decided && isPointer(result.value) ? ` by node ${result.value.writer}` : ''
  throw new CarbError('CARB_ERR_CONFIG_VERSION', `version ${version} was taken${by} first (${result.decided ? 'decided' : result.reason}); re-read and retry`, disk.path)
}
