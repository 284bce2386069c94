/**
 * What-if folds: settings applied to each machine type's recorded input, a policy change found
 * at the decision it changes in a scenario's journals, and no difference when nothing changes.
 */
import '../sim/low-priority.js'
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { packageRoot } from '../helpers/cluster.js'
import { runScenario } from '../sim/scenario.js'
import { applySettings, whatIfRecords, type WhatIfChange } from '../../journal/what-if.js'
import { readWhatIf, type WhatIfSettings } from '../../src/config/what-if.js'
import { differenceSentence } from '../../src/cli/explain-text.js'

const settings = (doc: unknown): WhatIfSettings => readWhatIf('what-if.yaml', doc)

t.test('settings reach the fields each machine type records', async (t) => {
  const changes: WhatIfChange[] = []
  const s = settings({ timing: { peerDeadAfterMs: 3000, diskIntervalMs: 400, selfFenceAfterMs: 9000, selfFenceStopMs: 2000 }, fencing: { roundsMax: 2, raceDelayMs: 7000 }, services: { web: { recovery: { maxRestarts: 9 }, resources: { app: { monitorIntervalMs: 50 } } } } })
  const peer = applySettings('peer', 'peer:b#1', { peer: 'b', timing: { diskSuspectAfterMs: 500, diskDeadAfterMs: 1500, peerDeadAfterMs: 1000 } }, s, changes)
  t.same((peer as { timing: unknown }).timing, { diskSuspectAfterMs: 800, diskDeadAfterMs: 1500, peerDeadAfterMs: 3000 }, 'diskIntervalMs changes the derived suspect time')
  t.match(applySettings('local', 'local#1', { node: 'a', selfFenceAfterMs: 1000, stopReserveMs: 375 }, s, changes), { selfFenceAfterMs: 9000, stopReserveMs: 2000 })
  t.match(applySettings('service', 'service:web#1', { service: 'web', resources: [{ name: 'app', monitorIntervalMs: 500 }, { name: 'ip', monitorIntervalMs: 500 }], recovery: { policy: 'relocate', maxRestarts: 3, windowMs: 600000 } }, s, changes),
    { resources: [{ name: 'app', monitorIntervalMs: 50 }, { name: 'ip', monitorIntervalMs: 500 }], recovery: { policy: 'relocate', maxRestarts: 9, windowMs: 600000 } })
  t.same(applySettings('service', 'service:db#1', { service: 'db', resources: [], recovery: { policy: 'relocate', maxRestarts: 3, windowMs: 1 } }, s, changes), { service: 'db', resources: [], recovery: { policy: 'relocate', maxRestarts: 3, windowMs: 1 } }, 'another service is left alone')
  t.match(applySettings('fencing', 'fence:a:1#1', { delayMs: 0, retry: { baseMs: 500, maxMs: 1000, roundsMax: 3 } }, s, changes), { delayMs: 0, retry: { roundsMax: 2 } }, 'a node that ran services did not wait: no race delay')
  t.match(applySettings('fencing', 'fence:a:1#2', { delayMs: 5000, retry: { baseMs: 500, maxMs: 1000, roundsMax: 3 } }, s, changes), { delayMs: 7000 })
  t.same(changes.map((c) => c.field), [
    'timing.diskSuspectAfterMs (2 x diskIntervalMs)', 'timing.peerDeadAfterMs', 'timing.selfFenceAfterMs', 'timing.selfFenceStopMs',
    'services.web.resources.app.monitorIntervalMs', 'services.web.recovery.maxRestarts', 'fencing.roundsMax', 'fencing.raceDelayMs', 'fencing.roundsMax',
  ])
})

t.test('a whole cluster file is accepted: the sections no machine records are listed as ignored', async (t) => {
  const s = settings({ cluster: 'x', disk: '/dev/sdb', nodes: [], timing: { heartbeatIntervalMs: 100, peerDeadAfterMs: 2000 } })
  t.same(s.timing, { peerDeadAfterMs: 2000 })
  t.same(s.ignored, ['cluster', 'disk', 'nodes', 'timing.heartbeatIntervalMs'])
  t.throws(() => settings({ timing: { peerDeadAfterMs: 0 } }), /timing\.peerDeadAfterMs: must be an integer from 1/)
  t.throws(() => settings({ frobs: 1 }), /frobs: unknown field/)
})

t.test('resource-recover with more restarts allowed: after the third failure\'s stop, a restart instead of a release', async (t) => {
  const scenario = join(packageRoot(import.meta.dirname), 'test/scenarios/resource-recover.scenario')
  const run = await runScenario(await readFile(scenario, 'utf8'), 'resource-recover.scenario')
  t.same(run.failures, [])
  const a = run.journals.get('a')!
  const unchanged = await whatIfRecords(a, settings({ services: { web: { recovery: { maxRestarts: 2 } } } }))
  t.same(unchanged.changes, [], 'maxRestarts 2 is what was recorded')
  t.same(unchanged.differences, [], 'and nothing differs')
  const more = await whatIfRecords(a, settings({ services: { web: { recovery: { maxRestarts: 5 } } } }))
  t.equal(more.differences.length, 1, 'one difference: the service machine departs, and is not compared after it')
  const d = more.differences[0]!
  // Both policies stop the failed service first; they part when the stop has succeeded.
  t.match(d, { node: 'a', type: 'service', subject: 'web', firstOnNode: true, input: { type: 'AGENT_DONE', op: 'stop', outcome: 'ok' } })
  t.match(d.recorded, { to: 'releasing', effects: [{ type: 'effect.releaseLease', failedHere: true }] }, 'recorded: give the lease up, to move')
  t.match(d.tried, { effects: [{ type: 'effect.agent', op: 'start' }] }, 'what-if: start again here')
  t.match(differenceSentence(d), /^node a would have /)
  const other = await whatIfRecords(run.journals.get('b')!, settings({ services: { web: { recovery: { maxRestarts: 5 } } } }))
  t.equal(other.differences.length, 0, 'b decided nothing that the policy changes (its recorded inputs are what a did)')
})

t.test('a journal written by decision code this build does not know is refused, not folded', async (t) => {
  const start = { v: 1 as const, t: 'start' as const, node: 'a', nodeId: 1, incarnation: 1, codeVersion: 'future-9', wallMs: 0, atMs: 0, cluster: 'c' }
  await t.rejects(whatIfRecords([{ seq: 1, record: start }], settings({ timing: { peerDeadAfterMs: 3000 } })), { code: 'CARB_ERR_JOURNAL_VERSION', message: /written by decision code future-9/ })
})
