/** The progress line: silent for quick runs and off a terminal, throttled, erased at the end. */
import t from 'tap'
import { Progress, progressLine } from '../../src/cli/progress.js'

function stream(isTTY: boolean): { write(text: string): void; isTTY: boolean; text: string[] } {
  const out = { text: [] as string[], isTTY, write(text: string) { out.text.push(text) } }
  return out
}

t.test('the line, with and without a known total', async (t) => {
  t.equal(progressLine('replay', 12000, 24000, 2000), `replay [${'#'.repeat(15)}${'-'.repeat(15)}] 50% 12000/24000 records, 6000 records/s`)
  t.equal(progressLine('replay', 5000, null, 500), 'replay: 5000 records, 10000 records/s')
})

t.test('nothing in the first second, then at most ten lines a second, then erased', async (t) => {
  let now = 0
  const s = stream(true)
  const p = new Progress(s, () => now, 'replay')
  p.update(100, 1000)
  now = 999
  p.update(200, 1000)
  t.same(s.text, [], 'quick work shows nothing')
  now = 1000
  p.update(300, 1000)
  now = 1050
  p.update(400, 1000)
  now = 1100
  p.update(500, 1000)
  t.equal(s.text.length, 2, 'throttled to one line per 100 ms')
  t.match(s.text[1], /^\r.*50% 500\/1000/)
  p.done()
  t.equal(s.text.at(-1), '\r\u001b[K', 'erased at the end')
})

t.test('off a terminal it stays silent unless forced', async (t) => {
  let now = 0
  const quiet = stream(false)
  const q = new Progress(quiet, () => now, 'replay')
  now = 5000
  q.update(1, null)
  q.done()
  t.same(quiet.text, [])
  const forced = stream(false)
  const f = new Progress(forced, () => now, 'replay', true)
  now += 2000
  f.update(1, null)
  t.equal(forced.text.length, 1)
})
