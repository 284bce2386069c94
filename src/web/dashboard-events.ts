/**
 * The dashboard's server-sent events: the open `/api/events` responses, capped, each sent
 * the model as an `event: model` message and a comment line now and then so that idle
 * connections (and any proxy between) stay open. A client that cannot keep up (its socket
 * buffer over the cap) is dropped rather than buffered without bound (STYLE.md §8); its
 * EventSource reconnects and gets the current model.
 */
import type { ServerResponse } from 'node:http'

/** A person or two with a few tabs each; more is a runaway script. Refused with 503. */
export const EVENT_CLIENTS_MAX = 16
/** A dozen models; a client this far behind is reconnected instead. */
export const CLIENT_BACKLOG_BYTES_MAX = 1 << 20
/** How long a reconnecting EventSource waits (sent as `retry:`). */
export const EVENT_RETRY_MS = 2000

export class EventClients {
  private readonly clients = new Set<ServerResponse>()

  constructor(private readonly max = EVENT_CLIENTS_MAX) {}

  get size(): number { return this.clients.size }
  get full(): boolean { return this.clients.size >= this.max }

  /** Starts the event stream on `response` (the caller checked `full`) with the current model. */
  add(response: ServerResponse, headers: Record<string, string>, modelJson: string): void {
    response.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
    response.write(`retry: ${EVENT_RETRY_MS}\n\n`)
    this.clients.add(response)
    const forget = (): void => { this.clients.delete(response) }
    response.on('close', forget)
    response.on('error', forget)
    this.write(response, modelMessage(modelJson))
  }

  broadcast(modelJson: string): void {
    const message = modelMessage(modelJson)
    for (const client of this.clients) this.write(client, message)
  }

  /** A comment line: ignored by EventSource, keeps the connection from looking dead. */
  heartbeat(): void {
    for (const client of this.clients) this.write(client, ': heartbeat\n\n')
  }

  closeAll(): void {
    for (const client of this.clients) client.end()
    this.clients.clear()
  }

  private write(client: ServerResponse, text: string): void {
    if (client.writableLength > CLIENT_BACKLOG_BYTES_MAX) { this.clients.delete(client); client.destroy(); return }
    client.write(text)
  }
}

/** One SSE message; JSON has no raw newlines, so a single data line holds it. */
function modelMessage(json: string): string {
  return `event: model\ndata: ${json}\n\n`
}
