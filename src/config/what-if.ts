/**
 * The settings file of `carbonado replay --what-if FILE`: the timings and policies to try
 * instead of the recorded ones. It is a cluster file's `timing` and `fencing` sections (a
 * whole cluster file works: its other sections are ignored) plus, per service, the recovery
 * policy and monitor intervals, in the shapes the cluster and service configurations use:
 *
 *   timing: { peerDeadAfterMs: 3000 }
 *   fencing: { roundsMax: 5 }
 *   services: { web: { recovery: { policy: relocate, maxRestarts: 1 }, resources: { app: { monitorIntervalMs: 2000 } } } }
 *
 * Every field is optional; a field that is set replaces the recorded value in every machine
 * that recorded it.
 */
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { CarbError } from '../errors.js'
import { RECOVERY_POLICIES } from './services.js'
import { asObject, fieldError, readInteger, rejectUnknown, show, type Obj } from './fields.js'
import type { RecoveryPolicy } from '../../machines/service-events.js'

export interface WhatIfService {
  recovery: { policy?: RecoveryPolicy; maxRestarts?: number; windowMs?: number }
  /** Per resource name. */
  monitorIntervalMs: Record<string, number>
}

export interface WhatIfSettings {
  timing: Partial<Record<WhatIfTimingField, number>>
  fencing: Partial<Record<WhatIfFencingField, number>>
  services: Record<string, WhatIfService>
  /** Sections of a cluster file the what-if does not use (reported, not an error). */
  ignored: string[]
}

/** The timings a machine records (diskIntervalMs through the derived diskSuspectAfterMs). */
export const WHAT_IF_TIMING_FIELDS = ['peerDeadAfterMs', 'diskIntervalMs', 'diskDeadAfterMs', 'selfFenceAfterMs', 'selfFenceStopMs'] as const
export type WhatIfTimingField = (typeof WHAT_IF_TIMING_FIELDS)[number]
export const WHAT_IF_FENCING_FIELDS = ['raceDelayMs', 'retryBaseMs', 'retryMaxMs', 'roundsMax'] as const
export type WhatIfFencingField = (typeof WHAT_IF_FENCING_FIELDS)[number]

/** Timings no machine records (the shell uses them): accepted in a cluster file, listed as ignored. */
const SHELL_TIMING_FIELDS = ['heartbeatIntervalMs']
const CLUSTER_SECTIONS = ['cluster', 'disk', 'authKeyFile', 'journalDir', 'controlSocket', 'nodes', 'watchdog', 'dashboard']
const HOUR_MS = 3_600_000

function readNumbers<F extends string>(file: string, path: string, value: unknown, fields: readonly F[], extra: readonly string[], ignored: string[]): Partial<Record<F, number>> {
  if (value === undefined) return {}
  const obj = asObject(file, path, value)
  rejectUnknown(file, path, obj, [...fields, ...extra])
  const out: Partial<Record<F, number>> = {}
  for (const key of Object.keys(obj)) {
    if ((fields as readonly string[]).includes(key)) out[key as F] = readInteger(file, `${path}.${key}`, obj[key], key === 'raceDelayMs' ? 0 : 1, 24 * HOUR_MS)
    else ignored.push(`${path}.${key}`)
  }
  return out
}

function readService(file: string, path: string, value: unknown): WhatIfService {
  const obj = asObject(file, path, value)
  rejectUnknown(file, path, obj, ['recovery', 'resources'])
  const recovery: WhatIfService['recovery'] = {}
  if (obj.recovery !== undefined) {
    const r = asObject(file, `${path}.recovery`, obj.recovery)
    rejectUnknown(file, `${path}.recovery`, r, ['policy', 'maxRestarts', 'windowMs'])
    if (r.policy !== undefined) {
      if (!(RECOVERY_POLICIES as readonly unknown[]).includes(r.policy)) throw fieldError(file, `${path}.recovery.policy`, `must be one of ${RECOVERY_POLICIES.join(', ')}, got ${show(r.policy)}`)
      recovery.policy = r.policy as RecoveryPolicy
    }
    if (r.maxRestarts !== undefined) recovery.maxRestarts = readInteger(file, `${path}.recovery.maxRestarts`, r.maxRestarts, 0, 1000)
    if (r.windowMs !== undefined) recovery.windowMs = readInteger(file, `${path}.recovery.windowMs`, r.windowMs, 1000, 7 * 24 * HOUR_MS)
  }
  const monitorIntervalMs: Record<string, number> = {}
  const resources: Obj = obj.resources === undefined ? {} : asObject(file, `${path}.resources`, obj.resources)
  for (const [name, res] of Object.entries(resources)) {
    const r = asObject(file, `${path}.resources.${name}`, res)
    rejectUnknown(file, `${path}.resources.${name}`, r, ['monitorIntervalMs'])
    if (r.monitorIntervalMs !== undefined) monitorIntervalMs[name] = readInteger(file, `${path}.resources.${name}.monitorIntervalMs`, r.monitorIntervalMs, 0, 24 * HOUR_MS)
  }
  return { recovery, monitorIntervalMs }
}

/** Validates a parsed what-if document; errors are one line naming `file` and the field. */
export function readWhatIf(file: string, doc: unknown): WhatIfSettings {
  const top = asObject(file, '(top level)', doc ?? {})
  rejectUnknown(file, '', top, ['timing', 'fencing', 'services', ...CLUSTER_SECTIONS])
  const ignored = Object.keys(top).filter((k) => CLUSTER_SECTIONS.includes(k))
  const timing = readNumbers(file, 'timing', top.timing, WHAT_IF_TIMING_FIELDS, SHELL_TIMING_FIELDS, ignored)
  const fencing = readNumbers(file, 'fencing', top.fencing, WHAT_IF_FENCING_FIELDS, [], ignored)
  const services: Record<string, WhatIfService> = {}
  const list: Obj = top.services === undefined ? {} : asObject(file, 'services', top.services)
  for (const [name, value] of Object.entries(list)) services[name] = readService(file, `services.${name}`, value)
  if (Object.keys(timing).length + Object.keys(fencing).length + Object.keys(services).length === 0) {
    throw new CarbError('CARB_ERR_CONFIG_FIELD', 'sets nothing to try (give timing, fencing or services fields)', file)
  }
  return { timing, fencing, services, ignored }
}

export async function loadWhatIf(file: string): Promise<WhatIfSettings> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new CarbError('CARB_ERR_CONFIG_READ', `cannot read what-if settings (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, file)
  }
  let doc: unknown
  try {
    doc = parse(text, { prettyErrors: false, uniqueKeys: true })
  } catch (error) {
    throw new CarbError('CARB_ERR_CONFIG_SYNTAX', `not valid YAML: ${(error as Error).message.split('\n')[0]}`, file)
  }
  return readWhatIf(file, doc)
}
