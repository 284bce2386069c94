/**
 * The chaos lab's service worker: a small HTTP server that answers every request with the
 * name of the node that runs it, and is its own witness: it appends "<node> tick <ns>" to the
 * witness file every 50 ms (test/helpers/witness.ts reads these lines as its run). Started and
 * stopped by fixtures/http-service.sh, the service's LSB script.
 *
 *   node http-server.js PORT NODE WITNESS_FILE READY_FILE
 *
 * It listens on every address of its host (the floating address comes and goes under it) and
 * creates READY_FILE once it listens. Ticks are stamped with the wall clock rounded up to the
 * next millisecond: a tick never looks earlier than it was, so an overlap with the next owner's
 * start (stamped in nanoseconds by `date`) can only be over-reported, never hidden.
 */
import { appendFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'

const TICK_MS = 50
const [portText, node, witness, ready] = process.argv.slice(2)
if (portText === undefined || node === undefined || witness === undefined || ready === undefined) {
  process.stderr.write('usage: http-server.js PORT NODE WITNESS_FILE READY_FILE\n')
  process.exit(2)
}

const stampNs = (): bigint => BigInt(Date.now() + 1) * 1_000_000n
const tick = (): void => appendFileSync(witness, `${node} tick ${stampNs()}\n`)

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' })
  res.end(`${node}\n`)
})
server.listen(Number(portText), () => {
  tick()
  setInterval(tick, TICK_MS)
  writeFileSync(ready, `${process.pid}\n`)
})
process.on('SIGTERM', () => process.exit(0))
