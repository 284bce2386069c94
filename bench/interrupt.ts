/**
 * A bench interrupted (Ctrl-C, a CI timeout's SIGTERM) skips its `finally`: this ends the
 * cluster's node processes (and whatever else `also` ends) and removes its directory before
 * exiting. Returns the function that withdraws the handler once the bench cleaned up itself.
 */
import { rmSync } from 'node:fs'
import type { TestCluster } from '../test/helpers/cluster.js'

export function cleanupOnInterrupt(c: TestCluster, also: () => void = () => {}): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    for (const p of c.nodes.values()) {
      try { p.child.kill('SIGCONT'); p.child.kill('SIGKILL') } catch { /* already gone */ }
    }
    try { also() } catch { /* best effort */ }
    rmSync(c.dir, { recursive: true, force: true })
    process.stderr.write(`bench interrupted by ${signal}: node processes killed, ${c.dir} removed\n`)
    process.exit(130)
  }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
  return () => { process.off('SIGINT', handler); process.off('SIGTERM', handler) }
}
