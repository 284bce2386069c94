/**
 * The checkers can fail: each is given a run that breaks its rule. Besides crafted inputs, a
 * real simulation breaks rule 1 on purpose with the fault the README names as unprotected
 * (a frozen daemon with no power fence and no watchdog): the single-owner checker must see
 * two owners, and the takeover-proof checker must see the takeover on the self-fence deadline.
 */
import './low-priority.js'
import t from 'tap'
import { checkSingleOwner } from './checks/single-owner.js'
import { checkTakeoverProofs } from './checks/takeover-proof.js'
import { checkConvergence } from './checks/convergence.js'
import { check } from './run-seed.js'
import { Simulation } from './cluster.js'
import { FAST_TIMING } from './faults.js'

t.test('single owner: an overlap is found, a hand-over is not', async (t) => {
  const handOver = checkSingleOwner([
    { atMs: 1, service: 'web', machine: 'a', held: true }, { atMs: 5, service: 'web', machine: 'a', held: false }, { atMs: 6, service: 'web', machine: 'b', held: true },
  ])
  t.equal(handOver.valid, true)
  const overlap = checkSingleOwner([
    { atMs: 1, service: 'web', machine: 'a', held: true }, { atMs: 6, service: 'web', machine: 'b', held: true }, { atMs: 7, service: 'web', machine: 'a', held: false },
  ])
  t.equal(overlap.valid, false)
  t.match(overlap.problems[0], /at 6 ms service web may run on a and b/)
})

t.test('takeover proofs: unproven, impossible and unbacked proofs are named', async (t) => {
  const base = { machine: 'b', service: 'web', atMs: 100 }
  const v = checkTakeoverProofs([
    { ...base, proofKind: 'unproven', proof: 'holder a is up' },
    { ...base, proofKind: 'self-fence-deadline', proof: 'silent' },
    { ...base, proofKind: 'fenced', proof: 'the holder was fenced by fence_switch (incarnation 1): ok' },
    { ...base, proofKind: 'restarted', proof: 'the holder restarted as incarnation 2' },
  ], { powerCuts: [{ atMs: 200, target: 'a' }], someNodeUnfenceable: false })
  t.equal(v.valid, false)
  t.equal(v.problems.length, 3, v.problems.join('\n'))
  t.equal(checkTakeoverProofs([{ ...base, proofKind: 'fenced', proof: 'fenced by fence_switch' }], { powerCuts: [{ atMs: 90, target: 'a' }], someNodeUnfenceable: false }).valid, true)
})

t.test('convergence: a service down, doubled, or a node out are named', async (t) => {
  const v = checkConvergence({
    services: [{ name: 'web', enabled: true }, { name: 'db', enabled: true }, { name: 'mail', enabled: false }],
    runningOn: (s) => (s === 'web' ? [] : s === 'db' ? ['a'] : []),
    holders: (s) => (s === 'web' ? [] : s === 'db' ? ['a', 'b'] : ['c']),
    serviceState: () => 'running',
    localStates: () => new Map([['a', 'member'], ['b', 'out']]),
  })
  t.equal(v.valid, false)
  t.equal(v.problems.length, 4, v.problems.join('\n'))
})

t.test('a documented limit, simulated: a frozen daemon without fence or watchdog is taken over while it runs', async (t) => {
  const sim = await Simulation.create({ seed: 7, nodes: ['a', 'b'], services: [{ name: 'web', domain: ['a', 'b'], failback: false, resources: 1 }], timing: FAST_TIMING, protection: 'none' })
  sim.startAll()
  await sim.run(5000)
  t.same(sim.runningOn('web'), ['a'])
  sim.machine('a').pause()
  await sim.run(6000)
  const { verdicts } = await check(sim)
  const single = verdicts.find((v) => v.checker === 'single-owner')!
  t.equal(single.valid, false, 'two owners seen')
  t.match(single.problems.join('\n'), /service web may run on a and b/)
})
