/**
 * The dashboard's admin token file (dashboard.tokenFile): one line of printable ASCII, no
 * spaces (it travels in `Authorization: Bearer TOKEN`), long enough not to be guessed, in a
 * file only its owner can read. `carbonado key generate FILE` writes a good one (128 hex
 * digits, mode 0600). Every refusal is a CARB_ERR_DASHBOARD_TOKEN naming the file: a node
 * whose administrator asked for write actions does not start silently read-only.
 */
import { readFile, stat } from 'node:fs/promises'
import { CarbError } from '../errors.js'

/** 128 bits of hex; a shorter token could be guessed against a listening port. */
export const TOKEN_CHARS_MIN = 32
export const TOKEN_CHARS_MAX = 1024
const TOKEN = /^[\x21-\x7e]+$/

const tokenError = (path: string, message: string): CarbError => new CarbError('CARB_ERR_DASHBOARD_TOKEN', message, path)

export async function loadDashboardToken(path: string): Promise<string> {
  let info
  try {
    info = await stat(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw tokenError(path, `${code === 'ENOENT' ? 'token file missing' : `cannot read the token file (${code ?? String(error)})`}; create one with \`carbonado key generate FILE\`, or remove dashboard.tokenFile for a read-only dashboard`)
  }
  if (!info.isFile()) throw tokenError(path, 'the token file is not a regular file')
  if ((info.mode & 0o077) !== 0) {
    throw tokenError(path, `the token file is readable or writable by group or others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 on it`)
  }
  const token = (await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => { throw tokenError(path, `cannot read the token file (${error.code ?? String(error)})`) })).replace(/\r?\n$/, '')
  if (!TOKEN.test(token)) throw tokenError(path, 'the token must be one line of printable ASCII without spaces')
  if (token.length < TOKEN_CHARS_MIN || token.length > TOKEN_CHARS_MAX) throw tokenError(path, `the token has ${token.length} characters; ${TOKEN_CHARS_MIN} to ${TOKEN_CHARS_MAX} needed`)
  return token
}
