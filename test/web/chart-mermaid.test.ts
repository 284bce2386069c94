/** Mermaid stateDiagram-v2 text from the chart model. */
import t from 'tap'
import { allChartModels, machineChartModel } from '../../src/web/chart-model.js'
import { chartMermaid } from '../../src/web/chart-mermaid.js'
import { nestedMachine } from '../helpers/viz-fixtures.js'

t.test('a nested machine: composite states, regions, delays, final states, escaping', async (t) => {
  const text = chartMermaid(machineChartModel(nestedMachine, 'nested'))
  const lines = text.split('\n').map((l) => l.trim())
  t.equal(lines[3], 'stateDiagram-v2')
  for (const expected of [
    '[*] --> idle',
    'idle --> running : GO [healthy]',
    'state running {',
    '[*] --> running_starting',
    'state "starting" as running_starting',
    'running_starting --> running_monitoring : after 1000 ms',
    'running_starting --> running_monitoring : NEXT',
    'running_monitoring --> running_starting : NEXT [odd <name> & "quoted"] (reenter)',
    'state failed {',
    '--',
    'failed_alarm_ringing --> failed_alarm_quiet : after 3000 ms',
    'failed_alarm_quiet --> failed_alarm_ringing : always [healthy]',
    'failed_cleanup_stopped --> [*]',
    'running --> failed : FAIL',
    'failed --> done : DONE',
    'done --> [*]',
    '%% in every state: RESET → idle',
  ]) t.ok(lines.includes(expected), expected)
  const open = lines.filter((l) => l.endsWith('{')).length
  const close = lines.filter((l) => l === '}').length
  t.equal(open, close, 'braces balance')
  const separator = lines.indexOf('--')
  t.ok(lines.slice(0, separator).includes('state failed_cleanup {') && lines.slice(separator).includes('state failed_alarm {'), 'the regions on both sides of --')
})

t.test('registered machines: internal transitions as notes, every target reachable by an arrow', async (t) => {
  const service = chartMermaid(allChartModels().find((m) => m.type === 'service')!)
  t.match(service, /\[\*\] --> stopped\n/)
  t.match(service, /stopped --> acquiring : always \[wantRun\]\n/)
  t.match(service, /left --> \[\*\]\n/)
  t.match(service, /note right of running\n\s+CHECK \[monitorDue\]\n/)
  t.match(service, /%% in every state: PLACE \[placementChanged\]/)
  for (const model of allChartModels()) t.notMatch(chartMermaid(model), /[;#](?!\d+;)/, `${model.type}: no raw ; or #`)
})
