/**
 * `npm run bench [-- --quick] [-- --record] [-- --only NAME[,NAME]]`: prints every measurement;
 * --record appends a dated section with the machine description to bench/RESULTS.md; --only
 * runs the named benches alone (an unknown name is an error that lists the known ones).
 */
import { appendFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { benchDetection } from './detection.js'
import { benchFailover } from './failover.js'
import { benchIdle } from './idle.js'
import { benchReplay } from './replay.js'
import { benchJournal } from './journal.js'
import { benchSimulator } from './simulator.js'
import { benchFalseFailovers, describeFalseFailovers, stallPlan } from './false-failovers.js'
import { benchScaling, describeScaling, scalingPlan } from './scaling.js'
import { benchClientFailoverLines } from './client-failover-lines.js'

const quick = process.argv.includes('--quick')
const record = process.argv.includes('--record')
const BENCHES = ['detection', 'failover', 'handover', 'journal', 'replay', 'idle', 'simulator', 'false-failovers', 'scaling', 'client-failover'] as const
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt === -1 ? null : (process.argv[onlyAt + 1] ?? '').split(',').filter((n) => n !== '')
const unknown = only?.filter((n) => !(BENCHES as readonly string[]).includes(n)) ?? []
if (only !== null && (only.length === 0 || unknown.length > 0)) throw new Error(`--only NAME[,NAME]: ${only.length === 0 ? 'no bench named' : `unknown bench "${unknown.join(',')}"`}; known: ${BENCHES.join(', ')}`)
const wanted = (name: (typeof BENCHES)[number]): boolean => only === null || only.includes(name)
const lines: string[] = []
const say = (line: string): void => { lines.push(line); process.stdout.write(`${line}\n`) }

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
say(`## ${new Date().toISOString().slice(0, 10)} — ${machine}${quick ? ' (quick)' : ''}${only === null ? '' : ` (only ${only.join(', ')})`}`)
say('')

if (wanted('detection')) {
  const detection = await benchDetection(quick ? 2 : 10)
  say(`- detection, SIGKILL of 1 node of 3 to "dead" on each survivor, shipped defaults (diskDeadAfterMs 10000, peerDeadAfterMs 5000), ${detection.runs} samples: min ${detection.minMs} ms, p50 ${detection.p50Ms} ms, p90 ${detection.p90Ms} ms, max ${detection.maxMs} ms (ratio p50/diskDeadAfterMs ${(detection.p50Ms / 10000).toFixed(3)})`)
}

if (wanted('failover')) {
  const failoverSamples = Number(process.env.CARBONADO_BENCH_FAILOVER_SAMPLES ?? (quick ? 2 : 10))
  if (!Number.isSafeInteger(failoverSamples) || failoverSamples < 1) throw new Error(`CARBONADO_BENCH_FAILOVER_SAMPLES must be a positive integer, got "${process.env.CARBONADO_BENCH_FAILOVER_SAMPLES}"`)
  const failover = await benchFailover(failoverSamples)
  say(`- failover, SIGKILL of the owner (node and service worker) to the service's start completing on the survivor, 2 nodes, failback off, shipped defaults (diskDeadAfterMs 10000, peerDeadAfterMs 5000, diskIntervalMs 1000), ${failover.runs} samples: min ${failover.minMs} ms, p50 ${failover.p50Ms} ms, p90 ${failover.p90Ms} ms, max ${failover.maxMs} ms (ratio p50/diskDeadAfterMs ${(failover.p50Ms / 10000).toFixed(3)}); parts, p50 (max): detection, kill to the survivor's "dead" ${failover.detection.p50Ms} (${failover.detection.maxMs}) ms, lease, "dead" to lease acquired ${failover.lease.p50Ms} (${failover.lease.maxMs}) ms, start script ${failover.start.p50Ms} (${failover.start.maxMs}) ms`)
}

if (wanted('journal')) {
  const journal = await benchJournal({ records: quick ? 20_000 : 100_000 })
  say(`- journal: ${journal.appendPerSec} records/s appended in synced batches of ${journal.flushBatchSize}, ${journal.appendPerSecFlushEvery100} records/s with a synced flush every 100; read back at ${journal.replayReadPerSec} records/s; ${journal.bytesPerRecord} bytes/record encoded, ${journal.diskBytesPerRecord} bytes/record on disk after LevelDB compression`)
}

if (wanted('replay')) {
  const replay = await benchReplay(quick ? 10 : 50, quick ? 20 : 200)
  say(`- replay: ${replay.records} records (${replay.transitions} transitions) folded in memory at ${replay.recordsPerSec} records/s; \`carbonado replay --journal DIR\` on the same LevelDB journal end to end: ${replay.cliSeconds} s, ${replay.cliRecordsPerSec} records/s. The machine host offered 10-minute faulty peer streams at ${replay.inputsOfferedPerSec} inputs/s and journaled ${(replay.journaledShare * 100).toFixed(2)}% of them`)
  say(`- replay --explain --json on the same journal: ${replay.explainSeconds} s, ${replay.explainRecordsPerSec} records/s (${(replay.explainSeconds / replay.cliSeconds).toFixed(2)} x the plain replay); --what-if (peerDeadAfterMs 8000): ${replay.whatIfSeconds} s, ${replay.whatIfRecordsPerSec} records/s (${(replay.whatIfSeconds / replay.cliSeconds).toFixed(2)} x)`)
}

if (wanted('idle')) {
  const idle = await benchIdle(quick ? 20 : 120)
  say(`- idle 3-node cluster at shipped defaults over ${idle.windowS} s: journal growth ${idle.recordsPerDay} records/day, ${idle.bytesPerDay} bytes/day per node (max); RSS ${idle.rssMiB.join(', ')} MiB; CPU ${idle.cpuPercent.join(', ')} % of one core`)
}

if (wanted('simulator')) {
  const simulator = await benchSimulator(quick ? 3 : 20)
  say(`- simulator: ${simulator.seeds} full seeds (2-4 nodes, fault then healing phase, a quarter at the shipped timing) at ${simulator.runsPerSec} runs/s, ${simulator.virtualPerRealSec} virtual s per real s, ${simulator.eventsPerSec} events/s; ${simulator.failed} failed`)
}

if (wanted('handover')) {
  // A clean stop (systemctl stop) against a dead machine, at the shipped defaults: the stop hands
  // the service over through "down" on the disk; the kill waits for detection and proof.
  const samples = quick ? 2 : 5
  const term = await benchFailover(samples, undefined, 'SIGTERM')
  const kill = await benchFailover(samples, undefined, 'SIGKILL')
  say(`- handover at the shipped defaults, ${samples} samples each, owner ended to the service's start completing on the other node: SIGTERM (clean stop: service stopped, lease released, "down" written) p50 ${term.p50Ms} ms (max ${term.maxMs}; the survivor counted it left ${term.detection.p50Ms} ms after the signal), SIGKILL p50 ${kill.p50Ms} ms (max ${kill.maxMs}; "dead" after ${kill.detection.p50Ms} ms); SIGKILL / SIGTERM ${(kill.p50Ms / term.p50Ms).toFixed(1)} at p50`)
}
if (wanted('false-failovers')) for (const line of describeFalseFailovers(await benchFalseFailovers(stallPlan(quick)))) say(line)

if (wanted('scaling')) {
  const { runs, options } = scalingPlan(quick)
  await benchScaling(runs, options, (r) => say(describeScaling(r)))
}

if (wanted('client-failover')) for (const line of await benchClientFailoverLines(quick)) say(line)
say('')

if (record) appendFileSync(join(import.meta.dirname, '../../bench/RESULTS.md'), `${lines.join('\n')}\n`)
