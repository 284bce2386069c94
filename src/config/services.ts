/**
 * The service configuration (cluadmin's service database): what runs, where it prefers to
 * run, how it recovers. It lives on the quorum disk as one versioned document; every change
 * is a new version decided by disk-Paxos register 0 (src/config/config-store.ts), so two
 * administrators can never both write version N+1.
 *
 * Validation is field by field with one-line errors naming the field, like the cluster
 * file; the per-type resource fields are checked by the agents (src/agents/spec.ts).
 */
import { CarbError } from '../errors.js'
import { validateResourceSpec, type ResourceSpec } from '../agents/spec.js'
import { RESTARTS_MAX } from '../../machines/restart-budget.js'
import { asObject, readArray, readInteger, readString, rejectUnknown, show, type Obj } from './fields.js'
import { readClusterFileRecord, type ClusterFileRecord } from './cluster-file-record.js'

export const SERVICE_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/
export const RESOURCES_MAX = 16
export const RECOVERY_POLICIES = ['restart-then-relocate', 'relocate', 'disable'] as const
export type RecoveryPolicy = (typeof RECOVERY_POLICIES)[number]

export interface ResourceTiming {
  monitorIntervalMs: number
  startTimeoutMs: number
  stopTimeoutMs: number
  monitorTimeoutMs: number
}

export type ServiceResource = ResourceSpec & ResourceTiming

export interface ServiceDef {
  name: string
  /** Stable index of the service's lease register on the disk; assigned when added. */
  index: number
  enabled: boolean
  /** Ordered failover domain: the first node is the preferred one. */
  domain: string[]
  failback: boolean
  failbackStableMs: number
  /** A standing manual relocation (`service relocate --to`), until the next relocate or modify. */
  relocateTo: string | null
  /** Bumped by `service restart`; the owner restarts the service when it changes. */
  restartGeneration: number
  recovery: { policy: RecoveryPolicy; maxRestarts: number; windowMs: number }
  resources: ServiceResource[]
}

export interface ServicesDoc {
  v: 1
  /** 0 for a disk that never had a configuration; each decided change is the next integer. */
  version: number
  services: ServiceDef[]
  /**
   * The cluster file `config init` stored (cluster-file-record.ts). Every edit spreads the
   * document it started from, so a services change carries it on unchanged.
   */
  clusterFile?: ClusterFileRecord
}

export const EMPTY_SERVICES: ServicesDoc = { v: 1, version: 0, services: [] }

interface Default { field: string; value: number | string | boolean; reason: string }

/** Defaults with their reasons (STYLE.md §9); the README's service reference is made from it. */
export const SERVICE_DEFAULTS: readonly Default[] = [
  { field: 'enabled', value: true, reason: 'a service added is meant to run; add it disabled to stage it' },
  { field: 'failback', value: true, reason: "Kimberlite moved a service back when its preferred node recovered" },
  { field: 'failbackStableMs', value: 30_000, reason: 'a node that just rejoined may fail again; each move costs an outage, so wait until it has stayed up this long' },
  { field: 'recovery.policy', value: 'restart-then-relocate', reason: 'a failed monitor is most often a crashed process: restart here first, move when restarts do not help' },
  { field: 'recovery.maxRestarts', value: 3, reason: "Pacemaker's usual migration-threshold: three failures in the window move the service" },
  { field: 'recovery.windowMs', value: 600_000, reason: 'failures older than 10 minutes are forgotten (failure-timeout)' },
  { field: 'resources[].monitorIntervalMs', value: 10_000, reason: 'a dead process is found within 10 s at the cost of one cheap status call' },
  { field: 'resources[].startTimeoutMs', value: 60_000, reason: 'databases replaying a log and file-system checks need time; a hung start is killed after this' },
  { field: 'resources[].stopTimeoutMs', value: 60_000, reason: 'a stop that hangs longer escalates to fencing this node (the service cannot move otherwise)' },
  { field: 'resources[].monitorTimeoutMs', value: 20_000, reason: 'a status call that takes longer counts as a failure' },
]

const defaultOf = (field: string): number | string | boolean => {
  const entry = SERVICE_DEFAULTS.find((d) => d.field === field)
  if (entry === undefined) throw new Error(`no default for ${field}`)
  return entry.value
}

const SERVICE_FIELDS = ['name', 'index', 'enabled', 'domain', 'failback', 'failbackStableMs', 'relocateTo', 'restartGeneration', 'recovery', 'resources'] as const
const TIMING_FIELDS = ['monitorIntervalMs', 'startTimeoutMs', 'stopTimeoutMs', 'monitorTimeoutMs'] as const
const TIMEOUT_MIN_MS = 100
const TIMEOUT_MAX_MS = 3_600_000

function readBoolean(where: string, path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}: must be true or false, got ${show(value)}`, where)
  return value
}

function readMs(where: string, path: string, value: unknown, field: string): number {
  return value === undefined ? Number(defaultOf(field)) : readInteger(where, path, value, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS)
}

function readResource(where: string, path: string, value: unknown): ServiceResource {
  const obj = asObject(where, path, value)
  const spec: Obj = {}
  const timing: Partial<ResourceTiming> = {}
  for (const [key, field] of Object.entries(obj)) {
    if ((TIMING_FIELDS as readonly string[]).includes(key)) timing[key as keyof ResourceTiming] = readMs(where, `${path}.${key}`, field, `resources[].${key}`)
    else spec[key] = field
  }
  const resource = validateResourceSpec(spec, where, path)
  const full = { ...resource, ...Object.fromEntries(TIMING_FIELDS.map((f) => [f, timing[f] ?? Number(defaultOf(`resources[].${f}`))])) } as ServiceResource
  return full
}

function readRecovery(where: string, path: string, value: unknown): ServiceDef['recovery'] {
  const obj = value === undefined ? {} : asObject(where, path, value)
  rejectUnknown(where, path, obj, ['policy', 'maxRestarts', 'windowMs'])
  const policy = obj.policy === undefined ? defaultOf('recovery.policy') : obj.policy
  if (!(RECOVERY_POLICIES as readonly unknown[]).includes(policy)) {
    throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}.policy: must be one of ${RECOVERY_POLICIES.join(', ')}, got ${show(policy)}`, where)
  }
  const maxRestarts = obj.maxRestarts === undefined ? Number(defaultOf('recovery.maxRestarts')) : readInteger(where, `${path}.maxRestarts`, obj.maxRestarts, 0, RESTARTS_MAX)
  const windowMs = obj.windowMs === undefined ? Number(defaultOf('recovery.windowMs')) : readInteger(where, `${path}.windowMs`, obj.windowMs, 1000, 7 * 24 * 3_600_000)
  return { policy: policy as RecoveryPolicy, maxRestarts, windowMs }
}

function readDomain(where: string, path: string, value: unknown, nodeNames: readonly string[]): string[] {
  const list = readArray(where, path, value, 1, nodeNames.length === 0 ? 16 : nodeNames.length)
  const domain = list.map((n, i) => readString(where, `${path}[${i}]`, n))
  domain.forEach((n, i) => {
    if (nodeNames.length > 0 && !nodeNames.includes(n)) throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}[${i}]: no node named "${n}" in the cluster (nodes: ${nodeNames.join(', ')})`, where)
    if (domain.indexOf(n) !== i) throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}[${i}]: node "${n}" is listed twice`, where)
  })
  return domain
}

/**
 * One service definition. `where` names the source (a file, or `service add`); `nodeNames`
 * are the cluster's nodes (empty: not checked). Missing optional fields take their defaults.
 */
export function readService(where: string, path: string, value: unknown, nodeNames: readonly string[], maxServices: number): ServiceDef {
  const obj = asObject(where, path, value)
  rejectUnknown(where, path, obj, SERVICE_FIELDS)
  const name = readString(where, `${path}.name`, obj.name, SERVICE_NAME_PATTERN, 'must be lower-case letters, digits, . _ - (at most 63)')
  const index = readInteger(where, `${path}.index`, obj.index, 0, maxServices - 1)
  const domain = readDomain(where, `${path}.domain`, obj.domain, nodeNames)
  const relocateTo = obj.relocateTo === undefined || obj.relocateTo === null ? null : readString(where, `${path}.relocateTo`, obj.relocateTo)
  if (relocateTo !== null && !domain.includes(relocateTo)) {
    throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}.relocateTo: "${relocateTo}" is not in the failover domain [${domain.join(', ')}]`, where)
  }
  const resources = readArray(where, `${path}.resources`, obj.resources, 1, RESOURCES_MAX).map((r, i) => readResource(where, `${path}.resources[${i}]`, r))
  resources.forEach((r, i) => {
    if (resources.findIndex((o) => o.name === r.name) !== i) throw new CarbError('CARB_ERR_CONFIG_FIELD', `${path}.resources[${i}].name: "${r.name}" is used twice in this service`, where)
  })
  return {
    name, index, domain, relocateTo, resources,
    enabled: readBoolean(where, `${path}.enabled`, obj.enabled, Boolean(defaultOf('enabled'))),
    failback: readBoolean(where, `${path}.failback`, obj.failback, Boolean(defaultOf('failback'))),
    failbackStableMs: obj.failbackStableMs === undefined ? Number(defaultOf('failbackStableMs')) : readInteger(where, `${path}.failbackStableMs`, obj.failbackStableMs, 0, TIMEOUT_MAX_MS),
    restartGeneration: obj.restartGeneration === undefined ? 0 : readInteger(where, `${path}.restartGeneration`, obj.restartGeneration, 0, Number.MAX_SAFE_INTEGER),
    recovery: readRecovery(where, `${path}.recovery`, obj.recovery),
  }
}

/** A whole document (from the disk or a backup file): every service valid, names and indexes unique. */
export function readServicesDoc(where: string, value: unknown, nodeNames: readonly string[], maxServices: number): ServicesDoc {
  const obj = asObject(where, '', value)
  rejectUnknown(where, '', obj, ['v', 'version', 'services', 'clusterFile'])
  if (obj.v !== 1) throw new CarbError('CARB_ERR_CONFIG_FIELD', `v: configuration format ${show(obj.v)}, this build reads 1`, where)
  const version = readInteger(where, 'version', obj.version, 0, Number.MAX_SAFE_INTEGER)
  const services = readArray(where, 'services', obj.services, 0, maxServices).map((s, i) => readService(where, `services[${i}]`, s, nodeNames, maxServices))
  services.forEach((s, i) => {
    if (services.findIndex((o) => o.name === s.name) !== i) throw new CarbError('CARB_ERR_CONFIG_FIELD', `services[${i}].name: "${s.name}" is defined twice`, where)
    if (services.findIndex((o) => o.index === s.index) !== i) throw new CarbError('CARB_ERR_CONFIG_FIELD', `services[${i}].index: ${s.index} is used by "${services.find((o) => o.index === s.index)?.name}" too`, where)
  })
  const clusterFile = obj.clusterFile === undefined || obj.clusterFile === null ? undefined : readClusterFileRecord(where, 'clusterFile', obj.clusterFile)
  return clusterFile === undefined ? { v: 1, version, services } : { v: 1, version, services, clusterFile }
}
