/**
 * `npm run sim -- --seeds N [--from S]` runs N seeds (S, S+1, …) and prints runs per second,
 * virtual seconds per real second and every failing seed with the command that reproduces it;
 * `npm run sim -- --seed S [--verbose]` runs one seed and prints its transcript; `--short` draws
 * the test suite's shorter runs.
 * `npm run sim -- --scenario FILE [--rewrite]` runs a scenario file and prints its transcript
 * (--rewrite stores it as FILE's .expected transcript). Exit 1 when any seed or expectation fails.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { describePlan, runSeed, runSeeds, type SeedResult } from './run-seed.js'
import { runScenario } from './scenario.js'

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : process.argv[i + 1]
}

function count(name: string, fallback: number): number {
  const text = flag(name)
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) { process.stderr.write(`sim: --${name} must be a non-negative integer, got "${text}"\n`); process.exit(2) }
  return value
}

function report(r: SeedResult): string {
  const failed = r.verdicts.filter((v) => v.valid === false)
  return [`seed ${r.seed} FAILED (${describePlan(r.plan)}); reproduce: npm run sim -- --seed ${r.seed}${short ? ' --short' : ''} --verbose`, ...failed.flatMap((v) => v.problems.slice(0, 5).map((p) => `  ${v.checker}: ${p}`))].join('\n')
}

function transcript(r: SeedResult): string {
  const lines = [
    ...r.sim.actions.map((a) => ({ atMs: a.atMs, text: `sim ${a.text}` })),
    ...r.sim.log.filter((l) => l.level !== 'info' || (typeof l.fields.machine === 'string' && !/stays (running|up|member) on (CHECK|HEARTBEAT|DISK)/.test(l.message))).map((l) => ({ atMs: l.atMs, text: `${l.machine} ${l.level} ${l.message}` })),
  ].sort((x, y) => x.atMs - y.atMs)
  return lines.map((l) => `${(l.atMs / 1000).toFixed(3).padStart(9)} ${l.text}`).join('\n')
}

const scenario = flag('scenario')
if (scenario !== undefined) {
  const result = await runScenario(await readFile(scenario, 'utf8'), scenario)
  process.stdout.write(result.transcript)
  if (process.argv.includes('--rewrite')) await writeFile(scenario.replace(/\.scenario$/, '.expected'), result.transcript)
  for (const f of result.failures) process.stderr.write(`${f}\n`)
  process.exit(result.failures.length === 0 ? 0 : 1)
}

const short = process.argv.includes('--short')
const single = flag('seed')
if (single !== undefined) {
  const r = await runSeed(count('seed', 0), { short })
  if (process.argv.includes('--verbose')) process.stdout.write(`${transcript(r)}\n`)
  process.stdout.write(`seed ${r.seed}: ${describePlan(r.plan)}\n`)
  for (const v of r.verdicts) process.stdout.write(`  ${v.checker}: ${v.valid === true ? 'valid' : v.valid === false ? 'INVALID' : 'unknown'}${v.problems.map((p) => `\n    ${p}`).join('')}\n`)
  process.stdout.write(`  ${(r.virtualMs / 1000).toFixed(0)} virtual s in ${(r.realMs / 1000).toFixed(2)} s, ${r.events} events, ${r.starts} starts, ${r.takeovers} takeovers\n`)
  process.exit(r.ok ? 0 : 1)
}

const seeds = count('seeds', 100)
const from = count('from', 1)
let done = 0
let failures = 0
const total = await runSeeds(from, seeds, { short }, (r) => {
  if (!r.ok) { failures++; process.stdout.write(`${report(r)}\n`) }
  if (++done % 10 === 0) process.stderr.write(`\r${done}/${seeds} seeds, ${failures} failed`)
})
const realS = total.realMs / 1000
process.stderr.write('\n')
process.stdout.write(`${seeds} seeds in ${realS.toFixed(1)} s: ${(seeds / realS).toFixed(2)} runs/s, ${(total.virtualMs / 1000 / realS).toFixed(1)} virtual s per real s, ${total.takeovers} takeovers checked, ${total.failed} failed\n`)
process.exit(total.failed === 0 ? 0 : 1)
