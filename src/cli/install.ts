/** `carbonado install`: flags, the root check, and one line per step. */
import { accessSync, constants, realpathSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { CarbError } from '../errors.js'
import { GROUP_NAME_PATTERN } from '../install/group.js'
import { install, nextSteps, type InstallOptions } from '../install/install.js'
import { formatReport } from '../install/report.js'
import { execCommand, renderUnit } from '../install/unit.js'
import { parseFlags } from './args.js'

const FLAGS = {
  'dry-run': { type: 'boolean' },
  root: { type: 'string' },
  group: { type: 'string' },
  force: { type: 'boolean' },
  exec: { type: 'string' },
  'print-unit': { type: 'boolean' },
} as const

/** The unit's ExecStart prefix: --exec PATH, else this Node running this very file's CLI. */
function execStartFrom(exec: unknown): string {
  if (typeof exec === 'string') {
    if (!isAbsolute(exec)) throw new CarbError('CARB_ERR_USAGE', `install: --exec must be an absolute path, got "${exec}"`)
    try {
      accessSync(exec, constants.X_OK)
    } catch (error) {
      throw new CarbError('CARB_ERR_USAGE', `install: --exec ${exec} is not an executable file (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
    }
    return execCommand([exec])
  }
  const script = process.argv[1]
  if (script === undefined) throw new CarbError('CARB_ERR_USAGE', 'install: cannot tell where carbonado is installed; give --exec PATH')
  return execCommand([process.execPath, realpathSync(script)])
}

function rootFrom(root: unknown): string {
  if (root === undefined) return '/'
  const path = resolve(String(root))
  let isDirectory = false
  try { isDirectory = statSync(path).isDirectory() } catch { /* reported below */ }
  if (!isDirectory) throw new CarbError('CARB_ERR_USAGE', `install: --root ${path} is not a directory`)
  return path
}

function optionsFrom(args: string[]): InstallOptions & { printUnit: boolean } {
  const { values } = parseFlags('install', args, FLAGS)
  const group = typeof values.group === 'string' ? values.group : 'cluster'
  if (!GROUP_NAME_PATTERN.test(group)) throw new CarbError('CARB_ERR_USAGE', `install: --group must be a group name (${GROUP_NAME_PATTERN.source}), got "${group}"`)
  return {
    root: rootFrom(values.root),
    group,
    dryRun: values['dry-run'] === true,
    force: values.force === true,
    execStart: execStartFrom(values.exec),
    printUnit: values['print-unit'] === true,
  }
}

export async function installCommand(args: string[]): Promise<number> {
  const options = optionsFrom(args)
  if (options.printUnit) {
    process.stdout.write(renderUnit(options.execStart))
    return 0
  }
  if (process.getuid?.() !== 0) {
    throw new CarbError('CARB_ERR_INSTALL_NOT_ROOT', 'install must run as root (it creates a group, /etc/carbonado, the key and the unit); `carbonado install --print-unit` shows the unit without root')
  }
  if (options.dryRun) process.stdout.write(`dry run: nothing is changed${options.root === '/' ? '' : ` (root ${options.root})`}\n`)
  await install(options, (step) => process.stdout.write(`${formatReport(step)}\n`))
  if (!options.dryRun) for (const line of nextSteps(options)) process.stdout.write(`${line}\n`)
  return 0
}
