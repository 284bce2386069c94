/**
 * A clean stop against a SIGKILL, with real processes: after SIGTERM the owner stops its
 * service, releases the lease, writes "down" and exits 0 with its journal flushed; the survivor
 * counts it *left* (never dead), fences nothing and takes the service over on the free lease.
 * After SIGKILL the survivor must first count the owner *dead* and take over on a
 * fence or deadline proof. How much sooner the handover comes is measured, not asserted:
 * `npm run bench -- --only handover` (bench/RESULTS.md).
 */
import t from 'tap'
import { join } from 'node:path'
import { TestCluster, runCli } from '../helpers/cluster.js'
import { allUp, checkWitness, cli, destroyWithWorkers, installScript, killMachine, scriptResource, waitRuns } from '../helpers/services.js'

const takeover = (c: TestCluster, node: string, from: number) =>
  c.waitFor(node, (l) => l.machine?.startsWith('service:web#') === true && l.event === 'LEASE_ACQUIRED' && l.to === 'starting', 30_000, from)

/** The proofs `node` took web on, read back from its journal (exported while it runs) by `replay --explain`. */
function proofs(c: TestCluster, node: string): string[] {
  const file = join(c.dir, `${node}-${Date.now()}.journal`)
  const exported = runCli(['journal', 'export', '-c', c.file, '--node', node, '--out', file])
  if (exported.code !== 0) throw new Error(exported.stderr)
  const explained = JSON.parse(runCli(['replay', '-j', file, '--explain', '--json', '--service', 'web']).stdout) as { decisions: { event: string; to: unknown; evidence: string[] }[] }
  return explained.decisions.filter((d) => d.event === 'LEASE_ACQUIRED' && d.to === 'starting').map((d) => d.evidence[0] ?? '')
}

t.test('SIGTERM hands over a released lease; SIGKILL takes over only on a proof after "dead"', async (t) => {
  const c = await TestCluster.create(['a', 'b'])
  t.teardown(destroyWithWorkers(c))
  const script = await installScript(c)
  c.startAll()
  await allUp(c)
  t.equal(cli(c, 'a', 'service', 'add', 'web', '--domain', 'a,b', '--failback', 'off', '--resource', scriptResource(script)).code, 0)
  await waitRuns(c, 'a', 1, 15_000)

  const markB = c.node('b').lines.length
  t.equal(await c.stop('a'), 0, 'a stops cleanly (exit 0)')
  const left = await c.waitPeer('b', 'a', 'left', 10_000, markB)
  t.ok(left, 'b counts a left')
  const cleanTakeover = await takeover(c, 'b', markB)
  t.match(proofs(c, 'b'), [/proof: the lease was free$/], 'b took web on a lease a had released on its way out: no proof of death needed')
  t.notOk(c.node('b').lines.slice(markB).some((l) => l.machine?.startsWith('peer:a#') === true && l.to === 'dead'), 'never dead')
  t.notOk(c.node('b').lines.slice(markB).some((l) => /^fencing a /.test(l.message)), 'nothing fenced')
  t.ok(cleanTakeover)
  await waitRuns(c, 'b', 1, 15_000)
  const replay = runCli(['replay', '--journal', join(c.dir, 'journal', 'a')])
  t.equal(replay.code, 0, `a's journal was flushed and replays: ${replay.stdout.trim()}`)
  t.match(replay.stdout, /^replay ok/)

  c.start('a')
  await allUp(c)
  const markA = c.node('a').lines.length
  killMachine(c, 'b')
  await c.waitPeer('a', 'b', 'dead', 30_000, markA)
  await takeover(c, 'a', markA)
  t.match(proofs(c, 'a').at(-1), /proof: (the holder was fenced by|no fence method: the holder's disk was silent \d+ ms > diskDeadAfterMs)/, 'after SIGKILL: a proof that needed "dead" first')
  await waitRuns(c, 'a', 2, 15_000)
  checkWitness(t, c)
})
