/**
 * The lab's client, run inside its own network namespace: it asks the floating address for
 * `/` every INTERVAL_MS, each request on a fresh connection with its own timeout, and prints
 * one line per request when it ends:
 *
 *   <sent ms> <done ms> ok <answering node>
 *   <sent ms> <done ms> err <code>          (ECONNREFUSED, EHOSTUNREACH, TIMEOUT, ...)
 *
 * A new request starts every interval whatever the earlier ones are doing (a request stuck on
 * a dead address must not hide the moment the address works again), up to MAX_IN_FLIGHT at
 * once; a tick with that many in flight is skipped and printed as "skip".
 *
 *   node client.js URL INTERVAL_MS TIMEOUT_MS MAX_IN_FLIGHT
 */
import { get } from 'node:http'

const [url, intervalText, timeoutText, maxText] = process.argv.slice(2)
if (url === undefined || intervalText === undefined || timeoutText === undefined || maxText === undefined) {
  process.stderr.write('usage: client.js URL INTERVAL_MS TIMEOUT_MS MAX_IN_FLIGHT\n')
  process.exit(2)
}
const intervalMs = Number(intervalText)
const timeoutMs = Number(timeoutText)
const maxInFlight = Number(maxText)
let inFlight = 0

function ask(): void {
  if (inFlight >= maxInFlight) { process.stdout.write(`${Date.now()} ${Date.now()} skip -\n`); return }
  inFlight += 1
  const sentMs = Date.now()
  let done = false
  const finish = (what: string): void => {
    if (done) return
    done = true
    inFlight -= 1
    clearTimeout(timer)
    process.stdout.write(`${sentMs} ${Date.now()} ${what}\n`)
  }
  const req = get(url!, { agent: false }, (res) => {
    let body = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => { if (body.length < 256) body += chunk })
    res.on('end', () => finish(res.statusCode === 200 && /^[a-z0-9_-]+\n$/.test(body) ? `ok ${body.trim()}` : `err HTTP${res.statusCode ?? 0}`))
    res.on('error', (error: NodeJS.ErrnoException) => finish(`err ${error.code ?? 'ERESPONSE'}`))
  })
  const timer = setTimeout(() => { finish('err TIMEOUT'); req.destroy() }, timeoutMs)
  req.on('error', (error: NodeJS.ErrnoException) => finish(`err ${error.code ?? 'EREQUEST'}`))
}

setInterval(ask, intervalMs)
ask()
process.on('SIGTERM', () => process.exit(0))
