/**
 * A fake systemd notify socket for tests (STACK.md): a python3 process bound to a Unix datagram
 * socket, recording every message with the time it arrived. Stopped in the test's teardown.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface NotifyMessage { atMs: number; fields: Record<string, string> }
export interface NotifySocket { path: string; messages: NotifyMessage[]; waitFor(match: (m: NotifyMessage) => boolean, timeoutMs: number, from?: number): Promise<NotifyMessage> }
export interface Teardown { teardown(fn: () => unknown): void }

const SCRIPT = join(import.meta.dirname, 'fixtures/notify-socket.py')

function parse(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return fields
}

export async function fakeNotifySocket(t: Teardown, dir: string): Promise<NotifySocket> {
  const path = join(dir, 'notify.sock')
  const child = spawn('python3', [SCRIPT, path], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const messages: NotifyMessage[] = []
  let listening: () => void = () => undefined
  const ready = new Promise<void>((resolve) => { listening = resolve })
  createInterface({ input: child.stdout }).on('line', (line) => {
    const text = JSON.parse(line) as string
    if (text === 'LISTENING') { listening(); return }
    messages.push({ atMs: Date.now(), fields: parse(text) })
  })
  await ready
  return {
    path, messages,
    async waitFor(match, timeoutMs, from = 0) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const hit = messages.slice(from).find(match)
        if (hit !== undefined) return hit
        if (Date.now() > deadline) throw new Error(`no matching notify message within ${timeoutMs} ms; got ${JSON.stringify(messages.slice(-5))}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
}
