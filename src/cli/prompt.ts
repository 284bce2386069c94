/**
 * Questions on a terminal (node:readline): a question shows its default in brackets, an
 * empty answer takes it, a bad answer prints its reason and the question comes again (at most
 * ASK_ATTEMPTS_MAX times). End of input or Ctrl-C stops the command with nothing written.
 */
import { createInterface, type Interface } from 'node:readline'
import { CarbError, isCarbError } from '../errors.js'

/** A typing mistake is fixed in two or three tries; ten bad answers in a row is a script gone wrong. */
export const ASK_ATTEMPTS_MAX = 10

export class Prompter {
  private readonly rl: Interface
  private ended = false
  private waiting: ((line: string | null) => void) | null = null

  constructor(private readonly command: string, input: NodeJS.ReadableStream = process.stdin, private readonly output: NodeJS.WritableStream = process.stdout) {
    this.rl = createInterface({ input, output, terminal: true })
    const end = (): void => { this.ended = true; this.waiting?.(null); this.waiting = null }
    this.rl.on('close', end)
    this.rl.on('SIGINT', () => { this.output.write('^C\n'); end(); this.rl.close() })
  }

  say(text: string): void {
    this.output.write(`${text}\n`)
  }

  /** One line, or null at end of input. */
  line(question: string): Promise<string | null> {
    if (this.ended) return Promise.resolve(null)
    return new Promise((resolve) => {
      this.waiting = resolve
      this.rl.question(question, (answer) => { this.waiting = null; resolve(answer) })
    })
  }

  /** Ask until `check` accepts the answer (or the default, on an empty answer). */
  async ask<T>(question: string, fallback: string | undefined, check: (text: string) => T): Promise<T> {
    for (let attempt = 1; attempt <= ASK_ATTEMPTS_MAX; attempt++) {
      const line = await this.line(`${question}${fallback === undefined ? '' : ` [${fallback}]`}: `)
      if (line === null) throw new CarbError('CARB_ERR_USAGE', `${this.command}: input ended at "${question}"; nothing written`)
      const text = line.trim() === '' ? fallback ?? '' : line.trim()
      if (text === '') { this.say('  an answer is needed here'); continue }
      try {
        return check(text)
      } catch (error) {
        if (!isCarbError(error)) throw error
        this.say(`  ${error.message}; try again`)
      }
    }
    throw new CarbError('CARB_ERR_USAGE', `${this.command}: no acceptable answer to "${question}" after ${ASK_ATTEMPTS_MAX} tries; nothing written`)
  }

  /** yes/no, with the default taken on an empty answer. */
  confirm(question: string, fallback: boolean): Promise<boolean> {
    return this.ask(question, fallback ? 'yes' : 'no', (text) => {
      if (/^(y|yes)$/i.test(text)) return true
      if (/^(n|no)$/i.test(text)) return false
      throw new CarbError('CARB_ERR_USAGE', `answer yes or no, got "${text}"`)
    })
  }

  close(): void {
    this.rl.close()
  }
}
