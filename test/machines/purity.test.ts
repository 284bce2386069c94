/**
 * STYLE.md §2: decisions are pure. Nothing under machines/ (nor the replay engine) may read
 * a clock, schedule a timer, draw randomness, or import anything but xstate and its own
 * siblings; time arrives inside events, so replay and simulation see the same inputs.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '../..')
const FORBIDDEN = [/\bDate\.now\b/, /\bnew Date\b/, /\bperformance\.now\b/, /\bprocess\.hrtime\b/, /\bsetTimeout\b/, /\bsetInterval\b/, /\bsetImmediate\b/, /\bMath\.random\b/, /\bcrypto\b/, /\bprocess\.env\b/]
const ALLOWED_IMPORT = /^(xstate|\.\/[\w-]+\.js|\.\.\/machines\/[\w-]+\.js|\.\/records\.js)$/

/** Code without comments and string contents, so prose may name what the code must not use. */
function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/`(?:\\.|[^`\\])*`|'(?:\\.|[^'\\])*'/g, "''")
}

function purityProblems(file: string, text: string): string[] {
  const problems: string[] = []
  for (const match of text.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
    if (!ALLOWED_IMPORT.test(match[1]!)) problems.push(`${file}: imports ${match[1]}`)
  }
  const code = codeOnly(text)
  for (const pattern of FORBIDDEN) if (pattern.test(code)) problems.push(`${file}: uses ${pattern.source.replace(/\\b/g, '').replace(/\\/g, '')}`)
  return problems
}

t.test('machines/ and the replay engine read no clock, timer, randomness or I/O', async (t) => {
  const files = [...readdirSync(join(root, 'machines')).filter((f) => f.endsWith('.ts')).map((f) => `machines/${f}`), 'journal/replay.ts']
  t.ok(files.length >= 6, `found the decision files (${files.join(', ')})`)
  for (const file of files) t.same(purityProblems(file, readFileSync(join(root, file), 'utf8')), [], `${file} is pure`)
})

t.test('the check itself catches what it forbids', async (t) => {
  t.same(purityProblems('x.ts', 'const at = Date.now()'), ['x.ts: uses Date.now'])
  t.same(purityProblems('x.ts', "import { readFile } from 'node:fs'\n"), ['x.ts: imports node:fs'])
  t.same(purityProblems('x.ts', 'if (Math.random() < 0.5) setTimeout(f, 10)'), ['x.ts: uses setTimeout', 'x.ts: uses Math.random'])
  t.same(purityProblems('x.ts', '// never call Date.now here\nconst s = `Date.now`'), [], 'comments and strings may name them')
})
