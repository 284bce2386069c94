/** What /proc says about a process (CPU seconds, RSS) and about the whole machine (busy CPU time). */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** CPU seconds of the process itself (utime + stime) and of its waited-for children (cutime + cstime). */
export function cpuSeconds(pid: number): { own: number; children: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return { own: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S, children: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_S }
}

export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(line.split(/\s+/)[1]) / 1024
}

/** Busy and total CPU time of the machine, all cores (the first line of /proc/stat), in seconds. */
export function machineCpu(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)
  const n = ticks.map(Number)
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0)
  const idle = (n[3] ?? 0) + (n[4] ?? 0)
  return { busy: (total - idle) / CLOCK_TICKS_PER_S, total: total / CLOCK_TICKS_PER_S }
}
