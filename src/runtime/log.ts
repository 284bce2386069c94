/**
 * One line per decision, with the node name: plain (with the wall-clock time), JSON (for
 * collectors), or journald (systemd's journal adds the time and the unit; each line starts
 * with its syslog priority, `<3>` error, `<4>` warning, `<6>` info, so `journalctl -p warning`
 * filters them).
 */
import { fstatSync } from 'node:fs'
import type { Clock } from '../clock.js'

export type LogFormat = 'plain' | 'json' | 'journald'
export const LOG_FORMATS: readonly LogFormat[] = ['plain', 'json', 'journald']
export type LogLevel = 'error' | 'warn' | 'info'

/** syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO. */
export const SYSLOG_PRIORITY: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6 }

/**
 * systemd sets JOURNAL_STREAM=DEV:INODE when stdout or stderr is a stream to the journal; it
 * counts only if it is still our stdout (a child of the daemon may inherit the variable).
 */
export function stdoutIsJournal(env: NodeJS.ProcessEnv, stdoutFd = 1): boolean {
  const match = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '')
  if (match === null) return false
  try {
    const info = fstatSync(stdoutFd)
    return String(info.dev) === match[1] && String(info.ino) === match[2]
  } catch {
    return false
  }
}

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void
}

export function createLogger(node: string, format: LogFormat, clock: Clock, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  return {
    log(level, message, fields = {}) {
      const time = new Date(clock.wallMs()).toISOString()
      if (format === 'json') write(JSON.stringify({ time, node, level, message, ...fields }))
      else if (format === 'journald') write(`<${SYSLOG_PRIORITY[level]}>${message.replace(/\n/g, ' ')}`)
      else write(`${time} ${node} ${level.padEnd(5)} ${message}`)
    },
  }
}
