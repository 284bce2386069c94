/**
 * Services on a real-process TestCluster: the witness script (test/integration/fixtures/
 * witness-service.sh) installed in the cluster's directory, the witness file read back as
 * runs, the administrator's CLI aimed at one node, and the checks every service test ends
 * with (never two owners, every journal replays). "Killing a machine" is SIGKILL of its node
 * process and of its service worker (a dead machine runs nothing).
 */
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, runCli, type TestCluster } from './cluster.js'
import { describeRuns, overlaps, readRuns, type Run } from './witness.js'

export const UP_WITHIN_MS = 15_000

export async function allUp(c: TestCluster): Promise<void> {
  for (const observer of c.names) for (const peer of c.names) if (peer !== observer) await c.waitPeer(observer, peer, 'up', UP_WITHIN_MS)
}

/** The witness script, with the cluster's directory as its witness directory; returns its path. */
export async function installScript(c: TestCluster): Promise<string> {
  const text = await readFile(join(import.meta.dirname, '../integration/fixtures/witness-service.sh'), 'utf8')
  const path = join(c.dir, 'witness-service.sh')
  await writeFile(path, text.replace('WITNESS_DIR', c.dir))
  await chmod(path, 0o755)
  return path
}

/** A `--resource` value for the witness script, monitored every 300 ms. */
export function scriptResource(script: string): string {
  return `{type: script, name: app, path: ${script}, monitorIntervalMs: 300, startTimeoutMs: 5000, stopTimeoutMs: 5000, monitorTimeoutMs: 2000}`
}

export const witnessFile = (c: TestCluster): string => join(c.dir, 'witness.log')
export const runsOf = (c: TestCluster): Run[] => readRuns(witnessFile(c))

/** How many "<node> start" records the witness holds (the script writes one per real start). */
export function startsOf(c: TestCluster, node: string): number {
  if (!existsSync(witnessFile(c))) return 0
  return readFileSync(witnessFile(c), 'utf8').split('\n').filter((line) => line.startsWith(`${node} start `)).length
}

function recentLogs(c: TestCluster): string {
  return [...c.nodes.values()].map((p) => `--- ${p.name}\n${p.raw.filter((l) => !l.includes('"machine":"peer')).slice(-25).join('\n')}`).join('\n')
}

/** Wait until the witness shows `count` runs started on `node`; returns when (Date.now()). */
export async function waitRuns(c: TestCluster, node: string, count: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const started = runsOf(c).filter((r) => r.node === node).length
    if (started >= count) return Date.now()
    if (Date.now() > deadline) throw new Error(`${node} did not start the service (${count} runs) within ${timeoutMs} ms: ${describeRuns(runsOf(c))}\n${recentLogs(c)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Poll `check` until it returns true; throws with `what` and the nodes' recent logs after timeoutMs. */
export async function waitUntil(c: TestCluster, what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}; witness: ${describeRuns(runsOf(c))}\n${recentLogs(c)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export function workerPid(c: TestCluster, node: string): number | null {
  const file = join(c.dir, 'pids', `${node}.service`)
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : null
}

/** Service workers outlive their node process (they are the service): kill them with the cluster. */
export function destroyWithWorkers(c: TestCluster): () => Promise<void> {
  return async () => {
    for (const node of c.names) {
      const pid = workerPid(c, node)
      if (pid !== null) try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
    }
    await c.destroy()
  }
}

/** The machine dies: its node process and everything it ran. */
export function killMachine(c: TestCluster, node: string): void {
  c.node(node).child.kill('SIGKILL')
  const pid = workerPid(c, node)
  if (pid !== null) try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
}

/** The real CLI, aimed at `node`'s control socket. */
export function cli(c: TestCluster, node: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  return runCli([...args, '-c', c.file, '--node', node])
}

/** The same, without blocking this process: for commands that may run side by side. */
export function cliAsync(c: TestCluster, node: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args, '-c', c.file, '--node', node], { encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

/** Never two owners at any instant; returns the runs it checked. */
export function checkWitness(t: Test, c: TestCluster): Run[] {
  const runs = runsOf(c)
  t.same(overlaps(runs).map((o) => `${o.a.node}/${o.b.node}`), [], `never two owners: ${describeRuns(runs)}`)
  return runs
}

export function replays(t: Test, c: TestCluster): void {
  for (const name of c.names) {
    const r = runCli(['replay', '--journal', join(c.dir, 'journal', name)])
    t.equal(r.code, 0, `journal of ${name} replays: ${r.stdout.trim()} ${r.stderr.trim()}`)
  }
}

export async function stopAll(t: Test, c: TestCluster): Promise<void> {
  for (const name of c.names) {
    const p = c.nodes.get(name)
    if (p !== undefined && p.child.exitCode === null && p.child.signalCode === null) t.equal(await c.stop(name), 0, `${name} stops cleanly`)
  }
}
