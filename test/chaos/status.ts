/**
 * A node's own view, as `carbonado status --json` prints it, asked directly on its control
 * socket (one JSON line `{"cmd":"status"}` in, one JSON line out): the harness polls it
 * several times a second while it waits for a cluster to be whole, which a CLI process per
 * question would make too heavy on a 2-core machine.
 */
import { createConnection } from 'node:net'

/** The fields of the status view (src/runtime/status-view.ts) the harness reads. */
export interface StatusView {
  node: string
  incarnation: number
  members: { name: string; self: boolean; state: string; incarnation: number | null }[]
  services: { name: string; holder?: string | null; localState?: string }[]
}

const ANSWER_WITHIN_MS = 2000

/** The status view of the node listening on `socket`, or null (not running, not answering, an error). */
export function askStatus(socket: string): Promise<StatusView | null> {
  return new Promise((resolve) => {
    const conn = createConnection(socket)
    const done = (view: StatusView | null): void => { conn.destroy(); resolve(view) }
    conn.setTimeout(ANSWER_WITHIN_MS, () => done(null))
    conn.on('error', () => done(null))
    conn.on('connect', () => conn.write(`${JSON.stringify({ cmd: 'status' })}\n`))
    let text = ''
    conn.setEncoding('utf8')
    conn.on('data', (chunk: string) => {
      text += chunk
      const end = text.indexOf('\n')
      if (end < 0) return
      try {
        const value = JSON.parse(text.slice(0, end)) as StatusView & { error?: unknown }
        done(value.error === undefined && Array.isArray(value.members) ? value : null)
      } catch {
        done(null)
      }
    })
    conn.on('end', () => done(null))
  })
}
