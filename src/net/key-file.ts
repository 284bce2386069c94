/**
 * The cluster authentication key file (HMAC-SHA256 key of the heartbeats).
 *
 * Formats read, after dropping one trailing "\n" or "\r\n":
 * - a hex text line (an even number of hex digits, either case): decoded to bytes.
 *   This is what `generateKeyFile` writes (64 random bytes → 128 hex digits).
 * - anything else: the raw bytes are the key.
 * Base64 is NOT decoded: it cannot be told apart from a raw printable key, and every
 * node must derive the same key from the same file. A base64 line is therefore used
 * as raw bytes (still valid, just not decoded).
 *
 * The key must be at least KEY_BYTES_MIN bytes after decoding, and the file must not be
 * readable by "other" users (mode & 0o004). Group-readable is accepted, so a cluster
 * group can share it.
 */
import { randomBytes } from 'node:crypto'
import { open, readFile, stat } from 'node:fs/promises'
import { CarbError } from '../errors.js'

/** 256 bits: the HMAC-SHA256 block strength; shorter keys weaken the MAC. */
export const KEY_BYTES_MIN = 32
/** What `generateKeyFile` writes: 512 bits, as RFC 2104 suggests up to the hash block size. */
export const GENERATED_KEY_BYTES = 64

const HEX_LINE = /^(?:[0-9a-fA-F]{2})+$/

function keyFileError(path: string, message: string): CarbError {
  return new CarbError('CARB_ERR_KEY_FILE', message, path)
}

function withoutTrailingNewline(bytes: Buffer): Buffer {
  if (bytes.length >= 2 && bytes[bytes.length - 2] === 0x0d && bytes[bytes.length - 1] === 0x0a) return bytes.subarray(0, -2)
  if (bytes.length >= 1 && bytes[bytes.length - 1] === 0x0a) return bytes.subarray(0, -1)
  return bytes
}

/** The key bytes a file's content stands for (see the formats above). */
export function keyFromContent(content: Buffer): Buffer {
  const body = withoutTrailingNewline(content)
  const text = body.toString('latin1')
  return HEX_LINE.test(text) ? Buffer.from(text, 'hex') : Buffer.from(body)
}

async function checkMode(path: string): Promise<void> {
  let info
  try {
    info = await stat(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const what = code === 'ENOENT' ? 'key file missing' : `cannot read key file (${code ?? String(error)})`
    throw keyFileError(path, `${what}; create one with \`carbonado key generate FILE\` or copy it from another node`)
  }
  if (!info.isFile()) throw keyFileError(path, 'key file is not a regular file')
  if ((info.mode & 0o004) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0')
    throw keyFileError(path, `key file is readable by other users (mode ${mode}); run chmod o-r on it`)
  }
}

/** Reads and checks the cluster key. Every refusal is a CARB_ERR_KEY_FILE naming the file. */
export async function loadKeyFile(path: string): Promise<Buffer> {
  await checkMode(path)
  let content: Buffer
  try {
    content = await readFile(path)
  } catch (error) {
    throw keyFileError(path, `cannot read key file (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  const key = keyFromContent(content)
  if (key.length < KEY_BYTES_MIN) {
    throw keyFileError(path, `key too short: ${key.length} bytes, at least ${KEY_BYTES_MIN} needed`)
  }
  return key
}

/** Writes 64 random bytes as one hex line, mode 0600. Refuses to overwrite an existing file. */
export async function generateKeyFile(path: string): Promise<void> {
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const what = code === 'EEXIST' ? 'key file already exists; refusing to overwrite it' : `cannot create key file (${code ?? String(error)})`
    throw keyFileError(path, what)
  }
  try {
    await handle.writeFile(`${randomBytes(GENERATED_KEY_BYTES).toString('hex')}\n`)
    await handle.chmod(0o600)
    await handle.sync()
  } finally {
    await handle.close()
  }
}
