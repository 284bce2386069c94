/**
 * `npm run bench [-- --quick] [-- --record]`: prints every measurement; --record appends a
 * dated section with the machine description to bench/RESULTS.md.
 */
import { appendFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { benchDetection } from './detection.js'
import { benchIdle } from './idle.js'
import { benchReplay } from './replay.js'
import { benchJournal } from './journal.js'

const quick = process.argv.includes('--quick')
const record = process.argv.includes('--record')
const lines: string[] = []
const say = (line: string): void => { lines.push(line); process.stdout.write(`${line}\n`) }

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`
say(`## ${new Date().toISOString().slice(0, 10)} — ${machine}${quick ? ' (quick)' : ''}`)
say('')

const detection = await benchDetection(quick ? 2 : 10)
say(`- detection, SIGKILL of 1 node of 3 to "dead" on each survivor, shipped defaults (diskDeadAfterMs 10000, peerDeadAfterMs 5000), ${detection.runs} samples: min ${detection.minMs} ms, p50 ${detection.p50Ms} ms, p90 ${detection.p90Ms} ms, max ${detection.maxMs} ms (ratio p50/diskDeadAfterMs ${(detection.p50Ms / 10000).toFixed(3)})`)

const journal = await benchJournal({ records: quick ? 20_000 : 100_000 })
say(`- journal append (group commit, synced batches): ${JSON.stringify(journal)}`)

const replay = await benchReplay(quick ? 10 : 50)
say(`- replay: ${replay.records} records (${replay.transitions} transitions) at ${replay.recordsPerSec} records/s; machine host offered ${replay.inputsOfferedPerSec} inputs/s and journaled ${(replay.journaledShare * 100).toFixed(2)}% of them (10-minute faulty streams)`)

const idle = await benchIdle(quick ? 20 : 120)
say(`- idle 3-node cluster at shipped defaults over ${idle.windowS} s: journal growth ${idle.recordsPerDay} records/day, ${idle.bytesPerDay} bytes/day per node (max); RSS ${idle.rssMiB.join(', ')} MiB; CPU ${idle.cpuPercent.join(', ')} % of one core`)
say('')

if (record) appendFileSync(join(import.meta.dirname, '../../bench/RESULTS.md'), `${lines.join('\n')}\n`)
