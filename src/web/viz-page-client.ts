/**
 * The visualizer page's own script (inline, no network): the incident overlay. It reads the
 * incident view (incident-view.ts) from its JSON script element, gives every machine instance
 * a card with a copy of its type's chart, and on each selected moment (timeline click, slider,
 * keyboard ←/→) folds the steps up to it: each live instance's current state is highlighted
 * (window.carbonadoHighlight from CHART_CLIENT_JS), the selected decision's transition marked
 * (on its instance's card and on a full-size copy beside the evidence, #focus-chart), and its
 * summary, evidence, effects and input shown.
 */
export const VIZ_PAGE_JS = `
(function () {
  var source = document.getElementById('carbonado-incident');
  if (!source) return;
  var view = JSON.parse(source.textContent);
  var slider = document.getElementById('moment');
  var label = document.getElementById('moment-label');
  var items = Array.prototype.slice.call(document.querySelectorAll('#timeline li'));
  var cards = {};
  var selected = -1;

  function master(type) { return document.querySelector('section.machine svg.chart[data-machine-type="' + type + '"]'); }

  function copyOf(type) {
    var chart = master(type);
    if (!chart) return null;
    var copy = chart.cloneNode(true);
    copy.removeAttribute('aria-labelledby');
    Array.prototype.forEach.call(copy.querySelectorAll('[id]'), function (el) { el.removeAttribute('id'); });
    return copy;
  }

  function showFocus(s, current) {
    var holder = document.getElementById('focus-chart');
    var chart = holder.querySelector('svg.chart');
    if (!chart || chart.getAttribute('data-machine-type') !== s.type) {
      holder.textContent = '';
      chart = copyOf(s.type);
      if (!chart) return;
      holder.appendChild(chart);
    }
    holder.setAttribute('data-instance', s.instance);
    document.getElementById('focus-title').textContent = 'node ' + s.node + ', ' + s.machine + ': ' + (current[s.instance] || []).join(', ');
    window.carbonadoHighlight(chart, current[s.instance] || [], s.taken);
  }

  function buildCards() {
    Array.prototype.forEach.call(document.querySelectorAll('figure.instance'), function (card) {
      var copy = copyOf(card.getAttribute('data-machine-type'));
      if (!copy) return;
      card.querySelector('.chart-holder').appendChild(copy);
      cards[card.getAttribute('data-instance')] = card;
    });
  }

  function fill(list, lines) {
    list.textContent = '';
    lines.forEach(function (line) { var li = document.createElement('li'); li.textContent = line; list.appendChild(li); });
  }

  function showDetail(s, i) {
    document.getElementById('decision-title').textContent = 'Decision ' + (i + 1) + ' of ' + view.steps.length + ': ' + s.node + ' ' + s.machine;
    document.getElementById('decision-summary').textContent = s.summary;
    fill(document.getElementById('decision-evidence'), s.evidence);
    fill(document.getElementById('decision-effects'), s.effects.length ? s.effects : ['(none)']);
    document.getElementById('decision-input').textContent = s.input;
  }

  function currentStates(i) {
    var current = {};
    view.instances.forEach(function (m) { current[m.key] = m.initialPaths; });
    for (var j = 0; j <= i; j++) current[view.steps[j].instance] = view.steps[j].toPaths;
    return current;
  }

  function select(i) {
    if (view.steps.length === 0) return;
    i = Math.max(0, Math.min(view.steps.length - 1, i));
    selected = i;
    var s = view.steps[i];
    var current = currentStates(i);
    view.instances.forEach(function (m) {
      var card = cards[m.key];
      if (!card) return;
      var alive = i >= m.bornIndex && (m.goneIndex === null || i < m.goneIndex);
      var mine = m.key === s.instance;
      card.hidden = !alive && !mine;
      card.classList.toggle('selected', mine);
      card.querySelector('.state-name').textContent = current[m.key].join(', ');
      window.carbonadoHighlight(card.querySelector('svg.chart'), current[m.key], mine ? s.taken : null);
    });
    items.forEach(function (li, n) { li.classList.toggle('selected', n === i); li.setAttribute('aria-selected', n === i ? 'true' : 'false'); });
    if (items[i] && items[i].scrollIntoView) items[i].scrollIntoView({ block: 'nearest' });
    slider.value = String(i);
    label.textContent = (i + 1) + ' / ' + view.steps.length + ' at ' + s.time;
    showDetail(s, i);
    showFocus(s, current);
  }

  buildCards();
  slider.addEventListener('input', function () { select(Number(slider.value)); });
  items.forEach(function (li, n) { li.addEventListener('click', function () { select(n); }); });
  document.getElementById('moment-prev').addEventListener('click', function () { select(selected - 1); });
  document.getElementById('moment-next').addEventListener('click', function () { select(selected + 1); });
  document.addEventListener('keydown', function (event) {
    if (event.target === slider) return;
    if (event.key === 'ArrowLeft') { select(selected - 1); event.preventDefault(); }
    if (event.key === 'ArrowRight') { select(selected + 1); event.preventDefault(); }
  });
  window.carbonadoSelectDecision = select;
  select(0);
})();
`
