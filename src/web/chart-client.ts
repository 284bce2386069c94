/**
 * What a page needs beside the chart SVG: its CSS and the browser-side highlight function.
 * Highlighting only adds CSS classes, `current` on states and `taken` on transitions, so any
 * page (the visualizer, the live dashboard) can restyle them.
 */

export const CHART_CSS = `
svg.chart { font-family: system-ui, "Segoe UI", Helvetica, Arial, sans-serif; background: #ffffff; }
svg.chart .chart-title { font-size: 15px; font-weight: 600; fill: #1f2933; }
svg.chart .root-heading { font-size: 11px; font-style: italic; fill: #52606d; }
svg.chart g.state > rect.box { fill: #f5f7fa; stroke: #52606d; stroke-width: 1.2; }
svg.chart g.state.compound > rect.box, svg.chart g.state.parallel > rect.box { fill: #fbfcfd; }
svg.chart g.state.region > rect.box { fill: none; stroke: none; }
svg.chart g.state.final > rect.inner { fill: none; stroke: #52606d; stroke-width: 1; }
svg.chart g.state > text.name { font-size: 13px; fill: #1f2933; }
svg.chart g.state.compound > text.name, svg.chart g.state.parallel > text.name { font-weight: 600; }
svg.chart g.state.region > text.name { font-style: italic; fill: #52606d; }
svg.chart g.transition path.edge { fill: none; stroke: #7b8794; stroke-width: 1.2; }
svg.chart g.transition polygon.arrow { fill: #7b8794; }
svg.chart g.transition rect.label-bg { fill: #ffffff; fill-opacity: 0.85; }
svg.chart g.transition text.label, svg.chart g.transition text.root-line { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 11px; fill: #323f4b; }
svg.chart tspan.internal { fill: #52606d; font-style: italic; }
svg.chart g.transition.internal line.divider { stroke: #9aa5b1; stroke-width: 1; }
svg.chart g.initial-marker circle, svg.chart g.initial-marker polygon { fill: #1f2933; }
svg.chart g.initial-marker line { stroke: #1f2933; stroke-width: 1.2; }
svg.chart line.region-separator { stroke: #9aa5b1; stroke-width: 1.2; stroke-dasharray: 6 4; }
svg.chart g.state.current > rect.box { fill: #fff3c4; stroke: #cb6e17; stroke-width: 2.5; }
svg.chart g.state.current.compound > rect.box, svg.chart g.state.current.parallel > rect.box { fill: #fffbea; }
svg.chart g.state.current.region > rect.box { fill: #fffbea; stroke: none; }
svg.chart g.state.current > text.name { font-weight: 700; }
svg.chart g.transition.taken path.edge { stroke: #d64545; stroke-width: 2.5; }
svg.chart g.transition.taken polygon.arrow { fill: #d64545; }
svg.chart g.transition.taken text.label, svg.chart g.transition.taken text.root-line { fill: #ab091e; }
svg.chart g.transition.taken tspan.event-taken { font-weight: 700; text-decoration: underline; }
`

/**
 * Defines `window.carbonadoHighlight(svg, statePath, transition)`: clears the previous
 * highlight of that chart, marks `current` on the state at `statePath` and its ancestors
 * (`statePath` may be an array of leaf paths, for parallel states; null marks none), and
 * `taken` on the edge of `transition` ({ from, to, event } with state paths, or null).
 * The edge is searched from the most to the least exact: same ends and the event; declared on
 * an ancestor (an "in every state" transition included) with the event; then same ends with
 * any event (the eventless or delayed step that followed the input). Returns the number of
 * edges marked.
 */
export const CHART_CLIENT_JS = `
(function () {
  function quote(s) { return '"' + String(s).replace(/["\\\\]/g, '\\\\$&') + '"'; }
  function ancestors(path) {
    var parts = String(path).split('.'), out = [];
    for (var i = 1; i <= parts.length; i++) out.push(parts.slice(0, i).join('.'));
    return out;
  }
  function within(outer, inner) { return outer === '' || outer === inner || inner.indexOf(outer + '.') === 0; }
  function findTaken(svg, t) {
    var all = Array.prototype.slice.call(svg.querySelectorAll('g.transition'));
    function has(g) { return (g.getAttribute('data-events') || '').split(' ').indexOf(t.event) >= 0; }
    function from(g) { return g.getAttribute('data-from') || ''; }
    function to(g) { return g.getAttribute('data-to') || ''; }
    var tiers = [
      function (g) { return has(g) && from(g) === t.from && to(g) === t.to; },
      function (g) { return has(g) && within(from(g), t.from) && within(to(g), t.to); },
      function (g) { return from(g) !== '' && within(from(g), t.from) && within(to(g), t.to) && from(g) !== to(g); }
    ];
    for (var i = 0; i < tiers.length; i++) {
      var found = all.filter(tiers[i]);
      if (found.length > 0) return found;
    }
    return [];
  }
  window.carbonadoHighlight = function (svg, statePath, transition) {
    Array.prototype.forEach.call(svg.querySelectorAll('.current, .taken, .event-taken'), function (el) {
      el.classList.remove('current', 'taken', 'event-taken');
    });
    var paths = statePath == null ? [] : Array.isArray(statePath) ? statePath : [statePath];
    paths.forEach(function (p) {
      ancestors(p).forEach(function (a) {
        var g = svg.querySelector('g.state[data-state=' + quote(a) + ']');
        if (g) g.classList.add('current');
      });
    });
    if (!transition) return 0;
    var taken = findTaken(svg, transition);
    taken.forEach(function (g) {
      g.classList.add('taken');
      Array.prototype.forEach.call(g.querySelectorAll('tspan[data-event=' + quote(transition.event) + ']'), function (s) { s.classList.add('event-taken'); });
    });
    return taken.length;
  };
})();
`
