/**
 * `carbonado install`: what a node needs before `systemctl enable --now carbonado`, each step
 * idempotent (a second run reports "ok" everywhere) and never destructive: an existing key and
 * an existing cluster.yaml are kept, a unit someone else wrote is replaced only with --force.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { generateKeyFile } from '../net/key-file.js'
import { renderExampleConfig } from './example-config.js'
import { ensureDirectory, ensureFile, stepError, type Ownership } from './fs-steps.js'
import { ensureGroup } from './group.js'
import { changes, type StepReport } from './report.js'
import { CONFIG_PATH, UNIT_MARKER, UNIT_PATH, renderUnit } from './unit.js'

const run = promisify(execFile)

export const CONFIG_DIR = '/etc/carbonado'
export const EXAMPLE_PATH = '/etc/carbonado/cluster.yaml.example'
export const KEY_PATH = '/etc/carbonado/authkey'
export const STATE_DIR = '/var/lib/carbonado'
export const JOURNAL_DIR = '/var/lib/carbonado/journal'
/** Exists exactly when systemd is the running init (sd_booted(3)). */
export const SYSTEMD_RUNNING_MARK = '/run/systemd/system'

export interface InstallOptions {
  /** '/' for this system; another directory for an image (tests). */
  root: string
  group: string
  dryRun: boolean
  /** Replace a carbonado.service that `carbonado install` did not write. */
  force: boolean
  /** The ExecStart command prefix that runs `carbonado` (unit.ts execCommand). */
  execStart: string
}

export function inRoot(root: string, path: string): string {
  return root === '/' ? path : join(root, path)
}

async function ensureKey(options: InstallOptions): Promise<StepReport> {
  const path = inRoot(options.root, KEY_PATH)
  if (existsSync(path)) return { status: 'ok', what: KEY_PATH, detail: 'already there, kept: a key is never replaced' }
  if (options.dryRun) return { status: 'would create', what: KEY_PATH, detail: '0600 root:root, 64 random bytes' }
  await generateKeyFile(path)
  return { status: 'created', what: KEY_PATH, detail: '0600 root:root, 64 random bytes; copy it to every node' }
}

function refuseForeignUnit(options: InstallOptions): (existing: string) => void {
  return (existing) => {
    if (options.force || existing.startsWith(UNIT_MARKER)) return
    throw stepError(inRoot(options.root, UNIT_PATH), 'exists and was not written by `carbonado install`; keep it, or replace it with --force')
  }
}

/** `systemctl daemon-reload`, only when the unit changed and this is the running systemd. */
async function reload(options: InstallOptions, unit: StepReport): Promise<StepReport> {
  const what = 'systemctl daemon-reload'
  if (!changes(unit)) return { status: 'ok', what, detail: 'unit unchanged, nothing to reload' }
  if (options.root !== '/') return { status: 'skipped', what, detail: `--root ${options.root} is not the running system` }
  if (!existsSync(SYSTEMD_RUNNING_MARK)) return { status: 'skipped', what, detail: 'systemd is not running here; it reads the unit when it starts' }
  if (options.dryRun) return { status: 'would run', what, detail: 'the unit changed' }
  try {
    await run('systemctl', ['daemon-reload'])
  } catch (error) {
    throw stepError(UNIT_PATH, `systemctl daemon-reload failed: ${String((error as { stderr?: string }).stderr ?? (error as Error).message).trim().split('\n')[0]}`)
  }
  return { status: 'done', what, detail: 'the unit changed' }
}

/** Runs every step in order, handing each report to `report` as soon as it is known. */
export async function install(options: InstallOptions, report: (step: StepReport) => void): Promise<StepReport[]> {
  const reports: StepReport[] = []
  const say = (step: StepReport): StepReport => { reports.push(step); report(step); return step }
  const { root, group, dryRun } = options
  const { gid } = await ensureGroup(root, group, dryRun).then((r) => { say(r.report); return r })
  const shared: Ownership = { mode: 0o750, uid: 0, gid, label: `root:${group}` }
  say(await ensureDirectory(inRoot(root, CONFIG_DIR), CONFIG_DIR, shared, dryRun))
  say(await ensureFile(inRoot(root, EXAMPLE_PATH), EXAMPLE_PATH, renderExampleConfig(), { ...shared, mode: 0o640 }, dryRun))
  say(await ensureKey(options))
  say(await ensureDirectory(inRoot(root, STATE_DIR), STATE_DIR, shared, dryRun))
  say(await ensureDirectory(inRoot(root, JOURNAL_DIR), JOURNAL_DIR, shared, dryRun))
  const unitOwner: Ownership = { mode: 0o644, uid: 0, gid: 0, label: 'root:root' }
  const unit = say(await ensureFile(inRoot(root, UNIT_PATH), UNIT_PATH, renderUnit(options.execStart), unitOwner, dryRun, refuseForeignUnit(options)))
  say(await reload(options, unit))
  return reports
}

/** What is left for the administrator, after the steps. */
export function nextSteps(options: InstallOptions): string[] {
  const config = existsSync(inRoot(options.root, CONFIG_PATH))
  return [
    config ? `${CONFIG_PATH} is there (kept).` : `next: cp ${EXAMPLE_PATH} ${CONFIG_PATH} and edit it (the same file on every node).`,
    `next: the same ${KEY_PATH} on every node (copy this one, mode 0600), then once: carbonado disk init -c ${CONFIG_PATH}`,
    'next: systemctl enable --now carbonado; carbonado status -c /etc/carbonado/cluster.yaml',
  ]
}
