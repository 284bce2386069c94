/**
 * What every agent run guarantees, shown with real shell scripts: a hung agent is killed
 * with its whole process group and never hangs the caller; output is bounded with its tail
 * kept; the environment is clean; arguments are never a shell string.
 */
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { runAgent } from '../../src/agents/run.js'
import { AGENT_OUTPUT_MAX_BYTES, AGENT_PATH, type ResourceSpec } from '../../src/agents/types.js'
import { OPTIONS, isAlive, killIfAlive, readPid, script, tempDir } from './fixtures/system.js'

const scriptSpec = (path: string, args?: string[]): ResourceSpec => ({ type: 'script', name: 'svc', path, ...(args === undefined ? {} : { args }) })

t.test('a hung agent times out within the bound, and its child processes are gone', async (t) => {
  const dir = await tempDir(t)
  const path = await script(dir, 'hang', `sleep 60 &\necho $! > ${dir}/child.pid\necho $$ > ${dir}/self.pid\necho about to hang\nwait`)
  const started = performance.now()
  const result = await runAgent(scriptSpec(path), 'start', { timeoutMs: 300 })
  const elapsedMs = performance.now() - started
  const [child, self] = [readPid(join(dir, 'child.pid')), readPid(join(dir, 'self.pid'))]
  t.teardown(() => { killIfAlive(child); killIfAlive(self) })
  t.equal(result.outcome, 'timeout')
  t.ok(elapsedMs < 2000, `answered in ${Math.round(elapsedMs)} ms`)
  t.ok(result.durationMs >= 300 && result.durationMs < 2000, `durationMs ${result.durationMs}`)
  t.match(result.detail, /^svc start: start: timed out after 300 ms, process group killed$/)
  t.equal(result.signal, 'SIGTERM', 'the script died of the group SIGTERM')
  t.match(result.output, /about to hang/, 'output before the timeout is kept')
  t.notOk(isAlive(child), `child sleep ${child} is gone`)
  t.notOk(isAlive(self), `script ${self} is gone`)
})

t.test('an agent that ignores SIGTERM is killed with SIGKILL after the grace', async (t) => {
  const dir = await tempDir(t)
  const path = await script(dir, 'stubborn', `trap '' TERM\nsleep 60 &\necho $! > ${dir}/child.pid\nwait\nwait`)
  const started = performance.now()
  const result = await runAgent(scriptSpec(path), 'monitor', { timeoutMs: 300 })
  const elapsedMs = performance.now() - started
  const child = readPid(join(dir, 'child.pid'))
  t.teardown(() => killIfAlive(child))
  t.equal(result.outcome, 'timeout')
  t.equal(result.signal, 'SIGKILL')
  t.ok(elapsedMs > 2000 && elapsedMs < 4500, `SIGKILL came after the 2 s grace: ${Math.round(elapsedMs)} ms`)
  t.notOk(isAlive(child), 'the child that ignored SIGTERM too is gone')
})

t.test('a helper the agent leaves running does not hold the caller, and is left alone', async (t) => {
  const dir = await tempDir(t)
  // The background sleep keeps the agent's stdout open, as IPaddr2's send_arp does.
  const path = await script(dir, 'daemonish', `sleep 30 &\necho $! > ${dir}/daemon.pid\necho started\nexit 0`)
  const started = performance.now()
  const result = await runAgent(scriptSpec(path), 'start', OPTIONS)
  const daemon = readPid(join(dir, 'daemon.pid'))
  t.teardown(() => killIfAlive(daemon))
  t.equal(result.outcome, 'ok')
  t.ok(performance.now() - started < 2000, 'answered at the exit, not when the pipe closed')
  t.equal(result.output, 'started')
  t.ok(isAlive(daemon), 'a process the agent started on purpose is not killed after a normal exit')
})

t.test('a flood of output keeps memory bounded and the journal gets the tail', async (t) => {
  const dir = await tempDir(t)
  const path = await script(dir, 'chatty', `head -c 300000 /dev/zero | tr '\\0' 'a'\necho\ni=0\nwhile [ $i -lt 50 ]; do echo "tail line $i"; i=$((i+1)); done\necho LAST-LINE\nexit 1`)
  const lines: string[] = []
  const result = await runAgent(scriptSpec(path), 'start', { ...OPTIONS, onOutput: (l) => lines.push(l) })
  t.equal(result.outcome, 'failed')
  t.equal(result.exitCode, 1)
  t.ok(Buffer.byteLength(result.output) <= AGENT_OUTPUT_MAX_BYTES, `output is ${Buffer.byteLength(result.output)} bytes`)
  t.match(result.output, /^\[\.\.\. \d+ bytes trimmed\]\n/, 'says that it was trimmed')
  t.match(result.output, /tail line 49\nLAST-LINE$/, 'the tail is kept')
  t.ok(lines.every((l) => l.length <= 4096), 'log lines are bounded too')
  t.ok(lines.includes('LAST-LINE') && lines.includes('tail line 0'), 'every line reached onOutput')
})

t.test('output lines reach onOutput from both streams; a throwing callback changes nothing', async (t) => {
  const dir = await tempDir(t)
  const path = await script(dir, 'talk', 'echo one\necho two >&2\nprintf three')
  const lines: string[] = []
  const result = await runAgent(scriptSpec(path), 'start', { ...OPTIONS, onOutput: (l) => lines.push(l) })
  t.same(lines.sort(), ['one', 'three', 'two'])
  t.equal(result.outcome, 'ok')
  const again = await runAgent(scriptSpec(path), 'start', { ...OPTIONS, onOutput: () => { throw new Error('log broke') } })
  t.equal(again.outcome, 'ok')
})

t.test('agents run with a clean, explicit environment', async (t) => {
  const dir = await tempDir(t)
  // The script prints only the variables under test. Printing the whole `env` made the output
  // depend on the test runner: tap's process-info hook adds its own variables (one holds the
  // list of every test file) to every child it spawns, the output passed the agent output
  // limit, and the trimmed head lost PATH on CI's longer paths.
  const path = await script(dir, 'env', [
    'echo "PATH=${PATH-unset}"', 'echo "LC_ALL=${LC_ALL-unset}"', 'echo "EXTRA=${EXTRA-unset}"',
    'echo "HOME=${HOME-unset}"', 'echo "LEAK=${CARB_TEST_LEAK-unset}"',
  ].join('\n'))
  process.env.CARB_TEST_LEAK = 'leaked'
  t.teardown(() => { delete process.env.CARB_TEST_LEAK })
  const result = await runAgent(scriptSpec(path), 'start', { ...OPTIONS, env: { EXTRA: 'given' } })
  const env = Object.fromEntries(result.output.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  const seen = `outcome ${result.outcome}, exit ${result.exitCode}, output ${JSON.stringify(result.output)}`
  t.equal(result.outcome, 'ok', seen)
  t.equal(env.PATH, AGENT_PATH, `PATH: ${seen}`)
  t.equal(env.LC_ALL, 'C', `LC_ALL: ${seen}`)
  t.equal(env.EXTRA, 'given', `EXTRA: ${seen}`)
  t.equal(env.LEAK, 'unset', 'nothing of the node environment leaks in')
  t.equal(env.HOME, 'unset', 'HOME is not passed on')
})

t.test('arguments are an argv, never a shell string: no injection through them', async (t) => {
  const dir = await tempDir(t)
  const pwned = join(dir, 'pwned')
  const path = await script(dir, 'echo-args', 'for a in "$@"; do echo "arg=$a"; done')
  const nasty = [`; touch ${pwned}`, `$(touch ${pwned})`, `\`touch ${pwned}\``, '--help']
  const result = await runAgent(scriptSpec(path, nasty), 'start', OPTIONS)
  t.equal(result.outcome, 'ok')
  t.notOk(existsSync(pwned), 'no command ran')
  t.same(result.output.split('\n'), [...nasty, 'start'].map((a) => `arg=${a}`), 'each argument arrived verbatim, the action last')
})

t.test('programmer errors throw; agent failures do not', async (t) => {
  const spec = { type: 'script', name: 'svc', path: '/bin/true' } as const
  await t.rejects(runAgent(spec, 'start', { timeoutMs: 0 }), { code: 'CARB_ERR_AGENT_BAD_CALL', message: /timeoutMs/ })
  await t.rejects(runAgent(spec, 'restart' as never, OPTIONS), { code: 'CARB_ERR_AGENT_BAD_CALL', message: /restart/ })
  await t.rejects(runAgent({ ...spec, path: 'relative/x' }, 'start', OPTIONS), { code: 'CARB_ERR_AGENT_BAD_CALL', message: /path/ })
  await t.rejects(runAgent(spec, 'start', { ...OPTIONS, netns: 'a b' }), { code: 'CARB_ERR_AGENT_BAD_CALL', message: /netns/ })
  const withTimings: ResourceSpec = Object.assign({ ...spec }, { startTimeoutMs: 5000, monitorIntervalMs: 1000 })
  t.equal((await runAgent(withTimings, 'start', OPTIONS)).outcome, 'ok', "a service's timing fields next to the spec are ignored")
  t.equal((await runAgent(scriptSpec('/bin/false'), 'start', OPTIONS)).outcome, 'failed')
})

t.test('an aborted call (the node went out) kills the agent and its children at once', async (t) => {
  const dir = await tempDir(t)
  const path = await script(dir, 'slow-start', `sleep 60 &\necho $! > ${dir}/child.pid\necho $$ > ${dir}/self.pid\nwait`)
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 300)
  const started = performance.now()
  const result = await runAgent(scriptSpec(path), 'start', { timeoutMs: 60_000, signal: controller.signal })
  const [child, self] = [readPid(join(dir, 'child.pid')), readPid(join(dir, 'self.pid'))]
  t.teardown(() => { killIfAlive(child); killIfAlive(self) })
  t.equal(result.outcome, 'timeout', 'cut short like a timeout')
  t.ok(performance.now() - started < 5000, `answered in ${Math.round(performance.now() - started)} ms, not after the 60 s timeout`)
  t.notOk(isAlive(child), `child sleep ${child} is gone`)
  t.notOk(isAlive(self), `script ${self} is gone`)
  const never = await runAgent(scriptSpec(path), 'start', { timeoutMs: 60_000, signal: AbortSignal.abort() })
  t.equal(never.outcome, 'timeout', 'an already aborted call does not start the agent')
})
