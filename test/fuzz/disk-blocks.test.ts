/**
 * Fuzzing quorum-disk blocks. Two levels:
 *
 * 1. The codec and payload checks (block.ts, payloads.ts, mailbox.ts, merge-copies.ts, the
 *    lease value check): real encoded blocks of every kind, mutated as bytes (the checksum
 *    then fails), mutated as bytes and re-sealed with a fresh CRC, or decoded, mutated as a
 *    value tree and encoded again (a valid block carrying a wrong payload shape), so the
 *    checks behind the checksum are reached.
 * 2. A real QuorumDisk on a temporary file (status, mailbox, a service lease and a
 *    configuration written through the real writers), whose blocks are corrupted in the file,
 *    in one or both copies, then read through the real readers (readAllStatus, readOutboxes,
 *    readLease, readConfig, QuorumDisk.open for the header).
 *
 * Every outcome must be a value that was written, or "unreadable" carrying a CarbError; the
 * readers never throw anything but a CarbError.
 */
import t from 'tap'
import { crc32 } from 'node:zlib'
import { isDeepStrictEqual } from 'node:util'
import { createHash } from 'node:crypto'
import { open as openFile, readFile, writeFile } from 'node:fs/promises'
import { Packr } from 'msgpackr'
import { join } from 'node:path'
import { decodeBlock, encodeBlock, type BlockFields, type DecodeResult } from '../../src/disk/block.js'
import { blockOffset, blockIndex, configSlot, leaseSlot, CONFIG_REGISTER, type BlockKind, type Geometry } from '../../src/disk/layout.js'
import { mergeCopies } from '../../src/disk/merge-copies.js'
import { outboxProblem, readOutboxes, writeOutbox } from '../../src/disk/mailbox.js'
import { serviceLeaseProblem } from '../../src/disk/payloads.js'
import { ballotViews } from '../../src/disk/paxos-register.js'
import { currentOf } from '../../src/disk/paxos-rules.js'
import { acquireLease, leaseView, readLease } from '../../src/disk/lease.js'
import { QuorumDisk } from '../../src/disk/quorum-disk.js'
import { proposeConfig, readConfig } from '../../src/config/config-store.js'
import { isCarbError } from '../../src/errors.js'
import { budget, codeOf, describeFailure, FuzzFinding, fuzz, shown, type Mutator } from './mutate.js'

const uuid = Buffer.from('0123456789abcdef0123456789abcdef', 'hex')
const geometry: Geometry = { blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4 }

/** A valid payload of each kind, written by node 2 (the header by `disk init`, node 0). */
const PAYLOADS: Record<BlockKind, { writer: number; slot: number; payload: unknown }> = {
  header: { writer: 0, slot: 0, payload: { clusterName: 'web', clusterUuid: uuid.toString('hex'), blockSize: 512, maxNodes: 4, maxServices: 4, configBlocks: 4, createdAtWallMs: 1_700_000_000_000 } },
  status: { writer: 2, slot: 2, payload: { nodeId: 2, name: 'b', incarnation: 3, state: 'up', wallMs: 1_700_000_000_000, heartbeatSeq: 9, hlc: [1_700_000_000_000, 2] } },
  mailbox: { writer: 2, slot: 2, payload: { v: 1, from: 2, fromIncarnation: 3, messages: [{ to: 3, incarnation: 1, action: 'off', sentWallMs: 5 }], fenced: [{ node: 4, incarnation: null, method: 'agent', detail: 'ok', wallMs: 6 }] } },
  lease: { writer: 2, slot: leaseSlot(geometry, 1, 2), payload: { v: 1, committed: { instance: 1, value: { holder: 2, incarnation: 3, failedOn: [1] } }, instance: 2, mbal: 65536 * 2 + 2, bal: 65536 * 2 + 2, inp: { holder: 2, incarnation: 3, failedOn: [] } } },
  config: { writer: 2, slot: configSlot(geometry, 2, 1, 0), payload: { version: 1, part: 0, data: Buffer.from('83a17601', 'hex') } },
  scratch: { writer: 2, slot: 2, payload: { nodeId: 2, nonce: 'abc' } },
}
const KINDS = Object.keys(PAYLOADS) as BlockKind[]

function sealed(kind: BlockKind, payload: unknown, seq = 7n): Buffer {
  const { writer, slot } = PAYLOADS[kind]
  return encodeBlock({ blockSize: geometry.blockSize, kind, clusterUuid: uuid, writer, index: blockIndex(geometry, kind, slot), seq, payload })
}

function decode(kind: BlockKind, buf: Buffer): DecodeResult {
  const { writer, slot } = PAYLOADS[kind]
  const expect = { blockSize: geometry.blockSize, kind, index: blockIndex(geometry, kind, slot), writer }
  return decodeBlock(buf, kind === 'header' ? expect : { ...expect, clusterUuid: uuid })
}

function reseal(buf: Buffer): Buffer {
  const out = Buffer.alloc(geometry.blockSize)
  buf.copy(out, 0, 0, Math.min(buf.length, geometry.blockSize - 4))
  out.writeUInt32BE(crc32(out.subarray(0, geometry.blockSize - 4)), geometry.blockSize - 4)
  return out
}

type Mode = 'raw' | 'resealed-bytes' | 'resealed-value'

/** A corrupted copy of a block of `kind`, and how it was made. */
function corrupt(m: Mutator, kind: BlockKind): { buf: Buffer; mode: Mode } {
  const original = sealed(kind, PAYLOADS[kind].payload)
  const mode = m.pick<Mode>(['raw', 'resealed-bytes', 'resealed-value', 'resealed-value'])
  if (mode === 'raw') return { buf: m.mutateBytes(original), mode }
  if (mode === 'resealed-bytes') return { buf: reseal(m.mutateBytes(original)), mode }
  try {
    return { buf: sealed(kind, m.mutateValue(PAYLOADS[kind].payload), BigInt(m.int(1000))), mode }
  } catch (error) {
    if (!isCarbError(error)) throw error
    return { buf: reseal(m.mutateBytes(original)), mode: 'resealed-bytes' }
  }
}

const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/**
 * What a consumer relies on in a readable block, written here from the payload types (not
 * from payloads.ts): a finding when a changed payload was believed without it. Returns the
 * mailbox's own refusal (checked by its reader, not the codec), or undefined.
 */
function consume(kind: BlockKind, block: BlockFields): string | undefined {
  const p = block.payload as Record<string, unknown>
  const fail = (what: string): never => { throw new FuzzFinding(`a ${kind} block was believed with ${what}: ${shown(p)}`) }
  if (kind === 'header' && (typeof p.clusterName !== 'string' || ![512, 4096].includes(p.blockSize as number) || ![p.maxNodes, p.maxServices, p.configBlocks].every((n) => isCount(n) && n !== 0))) fail('a bad header')
  if (kind === 'status' && (p.nodeId !== block.writer || typeof p.name !== 'string' || !isCount(p.incarnation) || !['joining', 'up', 'leaving', 'down', 'out'].includes(p.state as string) || !isCount(p.wallMs))) fail('a bad status')
  if (kind === 'lease') {
    const views = ballotViews([{ nodeId: 2, ok: true, seq: block.seq, payload: block.payload, source: 'primary' }], serviceLeaseProblem)
    if (views[0]!.state !== 'ok') return 'lease-value'
    const lease = leaseView(currentOf(views))
    if (!isCount(lease.holder) || !isCount(lease.incarnation) || !Array.isArray(lease.failedOn) || !isCount(p.mbal) || !isCount(p.instance)) fail('a bad ballot')
  }
  if (kind === 'mailbox') {
    const problem = outboxProblem(block.payload, block.writer)
    if (problem !== undefined) return 'mailbox-shape'
    const messages = p.messages as { to: unknown; action: unknown }[]
    if (!messages.every((m) => isCount(m.to) && ['off', 'reset'].includes(m.action as string))) fail('a bad pill')
  }
  return undefined
}

t.test('block codec and payload checks: corrupt blocks are unreadable with a disk code, never believed', async (t) => {
  const result = await fuzz('disk-blocks', budget(20_000), (m) => {
    const kind = m.pick(KINDS)
    const { buf, mode } = corrupt(m, kind)
    let decoded: DecodeResult
    try {
      decoded = decode(kind, buf)
      const shadow = m.chance(0.5) ? decoded : decode(kind, sealed(kind, PAYLOADS[kind].payload))
      mergeCopies(decoded, shadow, 'fuzz')
    } catch (error) {
      return codeOf(error, () => `${mode} ${kind} block ${shown(buf)}`)
    }
    if (decoded.ok) {
      const same = isDeepStrictEqual(decoded.block.payload, PAYLOADS[kind].payload)
      if (mode === 'raw' && !same) throw new FuzzFinding(`a raw corruption of a ${kind} block decoded to a value never written: ${shown(decoded.block.payload)}`)
      const refusal = consume(kind, decoded.block)
      if (refusal !== undefined) return `${mode}:refused-by-reader:${refusal}`
      return `${mode === 'raw' ? 'raw' : 'resealed'}:accepted-${same ? 'unchanged' : `changed-${kind}`}`
    }
    if (!isCarbError(decoded.error) || !decoded.error.code.startsWith('CARB_ERR_DISK_')) throw new FuzzFinding(`unreadable without a disk code: ${String(decoded.error)}`)
    return `${mode}:${decoded.error.code}`
  })
  if (result.failure !== null) t.fail(describeFailure('disk-blocks', result.failure))
  const { tally } = result
  t.comment(`disk-blocks: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  t.ok(tally.get('raw:accepted-unchanged') < tally.cases * 0.05, 'raw corruption is overwhelmingly unreadable (accepted only when it left the block unchanged)')
  t.ok(tally.rejected() - [...tally.counts.keys()].filter((k) => k.includes(':accepted-')).reduce((n, k) => n + tally.get(k), 0) > tally.cases * 0.5, 'most corrupt blocks are refused')
  for (const code of ['raw:CARB_ERR_DISK_BAD_CRC', 'resealed-value:CARB_ERR_DISK_BAD_PAYLOAD', 'resealed-bytes:CARB_ERR_DISK_BAD_PAYLOAD']) t.ok(tally.get(code) > 0, `some blocks were refused as ${code}`)
})

interface Expected { statuses: unknown[]; outboxes: unknown[]; lease: unknown; config: unknown }

const NAMES = ['a', 'b', 'c']
const SERVICE_DOC = { v: 1, version: 1, services: [{ name: 'web', index: 0, domain: ['a', 'b'], resources: [{ type: 'script', name: 'app', path: '/etc/init.d/app' }] }] }
const configPackr = new Packr({ useRecords: false, mapsAsObjects: true })

/** A disk with every kind of block written through the real writers. */
async function writtenDisk(path: string): Promise<QuorumDisk> {
  await QuorumDisk.init(path, { clusterName: 'fuzz', geometry })
  const disk = await QuorumDisk.open(path)
  for (const nodeId of [1, 2, 3]) await disk.writeStatus(nodeId, { nodeId, name: NAMES[nodeId - 1]!, incarnation: nodeId, state: 'up', wallMs: 1_700_000_000_000, heartbeatSeq: 4 })
  await writeOutbox(disk, 2, { from: 2, fromIncarnation: 2, messages: [{ to: 3, incarnation: 3, action: 'off', sentWallMs: 1 }], fenced: [] })
  const quick = { maxAttempts: 5, backoffBaseMs: 1, backoffMaxMs: 2 }
  const acquired = await acquireLease(disk, 0, { nodeId: 2, incarnation: 2 }, () => null, quick)
  if (!acquired.acquired) throw new Error('fixture: lease not acquired')
  await proposeConfig(disk, 2, 0, SERVICE_DOC as never, NAMES, quick)
  return disk
}

/** Everything the readers report, as plain data (errors as their codes). */
async function readAll(disk: QuorumDisk): Promise<Expected> {
  const statuses = (await disk.readAllStatus()).map((r) => (r.ok ? r.status : r.error.code))
  const outboxes = (await readOutboxes(disk)).map((r) => (r.ok ? r.outbox : r.error.code))
  const lease = await readLease(disk, 0).catch((error: unknown) => codeOf(error, () => 'readLease'))
  const config = await readConfig(disk, NAMES).then((r) => r.doc, (error: unknown) => codeOf(error, () => 'readConfig'))
  return { statuses, outboxes, lease, config }
}

/** The blocks the fixture wrote: [kind, slot, writer]. */
const TARGETS: [BlockKind, number, number][] = [
  ['header', 0, 0], ['status', 2, 2], ['status', 3, 3], ['mailbox', 2, 2], ['lease', leaseSlot(geometry, 1, 2), 2],
  ['lease', leaseSlot(geometry, CONFIG_REGISTER, 2), 2], ['config', configSlot(geometry, 2, 1, 0), 2],
]

/** Writes a consistent forged configuration: a mutated document, its parts and a pointer that hashes right. */
async function forgeConfig(m: Mutator, disk: QuorumDisk): Promise<string> {
  const doc = m.mutateValue({ ...SERVICE_DOC, version: 2 })
  let bytes: Buffer
  try { bytes = configPackr.pack(doc) } catch { bytes = m.bytes(20) }
  if (m.chance(0.3)) bytes = m.mutateBytes(bytes)
  const data = bytes.subarray(0, 300)
  await disk.writeBlock('config', configSlot(geometry, 2, 0, 0), 2, { version: 2, part: 0, data })
  let pointer: unknown = { version: 2, writer: 2, buffer: 0, parts: 1, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') }
  if (m.chance(0.3)) pointer = m.mutateValue(pointer)
  const mbal = 2 * 65536 + 2
  const ballot = (value: unknown) => ({ v: 1, committed: { instance: 2, value }, instance: 2, mbal, bal: mbal, inp: value })
  await disk.writeBlock('lease', leaseSlot(geometry, CONFIG_REGISTER, 2), 2, ballot(pointer)).catch(async (error: unknown) => {
    if (!isCarbError(error)) throw error
    pointer = 'too big for a block'
    await disk.writeBlock('lease', leaseSlot(geometry, CONFIG_REGISTER, 2), 2, ballot(pointer))
  })
  return `forged configuration ${shown(doc)} pointer ${shown(pointer)}`
}

async function corruptOnDisk(m: Mutator, path: string): Promise<{ what: string; mode: Mode | 'forged' }> {
  if (m.chance(0.25)) {
    const disk = await QuorumDisk.open(path)
    try { return { what: await forgeConfig(m, disk), mode: 'forged' } } finally { await disk.close() }
  }
  const [kind, slot] = m.pick(TARGETS)
  const copies = m.pick([[0], [1], [0, 1]] as const)
  const handle = await openFile(path, 'r+')
  try {
    const original = Buffer.alloc(geometry.blockSize)
    await handle.read(original, 0, geometry.blockSize, blockOffset(geometry, copies[0], kind, slot))
    const mode = m.pick<Mode>(['raw', 'resealed-bytes', 'resealed-value'])
    let bad = mode === 'raw' ? m.mutateBytes(original) : reseal(m.mutateBytes(original))
    const decoded = decodeBlock(original, { blockSize: geometry.blockSize, kind, index: blockIndex(geometry, kind, slot) })
    if (mode === 'resealed-value' && decoded.ok) {
      try { bad = encodeBlock({ ...decoded.block, blockSize: geometry.blockSize, payload: m.mutateValue(decoded.block.payload) }) } catch { /* too big: keep the byte mutation */ }
    }
    for (const copy of copies) await handle.write(bad.subarray(0, geometry.blockSize), 0, Math.min(bad.length, geometry.blockSize), blockOffset(geometry, copy, kind, slot))
    return { what: `${mode} ${kind} block ${slot} in copies ${copies.join('+')}: ${shown(bad)}`, mode }
  } finally {
    await handle.close()
  }
}

t.test('a real quorum disk file with corrupt blocks: readers report unreadable with a CarbError, never a value not written', async (t) => {
  const path = join(t.testdir(), 'quorum.disk')
  const writer = await writtenDisk(path)
  await writer.close()
  const pristine = await readFile(path)
  const first = await QuorumDisk.open(path)
  const expected = await readAll(first)
  await first.close()
  t.match(expected, { lease: { holder: 2, incarnation: 2 }, config: { version: 1 } }, 'the fixture reads back')

  const result = await fuzz('quorum-disk', budget(400), async (m) => {
    const { what, mode } = await corruptOnDisk(m, path)
    let got: Expected
    let disk: QuorumDisk | undefined
    try {
      disk = await QuorumDisk.open(path)
      got = await readAll(disk)
    } catch (error) {
      return `${mode}:${codeOf(error, () => what)}`
    } finally {
      await disk?.close()
      await writeFile(path, pristine)
    }
    if (mode === 'raw') {
      // A block that fails its checks falls back to the other copy or is unreadable: never another value.
      for (const key of ['statuses', 'outboxes'] as const) {
        got[key].forEach((v, i) => { if (typeof v !== 'string' && !isDeepStrictEqual(v, expected[key][i])) throw new FuzzFinding(`${key}[${i}] read ${shown(v)} after ${what}`) })
      }
      for (const key of ['lease', 'config'] as const) if (typeof got[key] !== 'string' && !isDeepStrictEqual(got[key], expected[key])) throw new FuzzFinding(`${key} read ${shown(got[key])} after ${what}`)
    }
    const changed = (['statuses', 'outboxes', 'lease', 'config'] as const).flatMap((k) => {
      const now = got[k]
      if (isDeepStrictEqual(now, expected[k])) return []
      const error = Array.isArray(now) ? now.find((v, i) => typeof v === 'string' && v !== (expected[k] as unknown[])[i]) : typeof now === 'string' ? now : undefined
      if (typeof error === 'string' && !/^CARB_ERR_(DISK|CONFIG_FIELD)/.test(error)) throw new FuzzFinding(`${k} unreadable with ${error}, not a disk or configuration code, after ${what}`)
      return [`${k}=${typeof error === 'string' ? error : 'new-value'}`]
    })
    return changed.length === 0 ? `${mode}:unchanged` : `${mode}:${changed.join('+')}`
  })
  if (result.failure !== null) t.fail(describeFailure('quorum-disk', result.failure))
  const { tally } = result
  t.comment(`quorum-disk: ${tally.cases} cases in ${Math.round(result.elapsedMs)} ms: ${tally.toString()}`)
  t.ok(tally.cases > 0 && [...tally.counts.keys()].some((k) => k.startsWith('forged:')), 'forged configurations were read')
})
