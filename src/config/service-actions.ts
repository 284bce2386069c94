/**
 * The administrator's actions on one service that need no definition (cluadmin's enable,
 * disable, relocate, restart), by name: the CLI (`carbonado service …`) and the dashboard's
 * write endpoints both turn an action into the next configuration document here, then propose
 * it through the node's control handler (`config-propose`).
 */
import { relocateService, restartService, setEnabled, type EditContext } from './service-edit.js'
import type { ServicesDoc } from './services.js'

export const SERVICE_ACTIONS = ['relocate', 'enable', 'disable', 'restart'] as const
export type ServiceAction = typeof SERVICE_ACTIONS[number]

export interface ServiceActionRequest {
  action: ServiceAction
  name: string
  /** relocate only: the target node; null: the next node of its domain after the owner. */
  to: string | null
}

export function isServiceAction(value: string): value is ServiceAction {
  return (SERVICE_ACTIONS as readonly string[]).includes(value)
}

/** The document after the action (same version: the store proposes it as version + 1). `owner` is the lease holder now. */
export function applyServiceAction(doc: ServicesDoc, request: ServiceActionRequest, owner: string | null, ctx: EditContext): ServicesDoc {
  switch (request.action) {
    case 'enable': return setEnabled(doc, request.name, true, ctx)
    case 'disable': return setEnabled(doc, request.name, false, ctx)
    case 'restart': return restartService(doc, request.name, ctx)
    case 'relocate': return relocateService(doc, request.name, request.to, owner, ctx)
  }
}

/** What each action did, in the words the CLI prints. */
export function actionDone(request: ServiceActionRequest): string {
  switch (request.action) {
    case 'enable': return `enabled service ${request.name}`
    case 'disable': return `disabled service ${request.name}; its owner stops it`
    case 'restart': return `asked the owner of ${request.name} to restart it`
    case 'relocate': return `relocating service ${request.name}: its owner stops it, then the target starts it`
  }
}
