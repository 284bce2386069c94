/**
 * Liveness after healing: with every fault ended, every machine on and its daemon a member,
 * every enabled service runs on exactly one machine (every resource running there, nothing
 * of it anywhere else) and that machine's service machine says running.
 */
import { verdict, type Verdict } from './verdict.js'

export interface ConvergenceView {
  services: { name: string; enabled: boolean }[]
  /** Machines on which every resource of the service runs. */
  runningOn(service: string): string[]
  /** Machines on which anything of the service may run. */
  holders(service: string): string[]
  /** The service machine's state on that machine's daemon ('none' without a daemon). */
  serviceState(machine: string, service: string): string
  /** Each machine's local membership state ('none' without a daemon). */
  localStates(): Map<string, string>
}

export function checkConvergence(view: ConvergenceView): Verdict {
  const problems: string[] = []
  for (const [machine, state] of view.localStates()) if (state !== 'member') problems.push(`${machine} is ${state}, not a member, after healing`)
  for (const service of view.services) {
    const running = view.runningOn(service.name)
    const holders = view.holders(service.name)
    if (!service.enabled) {
      if (holders.length > 0) problems.push(`disabled service ${service.name} still held on ${holders.join(', ')}`)
      continue
    }
    if (running.length !== 1 || holders.length !== 1) { problems.push(`service ${service.name} runs on [${running.join(', ')}], held on [${holders.join(', ')}] after healing; want exactly one`); continue }
    const state = view.serviceState(running[0]!, service.name)
    if (state !== 'running') problems.push(`service ${service.name} runs on ${running[0]} but its machine there is ${state}`)
  }
  return verdict('convergence', problems)
}
