/**
 * The hardware watchdog (SBD's rule, DESIGN.md safety rule 3): `/dev/watchdog` resets the
 * machine unless it is written to within its timeout. The node feeds it once per disk cycle,
 * and only while it is a member whose last status write completed in time; a node that
 * cannot write the disk, is out, or whose event loop stalls stops feeding, and the hardware
 * resets the machine even if this process is frozen (SIGSTOP, a long pause), which no
 * in-process rule can do.
 *
 * The device's timeout must end before the self-fence deadline (selfFenceAfterMs), so that
 * "its disk status has been silent past diskDeadAfterMs" still proves the node stopped.
 * Linux shows it in /sys/class/watchdog/<name>/timeout (seconds); a device whose timeout is
 * too long, or unknown, is refused at start-up rather than trusted.
 *
 * On a clean stop the node writes the magic character 'V' before closing, which disarms
 * drivers that honour it (not those built with nowayout). Without a configured device, the
 * in-process rule holds (node.ts selfFenced): resources stop within selfFenceStopMs and the
 * process exits at the deadline whatever is left.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { basename } from 'node:path'
import { CarbError } from '../errors.js'

/** Where Linux lists watchdog devices; tests point it at a directory of their own. */
export const SYSFS_WATCHDOG = '/sys/class/watchdog'

export interface WatchdogCounters { feeds: number; failures: number; lastError: string | null }

/** The device timeout as Linux reports it, in ms; null when the device is not a sysfs watchdog (a test file). */
export async function deviceTimeoutMs(device: string, sysfsRoot = SYSFS_WATCHDOG): Promise<number | null> {
  const text = await readFile(`${sysfsRoot}/${basename(device)}/timeout`, 'utf8').catch(() => null)
  if (text === null) return null
  const seconds = Number(text.trim())
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null
}

export class Watchdog {
  readonly counters: WatchdogCounters = { feeds: 0, failures: 0, lastError: null }
  private constructor(private readonly device: string, private handle: FileHandle | null) {}

  /**
   * Opens the device (which arms it). A sysfs watchdog whose timeout is not below
   * `selfFenceAfterMs` is refused; a character device with no sysfs entry is refused too,
   * since its timeout cannot be checked. A regular file is accepted as a stand-in (tests).
   */
  static async open(device: string, selfFenceAfterMs: number, sysfsRoot = SYSFS_WATCHDOG): Promise<Watchdog> {
    const timeoutMs = await deviceTimeoutMs(device, sysfsRoot)
    const handle = await open(device, 'a').catch((error: NodeJS.ErrnoException) => {
      throw new CarbError('CARB_ERR_WATCHDOG', `cannot open the watchdog (${error.code ?? error.message})`, device)
    })
    const stat = await handle.stat()
    const problem = timeoutMs === null
      ? (stat.isFile() ? null : 'its timeout cannot be read from /sys/class/watchdog: cannot check it ends before the self-fence deadline')
      : (timeoutMs >= selfFenceAfterMs ? `its timeout ${timeoutMs} ms is not below timing.selfFenceAfterMs ${selfFenceAfterMs}: a hung node would outlive its self-fence deadline` : null)
    if (problem !== null) {
      await handle.write('V').catch(() => undefined)
      await handle.close()
      throw new CarbError('CARB_ERR_WATCHDOG', problem, device)
    }
    return new Watchdog(device, handle)
  }

  /** One feed. A failed write is counted: the hardware will reset the machine if it keeps failing. */
  async feed(): Promise<void> {
    if (this.handle === null) return
    try {
      await this.handle.write('1')
      this.counters.feeds += 1
    } catch (error) {
      this.counters.failures += 1
      this.counters.lastError = `${this.device}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`
    }
  }

  /** Clean stop: the magic close disarms the watchdog (where the driver allows it). */
  async disarm(): Promise<void> {
    if (this.handle === null) return
    const handle = this.handle
    this.handle = null
    await handle.write('V').catch(() => undefined)
    await handle.close().catch(() => undefined)
  }

  /** Stop feeding for good without disarming: the hardware resets the machine at its timeout. */
  async abandon(): Promise<void> {
    if (this.handle === null) return
    const handle = this.handle
    this.handle = null
    await handle.close().catch(() => undefined)
  }
}
