/**
 * The control socket: a Unix stream socket, one JSON request line per connection,
 * answered by JSON lines. `status` answers one line; `export` streams the journal as
 * `{ seq, record }` lines and ends with `{ end: true, count }`.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { execFile } from 'node:child_process'
import { chmod, chown, mkdir, rm, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { CarbError } from '../errors.js'
import { isReadCommand, permissionError, refusedHere, socketFor } from './control-access.js'

/** A request line longer than this is refused (a configuration change carries the whole document). */
export const REQUEST_BYTES_MAX = 1 << 20

export type ControlRequest = { cmd: string; [field: string]: unknown }
export type ControlHandler = (request: ControlRequest, send: (value: unknown) => void) => Promise<void>

/**
 * Who may connect (control-access.ts): the socket's mode and group. `group` null, or a group
 * that does not exist: root's group; `onWarning` says which. `readOnly` refuses commands that
 * change anything.
 */
export interface SocketAccess { mode: number; group: string | null; readOnly: boolean; onWarning?: (message: string) => void }

export async function listenControl(path: string, handler: ControlHandler, access: SocketAccess = { mode: 0o600, group: null, readOnly: false }): Promise<Server> {
  await mkdir(dirname(path), { recursive: true })
  await removeStaleSocket(path)
  const guarded: ControlHandler = access.readOnly
    ? async (request, send) => { if (isReadCommand(request.cmd)) await handler(request, send); else send(refusedHere(request.cmd)) }
    : handler
  const server = createServer((socket) => serve(socket, guarded))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => { server.off('error', reject); resolve() })
  })
  // Created with the umask's mode (write for the owner only): nobody else could connect before this.
  await chmod(path, (await sharedWithGroup(path, access)) ? access.mode : 0o600)
  return server
}

/** Gives the socket to the access's group; false (with a warning) when there is none or it cannot be given. */
async function sharedWithGroup(path: string, access: SocketAccess): Promise<boolean> {
  if (access.group === null) return false
  const gid = await groupId(access.group)
  if (gid === null) {
    access.onWarning?.(`group "${access.group}" does not exist (carbonado install creates it): ${path} is its owner's only`)
    return false
  }
  try {
    await chown(path, process.getuid?.() ?? 0, gid)
    return true
  } catch (error) {
    // A daemon that is not root (the demo) can give a socket only to a group it is in.
    access.onWarning?.(`cannot give ${path} to group "${access.group}" (${(error as NodeJS.ErrnoException).code ?? String(error)}): it is its owner's only`)
    return false
  }
}

const execFileAsync = promisify(execFile)

/** The group's id through NSS (`getent group`: local files, LDAP, ...), or null when it does not exist. */
export async function groupId(name: string): Promise<number | null> {
  try {
    const { stdout } = await execFileAsync('getent', ['group', name], { encoding: 'utf8' })
    const gid = Number(stdout.split(':')[2])
    return Number.isSafeInteger(gid) ? gid : null
  } catch {
    return null
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  const exists = await stat(path).then(() => true, () => false)
  if (!exists) return
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path)
    probe.once('connect', () => { probe.destroy(); resolve(true) })
    probe.once('error', () => resolve(false))
  })
  if (alive) throw new CarbError('CARB_ERR_CONTROL_CONNECT', 'another node process is already listening here', path)
  await rm(path, { force: true })
}

function serve(socket: Socket, handler: ControlHandler): void {
  let buffered = ''
  socket.setEncoding('utf8')
  socket.on('error', () => socket.destroy())
  socket.on('data', (chunk: string) => {
    buffered += chunk
    if (buffered.length > REQUEST_BYTES_MAX) { socket.end(`${JSON.stringify({ error: 'request too long' })}\n`); return }
    const newline = buffered.indexOf('\n')
    if (newline < 0) return
    socket.removeAllListeners('data')
    let request: ControlRequest
    try {
      request = JSON.parse(buffered.slice(0, newline)) as ControlRequest
      if (typeof request !== 'object' || request === null || typeof request.cmd !== 'string') throw new Error('no cmd')
    } catch {
      socket.end(`${JSON.stringify({ error: 'request is not a JSON object with a "cmd"' })}\n`)
      return
    }
    const send = (value: unknown): void => { socket.write(`${JSON.stringify(value)}\n`) }
    handler(request, send).then(() => socket.end(), (error: unknown) => socket.end(`${JSON.stringify({ error: String((error as Error).message ?? error) })}\n`))
  })
}

/**
 * Sends one request to the node whose admin socket is `controlSocket` and yields every answer
 * line, parsed. A read command of a user who is not root goes to the read-only socket.
 */
export async function* requestControl(controlSocket: string, request: string | ControlRequest, timeoutMs = 5000): AsyncGenerator<Record<string, unknown>> {
  const body = typeof request === 'string' ? { cmd: request } : request
  const path = socketFor(controlSocket, body.cmd, process.getuid?.() ?? 0)
  const socket = createConnection(path)
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EACCES'
      ? permissionError(path, body.cmd)
      : new CarbError('CARB_ERR_CONTROL_CONNECT', `cannot connect (${error.code ?? error.message}); is \`carbonado node run\` running for this node?`, path)))
  })
  socket.write(`${JSON.stringify(body)}\n`)
  try {
    for await (const line of createInterface({ input: socket, crlfDelay: Infinity })) {
      if (line.trim() === '') continue
      let value: Record<string, unknown>
      try { value = JSON.parse(line) as Record<string, unknown> } catch { throw new CarbError('CARB_ERR_CONTROL_PROTOCOL', 'answer line is not JSON', path) }
      if (typeof value.error === 'string') throw answerError(value, path)
      yield value
    }
  } finally {
    socket.destroy()
  }
}

/** A refusal from the node: its own named error when it sent one (`CODE: message`), else a protocol error. */
export function answerError(value: Record<string, unknown>, path: string): CarbError {
  const text = String(value.error)
  if (typeof value.code === 'string' && value.code.startsWith('CARB_ERR_') && text.startsWith(`${value.code}: `)) {
    return new CarbError(value.code as CarbError['code'], text.slice(value.code.length + 2))
  }
  return new CarbError('CARB_ERR_CONTROL_PROTOCOL', text, path)
}
