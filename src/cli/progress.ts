/**
 * A progress line on stderr for long reads (replay, explain, what-if): drawn only once the
 * work has taken more than a second, at most ten times a second, on a terminal (or when
 * forced), and erased at the end so stdout stays clean to read or pipe.
 */
export interface ProgressStream { write(text: string): unknown; isTTY?: boolean }

/** Quick runs show nothing. */
export const PROGRESS_DELAY_MS = 1000
const REDRAW_EVERY_MS = 100
const BAR_WIDTH = 30

export class Progress {
  private drawnAt: number | null = null
  private readonly startedAt: number

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number,
    private readonly label: string,
    private readonly force = false,
  ) {
    this.startedAt = now()
  }

  private get enabled(): boolean { return this.force || this.stream.isTTY === true }

  update(records: number, total: number | null): void {
    const now = this.now()
    if (!this.enabled || now - this.startedAt < PROGRESS_DELAY_MS) return
    if (this.drawnAt !== null && now - this.drawnAt < REDRAW_EVERY_MS) return
    this.drawnAt = now
    this.stream.write(`\r${progressLine(this.label, records, total, now - this.startedAt)}\u001b[K`)
  }

  /** Erases the line if one was drawn. */
  done(): void {
    if (this.drawnAt !== null) this.stream.write('\r\u001b[K')
  }
}

/** "replay [######----] 45% 12000/26000 records, 8000 records/s" (pure). */
export function progressLine(label: string, records: number, total: number | null, elapsedMs: number): string {
  const rate = `${Math.round(records / Math.max(elapsedMs / 1000, 0.001))} records/s`
  if (total === null || total <= 0) return `${label}: ${records} records, ${rate}`
  const fraction = Math.min(1, records / total)
  const filled = Math.round(fraction * BAR_WIDTH)
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${records}/${total} records, ${rate}`
}
