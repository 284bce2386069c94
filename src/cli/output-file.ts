/**
 * Writing the cluster file (`config init --out`, `config join --out`): an existing file with
 * other content is kept unless --force; identical content is "unchanged"; the write goes
 * through a temporary file and a rename, so a reader never sees half a file.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { replaceFile } from '../atomic-write.js'
import { dirname } from 'node:path'
import { CarbError } from '../errors.js'
import type { ClusterConfig } from '../config/load.js'

export type WriteOutcome = 'written' | 'replaced' | 'unchanged'

/** The file's current text, or null when there is none. */
export async function existingText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new CarbError('CARB_ERR_CONFIG_READ', `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, path)
  }
}

export function refuseExisting(command: string, path: string): CarbError {
  return new CarbError('CARB_ERR_CONFIG_EXISTS', `already exists${command === 'config join' ? ' with other content' : ''}; ${command} replaces it only with --force`, path)
}

export async function writeClusterFile(command: string, path: string, text: string, force: boolean, mode: number): Promise<WriteOutcome> {
  const before = await existingText(path)
  if (before === text) return 'unchanged'
  if (before !== null && !force) throw refuseExisting(command, path)
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 })
    await replaceFile(path, text, mode)
  } catch (error) {
    throw new CarbError('CARB_ERR_OUTPUT_WRITE', `cannot write: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, path)
  }
  return before === null ? 'written' : 'replaced'
}

/** 0600 when a fence agent has parameters (they may hold a password), else 0644. */
export function clusterFileMode(config: ClusterConfig): number {
  return config.nodes.some((n) => n.fence.some((m) => m.method === 'agent' && Object.keys(m.params).length > 0)) ? 0o600 : 0o644
}
