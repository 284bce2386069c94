/** The command table: name, usage, what it does, and the Kimberlite command it replaces. */
import { nodeRun } from './node-run.js'
import { status } from './status.js'
import { diskInitCommand, diskPrintCommand, diskTestCommand } from './disk.js'
import { journalExport } from './journal.js'
import { replay } from './replay.js'
import { viz } from './viz.js'
import { demo } from './demo.js'
import { installCommand } from './install.js'
import { CarbError } from '../errors.js'
import { generateKeyFile } from '../net/key-file.js'
import { fenceAck, fenceNode, fenceStatus } from './fence.js'
import { configInit } from './config-init.js'
import { configJoin } from './config-join.js'
import { configBackup, configRestore, serviceAdd, serviceDelete, serviceDisable, serviceEnable, serviceList, serviceModify, serviceRelocate, serviceRestart, serviceShow } from './service.js'

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
  { name: 'node run', usage: '-c FILE [--node NAME] [--log-format plain|json|journald]', summary: 'run this node (foreground; systemd runs it so)', kimberlite: 'service cluster start', run: nodeRun },
  { name: 'status', usage: '-c FILE [--node NAME] [--interval S] [--json]', summary: "one node's view of every member", kimberlite: 'clustat -i 2', run: status },
  { name: 'disk init', usage: '(-c FILE | --disk PATH --cluster NAME) [--force] [--block-size 512|4096] [--max-services N]', summary: 'write a fresh quorum area (refuses a Carbonado disk without --force)', kimberlite: 'diskutil -I', run: diskInitCommand },
  { name: 'disk test', usage: '(-c FILE [--node NAME] | --disk PATH --node-id N) [--json]', summary: "write and read back this node's scratch block; report latency", kimberlite: 'diskutil -t', run: diskTestCommand },
  { name: 'disk print', usage: '(-c FILE | --disk PATH) [--json]', summary: 'header and every node status block', kimberlite: 'diskutil -p', run: diskPrintCommand },
  { name: 'journal export', usage: '-c FILE [--node NAME] --out FILE', summary: "copy a running node's journal through its control socket", kimberlite: '(none)', run: journalExport },
  { name: 'replay', usage: '--journal DIR|FILE [--journal ...] [--json] [--explain [--service NAME] [--node NAME] [--from TIME] [--to TIME] [--decisions-only] [--width N]] [--what-if FILE] [--progress]', summary: 'rerun the recorded inputs through fresh machines (exit 1 on the first difference); --explain says why each decision was taken, merging several nodes; --what-if tries other settings', kimberlite: '(none; Pacemaker: crm_simulate)', run: replay },
  { name: 'service add', usage: 'NAME -c FILE [--node NAME] --domain N1,N2,.. --resource YAML.. [--failback on|off] [--failback-stable-ms MS] [--policy restart-then-relocate|relocate|disable] [--max-restarts N] [--window-ms MS] [--disabled] | --from FILE', summary: 'define a service (resources start in the order given)', kimberlite: 'cluadmin -- service add', run: serviceAdd },
  { name: 'service modify', usage: 'NAME -c FILE [--node NAME] [the flags of service add; --resource replaces the list] | --from FILE', summary: 'change a service definition (clears a standing relocation)', kimberlite: 'cluadmin -- service modify', run: serviceModify },
  { name: 'service delete', usage: 'NAME -c FILE [--node NAME]', summary: 'remove a disabled service', kimberlite: 'cluadmin -- service delete', run: serviceDelete },
  { name: 'service show', usage: 'NAME -c FILE [--node NAME] [--json]', summary: 'definition, lease holder and state on this node', kimberlite: 'cluadmin -- service show config', run: serviceShow },
  { name: 'service list', usage: '-c FILE [--node NAME] [--json]', summary: 'every service, its owner and where placement wants it', kimberlite: 'cluadmin -- service show state', run: serviceList },
  { name: 'service enable', usage: 'NAME -c FILE [--node NAME]', summary: 'let the cluster run the service', kimberlite: 'cluadmin -- service enable', run: serviceEnable },
  { name: 'service disable', usage: 'NAME -c FILE [--node NAME]', summary: 'stop the service and keep it stopped', kimberlite: 'cluadmin -- service disable', run: serviceDisable },
  { name: 'service relocate', usage: 'NAME -c FILE [--node NAME] [--to NODE]', summary: 'stop on the owner, start on NODE (default: the next node of its domain)', kimberlite: 'cluadmin -- service relocate', run: serviceRelocate },
  { name: 'service restart', usage: 'NAME -c FILE [--node NAME]', summary: 'stop and start on its owner (not counted as a failure)', kimberlite: '(none)', run: serviceRestart },
  { name: 'config init', usage: '[--out FILE] [--cluster NAME] [--disk PATH] [--node NAME:ID:HOST:PORT[,HOST:PORT]...]... [--fence NODE=AGENT[:key=value,...]|NODE=poison-pill]... [--key-file PATH] [--timing NAME=MS]... [--yes] [--no-disk-write] [--init-disk] [--force]', summary: 'write the cluster file (asks on a terminal for what the flags leave out) and store it on the quorum disk', kimberlite: 'member_config', run: configInit },
  { name: 'config join', usage: '--disk DEV [--out FILE] [--node NAME] [--force]', summary: 'copy the cluster file stored on the quorum disk to this node', kimberlite: 'member_config --init=/dev/raw/raw1', run: configJoin },
  { name: 'config backup', usage: 'FILE -c FILE [--node NAME]', summary: 'write the service configuration to a YAML file', kimberlite: 'cluadmin -- cluster backup', run: configBackup },
  { name: 'config restore', usage: 'FILE -c FILE [--node NAME]', summary: 'make a backup the next configuration version', kimberlite: 'cluadmin -- cluster restore', run: configRestore },
  { name: 'fence', usage: 'NODE -c FILE [--node NAME] [--wait S]', summary: "fence NODE now through its fencing topology; wait for the outcome (exit 0 fenced)", kimberlite: '(power switch by hand)', run: fenceNode },
  { name: 'fence ack', usage: 'NODE -c FILE [--node NAME] --yes', summary: 'confirm NODE is off, so its services may move (journaled)', kimberlite: '(none; fence_ack_manual in Red Hat Cluster)', run: fenceAck },
  { name: 'fence status', usage: '-c FILE [--node NAME] [--json]', summary: "this node's fencing operations and why each stands where it does", kimberlite: '(none)', run: fenceStatus },
  { name: 'viz', usage: '--out FILE [--journal PATH]... [--format html|mermaid|svg] [--machine TYPE]', summary: 'draw the state charts from the machine definitions (one offline HTML page); --journal overlays an incident, decision by decision', kimberlite: '(web GUI to watch the cluster)', run: viz },
  { name: 'install', usage: '[--dry-run] [--root DIR] [--group NAME] [--force] [--exec PATH] | --print-unit [--exec PATH]', summary: 'as root: the cluster group, /etc/carbonado (example config, key), /var/lib/carbonado, carbonado.service; idempotent', kimberlite: '(rpm -i clumanager)', run: installCommand },
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
  'Service changes take --expect-version N: applied only if the configuration is still at version N.',
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
