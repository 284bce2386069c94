/**
 * Idempotent file-system steps: a directory or a file with a given mode and owner (and, for a
 * file, content). Each looks first and reports "ok" when nothing differs; a dry run reports
 * what it would do and touches nothing.
 */
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises'
import { replaceFile } from '../atomic-write.js'
import type { Stats } from 'node:fs'
import { dirname } from 'node:path'
import { CarbError } from '../errors.js'
import { octal, type StepReport } from './report.js'

export interface Ownership {
  mode: number
  uid: number
  /** null: the group does not exist yet (a dry run before it is created). */
  gid: number | null
  /** How the owner reads in a report: "root:cluster". */
  label: string
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw stepError(path, `cannot stat (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
}

export function stepError(path: string, message: string): CarbError {
  return new CarbError('CARB_ERR_INSTALL_STEP', message, path)
}

function ownershipDiffers(info: Stats, want: Ownership): boolean {
  return (info.mode & 0o7777) !== want.mode || info.uid !== want.uid || info.gid !== want.gid
}

async function applyOwnership(path: string, want: Ownership): Promise<void> {
  if (want.gid === null) throw stepError(path, `group of ${want.label} does not exist`)
  await chown(path, want.uid, want.gid)
  await chmod(path, want.mode) // after chown: chown clears set-id bits, and mkdir's mode is cut by the umask
}

function wasText(info: Stats): string {
  return `was ${octal(info.mode)} ${info.uid}:${info.gid}`
}

/** A directory `shown` (its path on the target system) at `path` (under --root) with this mode and owner. */
export async function ensureDirectory(path: string, shown: string, want: Ownership, dryRun: boolean): Promise<StepReport> {
  const info = await statOrNull(path)
  const detail = `${octal(want.mode)} ${want.label}`
  if (info !== null && !info.isDirectory()) throw stepError(path, 'exists and is not a directory')
  if (info === null) {
    if (dryRun) return { status: 'would create', what: shown, detail }
    await mkdir(path, { recursive: true })
    await applyOwnership(path, want)
    return { status: 'created', what: shown, detail }
  }
  if (!ownershipDiffers(info, want)) return { status: 'ok', what: shown, detail: `already there, ${detail}` }
  if (dryRun) return { status: 'would update', what: shown, detail: `${detail}; ${wasText(info)}` }
  await applyOwnership(path, want)
  return { status: 'updated', what: shown, detail: `${detail}; ${wasText(info)}` }
}

/** Writes `content` next to `path` with its ownership, then renames it over: a reader never sees half a unit. */
function writeAtomically(path: string, content: string, want: Ownership): Promise<void> {
  return replaceFile(path, content, 0o600, (temporary) => applyOwnership(temporary, want))
}

/**
 * A file with exactly `content`. `keep(existing)` may refuse to replace a file that differs
 * (it throws); it is not called when the content is already right.
 */
export async function ensureFile(path: string, shown: string, content: string, want: Ownership, dryRun: boolean, keep?: (existing: string) => void): Promise<StepReport> {
  const info = await statOrNull(path)
  const detail = `${octal(want.mode)} ${want.label}`
  if (info !== null && !info.isFile()) throw stepError(path, 'exists and is not a regular file')
  if (info === null) {
    if (dryRun) return { status: 'would create', what: shown, detail }
    await mkdir(dirname(path), { recursive: true })
    await writeAtomically(path, content, want)
    return { status: 'created', what: shown, detail }
  }
  const existing = await readFile(path, 'utf8')
  if (existing !== content) {
    keep?.(existing)
    if (dryRun) return { status: 'would update', what: shown, detail: `${detail}; content differs` }
    await writeAtomically(path, content, want)
    return { status: 'updated', what: shown, detail: `${detail}; content differed` }
  }
  if (!ownershipDiffers(info, want)) return { status: 'ok', what: shown, detail: `already there, ${detail}` }
  if (dryRun) return { status: 'would update', what: shown, detail: `${detail}; ${wasText(info)}` }
  await applyOwnership(path, want)
  return { status: 'updated', what: shown, detail: `${detail}; ${wasText(info)}` }
}
