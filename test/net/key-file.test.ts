import t from 'tap'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isCarbError } from '../../src/errors.js'
import { generateKeyFile, keyFromContent, loadKeyFile } from '../../src/net/key-file.js'

async function keyFile(dir: string, name: string, content: string | Buffer, mode: number): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  await chmod(path, mode)
  return path
}

/** The type of a subtest's `t` (the last `t.test` overload takes only the callback). */
type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

async function expectKeyFileError(t: TapTest, promise: Promise<unknown>, path: string, words: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e)
  if (!isCarbError(error)) throw new Error(`expected a CarbError, got ${String(error)}`)
  t.equal(error.code, 'CARB_ERR_KEY_FILE')
  t.equal(error.where, path)
  t.match(error.message, words)
  const line = error.oneLine()
  t.notMatch(line, /\n/, 'one line')
  t.ok(line.includes(path), `names the file: ${line}`)
}

const hex64 = 'ab'.repeat(64)

t.test('refusals: missing, short, world-readable, not a file', async (t) => {
  const dir = t.testdir({})
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['missing', async () => join(dir, 'nope'), /missing/],
    ['short hex (31 bytes)', () => keyFile(dir, 'short-hex', `${'cd'.repeat(31)}\n`, 0o600), /too short: 31 bytes/],
    ['short raw (31 bytes)', () => keyFile(dir, 'short-raw', Buffer.alloc(31, 0xfe), 0o600), /too short: 31 bytes/],
    ['empty', () => keyFile(dir, 'empty', '', 0o600), /too short: 0 bytes/],
    ['world-readable 0644', () => keyFile(dir, 'world', `${hex64}\n`, 0o644), /readable by other users \(mode 0644\)/],
    ['world-readable only 0604', () => keyFile(dir, 'world2', `${hex64}\n`, 0o604), /mode 0604/],
    ['a directory', async () => { const p = join(dir, 'adir'); await mkdir(p, { mode: 0o700 }); return p }, /not a regular file/],
  ]
  for (const [name, make, words] of cases) {
    const path = await make()
    await t.test(name, async (t) => expectKeyFileError(t, loadKeyFile(path), path, words))
  }
})

t.test('accepted: 0600 and group-readable 0640; hex and raw', async (t) => {
  const dir = t.testdir({})
  const raw32 = Buffer.alloc(32, 0x07)
  const cases: [string, string | Buffer, number, Buffer][] = [
    ['hex line, 0600', `${hex64}\n`, 0o600, Buffer.from(hex64, 'hex')],
    ['hex line with CRLF, 0640', `${hex64}\r\n`, 0o640, Buffer.from(hex64, 'hex')],
    ['hex without newline, 0400', hex64.toUpperCase(), 0o400, Buffer.from(hex64, 'hex')],
    ['raw 32 bytes, 0600', raw32, 0o600, raw32],
    ['text passphrase of 40 bytes (not hex, not decoded)', `${'x'.repeat(40)}\n`, 0o600, Buffer.from('x'.repeat(40))],
  ]
  for (const [name, content, mode, expected] of cases) {
    const path = await keyFile(dir, name.replace(/\W+/g, '-'), content, mode)
    t.ok((await loadKeyFile(path)).equals(expected), name)
  }
})

t.test('keyFromContent: odd-length hex is raw; base64 is raw', async (t) => {
  t.same(keyFromContent(Buffer.from('abc\n')), Buffer.from('abc'))
  t.same(keyFromContent(Buffer.from('q83vEjRWeJA=\n')), Buffer.from('q83vEjRWeJA='))
  t.same(keyFromContent(Buffer.from('0a0B\n')), Buffer.from([0x0a, 0x0b]))
})

t.test('generateKeyFile: 64 random bytes as hex, mode 0600, never overwrites', async (t) => {
  const dir = t.testdir({})
  const path = join(dir, 'authkey')
  await generateKeyFile(path)
  t.equal((await stat(path)).mode & 0o777, 0o600)
  const text = await readFile(path, 'utf8')
  t.match(text, /^[0-9a-f]{128}\n$/)
  const key = await loadKeyFile(path)
  t.equal(key.length, 64)
  await expectKeyFileError(t, generateKeyFile(path), path, /already exists/)
  t.equal(await readFile(path, 'utf8'), text, 'untouched')
  const second = join(dir, 'authkey2')
  await generateKeyFile(second)
  t.not(await readFile(second, 'utf8'), text, 'random')
  const nowhere = join(dir, 'no-such-dir', 'authkey')
  await expectKeyFileError(t, generateKeyFile(nowhere), nowhere, /cannot create key file \(ENOENT\)/)
})
