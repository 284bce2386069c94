/**
 * The client-failover bench lines: Carbonado (client-failover.ts) at the shipped defaults and
 * at the test timing, keepalived (keepalived.ts) at its default advertisement interval and at
 * the test timing's heartbeat interval, all in the same lab with the same client, and the
 * ratios Carbonado / keepalived from this one run.
 */
import { DEFAULT_TIMING, defaultSelfFenceStopMs, type Timing } from '../src/config/timing.js'
import { TEST_TIMING } from '../test/helpers/cluster.js'
import { describeSpread, type Spread } from '../test/chaos/downtime.js'
import { benchClientFailover, type ClientFailoverResult } from './client-failover.js'
import { KEEPALIVED, benchKeepalived, keepalivedVersion, masterDownMs, type KeepalivedProfile, type KeepalivedResult } from './keepalived.js'

const TEST: Timing = { ...TEST_TIMING, selfFenceStopMs: defaultSelfFenceStopMs(TEST_TIMING.selfFenceAfterMs) }
const KEEPALIVED_DEFAULT: KeepalivedProfile = { advertIntS: 1, vrrpVersion: 2 }
/** VRRPv3 takes advert_int in centiseconds: 0.1 s is the test timing's heartbeatIntervalMs (100). */
const KEEPALIVED_FAST: KeepalivedProfile = { advertIntS: TEST_TIMING.heartbeatIntervalMs / 1000, vrrpVersion: 3 }

function samples(quick: boolean): number {
  const n = Number(process.env.CARBONADO_BENCH_CLIENT_SAMPLES ?? (quick ? 3 : 20))
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`CARBONADO_BENCH_CLIENT_SAMPLES must be a positive integer, got "${process.env.CARBONADO_BENCH_CLIENT_SAMPLES}"`)
  return n
}

const timingText = (t: Timing): string => `heartbeatIntervalMs ${t.heartbeatIntervalMs}, peerDeadAfterMs ${t.peerDeadAfterMs}, diskIntervalMs ${t.diskIntervalMs}, diskDeadAfterMs ${t.diskDeadAfterMs}`

function carbonadoLine(name: string, t: Timing, r: ClientFailoverResult): string {
  const part = (s: Spread): string => `${s.p50} (${s.max})`
  return `- client-observed failover, Carbonado at ${name} (${timingText(t)}): power cut of the owner's host to the first HTTP answer on the floating address from the client's namespace, 2 hosts with a power fence, ${describeSpread(r).replace(/^n=/, '').replace(/^(\d+) /, '$1 samples: ')}; parts, p50 (max): detection, cut to the survivor's "dead" ${part(r.detection)} ms, fence, "dead" to the switch's "off" ${part(r.fence)} ms, lease, server start and address, to the first answer ${part(r.start)} ms`
}

function keepalivedLine(p: KeepalivedProfile, why: string, r: KeepalivedResult): string {
  const discarded = r.discarded === 0 ? '' : ` (${r.discarded} more cuts not counted: the backup had already become master before the cut)`
  return `- client-observed failover, keepalived ${keepalivedVersion()} (VRRPv${p.vrrpVersion}, advert_int ${p.advertIntS} s, ${why}; a backup takes over after 3 x advert_int + skew = ${masterDownMs(p)} ms of silence; no fencing, no quorum disk), same lab, client and HTTP server: ${describeSpread(r).replace(/^n=/, '').replace(/^(\d+) /, '$1 samples: ')}${discarded}`
}

const ratio = (a: number, b: number): string => (a / b).toFixed(2)

export async function benchClientFailoverLines(quick: boolean): Promise<string[]> {
  const n = samples(quick)
  const shipped = await benchClientFailover(n, { ...DEFAULT_TIMING })
  const test = await benchClientFailover(n, TEST)
  const lines = [carbonadoLine('the shipped defaults', DEFAULT_TIMING, shipped), carbonadoLine('the test timing', TEST, test)]
  if (KEEPALIVED === null) return [...lines, '- client-observed failover, keepalived: not measured, keepalived is not installed (Debian package keepalived)']
  const slow = await benchKeepalived(n, KEEPALIVED_DEFAULT)
  const fast = await benchKeepalived(n, KEEPALIVED_FAST)
  lines.push(keepalivedLine(KEEPALIVED_DEFAULT, 'its default', slow), keepalivedLine(KEEPALIVED_FAST, 'the test timing\'s heartbeat interval', fast))
  lines.push(`- client-observed failover, Carbonado / keepalived from this run: shipped defaults / advert_int 1 s: p50 ${ratio(shipped.p50, slow.p50)}, p90 ${ratio(shipped.p90, slow.p90)}, p99 ${ratio(shipped.p99, slow.p99)}; test timing / advert_int ${KEEPALIVED_FAST.advertIntS} s: p50 ${ratio(test.p50, fast.p50)}, p90 ${ratio(test.p90, fast.p90)}, p99 ${ratio(test.p99, fast.p99)}`)
  return lines
}
