/**
 * The journal checker of the chaos harness: after the run, with every node stopped, each
 * node's journal (all its incarnations, killed ones included) must replay:
 * `carbonado replay --journal DIR` exits 0 when every recorded decision comes out the same.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export interface ReplayVerdict { node: string; code: number; output: string }

export async function replayJournal(cli: string, node: string, dir: string): Promise<ReplayVerdict> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli, 'replay', '--journal', dir], { encoding: 'utf8', maxBuffer: 64 << 20 })
    return { node, code: 0, output: `${stdout}${stderr}`.trim() }
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string }
    return { node, code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? e.message}`.trim() }
  }
}
