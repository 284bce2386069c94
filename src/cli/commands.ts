/** The command table: name, usage, what it does, and the Kimberlite command it replaces. */
import { nodeRun } from './node-run.js'
import { status } from './status.js'
import { diskInitCommand, diskPrintCommand, diskTestCommand } from './disk.js'
import { journalExport, replay } from './journal.js'
import { demo } from './demo.js'
import { CarbError } from '../errors.js'
import { generateKeyFile } from '../net/key-file.js'

export interface Command {
  name: string
  usage: string
  summary: string
  kimberlite: string
  run(args: string[]): Promise<number>
}

async function keyGenerate(args: string[]): Promise<number> {
  const [file, extra] = args
  if (file === undefined || extra !== undefined || file.startsWith('-')) throw new CarbError('CARB_ERR_USAGE', 'key generate: give exactly one FILE')
  await generateKeyFile(file)
  process.stdout.write(`wrote a new cluster key to ${file} (mode 0600); copy it to every node\n`)
  return 0
}

export const COMMANDS: readonly Command[] = [
  { name: 'node run', usage: '-c FILE [--node NAME] [--log-format plain|json]', summary: 'run this node (foreground; systemd runs it so)', kimberlite: 'service cluster start', run: nodeRun },
  { name: 'status', usage: '-c FILE [--node NAME] [--interval S] [--json]', summary: "one node's view of every member", kimberlite: 'clustat -i 2', run: status },
  { name: 'disk init', usage: '(-c FILE | --disk PATH --cluster NAME) [--force] [--block-size 512|4096]', summary: 'write a fresh quorum area (refuses a Carbonado disk without --force)', kimberlite: 'diskutil -I', run: diskInitCommand },
  { name: 'disk test', usage: '(-c FILE [--node NAME] | --disk PATH --node-id N) [--json]', summary: "write and read back this node's scratch block; report latency", kimberlite: 'diskutil -t', run: diskTestCommand },
  { name: 'disk print', usage: '(-c FILE | --disk PATH) [--json]', summary: 'header and every node status block', kimberlite: 'diskutil -p', run: diskPrintCommand },
  { name: 'journal export', usage: '-c FILE [--node NAME] --out FILE', summary: "copy a running node's journal through its control socket", kimberlite: '(none)', run: journalExport },
  { name: 'replay', usage: '--journal DIR|FILE [--json]', summary: 'rerun the recorded inputs through fresh machines; exit 1 on the first difference', kimberlite: '(none)', run: replay },
  { name: 'key generate', usage: 'FILE', summary: 'create the cluster authentication key (0600)', kimberlite: '(none: Kimberlite heartbeats were not authenticated)', run: keyGenerate },
  { name: 'demo', usage: '[--nodes N] [--interval S] [--duration S] [--dir DIR] [--keep]', summary: 'a local cluster on loopback in a temp dir; kill a node and watch', kimberlite: '(none)', run: demo },
]

export const HELP = [
  'carbonado: high-availability cluster runtime (quorum disk, authenticated heartbeats, replayable decisions)',
  '',
  'Usage: carbonado COMMAND [flags]     carbonado COMMAND --help',
  '',
  ...COMMANDS.map((c) => `  ${c.name.padEnd(15)} ${c.summary}`),
  '',
  'Exit codes: 0 ok; 1 failure (replay divergence, disk test failure, runtime error); 2 usage or configuration error.',
  '',
].join('\n')

export function commandHelp(name: string): string {
  const c = COMMANDS.find((x) => x.name === name || x.name.startsWith(`${name} `))
  if (c === undefined) return HELP
  const group = COMMANDS.filter((x) => x.name === name || x.name.startsWith(`${name} `))
  return `${group.map((x) => `Usage: carbonado ${x.name} ${x.usage}\n  ${x.summary}\n  Kimberlite: ${x.kimberlite}`).join('\n\n')}\n`
}
