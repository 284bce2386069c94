#!/usr/bin/env node
/**
 * `carbonado`: one executable. Errors print one line (code, where, what) and exit non-zero:
 * 2 for usage and configuration errors, 1 for everything else.
 */
import { CarbError, isCarbError } from '../errors.js'
import { COMMANDS, HELP, commandHelp } from './commands.js'
import { EXIT_CLEANUP_FAILED } from '../runtime/exit-codes.js'

export async function main(argv: string[]): Promise<number> {
  const [first, second, ...rest] = argv
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(second === undefined ? HELP : commandHelp(second))
    return 0
  }
  const twoWord = second !== undefined ? COMMANDS.find((c) => c.name === `${first} ${second}`) : undefined
  const command = twoWord ?? COMMANDS.find((c) => c.name === first)
  const args = twoWord !== undefined ? rest : argv.slice(1)
  if (command === undefined && COMMANDS.some((c) => c.name.startsWith(`${first} `))) {
    // A command group (`carbonado disk`): help for the group, or a usage error naming the subcommands.
    if (second === undefined || second === '--help' || second === '-h') {
      if (second !== undefined) { process.stdout.write(commandHelp(first)); return 0 }
      process.stderr.write(commandHelp(first))
      return 2
    }
  }
  if (command === undefined) {
    throw new CarbError('CARB_ERR_USAGE', `unknown command "${[first, second].filter(Boolean).join(' ')}"; see \`carbonado --help\``)
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(commandHelp(command.name))
    return 0
  }
  return command.run(args)
}

/** A lost configuration race (CARB_ERR_CONFIG_VERSION) is not a bad input: re-read and retry, exit 1. */
function exitCodeFor(error: CarbError): number {
  if (error.code === 'CARB_ERR_CONFIG_VERSION') return 1
  if (error.code === 'CARB_ERR_CLEANUP_FAILED') return EXIT_CLEANUP_FAILED
  return error.code === 'CARB_ERR_USAGE' || error.code.startsWith('CARB_ERR_CONFIG') ? 2 : 1
}

// `carbonado replay --explain | head`: a reader that went away is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (error: unknown) => {
    if (isCarbError(error)) {
      process.stderr.write(`carbonado: ${error.oneLine()}\n`)
      process.exitCode = exitCodeFor(error)
    } else {
      process.stderr.write(`carbonado: internal error: ${String((error as Error).stack ?? error)}\n`)
      process.exitCode = 1
    }
  },
)
