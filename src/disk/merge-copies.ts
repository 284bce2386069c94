/**
 * Which copy of a block a reader believes (pure): the primary when it passes every check,
 * else the shadow (Kimberlite's rule). When neither passes, the block is unreadable: the
 * error keeps the code of the more telling failure (a never-written copy tells least) and
 * its message names what was wrong with each copy. Both copies never written = `empty`.
 */
import { CarbError } from '../errors.js'
import type { BlockFields, DecodeResult } from './block.js'

export type MergedRead =
  | { ok: true; block: BlockFields; source: 'primary' | 'shadow' }
  | { ok: false; error: CarbError; empty?: boolean }

export function mergeCopies(primary: DecodeResult, shadow: DecodeResult, where: string): MergedRead {
  if (primary.ok) return { ok: true, block: primary.block, source: 'primary' }
  if (shadow.ok) return { ok: true, block: shadow.block, source: 'shadow' }
  if (primary.empty === true && shadow.empty === true) {
    return { ok: false, empty: true, error: CarbError.value('CARB_ERR_DISK_BAD_MAGIC', 'never written (both copies)', where) }
  }
  const telling = primary.empty === true ? shadow.error : primary.error
  const message = `unreadable in both copies: primary ${primary.error.code} ${primary.error.message}; shadow ${shadow.error.code} ${shadow.error.message}`
  return { ok: false, error: CarbError.value(telling.code, message, where) }
}
