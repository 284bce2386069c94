/**
 * The sd_notify protocol with systemd (unit Type=notify, NotifyAccess=all): READY=1 once the
 * node has read the disk and joined, STATUS= with the membership summary, WATCHDOG=1 while
 * healthy, STOPPING=1 on a clean stop. Node has no Unix datagram sockets, so each message is
 * sent by `systemd-notify --pid=PID` (STACK.md: race-free on systemd >= 246, it waits on a
 * barrier), one child process at a time; messages asked for meanwhile are merged (the newest
 * STATUS wins), so a slow or hung child cannot pile up processes.
 */
import { execFile } from 'node:child_process'

/** What the runtime needs of the service manager; null where there is none (not under systemd, or the simulator). */
export interface ServiceManagerLink {
  /** systemd's watchdog timeout (WATCHDOG_USEC) in ms, or null when the unit has none. */
  watchdogMs: number | null
  notify(assignments: Readonly<Record<string, string>>): void
  /** Messages sent, and sends that failed (systemd-notify missing or refused). */
  counters(): { sent: number; failed: number; merged: number }
}

/** A systemd-notify that does not return in this long is killed; the next message goes on. */
const NOTIFY_TIMEOUT_MS = 5000

export type RunNotify = (args: string[], env: NodeJS.ProcessEnv) => Promise<void>

const runSystemdNotify: RunNotify = (args, env) => new Promise((resolve, reject) => {
  execFile('systemd-notify', args, { env, timeout: NOTIFY_TIMEOUT_MS }, (error) => (error === null ? resolve() : reject(error)))
})

export class SystemdNotify implements ServiceManagerLink {
  private pending: Record<string, string> | null = null
  private sending = false
  private readonly count = { sent: 0, failed: 0, merged: 0 }

  constructor(
    readonly watchdogMs: number | null,
    private readonly pid: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly run: RunNotify = runSystemdNotify,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  notify(assignments: Readonly<Record<string, string>>): void {
    if (this.pending !== null) this.count.merged++
    this.pending = { ...(this.pending ?? {}), ...assignments }
    if (!this.sending) void this.drain()
  }

  counters(): { sent: number; failed: number; merged: number } {
    return { ...this.count }
  }

  private async drain(): Promise<void> {
    this.sending = true
    while (this.pending !== null) {
      const message = this.pending
      this.pending = null
      const args = [`--pid=${this.pid}`, ...Object.entries(message).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`)]
      try {
        await this.run(args, this.env)
        this.count.sent++
      } catch (error) {
        if (this.count.failed++ === 0) this.onError(`systemd-notify failed (${(error as Error).message.split('\n')[0]}); notifications to systemd may be missing`)
      }
    }
    this.sending = false
  }
}

/**
 * The link when systemd started this process with a notify socket (NOTIFY_SOCKET), else
 * null. WATCHDOG_USEC applies only if WATCHDOG_PID is absent or names this process.
 */
export function systemdLinkFromEnv(env: NodeJS.ProcessEnv, pid: number, onError?: (message: string) => void, run?: RunNotify): SystemdNotify | null {
  if (env.NOTIFY_SOCKET === undefined || env.NOTIFY_SOCKET === '') return null
  const usec = Number(env.WATCHDOG_USEC)
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid
  const watchdogMs = Number.isFinite(usec) && usec > 0 && forUs ? usec / 1000 : null
  return new SystemdNotify(watchdogMs, pid, env, run, onError)
}
