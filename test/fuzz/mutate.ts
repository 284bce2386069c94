/**
 * Seeded mutators and the bounded fuzz loop shared by test/fuzz/ (no fuzzing library: a
 * small mutator of our own, driven by test/helpers/random.ts so every run reproduces).
 *
 * - Bytes: bit flips, random bytes, truncation, extension, zeroed and duplicated runs,
 *   "interesting" integers written at random offsets.
 * - Values (a decoded msgpack or YAML tree): a random node replaced by a hostile value
 *   (wrong type, BigInt, NaN, a map with a `toString` key, a huge string, deep nesting,
 *   `__proto__` keys), a key removed or added, a list emptied or grown.
 * - Text: lines dropped, duplicated or swapped, characters inserted, YAML punctuation.
 *
 * Bounds: each target runs a fixed number of cases (`iterations`) unless the environment
 * asks for more: CARB_FUZZ_ITERATIONS=N runs N cases per target, CARB_FUZZ_SECONDS=S runs
 * each target for S seconds. CARB_FUZZ_SEED picks the base seed (default fixed, so CI is
 * deterministic); a failure names the seed and the case to reproduce it.
 */
import { seeded } from '../helpers/random.js'
import { isCarbError } from '../../src/errors.js'

export type Rng = () => number

export class Mutator {
  constructor(readonly random: Rng) {}

  int(max: number): number {
    return Math.floor(this.random() * max)
  }

  chance(p: number): boolean {
    return this.random() < p
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length)
    for (let i = 0; i < length; i++) out[i] = this.int(256)
    return out
  }

  /** One to `rounds` byte-level mutations of a copy of `input`. */
  mutateBytes(input: Buffer, rounds = 4): Buffer {
    let buf: Buffer = Buffer.from(input)
    const count = 1 + this.int(rounds)
    for (let r = 0; r < count; r++) buf = this.byteMutation(buf)
    return buf
  }

  private byteMutation(buf: Buffer): Buffer {
    const at = buf.length === 0 ? 0 : this.int(buf.length)
    switch (this.int(9)) {
      case 0: return this.flipBit(buf, at)
      case 1: if (buf.length > 0) buf[at] = this.int(256); return buf
      case 2: return buf.subarray(0, this.int(buf.length + 1))
      case 3: return Buffer.concat([buf, this.bytes(1 + this.int(16))])
      case 4: buf.fill(0, at, Math.min(buf.length, at + 1 + this.int(32))); return buf
      case 5: return Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + 1 + this.int(16)), buf.subarray(at)])
      case 6: return this.interesting(buf, at)
      case 7: return Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + this.int(8))])
      default: buf.fill(this.int(256), at, Math.min(buf.length, at + 1 + this.int(8))); return buf
    }
  }

  private flipBit(buf: Buffer, at: number): Buffer {
    if (buf.length > 0) buf[at] = buf[at]! ^ (1 << this.int(8))
    return buf
  }

  private interesting(buf: Buffer, at: number): Buffer {
    const values = [0x00, 0xff, 0x7f, 0x80, 0xc0, 0xc1, 0xd4, 0xdc, 0xde, 0xcf, 0xd3, 0xc7, 0xdb]
    const width = this.pick([1, 2, 4, 8])
    for (let i = 0; i < width && at + i < buf.length; i++) buf[at + i] = i === 0 ? this.pick(values) : this.pick([0x00, 0xff])
    return buf
  }

  /** A value that breaks naive code: wrong types, huge or odd numbers, objects that cannot be printed. */
  hostile(): unknown {
    const choices: (() => unknown)[] = [
      () => null, () => undefined, () => true, () => 0, () => -1, () => 1.5, () => Number.NaN, () => -0,
      () => Number.MAX_SAFE_INTEGER + 2, () => 2 ** 64, () => 1n << 63n, () => 1n, () => '', () => 'x'.repeat(2000),
      () => '\u0000\u202e', () => [], () => [this.hostile()], () => ({}), () => ({ toString: 1, valueOf: 2 }),
      () => JSON.parse('{"__proto__": {"polluted": 1}}'), () => Buffer.from([1, 2, 3]),
      () => new Date(0), () => deepList(200), () => 'up', () => 1, () => 4096,
    ]
    return this.pick(choices)()
  }

  /** A structure-aware mutation of a decoded tree: the copy with one to `rounds` nodes changed. */
  mutateValue(value: unknown, rounds = 3, options: { cycles?: boolean } = {}): unknown {
    let out = cloneTree(value)
    const count = 1 + this.int(rounds)
    for (let r = 0; r < count; r++) out = this.valueMutation(out, options.cycles === true)
    return out
  }

  /** With `cycles`, a node may be made to contain itself (what a YAML alias of its own anchor gives). */
  private valueMutation(root: unknown, cycles: boolean): unknown {
    const nodes = containers(root)
    if (nodes.length === 0 || this.chance(0.05)) return this.hostile()
    const node = this.pick(nodes)
    if (cycles && this.chance(0.1)) {
      const keys = Object.keys(node)
      if (Array.isArray(node)) node.push(node)
      else if (keys.length > 0) node[this.pick(keys)] = node
      return root
    }
    if (Array.isArray(node)) {
      const which = this.int(4)
      if (which === 0 || node.length === 0) node.push(this.hostile())
      else if (which === 1) node.splice(this.int(node.length), 1)
      else if (which === 2) node[this.int(node.length)] = this.hostile()
      else node.length = 0
      return root
    }
    const keys = Object.keys(node)
    const which = this.int(4)
    if (which === 0 || keys.length === 0) node[this.pick(['extra', 'toString', 'v', 't', 'seq', 'type', 'at', 'constructor'])] = this.hostile()
    else if (which === 1) delete node[this.pick(keys)]
    else node[this.pick(keys)] = this.hostile()
    return root
  }

  /** A random line-level or character-level change of a text. */
  mutateText(text: string, rounds = 3): string {
    let lines = text.split('\n')
    const count = 1 + this.int(rounds)
    for (let r = 0; r < count; r++) lines = this.textMutation(lines)
    return lines.join('\n')
  }

  private textMutation(lines: string[]): string[] {
    const at = this.int(lines.length)
    const line = lines[at] ?? ''
    const pieces = [':', '- ', '[', ']', '{', '}', '&a ', '*a', '!!binary ', '"', "'", '#', '\t', '  ', '\\', '%', '?', '|', '>', '0x10', '1e999', '.nan', '~', 'null', '<<: *a']
    switch (this.int(6)) {
      case 0: return lines.filter((_, i) => i !== at)
      case 1: return [...lines.slice(0, at), line, ...lines.slice(at)]
      case 2: { const other = this.int(lines.length); const out = [...lines]; out[at] = lines[other]!; out[other] = line; return out }
      case 3: { const pos = this.int(line.length + 1); const out = [...lines]; out[at] = line.slice(0, pos) + this.pick(pieces) + line.slice(pos); return out }
      case 4: { const out = [...lines]; out[at] = line.slice(0, this.int(line.length + 1)); return out }
      default: { const out = [...lines]; out[at] = line.replace(/\d+/, String(this.pick([0, -1, 65536, 99999999999, 1.5]))); return out }
    }
  }
}

function deepList(depth: number): unknown {
  let value: unknown = 0
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

type Container = unknown[] | Record<string, unknown>

/** Plain maps and lists of a tree, root first (Buffers, Dates and the like are leaves). */
function containers(root: unknown): Container[] {
  const out: Container[] = []
  const stack: unknown[] = [root]
  while (stack.length > 0 && out.length < 10_000) {
    const value = stack.pop()
    if (Array.isArray(value)) { out.push(value); stack.push(...value) }
    else if (isPlainMap(value)) { out.push(value); stack.push(...Object.values(value)) }
  }
  return out
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function cloneTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneTree)
  if (isPlainMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cloneTree(v)]))
  if (Buffer.isBuffer(value)) return Buffer.from(value)
  return value
}

/** Outcome counts of one target: accepted, and rejected per error code. */
export class Tally {
  readonly counts = new Map<string, number>()
  cases = 0

  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1)
  }

  get(outcome: string): number {
    return this.counts.get(outcome) ?? 0
  }

  /** Everything counted but `accepted`. */
  rejected(): number {
    let sum = 0
    for (const [outcome, n] of this.counts) if (outcome !== 'accepted') sum += n
    return sum
  }

  toString(): string {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`).join(' ')
  }
}

export interface Budget { iterations: number; seconds: number | null; seed: number }

/** The budget of one target: `iterations` by default, more when the environment asks. */
export function budget(iterations: number): Budget {
  const env = process.env
  const seed = env.CARB_FUZZ_SEED === undefined ? 0x5eed_c0de : Number(env.CARB_FUZZ_SEED)
  const seconds = env.CARB_FUZZ_SECONDS === undefined ? null : Number(env.CARB_FUZZ_SECONDS)
  const asked = env.CARB_FUZZ_ITERATIONS === undefined ? iterations : Number(env.CARB_FUZZ_ITERATIONS)
  return { iterations: seconds === null ? asked : Number.MAX_SAFE_INTEGER, seconds, seed }
}

/** A case's own seed, so one case reproduces without running those before it. */
export function caseSeed(base: number, index: number): number {
  return (Math.imul(base ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0
}

export interface FuzzFailure { seed: number; index: number; caseSeed: number; error: unknown }

/** Thrown by a case: what was fed and why the result is wrong. */
export class FuzzFinding extends Error {}

/**
 * Runs cases until the budget is spent; each case gets a Mutator seeded with its own seed and
 * returns its outcome (`accepted` or an error code), which is tallied. The first case that
 * throws stops the run and is returned with its seeds.
 */
export async function fuzz(target: string, b: Budget, run: (m: Mutator, index: number) => Promise<string> | string): Promise<{ tally: Tally; failure: FuzzFailure | null; elapsedMs: number }> {
  const tally = new Tally()
  const start = performance.now()
  for (let index = 0; index < b.iterations; index++) {
    if (b.seconds !== null && performance.now() - start > b.seconds * 1000) break
    const seed = caseSeed(b.seed, index)
    try {
      tally.add(await run(new Mutator(seeded(seed)), index))
      tally.cases++
    } catch (error) {
      return { tally, failure: { seed: b.seed, index, caseSeed: seed, error }, elapsedMs: performance.now() - start }
    }
  }
  void target
  return { tally, failure: null, elapsedMs: performance.now() - start }
}

/** How a failure is reported: the error and the environment that reproduces it. */
export function describeFailure(target: string, f: FuzzFailure): string {
  const cause = f.error instanceof Error && f.error.cause instanceof Error ? `\ncaused by ${f.error.cause.stack ?? f.error.cause.message}` : ''
  const error = f.error instanceof Error ? `${f.error.name}: ${f.error.message}${cause}` : String(f.error)
  return `${target}: case ${f.index} failed (reproduce: CARB_FUZZ_SEED=${f.seed}; case seed ${f.caseSeed})\n${error}`
}

/** The outcome name of a thrown error: its CarbError code, or a finding when it is anything else. */
export function codeOf(error: unknown, input: () => string): string {
  if (isCarbError(error)) return error.code
  throw new FuzzFinding(`non-CarbError thrown: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\ninput: ${input()}`, { cause: error })
}

/** A short printable form of a fuzz input for a failure message. */
export function shown(value: unknown): string {
  if (Buffer.isBuffer(value)) return `<${value.length} bytes> ${value.subarray(0, 256).toString('hex')}`
  try {
    const text = JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
    return text === undefined ? String(value) : text.slice(0, 600)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
