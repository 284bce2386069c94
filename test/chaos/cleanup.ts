/**
 * Undo steps of the chaos lab, run last-registered first, each of which never throws: a step
 * that fails is reported and the next one runs, so a failed or interrupted run leaves no
 * process, namespace, loop device or temp dir behind. The same registry serves a tap test
 * (`t.teardown(() => cleanup.run())`) and the CLI (run on exit, on failure, on SIGINT and
 * SIGTERM). It has the `teardown(fn)` shape of tap's Test, so test/helpers functions that
 * take a Teardown (powerOff's hosts, tempDir) accept it.
 */
export class Cleanup {
  private readonly steps: { what: string; fn: () => unknown }[] = []
  private running: Promise<void> | null = null
  /** Set once cleaning up has begun: long waits of the harness give up early. */
  closing = false

  constructor(private readonly report: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  /** Registers `fn` (tap's Teardown shape); `what` names it in a failure report. */
  teardown(fn: () => unknown, what = 'a cleanup step'): void {
    this.steps.push({ what, fn })
  }

  add(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn })
  }

  /** Runs every step once, newest first; a second call waits for the first. */
  run(): Promise<void> {
    this.closing = true
    this.running ??= (async () => {
      for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
        try { await step.fn() } catch (error) { this.report(`# cleanup: ${step.what} failed: ${(error as Error).message}`) }
      }
    })()
    return this.running
  }
}

/**
 * SIGINT and SIGTERM run the cleanup, then exit 130 / 143; a second signal while it runs
 * is ignored (the cleanup is bounded). An uncaught exception or unhandled rejection is
 * reported, cleaned up after, and exits 1. Returns a function that removes the handlers.
 */
export function cleanUpOnSignals(cleanup: Cleanup, say: (line: string) => void): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>()
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const handler = (): void => {
      if (cleanup.closing) return
      say(`# ${signal}: cleaning up (processes, namespaces, loop devices, temp dir) before exiting`)
      void cleanup.run().finally(() => process.exit(code))
    }
    handlers.set(signal, handler)
    process.on(signal, handler)
  }
  const crash = (error: unknown): void => {
    say(`# the harness crashed: ${(error as Error).stack ?? String(error)}`)
    if (!cleanup.closing) say('# cleaning up before exiting')
    void cleanup.run().finally(() => process.exit(1))
  }
  process.on('uncaughtException', crash)
  process.on('unhandledRejection', crash)
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler)
    process.off('uncaughtException', crash)
    process.off('unhandledRejection', crash)
  }
}
