/**
 * `npm run chaos -- [--seed N] [--iterations K] [--profile test|shipped] [--only KIND,...] [--keep]`
 *
 * Runs the chaos harness (chaos.ts) on real processes in network namespaces (root only) and
 * exits 0 when every check held, 1 when one did not, 2 on a usage error. Everything it
 * creates is removed on exit, on failure, and on Ctrl-C (SIGINT) or SIGTERM; what a killed
 * run left behind is removed by the next one (sweep.ts). --keep keeps the lab's directory
 * (node logs, witness file, journals) for a post-mortem.
 */
import { parseArgs } from 'node:util'
import { Cleanup, cleanUpOnSignals } from './cleanup.js'
import { FAULT_KINDS, type FaultKind } from './faults.js'
import { newSeed, runChaos, type Profile } from './chaos.js'
import { labProblem } from './network.js'
import { sweepStaleLabs } from './sweep.js'

const USAGE = `usage: npm run chaos -- [--seed N] [--iterations K] [--profile test|shipped] [--only KIND,...] [--keep]
  --seed N          the seed of the fault schedule (default: a random one, printed)
  --iterations K    how many faults, one after the other (default 10; 200 is the soak)
  --profile P       timings: test (TEST_TIMING, default) or shipped (the defaults)
  --only KINDS      only these faults: ${FAULT_KINDS.join(', ')}
  --keep            keep the lab directory (logs, witness, journals)`

function usage(message: string): never {
  process.stderr.write(`chaos: ${message}\n${USAGE}\n`)
  process.exit(2)
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) usage(`--${name} must be a positive integer, got "${text}"`)
  return n
}

let values: { seed?: string; iterations?: string; profile?: string; only?: string; keep?: boolean; help?: boolean }
try {
  ({ values } = parseArgs({ options: { seed: { type: 'string' }, iterations: { type: 'string' }, profile: { type: 'string' }, only: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }))
} catch (error) {
  usage((error as Error).message)
}
if (values.help === true) { process.stdout.write(`${USAGE}\n`); process.exit(0) }
const profile = (values.profile ?? 'test') as Profile
if (profile !== 'test' && profile !== 'shipped') usage(`--profile must be test or shipped, got "${values.profile}"`)
const kinds = values.only?.split(',').map((k) => k.trim()) as FaultKind[] | undefined
for (const k of kinds ?? []) if (!FAULT_KINDS.includes(k)) usage(`--only: unknown fault "${k}"`)
const problem = labProblem()
if (problem !== null) { process.stderr.write(`chaos: cannot build the lab here: ${problem}\n`); process.exit(2) }

const say = (line: string): void => { process.stdout.write(`${line}\n`) }
for (const leftover of sweepStaleLabs()) say(`# removed a leftover of a dead lab: ${leftover}`)
const cleanup = new Cleanup((line) => say(line))
cleanUpOnSignals(cleanup, say)
let code = 1
try {
  const report = await runChaos({ seed: positive('seed', values.seed, newSeed()), iterations: positive('iterations', values.iterations, 10), profile, cleanup, say, ...(values.keep === true ? { keep: true } : {}), ...(kinds === undefined ? {} : { kinds }) })
  code = report.failures.length === 0 ? 0 : 1
} catch (error) {
  say(`# chaos: the harness failed: ${(error as Error).stack ?? String(error)}`)
} finally {
  await cleanup.run()
}
process.exit(code)
