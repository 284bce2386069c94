/**
 * `--from` / `--to` of `carbonado replay --explain`: a moment as an ISO 8601 date-time
 * (`2026-12-03T03:12:04.210Z`; without a zone it is UTC) or a UTC time of day
 * (`03:12`, `03:12:04`, `03:12:04.210`) on the day the timeline starts.
 */
import { CarbError } from '../errors.js'

const TIME_OF_DAY = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/
const DAY_MS = 86_400_000

function timeOfDayMs(match: RegExpMatchArray): number | null {
  const [hours, minutes, seconds, millis] = [match[1], match[2], match[3] ?? '0', (match[4] ?? '0').padEnd(3, '0')].map(Number) as [number, number, number, number]
  if (hours > 23 || minutes > 59 || seconds > 59) return null
  return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
}

/** Wall ms of `value`; `dayOfWallMs` is any moment of the day a bare time of day refers to. */
export function parseTimeFlag(flag: string, value: string, dayOfWallMs: number): number {
  const match = value.match(TIME_OF_DAY)
  if (match !== null) {
    const ms = timeOfDayMs(match)
    if (ms === null) throw new CarbError('CARB_ERR_USAGE', `replay: --${flag} "${value}" is not a time of day (HH:MM[:SS[.mmm]], UTC)`)
    return Math.floor(dayOfWallMs / DAY_MS) * DAY_MS + ms
  }
  const isoWithoutZone = /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value)
  const parsed = Date.parse(isoWithoutZone ? `${value}Z` : value)
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(parsed)) {
    throw new CarbError('CARB_ERR_USAGE', `replay: --${flag} "${value}" is neither an ISO 8601 date-time nor a time of day (HH:MM[:SS[.mmm]], UTC)`)
  }
  return parsed
}
