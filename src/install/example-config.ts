/**
 * cluster.yaml.example: a cluster file that loads as it is (two nodes, placeholders to
 * change), with every field of CONFIG_REFERENCE, its default and its reason in comments, so
 * the example cannot drift from the loader.
 */
import { CONFIG_REFERENCE } from '../config/load.js'

/** Comment lines no wider than this (a terminal with a margin). */
const COMMENT_WIDTH = 96

function wrap(text: string, indent: string): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > COMMENT_WIDTH) { lines.push(`${indent}${line}`); line = word } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(`${indent}${line}`)
  return lines
}

function referenceComments(): string[] {
  const out: string[] = []
  for (const entry of CONFIG_REFERENCE) {
    out.push(`# ${entry.field}   [default: ${entry.default}]`, ...wrap(entry.reason, '#     '))
  }
  return out
}

/** `timing:` and `fencing:` as commented YAML with their numeric defaults, ready to uncomment. */
function tunableSections(): string[] {
  const out: string[] = []
  for (const section of ['timing', 'fencing']) {
    out.push(`# ${section}:`)
    for (const entry of CONFIG_REFERENCE.filter((e) => e.field.startsWith(`${section}.`))) {
      const value = /^\d+/.exec(entry.default)?.[0] ?? entry.default
      out.push(`#   ${entry.field.slice(section.length + 1)}: ${value}`)
    }
  }
  return out
}

export function renderExampleConfig(): string {
  return [
    '# cluster.yaml.example: written by `carbonado install` from the configuration reference of this',
    '# release, and rewritten by the next install (your cluster.yaml never is). To use it:',
    '#   cp /etc/carbonado/cluster.yaml.example /etc/carbonado/cluster.yaml',
    '# then change cluster, disk and nodes below, and put the same file on every node.',
    '# Paths are relative to this file; unknown fields are errors.',
    '#',
    '# Every field, its default, and why:',
    '#',
    ...referenceComments(),
    '',
    'cluster: web                            # CHANGE: the cluster name',
    'disk: /dev/disk/by-id/wwn-CHANGE-ME     # CHANGE: the shared quorum disk (`carbonado disk init` writes it)',
    '# authKeyFile: /etc/carbonado/authkey   # `carbonado install` made it on this node: copy it to the others',
    '# journalDir: /var/lib/carbonado/journal',
    '# controlSocket: /run/carbonado/carbonado.sock',
    ...tunableSections(),
    'nodes:                                  # CHANGE: one entry per machine; name = its host name',
    '  - name: node1',
    '    id: 1',
    '    heartbeat: ["192.168.1.1:7400", "10.0.0.1:7400"]   # channel 0 on the LAN, channel 1 on a second network',
    '    # fence: [{method: agent, agent: /usr/sbin/fence_ipmilan, params: {ip: 192.168.2.1, username: admin, password: CHANGE-ME, lanplus: 1}}]',
    '  - name: node2',
    '    id: 2',
    '    heartbeat: ["192.168.1.2:7400", "10.0.0.2:7400"]',
    '',
  ].join('\n')
}
