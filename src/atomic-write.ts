/**
 * A file replaced whole: written to a temporary file beside it (same directory, so the rename
 * stays on one file system), optionally prepared (ownership), then renamed over it, so a reader
 * never sees half a file. The temporary file is removed when anything fails; the error is
 * rethrown for the caller to name.
 */
import { rename, rm, writeFile } from 'node:fs/promises'

export async function replaceFile(path: string, content: string, mode: number, prepare?: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`
  try {
    await writeFile(temporary, content, { mode })
    await prepare?.(temporary)
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}
