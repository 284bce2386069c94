/**
 * Small field readers for the config validator: each returns the value or throws a
 * one-line CarbError naming the file and the field path (e.g. `nodes[1].heartbeat[0]`).
 */
import { CarbError } from '../errors.js'
import { show } from '../safe-string.js'

export { show } from '../safe-string.js'

export type Obj = Record<string, unknown>

export function fieldError(file: string, path: string, message: string): CarbError {
  return new CarbError('CARB_ERR_CONFIG_FIELD', `${path}: ${message}`, file)
}


export function asObject(file: string, path: string, value: unknown): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fieldError(file, path, `must be a mapping, got ${show(value)}`)
  }
  return value as Obj
}

export function rejectUnknown(file: string, path: string, obj: Obj, known: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      const where = path === '' ? key : `${path}.${key}`
      throw fieldError(file, where, `unknown field (known: ${known.join(', ')})`)
    }
  }
}

export function readString(file: string, path: string, value: unknown, pattern?: RegExp, hint?: string): string {
  if (typeof value !== 'string' || value.length === 0) throw fieldError(file, path, `must be a non-empty string, got ${show(value)}`)
  if (pattern !== undefined && !pattern.test(value)) throw fieldError(file, path, `${hint ?? `must match ${pattern}`}, got ${show(value)}`)
  return value
}

export function readInteger(file: string, path: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fieldError(file, path, `must be an integer from ${min} to ${max}, got ${show(value)}`)
  }
  return value
}

export function readArray(file: string, path: string, value: unknown, minLength: number, maxLength: number): unknown[] {
  if (!Array.isArray(value)) throw fieldError(file, path, `must be a list, got ${show(value)}`)
  if (value.length < minLength || value.length > maxLength) {
    throw fieldError(file, path, `must have ${minLength} to ${maxLength} entries, got ${value.length}`)
  }
  return value
}

export interface HostPort { host: string; port: number }

/** `host:port`, `[v6]:port`; host is an IP literal or a name. */
export function readHostPort(file: string, path: string, value: unknown): HostPort {
  const text = readString(file, path, value)
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text)
  if (match === null) throw fieldError(file, path, `must be host:port or [ipv6]:port, got ${show(text)}`)
  const port = Number(match[3])
  if (port < 1 || port > 65535) throw fieldError(file, path, `port must be 1..65535, got ${port}`)
  return { host: match[1] ?? match[2] ?? '', port }
}
