/** One line per decision (plain or JSON), with the node name and wall-clock time. */
import type { Clock } from '../clock.js'

export type LogFormat = 'plain' | 'json'
export type LogLevel = 'error' | 'warn' | 'info'

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void
}

export function createLogger(node: string, format: LogFormat, clock: Clock, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  return {
    log(level, message, fields = {}) {
      const time = new Date(clock.wallMs()).toISOString()
      if (format === 'json') write(JSON.stringify({ time, node, level, message, ...fields }))
      else write(`${time} ${node} ${level.padEnd(5)} ${message}`)
    },
  }
}
