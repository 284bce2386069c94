/**
 * The environment and command line an agent runs with. Agents never inherit the node's
 * environment: a variable set in an administrator's shell must not change what a failover
 * does at 3 a.m., and what an agent saw must be knowable from the config alone.
 */
import { accessSync, constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CarbError } from '../errors.js'
import { AGENT_PATH } from './types.js'

/** `ip netns add` accepts more, but names that need no quoting in any log are enough. */
const NETNS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/**
 * The clean base (PATH, and LC_ALL=C so tools print the messages agents and we match on),
 * then what the agent type needs, then the caller's explicit overrides.
 */
export function agentEnvironment(forAgent: Record<string, string>, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: AGENT_PATH, LC_ALL: 'C', ...forAgent }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) env[key] = value
  return env
}

/** The argument vector, prefixed so that it runs inside `netns` when one is given. */
export function inNetns(argv: readonly string[], netns: string | undefined): string[] {
  if (netns === undefined) return [...argv]
  if (!NETNS_PATTERN.test(netns)) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `netns must match ${NETNS_PATTERN}, got ${JSON.stringify(netns)}`)
  return ['ip', 'netns', 'exec', netns, ...argv]
}

/** The executable `name` would resolve to through env.PATH, or null: optional tools (arping, fuser) are skipped when absent. */
export function findInPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? AGENT_PATH).split(':')) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return null
}

/**
 * Why `path` cannot be run as an agent, or null when it can. Asynchronous on purpose: a
 * script on a hung network file system must block a worker thread, not the node's event loop.
 */
export async function executableProblem(path: string): Promise<string | null> {
  try {
    const info = await stat(path)
    if (!info.isFile()) return `${path} is not a regular file`
    await access(path, constants.X_OK)
    return null
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? `${path} does not exist` : `${path} is not executable (${code ?? String(error)})`
  }
}
