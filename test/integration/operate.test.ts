/**
 * What an administrator does with a running cluster: status (once, --json, --interval),
 * disk print, journal export through the control socket, replay of the exported file,
 * and replay refusing an export whose decisions were altered.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'
import { CLI, TestCluster, runCli } from '../helpers/cluster.js'
import { readExportFile, writeExportFile } from '../../journal/export-file.js'
import { findNode, loadConfig } from '../../src/config/load.js'
import type { StatusView } from '../../src/runtime/status-view.js'

t.test('status, disk print, export and replay against a running 3-node cluster', async (t) => {
  const c = await TestCluster.create(['a', 'b', 'c'])
  t.teardown(() => c.destroy())
  c.startAll()
  for (const peer of ['b', 'c']) await c.waitPeer('a', peer, 'up', 15_000)

  const json = runCli(['status', '-c', c.file, '--node', 'a', '--json'])
  t.equal(json.code, 0, json.stderr)
  const view = JSON.parse(json.stdout) as StatusView
  t.equal(view.node, 'a')
  t.same(view.members.map((m) => [m.name, m.state, m.incarnation]), [['a', 'member', 1], ['b', 'up', 1], ['c', 'up', 1]])
  for (const m of view.members.filter((x) => !x.self)) {
    t.equal(m.heartbeatAgoMs.length, 2, `${m.name}: one heartbeat age per channel`)
    t.ok(m.heartbeatAgoMs.every((h) => h !== null && h < 1000), `${m.name}: heartbeats are fresh on both channels (${m.heartbeatAgoMs.join(', ')})`)
    t.ok(m.lastDiskWriteAgoMs !== null && m.lastDiskWriteAgoMs < 1000, `${m.name}: disk write is fresh (${m.lastDiskWriteAgoMs})`)
  }

  const text = runCli(['status', '-c', c.file, '--node', 'b'])
  t.equal(text.code, 0, text.stderr)
  t.match(text.stdout, /^Cluster test, seen from b \(incarnation 1\)/)
  t.match(text.stdout, /\n1\s+a\s+up\s+1\s/)
  t.match(text.stdout, /b \(this node\)\s+member/)

  // --interval repeats until interrupted (clustat -i 2).
  const watcher = spawn(process.execPath, [CLI, 'status', '-c', c.file, '--node', 'c', '--interval', '0.3'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let watched = ''
  watcher.stdout.on('data', (d: Buffer) => { watched += d.toString() })
  const tables = (): number => (watched.match(/^Cluster test, seen from c/gm) ?? []).length
  for (const until = Date.now() + 10_000; tables() < 3 && Date.now() < until;) await new Promise((r) => setTimeout(r, 100))
  watcher.kill('SIGTERM')
  await new Promise((r) => watcher.once('exit', r))
  t.ok(tables() >= 3, `status --interval printed a table repeatedly (${tables()})`)

  const print = runCli(['disk', 'print', '-c', c.file, '--json'])
  t.equal(print.code, 0, print.stderr)
  const disk = JSON.parse(print.stdout) as { header: { clusterName: string }; nodes: { nodeId: number; ok: boolean; name?: string; incarnation?: number }[] }
  t.equal(disk.header.clusterName, 'test')
  const written = disk.nodes.filter((n) => n.ok)
  t.same(written.map((n) => [n.nodeId, n.name, n.incarnation]), [[1, 'a', 1], [2, 'b', 1], [3, 'c', 1]], 'disk print shows a status block for every running node')
  t.ok(disk.nodes.filter((n) => !n.ok).length === 13, 'the 13 unused node slots are reported as never written, not as valid')

  // Forged and junk packets at a's heartbeat port: dropped, counted, logged once, no decision.
  const config = await loadConfig(c.file)
  const { host, port } = findNode(config, 'a').heartbeat[0]!
  const marks = c.decisions('a').length
  const sender = createSocket('udp4')
  const forged = Buffer.alloc(86)
  forged.write('CBHB', 0, 'latin1')
  forged[4] = 1
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => sender.send(randomBytes(40), Number(port), host, r))
    await new Promise((r) => sender.send(forged, Number(port), host, r))
  }
  sender.close()
  await c.waitFor('a', (l) => /dropped heartbeat from 127\.0\.0\.1:\d+: unauthenticated/.test(l.message), 5000)
  await new Promise((r) => setTimeout(r, 500))
  const warnings = c.node('a').lines.filter((l) => l.message.startsWith('dropped heartbeat'))
  t.same(warnings.map((l) => l.message.replace(/:\d+:/, ':PORT:')).sort(), ['dropped heartbeat from 127.0.0.1:PORT: malformed', 'dropped heartbeat from 127.0.0.1:PORT: unauthenticated'], 'one log line per source and reason, not one per packet')
  const after = JSON.parse(runCli(['status', '-c', c.file, '--node', 'a', '--json']).stdout) as StatusView
  const dropped = (after.counters.heartbeats as { dropped: Record<string, number> }).dropped
  t.ok(dropped.malformed! >= 100 && dropped.unauthenticated! >= 100, `every bad packet is counted (${JSON.stringify(dropped)})`)
  t.same(after.members.map((m) => m.state), ['member', 'up', 'up'], 'membership unchanged')
  t.equal(c.decisions('a').length, marks, 'no decision was taken on bad packets')

  const out = join(c.dir, 'a.export')
  const exported = runCli(['journal', 'export', '-c', c.file, '--node', 'a', '--out', out])
  t.equal(exported.code, 0, exported.stderr)
  t.match(exported.stdout, /^exported \d+ records of node a to /)
  const replayed = runCli(['replay', '--journal', out])
  t.equal(replayed.code, 0, replayed.stdout + replayed.stderr)
  t.match(replayed.stdout, /^replay ok: \d+ records, \d+ inputs, [1-9]\d* transitions reproduced exactly/)

  // An export whose recorded decision was changed must not replay.
  const { header, records } = await readExportFile(out)
  const upIndex = records.findIndex((r) => r.record.t === 'transition' && r.record.to === 'up')
  t.ok(upIndex >= 0, 'the export holds an "up" decision')
  const altered = records.map((r, i) => (i === upIndex ? { ...r, record: { ...r.record, to: 'suspect' } } : r))
  const bad = join(c.dir, 'altered.export')
  await writeExportFile(bad, header, altered as typeof records)
  const diverged = runCli(['replay', '--journal', bad])
  t.equal(diverged.code, 1, 'replay of the altered export exits 1')
  t.match(diverged.stdout, /replay DIVERGED/)
  const machine = (records[upIndex]!.record as { m: string }).m
  const cause = records.slice(0, upIndex).reverse().find((r) => r.record.t === 'input' && r.record.m === machine)!
  t.match(diverged.stdout, `first difference at seq ${cause.seq}, machine ${machine}`, 'names the input that led to the altered decision')
  t.match(diverged.stdout, /suspect/)
})
