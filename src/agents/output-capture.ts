/**
 * An agent's stdout and stderr, held in bounded memory (the tail survives: that is where a
 * failing script says why) and handed line by line to the node log as it arrives.
 */
import { StringDecoder } from 'node:string_decoder'
import { AGENT_CAPTURE_MAX_BYTES } from './types.js'

/** A line longer than this reaches the log in pieces: one runaway line must not grow without bound. */
export const OUTPUT_LINE_MAX_CHARS = 4096

export type OutputStream = 'stdout' | 'stderr'

export class OutputCapture {
  private chunks: Buffer[] = []
  private keptBytes = 0
  /** Bytes that arrived but were dropped from the front to stay under the bound. */
  droppedBytes = 0
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') }
  private readonly partial = { stdout: '', stderr: '' }

  constructor(
    private readonly onLine: ((line: string) => void) | undefined,
    private readonly maxBytes = AGENT_CAPTURE_MAX_BYTES,
    /** Which streams are kept (all are logged): OCF meta-data wants stdout alone. */
    private readonly keep: readonly OutputStream[] = ['stdout', 'stderr'],
  ) {}

  push(stream: OutputStream, chunk: Buffer): void {
    if (this.keep.includes(stream)) {
      this.chunks.push(chunk)
      this.keptBytes += chunk.length
      this.dropFront()
    }
    if (this.onLine !== undefined) this.split(stream, this.decoders[stream].write(chunk))
  }

  /** Hands over the unterminated last line of each stream. */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.partial[stream] + this.decoders[stream].end()
      this.partial[stream] = ''
      if (rest.length > 0) this.emit(rest)
    }
  }

  /** Everything kept, in arrival order. */
  kept(): Buffer {
    return Buffer.concat(this.chunks, this.keptBytes)
  }

  /** A mark to read from with `since`: the bytes seen so far. */
  mark(): number {
    return this.droppedBytes + this.keptBytes
  }

  /** What was kept after `mark` (the output of the commands run since), as text. */
  since(mark: number): string {
    const all = this.kept()
    return all.subarray(Math.max(0, all.length - (this.mark() - mark))).toString('utf8')
  }

  private dropFront(): void {
    while (this.keptBytes > this.maxBytes && this.chunks.length > 0) {
      const first = this.chunks[0]!
      const excess = this.keptBytes - this.maxBytes
      if (first.length <= excess) {
        this.chunks.shift()
        this.keptBytes -= first.length
        this.droppedBytes += first.length
      } else {
        this.chunks[0] = first.subarray(excess)
        this.keptBytes -= excess
        this.droppedBytes += excess
      }
    }
  }

  private split(stream: OutputStream, text: string): void {
    const lines = (this.partial[stream] + text).split('\n')
    let last = lines.pop() ?? ''
    for (const line of lines) this.emit(line)
    while (last.length > OUTPUT_LINE_MAX_CHARS) {
      this.emit(last.slice(0, OUTPUT_LINE_MAX_CHARS))
      last = last.slice(OUTPUT_LINE_MAX_CHARS)
    }
    this.partial[stream] = last
  }

  private emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    let start = 0
    do {
      try {
        this.onLine?.(text.slice(start, start + OUTPUT_LINE_MAX_CHARS))
      } catch {
        // A faulty log callback must not break or hang the agent run it reports on.
      }
      start += OUTPUT_LINE_MAX_CHARS
    } while (start < text.length)
  }
}

function isUtf8Continuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80
}

/**
 * The tail of `kept` in at most `maxBytes` UTF-8 bytes, trailing blank space removed. When
 * anything was cut, a first line says how many bytes are missing (the bound includes it).
 */
export function tailOutput(kept: Buffer, droppedBytes: number, maxBytes: number): string {
  let end = kept.length
  while (end > 0 && /\s/.test(String.fromCharCode(kept[end - 1]!))) end--
  const body = kept.subarray(0, end)
  if (droppedBytes === 0 && body.length <= maxBytes) return body.toString('utf8')
  const marker = (bytes: number): string => `[... ${bytes} bytes trimmed]\n`
  // The marker for every byte cut is the longest it can be, so the room left is safe.
  const room = Math.max(0, maxBytes - Buffer.byteLength(marker(droppedBytes + body.length)))
  let start = Math.max(0, body.length - room)
  while (start < body.length && isUtf8Continuation(body[start])) start++
  return marker(droppedBytes + start) + body.subarray(start).toString('utf8')
}
