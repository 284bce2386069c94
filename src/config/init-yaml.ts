/**
 * The cluster file `config init` writes, from its answers (pure). Only what was answered is
 * written; every other field keeps its documented default. The text is checked by the real
 * loader (`parseConfig`) before it goes anywhere: a file that would not load is never written.
 */
import { stringify } from 'yaml'
import { parseConfig, type ClusterConfig } from './load.js'
import type { InitAnswers } from './init-answers.js'

export function clusterYaml(answers: InitAnswers): string {
  const document: Record<string, unknown> = {
    cluster: answers.cluster,
    disk: answers.disk,
    authKeyFile: answers.authKeyFile,
  }
  if (Object.keys(answers.timing).length > 0) document.timing = answers.timing
  document.nodes = [...answers.nodes].sort((a, b) => a.id - b.id).map((node) => {
    const fence = answers.fence.get(node.name) ?? []
    return { name: node.name, id: node.id, heartbeat: node.heartbeat, ...(fence.length > 0 ? { fence } : {}) }
  })
  const header = [
    '# Carbonado cluster file, written by `carbonado config init`; the same on every node.',
    '# Also stored on the quorum disk: `carbonado config join --disk DEV` copies it to another node.',
    '# Every field and default: README.md, "Configuration".',
  ]
  return `${header.join('\n')}\n${stringify(document, { lineWidth: 0 })}`
}

/** The text as the loader reads it at `file`: throws the loader's one-line error. */
export function validateClusterYaml(text: string, file: string): ClusterConfig {
  return parseConfig(text, file)
}
