/**
 * A write from the dashboard, the way `carbonado service ACTION` makes it: read the current
 * configuration and lease holders (`services`), apply the action (config/service-actions.ts),
 * propose the result as the next version (`config-propose`), both through the node's own
 * control handler. Nothing here decides anything the CLI does not.
 */
import { CarbError, isCarbError } from '../errors.js'
import { actionDone, applyServiceAction, type ServiceActionRequest } from '../config/service-actions.js'
import type { ServicesDoc } from '../config/services.js'
import type { ControlRequest } from '../runtime/control.js'
import type { ServiceStatus } from '../runtime/service-shell.js'
import { actionStatus } from './dashboard-routes.js'

/** The node's control handler, its first answer; a refusal is thrown as its CarbError. */
export type AskControl = (request: ControlRequest) => Promise<Record<string, unknown>>

export interface ActionOutcome { status: number; body: Record<string, unknown> }

export async function runServiceAction(ask: AskControl, request: ServiceActionRequest, nodeNames: readonly string[], who: string): Promise<ActionOutcome> {
  const where = `dashboard ${request.action}`
  try {
    const current = (await ask({ cmd: 'services' })) as unknown as { doc: ServicesDoc; services: ServiceStatus[] }
    const owner = current.services.find((s) => s.name === request.name)?.holder ?? null
    const next = applyServiceAction(current.doc, request, owner, { where, nodeNames, maxServices: Number.MAX_SAFE_INTEGER })
    const answer = await ask({ cmd: 'config-propose', expectVersion: current.doc.version, doc: next, who })
    const version = Number(answer.version)
    return { status: 200, body: { ok: true, version, message: `${actionDone(request)} (configuration version ${version})` } }
  } catch (error) {
    const named = isCarbError(error) ? error : new CarbError('CARB_ERR_CONTROL_PROTOCOL', String((error as Error).message ?? error), where)
    return { status: actionStatus(named.code), body: { error: named.oneLine(), code: named.code } }
  }
}
