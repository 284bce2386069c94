/** `carbonado viz` as an administrator meets it: the files it writes, and one-line errors on bad input. */
import t from 'tap'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFile } from 'node:child_process'
import { CLI } from '../helpers/cluster.js'
import { HELP, commandHelp } from '../../src/cli/commands.js'
import { MACHINES } from '../../machines/registry.js'

const SAMPLE = ['a', 'b', 'c'].map((n) => join('test', 'journals', 'membership-2', `${n}.journal`))
/** runCli, but not blocking: the bad-input cases run side by side (each is a Node start-up). */
function runCliAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}

const oneLine = (s: string): boolean => s.trim().split('\n').length === 1

async function tempDir(t: Tap): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-viz-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}
type Tap = { teardown(fn: () => unknown): void }

t.test('html: every machine; with the sample journals, the incident of three nodes', async (t) => {
  const dir = await tempDir(t)
  const journals = SAMPLE.flatMap((p) => ['--journal', p])
  const [plain, incident] = await Promise.all([
    runCliAsync(['viz', '--out', join(dir, 'charts.html')]),
    runCliAsync(['viz', '--out', join(dir, 'incident.html'), ...journals]),
  ])
  t.equal(plain.code, 0, plain.stderr)
  t.match(plain.stdout, /state charts of peer, local, service, fencing/)
  const page = await readFile(join(dir, 'charts.html'), 'utf8')
  for (const type of Object.keys(MACHINES)) t.match(page, `data-machine-type="${type}"`)
  t.equal(incident.code, 0, incident.stderr)
  t.match(incident.stdout, /incident of \d+ decisions on nodes a, b, c/)
  t.match(await readFile(join(dir, 'incident.html'), 'utf8'), /id="carbonado-explanation"/)
})

t.test('mermaid and svg', async (t) => {
  const dir = await tempDir(t)
  const [one, all, svg] = await Promise.all([
    runCliAsync(['viz', '--out', join(dir, 'peer.mmd'), '--format', 'mermaid', '--machine', 'peer']),
    runCliAsync(['viz', '--out', join(dir, 'all.md'), '--format', 'mermaid']),
    runCliAsync(['viz', '--out', join(dir, 'service.svg'), '--format', 'svg', '--machine', 'service']),
  ])
  t.equal(one.code, 0, one.stderr)
  t.match(await readFile(join(dir, 'peer.mmd'), 'utf8'), /^---\ntitle: peer\n---\nstateDiagram-v2\n/)
  t.equal(all.code, 0, all.stderr)
  const md = await readFile(join(dir, 'all.md'), 'utf8')
  t.equal([...md.matchAll(/```mermaid\n/g)].length, Object.keys(MACHINES).length)
  t.equal(svg.code, 0, svg.stderr)
  const text = await readFile(join(dir, 'service.svg'), 'utf8')
  t.match(text, /^<\?xml [^>]*>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="chart" data-machine-type="service"/)
  t.match(text, /<style>/, 'a standalone SVG carries its style')
})

t.test('bad input: one line naming the flag or file, non-zero exit, nothing written', async (t) => {
  const dir = await tempDir(t)
  const out = join(dir, 'x.html')
  const cases: [string[], number, RegExp][] = [
    [['viz'], 2, /^carbonado: CARB_ERR_USAGE: viz: --out is required/],
    [['viz', '--out', out, '--machine', 'nope'], 2, /^carbonado: CARB_ERR_USAGE: viz: --machine: unknown machine type "nope" \(known: peer, local, service, fencing\)/],
    [['viz', '--out', out, '--format', 'png'], 2, /^carbonado: CARB_ERR_USAGE: viz: --format must be one of html, mermaid, svg, got "png"/],
    [['viz', '--out', out, '--format', 'svg'], 2, /^carbonado: CARB_ERR_USAGE: viz: --format svg draws one machine: give --machine TYPE/],
    [['viz', '--out', out, '--format', 'mermaid', '--journal', SAMPLE[0]!], 2, /^carbonado: CARB_ERR_USAGE: viz: --journal overlays an incident on the HTML page/],
    [['viz', '--out', out, '--bogus'], 2, /^carbonado: CARB_ERR_USAGE: viz: /],
    [['viz', '--out', join(dir, 'missing', 'x.html')], 1, /^carbonado: CARB_ERR_OUTPUT_WRITE: .*missing\/x\.html: --out: cannot write the file \(ENOENT\)/],
    [['viz', '--out', dir], 1, /^carbonado: CARB_ERR_OUTPUT_WRITE: .*: --out: cannot write the file \(EISDIR\)/],
    [['viz', '--out', out, '--journal', join(dir, 'no-such.journal')], 1, /^carbonado: CARB_ERR_JOURNAL_OPEN: .*no-such\.journal/],
  ]
  const results = await Promise.all(cases.map(([args]) => runCliAsync(args)))
  for (const [i, [args, code, pattern]] of cases.entries()) {
    const r = results[i]!
    t.equal(r.code, code, `carbonado ${args.join(' ')} exits ${code}`)
    t.match(r.stderr, pattern)
    t.ok(oneLine(r.stderr), r.stderr.trim())
  }
  await t.rejects(stat(out), 'no page was written')
})

t.test('help lists viz', async (t) => {
  t.match(HELP, /viz\s+draw the state charts/)
  t.match(commandHelp('viz'), /Usage: carbonado viz --out FILE \[--journal PATH\]\.\.\. \[--format html\|mermaid\|svg\] \[--machine TYPE\]/)
})
