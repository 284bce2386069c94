/**
 * Bytes of the journal: keys are 8-byte big-endian sequence numbers (so LevelDB's byte
 * order is sequence order); values are self-describing msgpack maps (no records extension,
 * no shared structures: any msgpack decoder reads them without a structure table — see
 * STACK.md "msgpackr").
 */
import { Packr } from 'msgpackr'
import { CarbError } from '../src/errors.js'
import { checkRecord, type JournalRecord } from './records.js'

export const KEY_BYTES = 8

/** The same options must be used to write and to read (STACK.md); this is the only Packr. */
export const journalPackr = new Packr({ useRecords: false, mapsAsObjects: true })

export function encodeKey(seq: number): Buffer {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`journal seq must be a non-negative safe integer, got ${seq}`)
  const key = Buffer.allocUnsafe(KEY_BYTES)
  key.writeBigUInt64BE(BigInt(seq))
  return key
}

/** `where` names the journal for the error when the key is not one this code writes. */
export function decodeKey(key: Uint8Array, where = 'journal'): number {
  if (key.length !== KEY_BYTES) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `key of ${key.length} bytes is not an ${KEY_BYTES}-byte sequence number`, where)
  const seq = Buffer.from(key.buffer, key.byteOffset, key.length).readBigUInt64BE()
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `key ${seq} is beyond the largest sequence number`, where)
  return Number(seq)
}

export function encodeRecord(record: JournalRecord): Buffer {
  return journalPackr.pack(record)
}

/** Marks stored bytes that are not one msgpack value; readers turn it into a named error. */
export class UndecodableValue {
  constructor(readonly reason: string, readonly bytes: number) {}
}

/** One msgpack value, or UndecodableValue (never throws: LevelDB iterators call it). */
export function decodeValue(bytes: Uint8Array): unknown {
  try {
    const values = journalPackr.unpackMultiple(bytes) as unknown[]
    if (values.length !== 1) return new UndecodableValue(`${values.length} msgpack values where one was expected`, bytes.length)
    return values[0]
  } catch (error) {
    return new UndecodableValue((error as Error).message, bytes.length)
  }
}

/** Decodes and shape-checks one stored record; `where` names the journal or file and the seq. */
export function decodeRecord(bytes: Uint8Array, where: string): JournalRecord {
  return checkValue(decodeValue(bytes), where)
}

export function checkValue(value: unknown, where: string): JournalRecord {
  if (value instanceof UndecodableValue) {
    throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `record of ${value.bytes} bytes is not msgpack (${value.reason})`, where)
  }
  return checkRecord(value, where)
}

/**
 * LevelDB value encoding wrapping the Packr: `encode` packs a record, `decode` yields the
 * unpacked value (or UndecodableValue) so the reader can name the seq in its error.
 */
export const journalValueEncoding = {
  name: 'carbonado-msgpack-v1',
  format: 'buffer' as const,
  encode: (record: unknown): Buffer => encodeRecord(record as JournalRecord),
  decode: (bytes: Buffer): unknown => decodeValue(bytes),
}
