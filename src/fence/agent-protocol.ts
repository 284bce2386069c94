/**
 * The fence-agents stdin protocol as pure functions: the lines an agent is given, what its
 * exit code means for each action, and the masking of secrets in whatever it prints back.
 *
 * The protocol (fence-agents doc/FenceAgentAPI.md; Pacemaker's fencer speaks it too): the
 * agent runs with no arguments and reads `key=value` lines on stdin, one per line. Lines
 * starting with '#' are ignored; a key given twice takes its last value; a value cannot hold
 * a newline. `action` names the operation (`option` is its deprecated spelling: fencing.py,
 * the library of every Python agent, ignores it, and the maintainers ask every agent to take
 * `action`, so only `action` is sent). `port` is the plug, outlet or VM (fencing.py takes
 * `plug` as the same option; shell agents read either), `nodename` the cluster's name for the
 * target (fenced always sent it). Exit 0 is success; for `status` 0 is on, 2 off, 1 error.
 */
import { OUTPUT_LINE_MAX_CHARS } from '../agents/output-capture.js'
import { CarbError } from '../errors.js'

export type FenceAgentAction = 'off' | 'on' | 'reboot' | 'status' | 'monitor'
export type FenceOutcome = 'ok' | 'failed' | 'timeout' | 'misconfigured'
export type PowerState = 'on' | 'off' | 'unknown'

export const FENCE_AGENT_ACTIONS: readonly FenceAgentAction[] = ['off', 'on', 'reboot', 'status', 'monitor']

/** Keys the cluster sets on every call; a parameter of the same name is refused (config/fencing.ts refuses them too). */
export const CLUSTER_KEYS = ['action', 'port', 'plug', 'nodename'] as const

/** Exit codes of `status` (and of `monitor` on single-port devices) in the fence-agents API. */
export const STATUS_EXIT_ON = 0
export const STATUS_EXIT_OFF = 2

/** A key the protocol can carry: no '=', no blank, no leading '#'. fencing.py treats '-' and '_' alike. */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
/** A value is read up to the end of its line: a newline would start a new key, NUL ends C strings. */
const VALUE_FORBIDDEN = /[\n\r\0]/

/** What the masking puts in place of a secret. */
export const REDACTED = '***'

/**
 * Parameters whose values are secret: passwords (`passwd`, `password`, `snmp_priv_passwd`,
 * anything with "pass"), and the cloud agents' keys and tokens (fence_aws `secret_key`).
 */
export function isSecretKey(key: string): boolean {
  return /pass|secret|token|credential/i.test(key)
}

export interface FenceTarget {
  /** The agent's name for the target's plug, outlet or VM. */
  port: string
  /** The cluster's name for the target node. */
  nodename: string
}

function checkValue(key: string, value: string): void {
  if (VALUE_FORBIDDEN.test(value)) {
    const shown = isSecretKey(key) ? REDACTED : JSON.stringify(value)
    throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `fence agent parameter ${key} holds a newline, CR or NUL (${shown}): it would be read as another key=value line`)
  }
}

/**
 * The stdin text for one call. The configured parameters come first in their configured order,
 * the cluster's keys last, so that even an agent which let a parameter repeat one of them would
 * act on the cluster's value ("only the last value is used"). Throws CARB_ERR_AGENT_BAD_CALL on
 * a key or value the protocol cannot carry: the config loader refuses them, this asserts it.
 */
export function fenceStdin(action: FenceAgentAction, target: FenceTarget, params: Readonly<Record<string, string>>): string {
  if (!FENCE_AGENT_ACTIONS.includes(action)) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `unknown fence action ${JSON.stringify(action)}`)
  const lines: string[] = []
  for (const [key, value] of Object.entries(params)) {
    if (!KEY_PATTERN.test(key)) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `fence agent parameter name ${JSON.stringify(key)} is not letters, digits, '_' or '-'`)
    if ((CLUSTER_KEYS as readonly string[]).includes(key)) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `fence agent parameter ${key} is set by the cluster on every call`)
    checkValue(key, value)
    lines.push(`${key}=${value}`)
  }
  for (const [key, value] of [['port', target.port], ['nodename', target.nodename]] as const) {
    if (value.length === 0) throw new CarbError('CARB_ERR_AGENT_BAD_CALL', `fence target ${key} is empty`)
    checkValue(key, value)
  }
  lines.push(`action=${action}`, `port=${target.port}`, `plug=${target.port}`, `nodename=${target.nodename}`)
  return `${lines.join('\n')}\n`
}

/** What an exit code means for `action`; null exit (signal, timeout, not started) is the caller's. */
export function exitOutcome(action: FenceAgentAction, exitCode: number): FenceOutcome {
  if (exitCode === 0) return 'ok'
  // status/monitor 2: the device answered and the plug is off. For off/on/reboot only 0 is success.
  if ((action === 'status' || action === 'monitor') && exitCode === STATUS_EXIT_OFF) return 'ok'
  return 'failed'
}

/** The power state a status or monitor call reported; 'unknown' for any other action or answer. */
export function exitPower(action: FenceAgentAction, exitCode: number | null): PowerState {
  if (action !== 'status' && action !== 'monitor') return 'unknown'
  if (exitCode === STATUS_EXIT_ON) return 'on'
  if (exitCode === STATUS_EXIT_OFF) return 'off'
  return 'unknown'
}

/** The values to mask: every non-empty value of a secret parameter, longest first (so a secret that holds another is masked whole). */
export function secretValues(params: Readonly<Record<string, string>>): string[] {
  const values = Object.entries(params).filter(([key, value]) => isSecretKey(key) && value.length > 0).map(([, value]) => value)
  return [...new Set(values)].sort((a, b) => b.length - a.length)
}

/** `text` with every occurrence of each secret replaced by REDACTED. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) out = out.split(secret).join(REDACTED)
  return out
}

/** Masks the longest end of `text` that is the start of a secret (a secret cut at the end of a piece). */
export function maskTrailingPartial(text: string, secrets: readonly string[]): string {
  let cut = 0
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, text.length); k > cut; k--) {
      if (text.endsWith(secret.slice(0, k))) { cut = k; break }
    }
  }
  return cut === 0 ? text : text.slice(0, text.length - cut) + REDACTED
}

/** Masks the longest start of `text` that is the end of a secret (a secret whose front was cut off). */
export function maskLeadingPartial(text: string, secrets: readonly string[]): string {
  let cut = 0
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, text.length); k > cut; k--) {
      if (text.startsWith(secret.slice(secret.length - k))) { cut = k; break }
    }
  }
  return cut === 0 ? text : REDACTED + text.slice(cut)
}

/**
 * Masks secrets in output lines as OutputCapture hands them over. A line longer than
 * OUTPUT_LINE_MAX_CHARS arrives in pieces of exactly that length, and a secret may straddle
 * two pieces: the edges of such pieces are masked too (rarely more than needed, never less).
 */
export class LineRedactor {
  private continued = false

  constructor(private readonly secrets: readonly string[], private readonly pieceChars = OUTPUT_LINE_MAX_CHARS) {}

  line(piece: string): string {
    if (this.secrets.length === 0) return piece
    let text = redact(piece, this.secrets)
    if (this.continued) text = maskLeadingPartial(text, this.secrets)
    this.continued = piece.length === this.pieceChars
    if (this.continued) text = maskTrailingPartial(text, this.secrets)
    return text
  }
}
