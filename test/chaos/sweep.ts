/**
 * Leftovers of a chaos lab whose process died without cleaning up (SIGKILL, a crash of the
 * machine running it): namespaces, loop devices and temp dirs are named after the lab
 * process's pid (`carb-chaos-<pid>-...`, network.ts LAB_PREFIX), so those of a pid that no
 * longer runs are removed before a new lab starts. Nothing of a live process is touched, nor a
 * directory kept with --keep (it holds lab.ts KEPT_MARK).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pidsIn } from '../helpers/hosts.js'
import { KEPT_MARK } from './lab.js'
import { LAB_PREFIX } from './network.js'

const OWNER = new RegExp(`${LAB_PREFIX}-(\\d+)-`)

function ownerGone(name: string): boolean {
  const m = OWNER.exec(name)
  if (m === null) return false
  const pid = Number(m[1])
  if (pid === process.pid) return false
  try { process.kill(pid, 0); return false } catch (error) { return (error as NodeJS.ErrnoException).code === 'ESRCH' }
}

function quietly(what: string, fn: () => void, swept: string[]): void {
  try { fn(); swept.push(what) } catch (error) { swept.push(`${what} (failed: ${(error as Error).message.split('\n')[0]})`) }
}

/** Removes what dead labs left; returns one entry per thing removed. */
export function sweepStaleLabs(): string[] {
  const swept: string[] = []
  let namespaces: { name: string }[] = []
  try { namespaces = JSON.parse(execFileSync('ip', ['-j', 'netns', 'list'], { encoding: 'utf8' }) || '[]') as { name: string }[] } catch { /* no ip netns */ }
  for (const { name } of namespaces.filter((n) => n.name.startsWith(`${LAB_PREFIX}-`) && ownerGone(n.name))) {
    quietly(`namespace ${name}`, () => {
      for (const pid of pidsIn(name)) { try { process.kill(pid, 'SIGKILL') } catch { /* gone */ } }
      execFileSync('ip', ['netns', 'del', name], { stdio: 'pipe' })
    }, swept)
  }
  let loops: { name: string; 'back-file'?: string }[] = []
  try { loops = (JSON.parse(execFileSync('losetup', ['-J', '-l'], { encoding: 'utf8' }) || '{"loopdevices":[]}') as { loopdevices: typeof loops }).loopdevices } catch { /* no loop devices */ }
  for (const loop of loops.filter((l) => (l['back-file'] ?? '').includes(`/${LAB_PREFIX}-`) && ownerGone(l['back-file']!))) {
    quietly(`loop device ${loop.name} (${loop['back-file']})`, () => {
      try { execFileSync('blockdev', ['--setrw', loop.name], { stdio: 'pipe' }) } catch { /* not read-only */ }
      execFileSync('losetup', ['-d', loop.name], { stdio: 'pipe' })
    }, swept)
  }
  for (const entry of readdirSync(tmpdir()).filter((e) => e.startsWith(`${LAB_PREFIX}-`) && ownerGone(e) && !existsSync(join(tmpdir(), e, KEPT_MARK)))) {
    quietly(`temp dir ${join(tmpdir(), entry)}`, () => rmSync(join(tmpdir(), entry), { recursive: true, force: true }), swept)
  }
  return swept
}
