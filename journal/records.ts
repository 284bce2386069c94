/**
 * The journal's record kinds (DESIGN.md "Every input is journaled before it is delivered;
 * every transition after it is taken") and the shape check every reader applies.
 * Each record carries its format version `v`, so a newer writer's records are refused by
 * name instead of being misread (STYLE.md §7).
 */
import { CarbError } from '../src/errors.js'
import { isHlcPair, type HlcPair } from './hlc.js'

export const JOURNAL_FORMAT_VERSION = 1

/**
 * Every record may carry `h`, the writer's hybrid-logical-clock stamp (hlc.ts), used only to
 * merge several nodes' journals in causal order; journals written before it have none.
 */
interface Stamped { h?: HlcPair }

export type JournalRecord = Stamped & (
  | { v: 1; t: 'start'; node: string; nodeId: number; incarnation: number; codeVersion: string; wallMs: number; atMs: number; cluster: string }
  | { v: 1; t: 'create'; m: string; type: string; input: unknown; atMs: number }
  | { v: 1; t: 'input'; m: string; e: { type: string; at: number; [k: string]: unknown } }
  | { v: 1; t: 'transition'; m: string; from: unknown; to: unknown; event: string; effects: unknown[] }
  | { v: 1; t: 'note'; text: string; atMs: number; wallMs: number }
)

export interface StoredRecord { seq: number; record: JournalRecord }

/** 'any' fields may hold anything, even undefined (a machine created without input). */
type FieldKind = 'string' | 'number' | 'object' | 'array' | 'any'

/** The fields each record kind must carry, with their kinds; extra fields are allowed. */
const FIELDS: Readonly<Record<JournalRecord['t'], Readonly<Record<string, FieldKind>>>> = {
  start: { node: 'string', nodeId: 'number', incarnation: 'number', codeVersion: 'string', wallMs: 'number', atMs: 'number', cluster: 'string' },
  create: { m: 'string', type: 'string', input: 'any', atMs: 'number' },
  input: { m: 'string', e: 'object' },
  transition: { m: 'string', from: 'any', to: 'any', event: 'string', effects: 'array' },
  note: { text: 'string', atMs: 'number', wallMs: 'number' },
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function hasKind(value: unknown, kind: FieldKind): boolean {
  if (kind === 'any') return true
  if (kind === 'array') return Array.isArray(value)
  if (kind === 'object') return isObject(value)
  if (kind === 'number') return typeof value === 'number' && Number.isFinite(value)
  return typeof value === kind
}

/**
 * Returns `value` as a JournalRecord or throws a named error saying where (`where` names the
 * journal or file and the seq): a version or kind this code does not know is
 * CARB_ERR_JOURNAL_VERSION (written by a newer Carbonado); anything else malformed is
 * CARB_ERR_JOURNAL_CORRUPT.
 */
export function checkRecord(value: unknown, where: string): JournalRecord {
  if (!isObject(value)) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `record is not an object (${describe(value)})`, where)
  if (typeof value.v !== 'number') throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', 'record has no format version "v"', where)
  if (value.v !== JOURNAL_FORMAT_VERSION) {
    throw new CarbError('CARB_ERR_JOURNAL_VERSION', `record format version ${value.v} is not supported (this code reads version ${JOURNAL_FORMAT_VERSION})`, where)
  }
  if (typeof value.t !== 'string') throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', 'record has no kind "t"', where)
  const fields = Object.hasOwn(FIELDS, value.t) ? FIELDS[value.t as JournalRecord['t']] : undefined
  if (fields === undefined) {
    throw new CarbError('CARB_ERR_JOURNAL_VERSION', `record kind "${value.t}" is not known to format version ${JOURNAL_FORMAT_VERSION} (known: ${Object.keys(FIELDS).join(', ')})`, where)
  }
  for (const [name, kind] of Object.entries(fields)) {
    if (!hasKind(value[name], kind)) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `"${value.t}" record field "${name}" is not ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} (${describe(value[name])})`, where)
  }
  if (value.h !== undefined && !isHlcPair(value.h)) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `"${value.t}" record field "h" is not a clock stamp [wallMs, logical] (${describe(value.h)})`, where)
  if (value.t === 'input') checkInputEvent(value.e as Record<string, unknown>, where)
  return value as unknown as JournalRecord
}

function checkInputEvent(e: Record<string, unknown>, where: string): void {
  if (typeof e.type !== 'string') throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `"input" record event has no string "type" (${describe(e.type)})`, where)
  if (!hasKind(e.at, 'number')) throw new CarbError('CARB_ERR_JOURNAL_CORRUPT', `"input" record event "${e.type}" has no numeric "at" (${describe(e.at)})`, where)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Uint8Array) return `${value.length} raw bytes`
  return typeof value
}
