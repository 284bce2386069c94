/**
 * What `carbonado disk init|test|print` do (Kimberlite's `diskutil -I`, `-t`, `-p`), as
 * functions that return data and printable text and never exit. Every result except `text`
 * is JSON-able (sequence numbers become numbers; errors become their one-line form) for `--json`.
 */
import type { CarbError } from '../errors.js'
import { QuorumDisk, type InitOptions, type OpenOptions, type StatusRead } from './quorum-disk.js'
import type { HeaderPayload, NodeState } from './payloads.js'

export function diskInit(path: string, options: InitOptions): Promise<HeaderPayload> {
  return QuorumDisk.init(path, options)
}

export interface DiskTestResult {
  path: string; clusterName: string; nodeId: number
  ok: boolean; writeMs: number; readMs: number; seq: number
  primaryOk: boolean; shadowOk: boolean; directIo: boolean; errors: string[]
  text: string
}

export async function diskTest(path: string, nodeId: number, options: OpenOptions = {}): Promise<DiskTestResult> {
  const disk = await QuorumDisk.open(path, options)
  try {
    const r = await disk.testScratch(nodeId)
    const errors = r.errors.map((e) => e.oneLine())
    const verdict = r.ok ? 'ok' : 'FAILED'
    const lines = [
      `disk test ${path} (cluster ${disk.header.clusterName}) as node ${nodeId}: ${verdict}`,
      `  write both copies ${r.writeMs.toFixed(2)} ms, read both back ${r.readMs.toFixed(2)} ms${r.directIo ? ' (O_DIRECT)' : ' (page cache: O_DIRECT unavailable)'}`,
      `  primary ${r.primaryOk ? 'ok' : 'FAILED'}, shadow ${r.shadowOk ? 'ok' : 'FAILED'}`,
      ...errors.map((e) => `  ${e}`),
    ]
    return {
      path, clusterName: disk.header.clusterName, nodeId, ok: r.ok, writeMs: r.writeMs, readMs: r.readMs, seq: Number(r.seq),
      primaryOk: r.primaryOk, shadowOk: r.shadowOk, directIo: r.directIo, errors, text: lines.join('\n'),
    }
  } finally {
    await disk.close()
  }
}

export type PrintedNode =
  | { nodeId: number; ok: true; name: string; state: NodeState; incarnation: number; seq: number; wallMs: number; writtenAt: string; source: 'primary' | 'shadow' }
  | { nodeId: number; ok: false; empty: boolean; error: { code: string; message: string } }

export interface DiskPrintResult {
  path: string
  header: HeaderPayload & { headerSource: 'primary' | 'shadow'; directIo: boolean }
  nodes: PrintedNode[]
  text: string
}

function printedNode(read: StatusRead): PrintedNode {
  if (!read.ok) return { nodeId: read.nodeId, ok: false, empty: read.empty === true, error: errorJson(read.error) }
  const { name, state, incarnation, wallMs } = read.status
  return { nodeId: read.nodeId, ok: true, name, state, incarnation, seq: Number(read.seq), wallMs, writtenAt: new Date(wallMs).toISOString(), source: read.source }
}

function errorJson(error: CarbError): { code: string; message: string } {
  return { code: error.code, message: error.message }
}

export async function diskPrint(path: string, options: OpenOptions = {}): Promise<DiskPrintResult> {
  const disk = await QuorumDisk.open(path, options)
  try {
    const nodes = (await disk.readAllStatus()).map(printedNode)
    const header = { ...disk.header, headerSource: disk.headerSource, directIo: disk.directIo }
    return { path, header, nodes, text: printText(path, header, nodes) }
  } finally {
    await disk.close()
  }
}

const COLUMNS = ['ID', 'NAME', 'STATE', 'INC', 'SEQ', 'WRITTEN (wall)', 'SOURCE'] as const

function nodeRow(node: PrintedNode): string[] {
  if (node.ok) return [String(node.nodeId), node.name, node.state, String(node.incarnation), String(node.seq), node.writtenAt, node.source]
  if (node.empty) return [String(node.nodeId), '-', 'empty', '', '', '', '']
  return [String(node.nodeId), '-', node.error.code, '', '', '', node.error.message]
}

/** Columns padded to their widest cell; the last column is left ragged. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd()).join('\n')
}

function printText(path: string, header: DiskPrintResult['header'], nodes: PrintedNode[]): string {
  const lines = [
    `quorum disk ${path}`,
    `  cluster      ${header.clusterName} (uuid ${header.clusterUuid})`,
    `  created      ${new Date(header.createdAtWallMs).toISOString()}`,
    `  geometry     block size ${header.blockSize} bytes, ${header.maxNodes} nodes, ${header.maxServices} services, ${header.configBlocks} config blocks`,
    `  header from  ${header.headerSource} copy`,
    `  reads        ${header.directIo ? 'O_DIRECT (page cache bypassed)' : 'page cache (O_DIRECT unavailable)'}`,
    '',
    formatTable([COLUMNS, ...nodes.map(nodeRow)]),
  ]
  return lines.join('\n')
}
