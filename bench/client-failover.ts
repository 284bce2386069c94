/**
 * Client-observed failover of Carbonado: the lab of the chaos harness (test/chaos/) with two
 * hosts, real `carbonado node run` processes with a power fence (the lab's switch), the
 * service `web` (an HTTP server, then the floating address 10.214.0.100 by the `ip` agent),
 * and a client in its own namespace asking http://10.214.0.100:8080/ every 50 ms.
 *
 * A sample: the owner's host loses power (every process, its link, its addresses: hosts.ts
 * powerOff) to the first successful answer to a request sent after the cut was complete. The
 * survivor waits for the disk deadline (diskDeadAfterMs, with no heartbeat for
 * peerDeadAfterMs), fences the victim through the switch (already off: the switch answers at
 * once), acquires the lease (disk Paxos), starts the server, then adds the address. The
 * survivor's log and the switch split the sample: detection (cut to "dead"), fence ("dead" to
 * the switch's answer), start (that to the first answer). The victim then boots and rejoins;
 * failback is off, so the next sample cuts the survivor.
 */
import { Cleanup } from '../test/chaos/cleanup.js'
import { ChaosCluster, until } from '../test/chaos/cluster.js'
import { firstAnswerSentAfter, spread, type Spread } from '../test/chaos/downtime.js'
import { sleep } from '../test/chaos/lab.js'
import type { Timing } from '../src/config/timing.js'

const HOSTS = ['a', 'b'] as const
const STEADY_ANSWERS = 5

export interface ClientFailoverResult extends Spread {
  detection: Spread
  fence: Spread
  start: Spread
}

/** When the survivor logged its "dead" decision on `victim` after `afterMs`, or null. */
function deadAt(cluster: ChaosCluster, survivor: string, victim: string, afterMs: number): number | null {
  for (const raw of cluster.live(survivor)?.recent ?? []) {
    if (!raw.includes(`"machine":"peer:${victim}#`) || !raw.includes('"to":"dead"')) continue
    const at = Date.parse((JSON.parse(raw) as { time: string }).time)
    if (at >= afterMs) return at
  }
  return null
}

async function steady(cluster: ChaosCluster, sinceMs: number, timeoutMs: number): Promise<string> {
  let owner: string | null = null
  const ok = await until(cluster.lab, async () => {
    owner = cluster.lab.steadyOwner(STEADY_ANSWERS, sinceMs)
    return owner !== null && (await cluster.wholeProblem()) === null
  }, timeoutMs)
  if (!ok || owner === null) throw new Error(`client-failover bench: not whole with the service answering within ${timeoutMs} ms: ${await cluster.wholeProblem()}\n${cluster.recentLogs()}`)
  return owner
}

export async function benchClientFailover(runs: number, timing: Timing): Promise<ClientFailoverResult> {
  const cleanup = new Cleanup()
  const parts = { total: [] as number[], detection: [] as number[], fence: [] as number[], start: [] as number[] }
  const waitMs = 3 * timing.diskDeadAfterMs + 30_000
  try {
    const cluster = await ChaosCluster.create(cleanup, { hosts: HOSTS, say: () => {}, timing: { ...timing } })
    for (const name of HOSTS) cluster.start(name)
    await until(cluster.lab, async () => (await cluster.wholeProblem()) === null, waitMs)
    await cluster.addService(HOSTS[0])
    cluster.lab.startClient()
    let owner = await steady(cluster, 0, waitMs)
    for (let run = 0; run < runs; run++) {
      const survivor = HOSTS.find((h) => h !== owner)!
      // Cut at a random phase of the disk cycle, as a real crash would.
      await sleep(Math.random() * timing.diskIntervalMs)
      const cutAt = Date.now()
      await cluster.lab.powerOff(owner)
      const offAt = Date.now()
      await cluster.reap(owner)
      if (!(await until(cluster.lab, () => firstAnswerSentAfter(cluster.lab.answers, offAt) !== undefined, waitMs))) throw new Error(`client-failover bench: no answer within ${waitMs} ms of the cut of ${owner}\n${cluster.recentLogs()}`)
      const first = firstAnswerSentAfter(cluster.lab.answers, offAt)!
      if (first.node !== survivor) throw new Error(`client-failover bench: ${first.node} answered after ${owner} was cut`)
      const dead = deadAt(cluster, survivor, owner, cutAt)
      const fenced = cluster.power.cuts.find((c) => c.plug === owner && c.atMs >= cutAt)?.answeredAtMs ?? null
      if (dead === null || fenced === null) throw new Error(`client-failover bench: no "dead" line or no fence of ${owner} on ${survivor}`)
      parts.total.push(first.doneMs - cutAt)
      parts.detection.push(dead - cutAt)
      parts.fence.push(fenced - dead)
      parts.start.push(first.doneMs - fenced)
      // The victim boots and rejoins; failback is off, the survivor keeps the service.
      await cluster.boot(owner)
      const next = await steady(cluster, Date.now(), waitMs)
      if (next !== survivor) throw new Error(`client-failover bench: the service went back to ${next}`)
      owner = next
      cluster.lab.forgetAnswersBefore(cutAt)
    }
  } finally {
    await cleanup.run()
  }
  return { ...spread(parts.total)!, detection: spread(parts.detection)!, fence: spread(parts.fence)!, start: spread(parts.start)! }
}
