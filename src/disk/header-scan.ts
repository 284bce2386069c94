/**
 * Finding the header of a quorum disk whose geometry we do not know yet. The primary header
 * is block 0; its block size is whichever of 512 and 4096 makes it decode. When the primary
 * header is unreadable, the shadow header sits at copyBlocks(g) * blockSize for a geometry we
 * cannot know, so we scan the bounded region where it can be (the geometry limits in
 * layout.ts) for a header block that decodes and whose own geometry puts it exactly where it
 * was found.
 */
import { CarbError } from '../errors.js'
import { decodeBlock, KIND_CODES, MAGIC, type BlockFields, type DecodeResult } from './block.js'
import { CONFIG_BLOCKS_LIMIT, copyBlocks, MAX_NODES_LIMIT, MAX_SERVICES_LIMIT, type Geometry } from './layout.js'
import type { HeaderPayload } from './payloads.js'

export type ReadAt = (position: number, length: number) => Promise<Buffer>

export interface FoundHeader {
  header: HeaderPayload
  geometry: Geometry
  clusterUuid: Buffer
  source: 'primary' | 'shadow'
}

const BLOCK_SIZES = [512, 4096] as const
const SCAN_CHUNK_BYTES = 1 << 20
/** The farthest a shadow header can be: one largest copy of 4096-byte blocks. */
export const SHADOW_SCAN_LIMIT_BYTES = copyBlocks({ blockSize: 4096, maxNodes: MAX_NODES_LIMIT, maxServices: MAX_SERVICES_LIMIT, configBlocks: CONFIG_BLOCKS_LIMIT }) * 4096 + 4096

export function geometryOf(header: HeaderPayload): Geometry {
  return { blockSize: header.blockSize, maxNodes: header.maxNodes, maxServices: header.maxServices, configBlocks: header.configBlocks }
}

function found(block: BlockFields, source: FoundHeader['source']): FoundHeader {
  const header = block.payload as HeaderPayload
  return { header, geometry: geometryOf(header), clusterUuid: block.clusterUuid, source }
}

/**
 * Decode a header block trying both block sizes; the payload must agree with the size. When
 * both fail, the most telling failure wins: a specific one, then a checksum, then a short read.
 */
function decodeHeaderAt(buf: Buffer, where: string): DecodeResult {
  const failures: { ok: false; error: CarbError; empty?: true }[] = []
  for (const blockSize of BLOCK_SIZES) {
    const result = decodeBlock(buf, { blockSize, kind: 'header', index: 0, writer: 0, where })
    if (result.ok && (result.block.payload as HeaderPayload).blockSize === blockSize) return result
    if (!result.ok) failures.push(result)
  }
  const rank = (code: string): number => (code === 'CARB_ERR_DISK_SHORT' ? 2 : code === 'CARB_ERR_DISK_BAD_CRC' ? 1 : 0)
  failures.sort((a, b) => rank(a.error.code) - rank(b.error.code))
  return failures[0] ?? { ok: false, error: new CarbError('CARB_ERR_DISK_BAD_PAYLOAD', 'header block size disagrees with its payload', where) }
}

function looksLikeHeader(chunk: Buffer, at: number): boolean {
  return chunk.length >= at + 8 && chunk.subarray(at, at + 4).equals(MAGIC) && chunk.readUInt16BE(at + 6) === KIND_CODES.header
}

async function scanForShadow(readAt: ReadAt, sizeBytes: number, where: string): Promise<FoundHeader | undefined> {
  const endBytes = Math.min(sizeBytes, SHADOW_SCAN_LIMIT_BYTES)
  for (let chunkStart = 512; chunkStart < endBytes; chunkStart += SCAN_CHUNK_BYTES) {
    const chunk = await readAt(chunkStart, Math.min(SCAN_CHUNK_BYTES, endBytes - chunkStart))
    for (let at = 0; at < chunk.length; at += 512) {
      if (!looksLikeHeader(chunk, at)) continue
      const position = chunkStart + at
      const result = decodeHeaderAt(await readAt(position, 4096), `${where} (shadow header at byte ${position})`)
      if (!result.ok) continue
      const candidate = found(result.block, 'shadow')
      if (copyBlocks(candidate.geometry) * candidate.geometry.blockSize === position) return candidate
    }
  }
  return undefined
}

/** The primary header, else the shadow header, else the primary's error (empty when never written). */
export async function findHeader(readAt: ReadAt, sizeBytes: number, where: string): Promise<FoundHeader | { error: CarbError; empty: boolean }> {
  if (sizeBytes < 512) return { error: new CarbError('CARB_ERR_DISK_SHORT', `${sizeBytes} bytes, too short to hold a quorum disk header`, where), empty: false }
  const primary = decodeHeaderAt(await readAt(0, 4096), `${where} (primary header)`)
  if (primary.ok) return found(primary.block, 'primary')
  const shadow = await scanForShadow(readAt, sizeBytes, where)
  if (shadow !== undefined) return shadow
  const empty = primary.empty === true
  const error = empty ? new CarbError('CARB_ERR_DISK_BAD_MAGIC', 'not a Carbonado quorum disk (never initialized: run `carbonado disk init`)', where) : primary.error
  return { error, empty }
}
