/**
 * `carbonado replay` on the checked-in membership-2 sample journals (a frozen owner fenced by
 * a power switch, its service taken over, then failback): several journals at once,
 * --explain with every filter and --json, --what-if, and bad input refused in one line.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { packageRoot, runCli } from '../helpers/cluster.js'

const samples = join(packageRoot(import.meta.dirname), 'test/journals/membership-2')
const a = join(samples, 'a.journal')
const b = join(samples, 'b.journal')
const c = join(samples, 'c.journal')
const all = ['-j', a, '-j', b, '-j', c]
const oneLine = (text: string): boolean => text.trim().split('\n').length === 1

interface Json { order: string; nodes: string[]; journals: { node: string; ok: boolean; transitions: number }[]; decisions: { node: string; type: string; subject: string; wallMs: number; from: unknown; to: unknown; effects: { type: string; op?: string }[]; evidence: string[]; summary: string }[] }
const json = (args: string[]): Json => JSON.parse(runCli(['replay', ...args, '--explain', '--json']).stdout) as Json

t.test('several journals: each replayed and named', async (t) => {
  const r = runCli(['replay', ...all])
  t.equal(r.code, 0, r.stderr)
  for (const path of [a, b, c]) t.match(r.stdout, `${path}: replay ok: `)
})

t.test('--explain --json: every recorded transition of every node, with evidence', async (t) => {
  const e = json(all)
  t.same(e.nodes, ['a', 'b', 'c'])
  t.equal(e.decisions.length, e.journals.reduce((n, j) => n + j.transitions, 0), 'one explained decision per reproduced transition')
  t.ok(e.journals.every((j) => j.ok))
  const dead = e.decisions.find((d) => d.node === 'b' && d.type === 'peer' && d.subject === 'a' && d.to === 'dead')
  t.match(dead?.summary, /^peer a: suspect → dead on CHECK: dead: disk silent 1504 ms, heartbeat silent 1752 ms$/)
  t.match(dead?.evidence, ['timer: deadline check', /^disk: seq 3, last new write seen 1504 ms before$/, /^heartbeat channel 0: last heard 175\d ms before$/, /^heartbeat channel 1: last heard 175\d ms before$/, 'known incarnation: 1', /^rule: suspect after 500 ms/])
  const takeover = e.decisions.find((d) => d.node === 'b' && d.subject === 'web' && d.to === 'starting')
  t.match(takeover?.evidence[0], /^lease acquired \(version 2\), proof: the holder was fenced by pdu/)
  const times = e.decisions.map((d) => d.wallMs)
  t.ok(e.order === 'wall-clock' && times.every((w, i) => i === 0 || w >= times[i - 1]!), 'journals from before clock stamps merge by wall clock, in order')
})

t.test('filters: --node, --service, --from/--to, --decisions-only', async (t) => {
  const full = json(all)
  const onB = json([...all, '--node', 'b'])
  t.ok(onB.decisions.length > 0 && onB.decisions.every((d) => d.node === 'b'))
  const web = json([...all, '--service', 'web'])
  t.ok(web.decisions.length > 0 && web.decisions.every((d) => d.type === 'service' && d.subject === 'web'))
  const routine = full.decisions.filter((d) => JSON.stringify(d.from) === JSON.stringify(d.to) && d.effects.every((f) => f.op === 'monitor'))
  t.ok(routine.length > 0, 'the sample has routine monitor steps')
  t.equal(json([...all, '--decisions-only']).decisions.length, full.decisions.length - routine.length, '--decisions-only drops exactly the routine steps')
  const dead = full.decisions.find((d) => d.to === 'dead')!
  const at = new Date(dead.wallMs).toISOString()
  const window = json([...all, '--from', at, '--to', new Date(dead.wallMs + 300).toISOString()])
  t.ok(window.decisions.length > 0 && window.decisions.every((d) => d.wallMs >= dead.wallMs && d.wallMs <= dead.wallMs + 300))
  const timeOfDay = json([...all, '--from', at.slice(11, 23)])
  t.equal(timeOfDay.decisions[0]?.wallMs, window.decisions[0]?.wallMs, 'a bare time of day is on the timeline\'s day (UTC)')
})

t.test('text: one node as a list, several side by side', async (t) => {
  const one = runCli(['replay', '-j', b, '--explain', '--decisions-only'])
  t.equal(one.code, 0)
  t.match(one.stdout, /Z {2}b {2}peer a: suspect → dead on CHECK: dead: disk silent 1504 ms/)
  t.match(one.stdout, /\n {4}heartbeat channel 0: last heard 175\d ms before\n/)
  const three = runCli(['replay', ...all, '--explain', '--width', '180'])
  t.match(three.stdout, /^merged a, b, c by estimated wall clock/)
  t.match(three.stdout, /\nTIME +a +\| b +\| c\n/)
  t.ok(three.stdout.split('\n').every((line) => line.length <= 180), 'columns fit the width')
})

t.test('--what-if: the prepared case, and nothing when the settings are the recorded ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-whatif-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'slow.yaml'), 'timing:\n  peerDeadAfterMs: 3000\n')
  const slow = runCli(['replay', ...all, '--what-if', join(dir, 'slow.yaml')])
  t.equal(slow.code, 0, slow.stderr)
  t.match(slow.stdout, /timing\.peerDeadAfterMs: recorded 1000 → 3000 in 8 machines \(nodes a, b, c\)/)
  t.match(slow.stdout, /first difference \(exact[^\n]*\n[^\n]*with timing\.peerDeadAfterMs 3000, node c would not have moved peer a suspect → dead: it stays suspect/)
  t.match(slow.stdout, /node b would not have moved peer a suspect → dead/)
  await writeFile(join(dir, 'same.yaml'), 'timing:\n  peerDeadAfterMs: 1000\n')
  const same = runCli(['replay', ...all, '--what-if', join(dir, 'same.yaml')])
  t.match(same.stdout, /no difference: every recorded decision of a, b, c is taken the same way/)
  const asJson = JSON.parse(runCli(['replay', ...all, '--what-if', join(dir, 'slow.yaml'), '--json']).stdout) as { differences: { node: string; firstOnNode: boolean }[] }
  t.same(asJson.differences.map((d) => d.node), ['c', 'b'])
})

t.test('bad input: one line naming the flag, file or field; exit 2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'carbonado-whatif-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p }
  const cases: [string[], RegExp][] = [
    [['--explain', '-j', a, '--from', '25:00'], /CARB_ERR_USAGE: replay: --from "25:00" is not a time of day/],
    [['--explain', '-j', a, '--to', 'yesterday'], /--to "yesterday" is neither an ISO 8601 date-time nor a time of day/],
    [['--explain', '-j', a, '--node', 'zz'], /--node zz is not one of the journals' nodes \(a\)/],
    [['-j', a, '--service', 'web'], /--service filters --explain output; add --explain/],
    [['--explain', '-j', a, '-j', a], /two journals of node a/],
    [['-j', a, '--what-if', join(dir, 'missing.yaml')], /CARB_ERR_CONFIG_READ: .*missing\.yaml.*cannot read what-if settings/],
    [['-j', a, '--what-if', file('typo.yaml', 'timing:\n  peerDeadAfterMS: 3000\n')], /typo\.yaml.*timing\.peerDeadAfterMS: unknown field/],
    [['-j', a, '--what-if', file('neg.yaml', 'timing:\n  peerDeadAfterMs: -5\n')], /neg\.yaml.*timing\.peerDeadAfterMs/],
    [['-j', a, '--what-if', file('policy.yaml', 'services:\n  web:\n    recovery: { policy: pray }\n')], /services\.web\.recovery\.policy: must be one of/],
    [['-j', a, '--what-if', file('empty.yaml', '{}\n')], /empty\.yaml.*sets nothing to try/],
    [['-j', a, '--explain', '--what-if', file('x.yaml', 'timing: { peerDeadAfterMs: 3000 }\n')], /--what-if and --explain are separate runs/],
  ]
  for (const [args, pattern] of cases) {
    const r = runCli(['replay', ...args])
    t.equal(r.code, 2, `replay ${args.join(' ')} exits 2`)
    t.match(r.stderr, pattern)
    t.ok(oneLine(r.stderr), `one line: ${r.stderr.trim()}`)
  }
})
