/**
 * The `cluster` group: operators in it may read the configuration and the journal (and, once
 * the daemon sets the socket's group, use the control socket). Looked up in ROOT/etc/group
 * itself, not through NSS, so that `--root DIR` sees the target's groups, not this host's;
 * created with groupadd (its `--prefix DIR` writes DIR/etc/group).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { stepError } from './fs-steps.js'
import type { StepReport } from './report.js'

const run = promisify(execFile)

/** A name groupadd accepts everywhere (shadow's default NAME_REGEX, lower case). */
export const GROUP_NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/

/** The gid of `name` in `root`/etc/group, or null when the file or the group is missing. */
export async function groupId(root: string, name: string): Promise<number | null> {
  let text: string
  try {
    text = await readFile(join(root, 'etc/group'), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw stepError(join(root, 'etc/group'), `cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':')
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid)
  }
  return null
}

/** The group exists afterwards (or, in a dry run, would); returns its gid (null: not yet). */
export async function ensureGroup(root: string, name: string, dryRun: boolean): Promise<{ report: StepReport; gid: number | null }> {
  const what = `group ${name}`
  const existing = await groupId(root, name)
  if (existing !== null) return { report: { status: 'ok', what, detail: `already there, gid ${existing}` }, gid: existing }
  if (dryRun) return { report: { status: 'would create', what, detail: 'groupadd --system' }, gid: null }
  // Without the file, groupadd retries its lock for 15 s before it says so.
  if (!existsSync(join(root, 'etc/group'))) throw stepError(join(root, 'etc/group'), 'missing: groupadd needs the group file (with --root, the target\'s /etc)')
  const args = ['--system', ...(root === '/' ? [] : ['--prefix', root]), name]
  try {
    await run('groupadd', args)
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n')[0]
    throw stepError(join(root, 'etc/group'), `groupadd ${args.join(' ')} failed: ${stderr}`)
  }
  const gid = await groupId(root, name)
  if (gid === null) throw stepError(join(root, 'etc/group'), `groupadd ${args.join(' ')} succeeded but the group is not in the file`)
  return { report: { status: 'created', what, detail: `gid ${gid}` }, gid }
}
