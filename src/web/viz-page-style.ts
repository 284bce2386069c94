/** The visualizer page's CSS (the charts' own is CHART_CSS). Generic fonts only: the page loads nothing. */
export const VIZ_PAGE_CSS = `
body { font-family: system-ui, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; padding: 16px 24px; color: #1f2933; background: #eef1f5; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 4px 0; }
h4 { font-size: 13px; margin: 10px 0 2px; color: #52606d; }
header p { margin: 2px 0; }
header a { margin-right: 8px; }
ul.legend { font-size: 12px; color: #52606d; margin: 6px 0 12px; padding-left: 18px; }
section.machine, section.incident { background: #fff; border: 1px solid #d9e2ec; border-radius: 6px; padding: 12px 16px; margin: 0 0 16px; }
.chart-scroll { overflow-x: auto; }
.controls { display: flex; align-items: center; gap: 8px; margin: 6px 0 10px; }
.controls input[type=range] { flex: 1; }
.controls .hint { font-size: 12px; color: #7b8794; }
.incident-body { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; }
ol.timeline { list-style: none; margin: 0; padding: 0; max-height: 360px; overflow-y: auto; border: 1px solid #d9e2ec; border-radius: 4px; font-size: 12px; }
ol.timeline li { padding: 4px 8px; border-bottom: 1px solid #eef1f5; cursor: pointer; }
ol.timeline li:hover { background: #f5f7fa; }
ol.timeline li.selected { background: #fff3c4; }
ol.timeline time { font-family: ui-monospace, monospace; color: #52606d; }
ol.timeline .node { font-weight: 700; }
ol.timeline .machine-id { font-family: ui-monospace, monospace; }
ol.timeline .event { font-family: ui-monospace, monospace; color: #52606d; }
ol.timeline .summary { color: #52606d; }
.detail { font-size: 13px; }
.detail ul { margin: 0; padding-left: 18px; }
.detail pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: 12px; }
.focus { margin-top: 12px; border-top: 1px solid #d9e2ec; padding-top: 8px; }
.instances { margin-top: 8px; }
.node-group h3 { font-size: 14px; color: #52606d; }
.node-group .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); gap: 10px; }
figure.instance { margin: 0; border: 1px solid #d9e2ec; border-radius: 4px; padding: 6px; background: #fff; }
figure.instance.selected { border: 2px solid #d64545; }
figure.instance figcaption { font-size: 13px; margin-bottom: 4px; }
figure.instance .machine-id { font-family: ui-monospace, monospace; font-weight: 700; }
figure.instance .subject { color: #52606d; }
figure.instance .state-name { float: right; background: #fff3c4; border: 1px solid #cb6e17; border-radius: 3px; padding: 0 6px; }
figure.instance svg.chart { width: 100%; height: auto; max-height: 420px; }
`
