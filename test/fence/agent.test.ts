/**
 * Fence agents by the fence-agents stdin protocol, with real processes: fixture agents that
 * record what they were given, hang, or kill a real process (the project's stand-in power
 * switch), and, when Debian's fence-agents package is installed, its agents run unmodified.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, readFileSync } from 'node:fs'
import { chmod, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { groupHasLiveMember } from '../../src/agents/process-group.js'
import { AGENT_OUTPUT_MAX_BYTES, AGENT_PATH } from '../../src/agents/types.js'
import { fenceAction, fenceOff, fenceStatus, type FenceAgentCall } from '../../src/fence/agent.js'
import {
  exitOutcome, exitPower, fenceStdin, isSecretKey, LineRedactor, maskLeadingPartial, maskTrailingPartial, REDACTED, redact, secretValues,
  type FenceAgentAction,
} from '../../src/fence/agent-protocol.js'
import { isAlive, killIfAlive, readPid, script, tempDir, type Teardown } from '../agents/fixtures/system.js'

const FIXTURES = join(import.meta.dirname, 'fixtures')
const FENCE_RECORD = join(FIXTURES, 'fence_record')
const FENCE_HANG = join(FIXTURES, 'fence_hang')
const FENCE_KILL = join(FIXTURES, 'fence_kill')
// A checkout or copy that lost the executable bit would turn every test into 'misconfigured'.
for (const fixture of [FENCE_RECORD, FENCE_HANG, FENCE_KILL]) chmodSync(fixture, 0o755)

const TARGET = { port: 'b', nodename: 'b' }
const call = (agent: string, params: Record<string, string>, timeoutMs = 10_000): FenceAgentCall => ({ agent, params, timeoutMs })

/** A sleeping process standing for a node: its pid goes to DIR/NAME.pid, as fence_kill reads it. */
async function fakeNode(t: Teardown, dir: string, name: string): Promise<number> {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' })
  const pid = child.pid
  if (pid === undefined) throw new Error('could not start sleep')
  t.teardown(() => killIfAlive(pid))
  await writeFile(join(dir, `${name}.pid`), `${pid}\n`)
  return pid
}

/** A loopback TCP port with nothing listening: bound by the kernel's choice, then closed. */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

t.test('protocol: the stdin lines, the cluster keys last', async (t) => {
  t.equal(fenceStdin('off', { port: 'plug-7', nodename: 'b' }, { ipaddr: '127.0.0.1', login: 'admin', passwd: 'pw' }),
    'ipaddr=127.0.0.1\nlogin=admin\npasswd=pw\naction=off\nport=plug-7\nplug=plug-7\nnodename=b\n')
  t.equal(fenceStdin('status', TARGET, {}), 'action=status\nport=b\nplug=b\nnodename=b\n')
  t.equal(fenceStdin('off', TARGET, { note: 'a = b # c' }), 'note=a = b # c\naction=off\nport=b\nplug=b\nnodename=b\n', '= and # inside a value are sent as they are')
})

t.test('protocol: what the protocol cannot carry is refused before anything runs', async (t) => {
  const refused = (fn: () => unknown, pattern: RegExp, what: string): void => {
    t.throws(fn, { code: 'CARB_ERR_AGENT_BAD_CALL', message: pattern }, what)
  }
  refused(() => fenceStdin('off', TARGET, { ipaddr: '10.0.0.1\naction=on' }), /ipaddr holds a newline/, 'a newline in a value')
  refused(() => fenceStdin('off', TARGET, { login: 'a\rb' }), /login holds a newline, CR or NUL/, 'a CR in a value')
  refused(() => fenceStdin('off', TARGET, { login: 'a\0b' }), /NUL/, 'a NUL in a value')
  refused(() => fenceStdin('off', { port: 'b\nc', nodename: 'b' }, {}), /port holds a newline/, 'a newline in the port')
  refused(() => fenceStdin('off', { port: 'b', nodename: 'b\n' }, {}), /nodename holds a newline/, 'a newline in the node name')
  refused(() => fenceStdin('off', { port: '', nodename: 'b' }, {}), /port is empty/, 'an empty port')
  for (const key of ['action', 'port', 'plug', 'nodename']) refused(() => fenceStdin('off', TARGET, { [key]: 'x' }), /set by the cluster/, `param ${key}`)
  for (const key of ['a b', 'a=b', '#x', '', 'x\ny']) refused(() => fenceStdin('off', TARGET, { [key]: 'x' }), /parameter name/, `key ${JSON.stringify(key)}`)
  refused(() => fenceStdin('halt' as FenceAgentAction, TARGET, {}), /unknown fence action/, 'an action outside the list')
  try {
    fenceStdin('off', TARGET, { passwd: 'hunter2\n' })
    t.fail('should throw')
  } catch (error) {
    t.notMatch(String((error as Error).message), /hunter2/, 'the refusal does not show the password')
  }
})

t.test('protocol: exit codes per action', async (t) => {
  const table: [FenceAgentAction, number, string, string][] = [
    ['off', 0, 'ok', 'unknown'], ['off', 1, 'failed', 'unknown'], ['off', 2, 'failed', 'unknown'],
    ['reboot', 0, 'ok', 'unknown'], ['on', 1, 'failed', 'unknown'],
    ['status', 0, 'ok', 'on'], ['status', 2, 'ok', 'off'], ['status', 1, 'failed', 'unknown'], ['status', 3, 'failed', 'unknown'],
    ['monitor', 0, 'ok', 'on'], ['monitor', 2, 'ok', 'off'], ['monitor', 1, 'failed', 'unknown'],
  ]
  for (const [action, code, outcome, power] of table) {
    t.equal(exitOutcome(action, code), outcome, `${action} exit ${code} is ${outcome}`)
    t.equal(exitPower(action, code), power, `${action} exit ${code} says power ${power}`)
  }
})

t.test('protocol: secrets are found by name and masked, also when cut at a piece edge', async (t) => {
  for (const key of ['passwd', 'password', 'snmp_priv_passwd', 'passwd_script', 'secret_key', 'api_token']) t.ok(isSecretKey(key), key)
  for (const key of ['ipaddr', 'login', 'port', 'lanplus']) t.notOk(isSecretKey(key), key)
  const secrets = secretValues({ passwd: 'abc', password: 'xabcx', login: 'abc-user', snmp_priv_passwd: '' })
  t.same(secrets, ['xabcx', 'abc'], 'longest first, empty values and non-secret keys left out')
  t.equal(redact('login abc-user pw xabcx or abc', secrets), `login ${REDACTED}-user pw ${REDACTED} or ${REDACTED}`)
  t.equal(maskTrailingPartial('....xab', ['xabcx']), `....${REDACTED}`)
  t.equal(maskLeadingPartial('bcx....', ['xabcx']), `${REDACTED}....`)
  t.equal(maskTrailingPartial('.....', ['xabcx']), '.....')
  const redactor = new LineRedactor(['SECRET'], 8)
  t.equal(redactor.line('12345SEC'), `12345${REDACTED}`, 'a full piece ending with the start of a secret')
  t.equal(redactor.line('RET ok'), `${REDACTED} ok`, 'and the next piece starting with its end')
  t.equal(redactor.line('RET'), 'RET', 'a short piece ended the line: nothing carried over')
})

t.test('fence_record: the exact stdin, a clean environment, no arguments, exit 0 is ok', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const record = join(dir, 'stdin')
  const envfile = join(dir, 'env')
  process.env.CARB_TEST_MUST_NOT_LEAK = 'leaked'
  t.teardown(() => { delete process.env.CARB_TEST_MUST_NOT_LEAK })
  const result = await fenceOff(call(FENCE_RECORD, { record, envfile, ipaddr: '127.0.0.1', login: 'admin', passwd: 'pw-7Qz' }), { port: 'plug-3', nodename: 'node-b' })
  t.equal(result.outcome, 'ok')
  t.equal(result.exitCode, 0)
  t.equal(readFileSync(record, 'utf8'),
    `record=${record}\nenvfile=${envfile}\nipaddr=127.0.0.1\nlogin=admin\npasswd=pw-7Qz\naction=off\nport=plug-3\nplug=plug-3\nnodename=node-b\n`,
    'every line the agent read, in order, the password included (the agent needs it)')
  const env = readFileSync(envfile, 'utf8').split('\n')
  t.ok(env.includes('argc=0'), 'no arguments: stdin alone')
  t.ok(env.includes('cwd=/'), 'runs in /')
  t.ok(env.includes(`PATH=${AGENT_PATH}`) && env.includes('LC_ALL=C'), 'the clean PATH and LC_ALL=C')
  t.notOk(env.some((l) => l.startsWith('CARB_TEST_MUST_NOT_LEAK=')), "the node's environment does not leak in")
  t.notOk(env.some((l) => l.includes('pw-7Qz')), 'the password is not in the environment')
  t.equal(result.detail, 'fence_record off port plug-3 (node node-b): exit 0')
  t.equal(result.output, 'fence_record: exit 0')
  t.ok(result.durationMs >= 0 && result.durationMs < 10_000)
})

t.test('fence_record: any other exit is failed, with the code and the last line in the detail', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  for (const code of [1, 2, 5]) {
    const result = await fenceOff(call(FENCE_RECORD, { record: join(dir, 'stdin'), exit_code: String(code) }), TARGET)
    t.equal(result.outcome, 'failed', `off exit ${code}`)
    t.equal(result.exitCode, code)
    t.equal(result.detail, `fence_record off port b: exit ${code}: fence_record: exit ${code}`)
  }
  const reboot = await fenceAction('reboot', call(FENCE_RECORD, { record: join(dir, 'stdin') }), TARGET)
  t.equal(reboot.outcome, 'ok')
  t.match(readFileSync(join(dir, 'stdin'), 'utf8'), /^action=reboot$/m)
})

t.test('status: exit 0 is on, 2 is off, 1 is unknown and failed', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const cases: [number, string, string, string][] = [[0, 'ok', 'on', ' (on)'], [2, 'ok', 'off', ' (off)'], [1, 'failed', 'unknown', ': fence_record: exit 1']]
  for (const [code, outcome, power, tail] of cases) {
    const result = await fenceStatus(call(FENCE_RECORD, { record: join(dir, 'stdin'), exit_code: String(code) }), TARGET)
    t.equal(result.outcome, outcome, `status exit ${code}`)
    t.equal(result.power, power)
    t.equal(result.detail, `fence_record status port b: exit ${code}${tail}`)
    t.match(readFileSync(join(dir, 'stdin'), 'utf8'), /^action=status$/m)
  }
  const monitor = await fenceAction('monitor', call(FENCE_RECORD, { record: join(dir, 'stdin') }), TARGET)
  t.equal(monitor.outcome, 'ok')
  t.match(readFileSync(join(dir, 'stdin'), 'utf8'), /^action=monitor$/m)
})

t.test('a password the agent echoes is masked in the lines, the output and the detail', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const lines: string[] = []
  const params = { record: join(dir, 'stdin'), echo: '1', exit_code: '1', passwd: 's3cr3t-Pw', snmp_priv_passwd: 'other-Secret' }
  const result = await fenceOff(call(FENCE_RECORD, params), TARGET, { onOutput: (l) => lines.push(l) })
  t.equal(result.outcome, 'failed')
  t.ok(lines.includes(`got passwd=${REDACTED}`) && lines.includes(`stderr got snmp_priv_passwd=${REDACTED}`), 'lines are masked')
  const all = [...lines, result.output, result.detail].join('\n')
  t.notMatch(all, /s3cr3t-Pw|other-Secret/, 'the secrets appear nowhere')
  t.match(result.output, `got passwd=${REDACTED}`)
})

t.test('a flood of output is bounded, its tail kept, secrets masked', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  // One 9000-character line with the password at the 4096-character cut, then a flood.
  const agent = await script(dir, 'fence_chatty', [
    'cat > /dev/null',
    `printf '%4090s' '' | tr ' ' x; printf 'Pa55word-9'; printf '%4900s\\n' '' | tr ' ' y`,
    `head -c 300000 /dev/zero | tr '\\0' a; echo`,
    'echo "last: password Pa55word-9 refused"',
    'exit 1',
  ].join('\n'))
  const lines: string[] = []
  const result = await fenceOff(call(agent, { password: 'Pa55word-9' }), TARGET, { onOutput: (l) => lines.push(l) })
  t.equal(result.outcome, 'failed')
  t.ok(Buffer.byteLength(result.output) <= AGENT_OUTPUT_MAX_BYTES, `output is ${Buffer.byteLength(result.output)} bytes`)
  t.match(result.output, /^\[\.\.\. \d+ bytes trimmed\]\n/)
  t.match(result.output, /last: password \*\*\* refused$/)
  t.equal(result.detail, 'fence_chatty off port b: exit 1: last: password *** refused')
  t.notMatch(lines.join('\n'), /Pa55word-9/, 'not in any log line, not even across the cut of a long line')
  const cut = lines.findIndex((l) => l.startsWith('xxxx'))
  t.ok(cut >= 0 && lines[cut]!.endsWith(`x${REDACTED}`) && lines[cut + 1]!.startsWith(`${REDACTED}yyyy`), 'the halves at the cut are masked')
  t.notOk(lines.some((l) => /Pa55w|rd-9/.test(l)), 'nor any part of it')
})

t.test('a parameter with a newline is refused and nothing runs', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const record = join(dir, 'stdin')
  await t.rejects(fenceOff(call(FENCE_RECORD, { record, ipaddr: '127.0.0.1\naction=on' }), TARGET), { code: 'CARB_ERR_AGENT_BAD_CALL' })
  await t.rejects(fenceOff(call(FENCE_RECORD, { record }), { port: 'b\naction=on', nodename: 'b' }), { code: 'CARB_ERR_AGENT_BAD_CALL' })
  await t.rejects(fenceOff(call('fence_record', { record }), TARGET), { code: 'CARB_ERR_AGENT_BAD_CALL', message: /absolute path/ })
  await t.rejects(fenceOff(call(FENCE_RECORD, { record }, 0), TARGET), { code: 'CARB_ERR_AGENT_BAD_CALL', message: /timeoutMs/ })
  t.notOk(existsSync(record), 'the agent never ran')
})

t.test('an agent that cannot run is misconfigured', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const missing = await fenceOff(call(join(dir, 'fence_nowhere'), {}), TARGET)
  t.equal(missing.outcome, 'misconfigured')
  t.equal(missing.exitCode, null)
  t.equal(missing.detail, `fence_nowhere off port b: ${join(dir, 'fence_nowhere')} does not exist`)
  const plain = join(dir, 'fence_plain')
  await writeFile(plain, '#!/bin/sh\nexit 0\n')
  await chmod(plain, 0o644)
  const notExecutable = await fenceOff(call(plain, {}), TARGET)
  t.equal(notExecutable.outcome, 'misconfigured')
  t.match(notExecutable.detail, /is not executable/)
  const badInterpreter = await script(dir, 'fence_badshebang', 'exit 0')
  await writeFile(badInterpreter, '#!/nonexistent/python9\nprint("hi")\n')
  const spawnFails = await fenceOff(call(badInterpreter, {}), TARGET)
  t.equal(spawnFails.outcome, 'misconfigured', 'spawn fails (ENOENT of the interpreter)')
  t.match(spawnFails.detail, /could not start .*ENOENT/)
  const directory = await fenceOff(call(dir, {}), TARGET)
  t.equal(directory.outcome, 'misconfigured')
})

t.test('fence_hang: a hung agent times out within the bound, its whole process group killed', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const pidfile = join(dir, 'hang.pid')
  const started = performance.now()
  const result = await fenceOff(call(FENCE_HANG, { pidfile }, 300), TARGET)
  const elapsedMs = performance.now() - started
  const pgid = readPid(pidfile)
  t.teardown(() => { try { process.kill(-pgid, 'SIGKILL') } catch { /* gone */ } })
  t.equal(result.outcome, 'timeout')
  t.equal(result.exitCode, null)
  t.ok(elapsedMs >= 300 && elapsedMs < 2000, `answered in ${Math.round(elapsedMs)} ms`)
  t.equal(result.detail, 'fence_hang off port b: timed out after 300 ms, process group killed: fence_hang: connecting to a switch that will never answer')
  t.notOk(await groupHasLiveMember(pgid), `process group ${pgid} is gone`)
})

t.test('fence_hang: one that ignores SIGTERM is killed with SIGKILL after the grace', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const pidfile = join(dir, 'hang.pid')
  const started = performance.now()
  const result = await fenceStatus(call(FENCE_HANG, { pidfile, ignore_term: '1' }, 300), TARGET)
  const elapsedMs = performance.now() - started
  const pgid = readPid(pidfile)
  t.teardown(() => { try { process.kill(-pgid, 'SIGKILL') } catch { /* gone */ } })
  t.equal(result.outcome, 'timeout')
  t.equal(result.power, 'unknown')
  t.ok(elapsedMs > 2000 && elapsedMs < 4500, `SIGKILL after the 2 s grace: ${Math.round(elapsedMs)} ms`)
  t.notOk(await groupHasLiveMember(pgid), `process group ${pgid} is gone`)
})

t.test('fence_kill: the stand-in power switch kills a real process', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const pid = await fakeNode(t, dir, 'b')
  const agent = call(FENCE_KILL, { piddir: dir })
  const before = await fenceStatus(agent, TARGET)
  t.equal(before.power, 'on')
  t.equal(before.outcome, 'ok')
  t.equal((await fenceAction('monitor', agent, TARGET)).outcome, 'ok')
  const off = await fenceOff(agent, TARGET)
  t.equal(off.outcome, 'ok', off.detail)
  t.equal(off.output, `Success: Powered OFF (b, pid ${pid})`)
  t.notOk(isAlive(pid), `sleep ${pid} is gone when off answers`)
  const after = await fenceStatus(agent, TARGET)
  t.equal(after.power, 'off')
  t.equal(after.outcome, 'ok')
  const again = await fenceOff(agent, TARGET)
  t.equal(again.outcome, 'ok', 'off of a target that is off is success')
  t.equal(again.output, 'Success: Already OFF')
  const on = await fenceAction('on', agent, TARGET)
  t.equal(on.outcome, 'failed')
  t.match(on.detail, /cannot be powered back on/)
})

t.test('fence_kill: reboot kills too; a missing pid file is not proof', async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const pid = await fakeNode(t, dir, 'c')
  const agent = call(FENCE_KILL, { piddir: dir })
  const reboot = await fenceAction('reboot', agent, { port: 'c', nodename: 'c' })
  t.equal(reboot.outcome, 'ok')
  t.notOk(isAlive(pid), 'reboot powered it off')
  const unknownOff = await fenceOff(agent, { port: 'nobody', nodename: 'nobody' })
  t.equal(unknownOff.outcome, 'failed')
  t.match(unknownOff.detail, /nobody\.pid is missing: cannot prove nobody is off/)
  const unknownStatus = await fenceStatus(agent, { port: 'nobody', nodename: 'nobody' })
  t.equal(unknownStatus.outcome, 'failed')
  t.equal(unknownStatus.power, 'unknown')
  const escape = await fenceOff(agent, { port: '..', nodename: 'b' })
  t.equal(escape.outcome, 'failed', 'a port cannot leave piddir')
})

const DEBIAN_AGENTS = '/usr/sbin'
const fenceAgentsMissing = existsSync(join(DEBIAN_AGENTS, 'fence_dummy')) ? false : 'the fence-agents package is not installed (apt-get install fence-agents)'

t.test('Debian fence_dummy (file type): off, status, monitor, reboot, unmodified', { skip: fenceAgentsMissing }, async (t) => {
  const dir = await tempDir(t, 'carbonado-fence-')
  const statusFile = join(dir, 'power')
  await writeFile(statusFile, 'on')
  const agent = call(join(DEBIAN_AGENTS, 'fence_dummy'), { type: 'file', status_file: statusFile })
  const before = await fenceStatus(agent, TARGET)
  t.equal(before.power, 'on', before.detail)
  t.equal(before.output.split('\n').at(-1), 'Status: ON')
  const off = await fenceOff(agent, TARGET)
  t.equal(off.outcome, 'ok', off.detail)
  t.match(off.output, /Success: Powered OFF/)
  t.equal(readFileSync(statusFile, 'utf8'), 'off', 'the agent acted on the status file')
  const after = await fenceStatus(agent, TARGET)
  t.equal(after.power, 'off')
  t.equal(after.exitCode, 2)
  t.equal(after.detail, 'fence_dummy status port b: exit 2 (off)')
  t.equal((await fenceAction('monitor', agent, TARGET)).outcome, 'ok')
  const reboot = await fenceAction('reboot', agent, TARGET)
  t.equal(reboot.outcome, 'ok', reboot.detail)
  t.equal(readFileSync(statusFile, 'utf8'), 'on', 'reboot is off then on')
})

t.test('Debian fence_dummy: a switch that never turns off fails; one that hangs times out', { skip: fenceAgentsMissing }, async (t) => {
  const fail = await fenceOff(call(join(DEBIAN_AGENTS, 'fence_dummy'), { type: 'fail', power_timeout: '1', power_wait: '0' }), TARGET)
  t.equal(fail.outcome, 'failed')
  t.equal(fail.exitCode, 1)
  t.match(fail.detail, /^fence_dummy off port b: exit 1: ERROR: Failed: Timed out waiting to power OFF$/)
  // random_sleep_range=30 sleeps 1 to 30 s before acting: always past a 300 ms timeout.
  const started = performance.now()
  const slow = await fenceOff(call(join(DEBIAN_AGENTS, 'fence_dummy'), { type: 'file', status_file: '/nonexistent/power', random_sleep_range: '30' }, 300), TARGET)
  t.equal(slow.outcome, 'timeout')
  t.ok(performance.now() - started < 2000, 'the Python agent died on the group SIGTERM')
})

t.test('Debian fence_redfish against a loopback port where nothing listens fails cleanly', { skip: fenceAgentsMissing }, async (t) => {
  const port = await closedLoopbackPort()
  const agent = call(join(DEBIAN_AGENTS, 'fence_redfish'), { ip: '127.0.0.1', ipport: String(port), username: 'admin', password: 'Redfish-Pw1', ssl_insecure: '1' }, 20_000)
  for (const action of ['status', 'monitor', 'off'] as const) {
    const result = await fenceAction(action, agent, TARGET)
    t.equal(result.outcome, 'failed', `${action}: ${result.detail}`)
    t.equal(result.exitCode, 1)
    t.match(result.detail, new RegExp(`^fence_redfish ${action} port b: exit 1: ERROR: Failed: send_get_request: `))
    t.match(result.output, /Connection refused/)
    t.notMatch(result.output + result.detail, /Redfish-Pw1/)
  }
  t.equal((await fenceStatus(agent, TARGET)).power, 'unknown')
})

t.test('Debian fence_docker echoes an unknown password option: it is masked', { skip: fenceAgentsMissing }, async (t) => {
  const lines: string[] = []
  const port = await closedLoopbackPort()
  const result = await fenceStatus(call(join(DEBIAN_AGENTS, 'fence_docker'), { ip: '127.0.0.1', ipport: String(port), password: 'Docker-Pw2' }), TARGET, { onOutput: (l) => lines.push(l) })
  t.equal(result.outcome, 'failed')
  t.ok(lines.some((l) => l.includes(`Ignoring unknown option 'password=${REDACTED}'`)), 'fencing.py echoed the line, masked')
  t.notMatch([...lines, result.output, result.detail].join('\n'), /Docker-Pw2/)
})
