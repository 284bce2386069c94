/** `carbonado node run`: the daemon in the foreground (systemd runs it so). */
import { configFrom, nodeNameFrom, parseFlags } from './args.js'
import { CarbError, isCarbError } from '../errors.js'
import { loadConfig } from '../config/load.js'
import { realClock } from '../clock.js'
import { LOG_FORMATS, createLogger, stdoutIsJournal, type LogFormat } from '../runtime/log.js'
import { NodeRuntime } from '../runtime/node.js'

export async function nodeRun(args: string[]): Promise<number> {
  const { values } = parseFlags('node run', args, { config: { type: 'string', short: 'c' }, node: { type: 'string', short: 'n' }, 'log-format': { type: 'string' } })
  const config = await configFrom('node run', values)
  const name = nodeNameFrom('node run', values, config)
  // Under systemd with stdout to the journal, lines carry syslog priorities unless told otherwise.
  const format = (values['log-format'] ?? (stdoutIsJournal(process.env) ? 'journald' : 'plain')) as string
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new CarbError('CARB_ERR_USAGE', `node run: --log-format must be one of ${LOG_FORMATS.join(', ')}, got "${format}"`)
  const log = createLogger(name, format as LogFormat, realClock)
  const runtime = await NodeRuntime.start({ config, nodeName: name, log })
  // Exit 1 when a service did not stop in time: the node left without writing "down", and
  // its leases stay held until it is fenced or counted gone (systemd shows the unit failed).
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.log('info', `${signal}: leaving the cluster cleanly`)
      runtime.stop().then((stoppedAll) => resolve(stoppedAll ? 0 : 1), (error: unknown) => { log.log('error', String(error)); resolve(1) })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    // systemctl reload: the cluster key files again (a key rotation); nothing else changes without a restart.
    process.on('SIGHUP', () => {
      loadConfig(config.file).then((fresh) => runtime.reloadKeys(fresh)).catch((error: unknown) => {
        log.log('error', `SIGHUP: keys not reloaded, the old ones stay in use: ${isCarbError(error) ? error.oneLine() : String(error)}`)
      })
    })
  })
}
