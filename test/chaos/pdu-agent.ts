/**
 * The nodes' fence agent in the chaos lab, of the fence-agents stdin protocol like
 * test/integration/fixtures/fencing-agents-pdu, but reaching the switch (switch.ts) over a
 * Unix socket: `socket=PATH` (its one parameter), `action=` (or `option=`), `port=` (or
 * `plug=`). It relays the switch's output lines and exits with the switch's "exit N".
 * The lab installs a two-line shell wrapper that runs it with this Node.
 */
import { createConnection } from 'node:net'
import { createInterface } from 'node:readline'

async function readStdin(): Promise<Map<string, string>> {
  const values = new Map<string, string>()
  for await (const raw of createInterface({ input: process.stdin })) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1))
  }
  return values
}

const values = await readStdin()
const action = values.get('action') ?? values.get('option') ?? 'reboot'
const plug = values.get('port') ?? values.get('plug') ?? ''
const socket = values.get('socket')
if (socket === undefined) {
  process.stderr.write('Failed: socket= must name the switch\n')
  process.exit(1)
}
const conn = createConnection(socket)
conn.on('error', (error) => {
  process.stderr.write(`Failed: Unable to connect to the switch at ${socket}: ${error.message}\n`)
  process.exit(1)
})
conn.write(`${action} ${plug}\n`)
for await (const line of createInterface({ input: conn })) {
  const m = /^exit (\d+)$/.exec(line)
  if (m !== null) process.exit(Number(m[1]))
  process.stdout.write(`${line}\n`)
}
process.stderr.write(`Failed: the switch at ${socket} closed the connection without an answer\n`)
process.exit(1)
