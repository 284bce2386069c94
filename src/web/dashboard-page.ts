/**
 * The dashboard page, Kimberlite's cluster monitor redone: one HTML document with its CSS
 * and script inline (nothing is fetched from anywhere but this node's own /api), the tables
 * empty until the first model arrives over /api/events. The only values written into the
 * HTML here are the cluster and node names (escaped); the state charts are the renderer's
 * SVG, one `<template>` per machine type, cloned per machine by the script.
 */
import { DASHBOARD_CLIENT_JS } from './dashboard-client.js'

/** The chart renderer's output for the page (dashboard-charts.ts). */
export interface ChartAssets {
  /** Machine type → its chart's SVG. */
  svgByType: Record<string, string>
  css: string
  /** Browser code defining `window.carbonadoHighlight`. */
  js: string
}

export interface PageInputs { nonce: string; cluster: string; node: string; charts: ChartAssets }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** A script's text may not close its element. */
const scriptSafe = (code: string): string => code.replace(/<\/(script)/gi, '<\\/$1')

const PAGE_CSS = `
:root { --ink: #1d2330; --muted: #667085; --line: #d8dde6; --bg: #f5f7fa; --head: #20324d; --ok: #1a7f37; --warn: #9a6700; --bad: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { background: var(--head); color: #fff; padding: 12px 20px; display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; }
header h1 { font-size: 20px; margin: 0; }
header .meta { color: #c8d3e6; }
#connection { padding: 1px 8px; border-radius: 10px; background: #55657f; }
#connection.live { background: var(--ok); }
#connection.down { background: var(--bad); }
main { padding: 12px 20px 40px; display: grid; gap: 16px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; }
table.empty tbody::after { content: "none"; color: var(--muted); }
.state { display: inline-block; padding: 0 6px; border-radius: 4px; background: #e8ecf2; font-family: ui-monospace, monospace; }
.state-member, .state-up, .state-running, .state-fenced { background: #dcf3e3; color: var(--ok); }
.state-suspect, .state-joining, .state-starting, .state-stopping, .state-fencing, .state-waiting { background: #fff3cd; color: var(--warn); }
.state-dead, .state-out, .state-failed { background: #fde2e1; color: var(--bad); }
#decisions td:nth-child(1), #decisions td:nth-child(2) { white-space: nowrap; font-family: ui-monospace, monospace; font-size: 12px; }
.actions button { margin-right: 4px; }
body.read-only .actions button { display: none; }
body.read-only #token-form { display: none; }
#read-only-note { display: none; color: var(--muted); }
body.read-only #read-only-note { display: inline; }
#decisions .evidence { color: var(--muted); font-size: 12px; padding-left: 12px; }
#action-result.ok { color: var(--ok); }
#action-result.error { color: var(--bad); }
#charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.machine { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff; max-width: 100%; overflow: auto; }
figure.machine figcaption { font-family: ui-monospace, monospace; font-size: 12px; margin-bottom: 4px; }
`

const MEMBERS_HEAD = ['ID', 'Node', 'State', 'Inc', 'Disk seq', 'Last disk write', 'Last heartbeat (per channel)', 'Problem']
const SERVICES_HEAD = ['Service', 'Enabled', 'Owner', 'State here', 'Lease', 'Placement', 'Actions']
const FENCING_HEAD = ['Target', 'State', 'Requested by', 'Reason', 'Proof or last try']
const DECISIONS_HEAD = ['Time (UTC)', 'Machine', 'From \u2192 to', 'Event', 'Why (summary, then the readings it was decided on)']

function table(id: string, head: string[]): string {
  return `<table id="${id}" class="empty"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody></tbody></table>`
}

function templates(charts: ChartAssets): string {
  return Object.entries(charts.svgByType).map(([type, svg]) => `<template id="chart-${escapeHtml(type)}">${svg}</template>`).join('\n')
}

export function dashboardPage({ nonce, cluster, node, charts }: PageInputs): string {
  const title = `Carbonado: ${escapeHtml(cluster)} (${escapeHtml(node)})`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">
<style>${PAGE_CSS}
${charts.css}</style></head>
<body>
<header><h1>Cluster <span id="cluster">${escapeHtml(cluster)}</span></h1>
<span class="meta">seen from <b id="node">${escapeHtml(node)}</b> (incarnation <span id="incarnation">-</span>), configuration version <span id="config-version">-</span></span>
<span class="meta" id="updated"></span><span id="connection">connecting\u2026</span></header>
<main>
<section><h2>Members</h2>${table('members', MEMBERS_HEAD)}</section>
<section><h2>Services</h2>${table('services', SERVICES_HEAD)}
<div class="admin"><form id="token-form" autocomplete="off"><label>Admin token <input type="password" id="token" autocomplete="off" size="40"></label>
<button type="submit">Use</button> <button type="button" id="token-forget">Forget</button> <span id="token-state"></span></form>
<span id="read-only-note">Read-only dashboard (no dashboard.tokenFile): change services with the carbonado CLI.</span>
<span id="action-result" role="status"></span></div></section>
<section><h2>Fencing operations</h2>${table('fencing', FENCING_HEAD)}</section>
<section><h2>State charts (this node's machines, current state highlighted)</h2><div id="charts"></div></section>
<section><h2>Last decisions (newest first)</h2>${table('decisions', DECISIONS_HEAD)}</section>
</main>
${templates(charts)}
<script nonce="${escapeHtml(nonce)}">${scriptSafe(charts.js)}
${scriptSafe(DASHBOARD_CLIENT_JS)}</script>
</body></html>
`
}
