/**
 * The stand-in power switches' wire protocol (test/helpers/power-switch.ts, test/chaos/switch.ts):
 * a client sends one "ACTION PLUG" line; the switch writes its reply and ends the connection.
 * The caller listens where it wants (TCP for the test machines, a Unix socket for the chaos lab).
 */
import { createServer, type Server, type Socket } from 'node:net'
import { createInterface } from 'node:readline'

export interface SwitchServer {
  server: Server
  /** Ends every open connection and stops listening. */
  close(): Promise<void>
}

export function switchServer(reply: (action: string, plug: string) => Promise<string>): SwitchServer {
  const sockets = new Set<Socket>()
  const server = createServer((conn) => {
    sockets.add(conn)
    conn.on('close', () => sockets.delete(conn))
    conn.on('error', () => conn.destroy())
    const lines = createInterface({ input: conn })
    lines.once('line', (line) => {
      lines.close()
      const [action = '', plug = ''] = line.trim().split(/\s+/)
      void reply(action, plug).then((text) => conn.end(text))
    })
  })
  const close = (): Promise<void> => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) })
  return { server, close }
}
