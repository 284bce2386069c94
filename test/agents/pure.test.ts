/** The pure helpers of the agents, table by table: output bounds, exit codes, parsers. */
import t from 'tap'
import { OutputCapture, tailOutput } from '../../src/agents/output-capture.js'
import { ocfAction, ocfOutcome } from '../../src/agents/ocf-codes.js'
import { exitReason, ocfEnvironment } from '../../src/agents/ocf-agent.js'
import { majorMinorOf, parseMountinfo, topMountAt, unescapeMountField } from '../../src/agents/mountinfo.js'
import { canonicalIp, findAddress, isMissingDevice, parseIpAddrJson } from '../../src/agents/ip-addresses.js'
import { parseProcStat } from '../../src/agents/process-group.js'
import { unitStateOutcome } from '../../src/agents/systemd-agent.js'
import type { AgentOp, AgentOutcome } from '../../src/agents/types.js'

t.test('tailOutput keeps the tail within the bound, on a UTF-8 boundary, and says what it cut', async (t) => {
  t.equal(tailOutput(Buffer.from('short\n\n  '), 0, 100), 'short', 'trailing blank space goes')
  const long = Buffer.from(`${'x'.repeat(500)}END`)
  const out = tailOutput(long, 0, 100)
  t.ok(Buffer.byteLength(out) <= 100)
  t.match(out, /^\[\.\.\. \d+ bytes trimmed\]\nx+END$/)
  const cut = Number(/\[\.\.\. (\d+) bytes/.exec(out)![1])
  t.equal(cut + Buffer.byteLength(out.slice(out.indexOf('\n') + 1)), 503, 'cut + kept = everything')
  t.match(tailOutput(Buffer.from('tail'), 1000, 100), /^\[\.\.\. 1000 bytes trimmed\]\ntail$/, 'bytes dropped earlier are counted')
  const accents = tailOutput(Buffer.from('é'.repeat(200)), 0, 101)
  t.notMatch(accents, /\uFFFD/, 'no broken character at the cut')
  t.ok(Buffer.byteLength(accents) <= 101)
})

t.test('OutputCapture bounds memory, keeps arrival order, splits lines per stream', async (t) => {
  const lines: string[] = []
  const capture = new OutputCapture((l) => lines.push(l), 10)
  capture.push('stdout', Buffer.from('abc\nde'))
  capture.push('stderr', Buffer.from('ERR\n'))
  capture.push('stdout', Buffer.from('f\r\nghijkl'))
  capture.flush()
  t.same(lines, ['abc', 'ERR', 'def', 'ghijkl'], 'a line split across chunks is one line; CR dropped; last line flushed')
  t.equal(capture.kept().toString(), '\nf\r\nghijkl', 'only the last 10 of 19 bytes are held, across streams in arrival order')
  t.equal(capture.droppedBytes, 9)
  const mark = capture.mark()
  capture.push('stdout', Buffer.from('new'))
  t.equal(capture.since(mark), 'new')
  const stdoutOnly = new OutputCapture(undefined, 100, ['stdout'])
  stdoutOnly.push('stderr', Buffer.from('noise'))
  stdoutOnly.push('stdout', Buffer.from('<xml/>'))
  t.equal(stdoutOnly.kept().toString(), '<xml/>')
  const split = new OutputCapture((l) => lines.push(l))
  lines.length = 0
  split.push('stdout', Buffer.from('y'.repeat(10_000)))
  split.flush()
  t.same(lines.map((l) => l.length), [4096, 4096, 1808], 'a runaway line reaches the log in bounded pieces')
  const halves = Buffer.from('é\n')
  lines.length = 0
  split.push('stdout', halves.subarray(0, 1))
  split.push('stdout', halves.subarray(1))
  t.same(lines, ['é'], 'a character split across chunks is decoded whole')
})

t.test('OCF exit codes per operation', async (t) => {
  const table: [AgentOp, number, AgentOutcome, RegExp][] = [
    ['start', 0, 'ok', /OCF_SUCCESS/],
    ['monitor', 0, 'ok', /OCF_SUCCESS/],
    ['monitor', 7, 'not-running', /OCF_NOT_RUNNING/],
    ['stop', 7, 'ok', /already stopped/],
    ['start', 7, 'failed', /OCF_NOT_RUNNING/],
    ['start', 1, 'failed', /OCF_ERR_GENERIC/],
    ['stop', 1, 'failed', /OCF_ERR_GENERIC/],
    ['start', 2, 'misconfigured', /OCF_ERR_ARGS/],
    ['monitor', 3, 'failed', /OCF_ERR_UNIMPLEMENTED/],
    ['start', 4, 'failed', /OCF_ERR_PERM/],
    ['validate', 5, 'misconfigured', /OCF_ERR_INSTALLED/],
    ['validate', 6, 'misconfigured', /OCF_ERR_CONFIGURED/],
    ['monitor', 8, 'failed', /OCF_RUNNING_PROMOTED.*promotable resources are not supported/],
    ['monitor', 9, 'failed', /OCF_FAILED_PROMOTED.*promotable/],
    ['monitor', 190, 'ok', /OCF_DEGRADED.*degraded/],
    ['monitor', 191, 'failed', /promotable/],
    ['start', 42, 'failed', /exit 42 \(not an OCF exit code\)/],
  ]
  for (const [op, code, outcome, note] of table) {
    const verdict = ocfOutcome(op, code)
    t.equal(verdict.outcome, outcome, `${op} exit ${code} → ${outcome}`)
    t.match(verdict.note, note)
  }
  t.equal(ocfAction('validate'), 'validate-all')
  t.equal(ocfAction('monitor'), 'monitor')
})

t.test('OCF environment and exit reason', async (t) => {
  const env = ocfEnvironment({ type: 'ocf', name: 'vip', provider: 'heartbeat', agent: 'IPaddr2', params: { ip: '10.0.0.1', nic: 'eth0' } }, 20_000)
  t.match(env, {
    OCF_ROOT: '/usr/lib/ocf', OCF_FUNCTIONS_DIR: '/usr/lib/ocf/lib/heartbeat', OCF_RESOURCE_INSTANCE: 'vip', OCF_RESOURCE_TYPE: 'IPaddr2',
    OCF_RESOURCE_PROVIDER: 'heartbeat', OCF_RESKEY_ip: '10.0.0.1', OCF_RESKEY_nic: 'eth0', OCF_RESKEY_CRM_meta_timeout: '20000',
  })
  t.equal(exitReason('INFO: x\nocf-exit-reason:first\nocf-exit-reason: [findif] failed\nmore'), '[findif] failed', 'the last reason given')
  t.equal(exitReason('nothing'), null)
})

t.test('mountinfo: fields, escapes, the mount on top, device numbers', async (t) => {
  const text = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '36 22 7:3 / /mnt/my\\040data rw,noatime master:1 - ext4 /dev/loop3 rw',
    '37 22 0:45 / /mnt/my\\040data rw shared:9 - tmpfs tmpfs rw',
    '38 22 7:3 /sub /srv/bind rw - ext4 /dev/loop3 rw',
    'garbage line',
  ].join('\n')
  const entries = parseMountinfo(text)
  t.equal(entries.length, 4)
  t.match(entries[1], { majorMinor: '7:3', root: '/', mountPoint: '/mnt/my data', fsType: 'ext4', source: '/dev/loop3' })
  t.match(entries[3], { root: '/sub', mountPoint: '/srv/bind' })
  t.equal(topMountAt(entries, '/mnt/my data')?.fsType, 'tmpfs', 'a later mount on the same point hides the earlier one')
  t.equal(topMountAt(entries, '/nowhere'), undefined)
  t.equal(unescapeMountField('a\\011b\\134c'), 'a\tb\\c')
  t.equal(majorMinorOf(0x703n), '7:3')
  t.equal(majorMinorOf((259n << 8n) | 5n), '259:5')
  t.equal(majorMinorOf(((0x1234n & ~0xfffn) << 32n) | ((0x1234n & 0xfffn) << 8n) | ((0x56789n & ~0xffn) << 12n) | (0x56789n & 0xffn)), '4660:354185', 'large major and minor (glibc encoding)')
})

t.test('iproute2 JSON addresses and canonical IPs', async (t) => {
  const json = JSON.stringify([{ ifname: 'd0', addr_info: [
    { family: 'inet', local: '10.77.0.10', prefixlen: 24 },
    { family: 'inet6', local: 'fd77::10', prefixlen: 64 },
    { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
  ] }])
  const list = parseIpAddrJson(`${json}\n`)
  t.same(list, [{ address: '10.77.0.10', prefix: 24 }, { address: 'fd77::10', prefix: 64 }, { address: 'fe80::1', prefix: 64 }])
  t.same(findAddress(list!, 'FD77:0:0::0010'), { address: 'fd77::10', prefix: 64 }, 'IPv6 compared in canonical form')
  t.equal(findAddress(list!, '10.77.0.11'), undefined)
  t.same(parseIpAddrJson('[]'), [])
  t.equal(parseIpAddrJson('Device "d9" does not exist.'), null)
  t.equal(parseIpAddrJson('[{"broken'), null)
  t.equal(canonicalIp('10.1.2.3'), '10.1.2.3')
  t.ok(isMissingDevice('Device "d9" does not exist.'))
})

t.test('/proc/PID/stat, including a command name with spaces and parentheses', async (t) => {
  t.same(parseProcStat('4184 (sleep) Z 1 4183 4183 0 -1'), { pid: 4184, state: 'Z', pgrp: 4183 })
  t.same(parseProcStat('77 (my (odd) name) S 1 70 70 0'), { pid: 77, state: 'S', pgrp: 70 })
  t.equal(parseProcStat(''), null)
})

t.test('systemd unit states', async (t) => {
  const table: [string | null, number | null, AgentOutcome][] = [
    ['active', 0, 'ok'], ['reloading', 0, 'ok'], ['inactive', 3, 'not-running'], ['failed', 3, 'failed'],
    ['activating', 3, 'failed'], [null, 0, 'ok'], [null, 3, 'not-running'], [null, 1, 'failed'],
  ]
  for (const [state, code, outcome] of table) t.equal(unitStateOutcome(state, code), outcome, `${state} / exit ${code}`)
})
