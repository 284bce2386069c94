/**
 * The administrator's changes to the service configuration (cluadmin's service add, modify,
 * delete, enable, disable, relocate, restart), as pure functions from one document to the
 * next. Each returns a document with the same `version`: the config store proposes it as
 * version + 1 and refuses it if someone else took that version first.
 */
import { CarbError } from '../errors.js'
import { readService, type ServiceDef, type ServicesDoc } from './services.js'

export interface EditContext {
  /** Where the change comes from, for error messages (e.g. `service add`). */
  where: string
  nodeNames: readonly string[]
  maxServices: number
}

function find(doc: ServicesDoc, name: string, where: string): ServiceDef {
  const service = doc.services.find((s) => s.name === name)
  if (service === undefined) {
    const known = doc.services.map((s) => s.name).join(', ') || 'none'
    throw new CarbError('CARB_ERR_SERVICE_UNKNOWN', `no service named "${name}" in configuration version ${doc.version} (services: ${known})`, where)
  }
  return service
}

function replace(doc: ServicesDoc, next: ServiceDef): ServicesDoc {
  return { ...doc, services: doc.services.map((s) => (s.name === next.name ? next : s)) }
}

/** Add a service from its definition (an object as in a backup file, without `index`). */
export function addService(doc: ServicesDoc, definition: Record<string, unknown>, ctx: EditContext): ServicesDoc {
  const name = definition.name
  if (typeof name === 'string' && doc.services.some((s) => s.name === name)) {
    throw new CarbError('CARB_ERR_SERVICE_EXISTS', `service "${name}" already exists (use service modify)`, ctx.where)
  }
  const used = new Set(doc.services.map((s) => s.index))
  let index = 0
  while (used.has(index) && index < ctx.maxServices) index++
  if (index >= ctx.maxServices) throw new CarbError('CARB_ERR_SERVICE_LIMIT', `the quorum disk has room for ${ctx.maxServices} services, all used`, ctx.where)
  const service = readService(ctx.where, 'service', { ...definition, index }, ctx.nodeNames, ctx.maxServices)
  return { ...doc, services: [...doc.services, service] }
}

/**
 * Change fields of a service. `changes` holds only the fields given; `resources`, when given,
 * replaces the whole list. A standing relocation is cleared unless `relocateTo` is given.
 */
export function modifyService(doc: ServicesDoc, name: string, changes: Record<string, unknown>, ctx: EditContext): ServicesDoc {
  const current = find(doc, name, ctx.where)
  if ('name' in changes && changes.name !== name) throw new CarbError('CARB_ERR_CONFIG_FIELD', 'service.name: a service cannot be renamed; add a new one and delete this one', ctx.where)
  if ('index' in changes) throw new CarbError('CARB_ERR_CONFIG_FIELD', 'service.index: assigned by the cluster, not editable', ctx.where)
  const recovery = changes.recovery === undefined ? current.recovery : { ...current.recovery, ...(changes.recovery as object) }
  const merged = { ...current, relocateTo: null, ...changes, recovery }
  return replace(doc, readService(ctx.where, 'service', merged, ctx.nodeNames, ctx.maxServices))
}

/** Delete a disabled service; an enabled one must be disabled (stopped) first. */
export function deleteService(doc: ServicesDoc, name: string, ctx: EditContext): ServicesDoc {
  const current = find(doc, name, ctx.where)
  if (current.enabled) throw new CarbError('CARB_ERR_SERVICE_ENABLED', `service "${name}" is enabled; disable it first so it stops cleanly, then delete it`, ctx.where)
  return { ...doc, services: doc.services.filter((s) => s.name !== name) }
}

export function setEnabled(doc: ServicesDoc, name: string, enabled: boolean, ctx: EditContext): ServicesDoc {
  const current = find(doc, name, ctx.where)
  if (current.enabled === enabled) throw new CarbError('CARB_ERR_SERVICE_UNCHANGED', `service "${name}" is already ${enabled ? 'enabled' : 'disabled'}`, ctx.where)
  return replace(doc, { ...current, enabled })
}

/**
 * Move a service: to `to`, or (no target) to the next node of its domain after its current
 * owner. The target stays a standing preference until the next relocate or modify.
 */
export function relocateService(doc: ServicesDoc, name: string, to: string | null, owner: string | null, ctx: EditContext): ServicesDoc {
  const current = find(doc, name, ctx.where)
  if (!current.enabled) throw new CarbError('CARB_ERR_SERVICE_DISABLED', `service "${name}" is disabled; enable it first`, ctx.where)
  let target = to
  if (target === null) {
    const from = owner === null ? -1 : current.domain.indexOf(owner)
    target = current.domain[(from + 1) % current.domain.length] ?? null
    if (target === null || target === owner) throw new CarbError('CARB_ERR_SERVICE_RELOCATE', `service "${name}" has no other node in its domain [${current.domain.join(', ')}]`, ctx.where)
  }
  if (!current.domain.includes(target)) {
    throw new CarbError('CARB_ERR_SERVICE_RELOCATE', `"${target}" is not in the failover domain of "${name}" [${current.domain.join(', ')}]; modify the domain first`, ctx.where)
  }
  if (target === owner) throw new CarbError('CARB_ERR_SERVICE_UNCHANGED', `service "${name}" already runs on ${target}`, ctx.where)
  return replace(doc, { ...current, relocateTo: target })
}

/** Ask the owner to stop and start the service again (not counted against its restart budget). */
export function restartService(doc: ServicesDoc, name: string, ctx: EditContext): ServicesDoc {
  const current = find(doc, name, ctx.where)
  if (!current.enabled) throw new CarbError('CARB_ERR_SERVICE_DISABLED', `service "${name}" is disabled; enable it to start it`, ctx.where)
  return replace(doc, { ...current, restartGeneration: current.restartGeneration + 1 })
}
