/**
 * The chaos harness (test/chaos/, `npm run chaos`) as a short CI run: a 3-host lab of network
 * namespaces on a bridge of its own, real `carbonado node run` processes sharing a quorum
 * disk on loop devices, each with a power fence; the service is an HTTP server behind a
 * floating address, polled by a client in a fourth namespace. Three faults drawn from a seed
 * (random each run, printed; CARBONADO_CHAOS_SEED pins it), each followed by recovery.
 *
 * It fails when two nodes ran the service at one instant (witness), when the cluster did not
 * get whole with the service answering after a fault, when a clean stop or a journal replay
 * fails, and when the lab left anything behind (namespaces, loop devices, its directory).
 * Downtimes are printed, not asserted: they are measured by `npm run bench`.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { Cleanup } from '../chaos/cleanup.js'
import { newSeed, reproduceCommand, runChaos } from '../chaos/chaos.js'
import { labProblem } from '../chaos/network.js'

const FAULTS = 3

function seedFromEnvironment(): number {
  const text = process.env.CARBONADO_CHAOS_SEED
  if (text === undefined || text === '') return newSeed()
  const seed = Number(text)
  if (!Number.isSafeInteger(seed) || seed < 1) throw new Error(`CARBONADO_CHAOS_SEED must be a positive integer, got "${text}"`)
  return seed
}

t.test(`chaos: ${FAULTS} faults drawn from a seed on a 3-host lab; never two owners, always back, every journal replays, nothing left behind`, { skip: labProblem() ?? false }, async (t) => {
  const seed = seedFromEnvironment()
  const cleanup = new Cleanup((line) => t.comment(line))
  t.teardown(() => cleanup.run())
  t.comment(`seed ${seed}; reproduce with CARBONADO_CHAOS_SEED=${seed} or: ${reproduceCommand(seed, FAULTS, 'test')}`)
  const report = await runChaos({ seed, iterations: FAULTS, profile: 'test', cleanup, say: (line) => t.comment(line.replace(/^# ?/, '')) })

  const overlapsFound = report.failures.filter((f) => f.includes('both ran the service'))
  t.same(overlapsFound, [], `never two nodes running the service at one instant (${report.runs} runs in the witness)`)
  t.equal(report.iterations.length, FAULTS, `all ${FAULTS} faults were injected`)
  t.same(report.iterations.filter((r) => r.ownerAfter === null).map((r) => r.description), [], 'after every fault the cluster got whole and the service answered again')
  t.same(report.replays.map((r) => [r.node, r.code]), [['a', 0], ['b', 0], ['c', 0]], 'every node stopped and its journal replays')
  t.same(report.failures, [], `no check failed (seed ${seed})`)

  await cleanup.run()
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(report.lab.id))
  t.same(namespaces, [], 'no namespace of the lab is left')
  const loops = execFileSync('losetup', ['-j', report.lab.image], { encoding: 'utf8' }).trim()
  t.equal(loops, '', 'no loop device over the lab\'s disk image is left')
  t.notOk(existsSync(report.lab.dir), 'the lab directory is gone')
})
