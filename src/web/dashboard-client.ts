/**
 * The dashboard page's own script (browser code, kept as text: the build has no DOM types).
 * It listens to /api/events and redraws the tables and the state charts from each model;
 * every value from the model goes in through textContent or setAttribute, never as HTML.
 * Write actions send the admin token, kept in sessionStorage (never in the URL), as
 * `Authorization: Bearer TOKEN`. The chart helpers (`window.carbonadoHighlight`) come from
 * the chart renderer's client code, included before this.
 */
export const DASHBOARD_CLIENT_JS = String.raw`
(function () {
  'use strict'
  var TOKEN_KEY = 'carbonado.dashboardToken'
  var model = null
  var $ = function (id) { return document.getElementById(id) }

  function el(tag, text, cls) {
    var e = document.createElement(tag)
    if (text !== undefined && text !== null) e.textContent = String(text)
    if (cls) e.className = cls
    return e
  }
  function ms(v) { return v === null || v === undefined ? '-' : v < 10000 ? v + ' ms' : (v / 1000).toFixed(1) + ' s' }
  function clock(wallMs) { return new Date(wallMs).toISOString().slice(11, 23) }
  function row(cells, cls) {
    var tr = el('tr', null, cls)
    cells.forEach(function (c) { tr.appendChild(c instanceof Node ? c : el('td', c)) })
    return tr
  }
  function fill(id, rows) {
    var body = $(id).querySelector('tbody')
    body.replaceChildren.apply(body, rows)
    $(id).classList.toggle('empty', rows.length === 0)
  }
  function stateCell(state) { var td = el('td'); td.appendChild(el('span', state, 'state state-' + state)); return td }

  function drawHeader(m) {
    $('cluster').textContent = m.cluster
    $('node').textContent = m.node
    $('incarnation').textContent = String(m.incarnation)
    $('config-version').textContent = String(m.configVersion)
    $('updated').textContent = 'updated ' + clock(m.wallMs)
    document.body.classList.toggle('read-only', m.readOnly)
  }

  function drawMembers(m) {
    fill('members', m.members.map(function (x) {
      var hb = x.self ? '(this node)' : x.heartbeatAgoMs.map(function (h, i) { return 'ch' + i + ' ' + ms(h) }).join(', ')
      var tr = row([String(x.id), x.name + (x.self ? ' *' : ''), stateCell(x.state), x.incarnation === null ? '-' : String(x.incarnation),
        x.diskSeq === null ? '-' : String(x.diskSeq), x.lastDiskWriteAgoMs === null ? '-' : ms(x.lastDiskWriteAgoMs) + ' ago', hb, x.problem || ''])
      tr.dataset.member = x.name
      tr.dataset.state = x.state
      return tr
    }))
  }

  function actionButton(service, action, enabled) {
    var b = el('button', action)
    b.type = 'button'
    b.dataset.action = action
    b.disabled = !enabled
    b.addEventListener('click', function () { act(service, action) })
    return b
  }

  function drawServices(m) {
    var writable = !m.readOnly && !!sessionStorage.getItem(TOKEN_KEY)
    fill('services', m.services.map(function (s) {
      var actions = el('td', null, 'actions')
      actions.appendChild(actionButton(s.name, s.enabled ? 'disable' : 'enable', writable))
      actions.appendChild(actionButton(s.name, 'relocate', writable && s.enabled))
      actions.appendChild(actionButton(s.name, 'restart', writable && s.enabled))
      var tr = row([s.name, s.enabled ? 'yes' : 'no', s.holder || '-', stateCell(s.localState), String(s.leaseInstance), s.placement || '', actions])
      tr.dataset.service = s.name
      tr.dataset.owner = s.holder || ''
      tr.dataset.enabled = String(s.enabled)
      return tr
    }))
  }

  function drawFencing(m) {
    fill('fencing', m.fencing.map(function (f) { return row([f.target, stateCell(f.state), f.requestedBy, f.reason, f.lastTry]) }))
  }

  function drawDecisions(m) {
    fill('decisions', m.decisions.map(function (d) {
      var change = d.from === d.to ? 'stays ' + d.to : d.from + ' \u2192 ' + d.to
      var why = el('td')
      why.appendChild(el('div', d.summary, 'summary'))
      d.evidence.forEach(function (line) { why.appendChild(el('div', line, 'evidence')) })
      var tr = row([clock(d.wallMs), d.machine, change, d.event, why])
      tr.dataset.machine = d.machine
      return tr
    }))
  }

  /** One figure per machine instance: its type's chart (a template in the page), current state highlighted. */
  function drawCharts(m) {
    var box = $('charts')
    var seen = {}
    m.machines.forEach(function (x) {
      seen[x.id] = true
      var fig = box.querySelector('figure[data-machine="' + CSS.escape(x.id) + '"]')
      if (!fig) {
        fig = el('figure', null, 'machine')
        fig.dataset.machine = x.id
        fig.appendChild(el('figcaption'))
        var tpl = document.getElementById('chart-' + x.type)
        if (tpl) fig.appendChild(tpl.content.firstElementChild.cloneNode(true))
        else fig.appendChild(el('p', 'no chart for machine type ' + x.type, 'no-chart'))
        box.appendChild(fig)
      }
      fig.dataset.state = x.paths.join(' ')
      fig.querySelector('figcaption').textContent = x.id + ': ' + x.paths.join(', ') + (x.last ? '  (last: ' + x.last.from + ' \u2192 ' + x.last.to + ' on ' + x.last.event + ')' : '')
      var svg = fig.querySelector('svg')
      if (svg && typeof window.carbonadoHighlight === 'function') {
        window.carbonadoHighlight(svg, x.paths, x.last)
      }
    })
    Array.prototype.slice.call(box.querySelectorAll('figure.machine')).forEach(function (fig) { if (!seen[fig.dataset.machine]) fig.remove() })
  }

  function draw(m) {
    model = m
    drawHeader(m)
    drawMembers(m)
    drawServices(m)
    drawFencing(m)
    drawDecisions(m)
    drawCharts(m)
    document.body.dataset.updates = String(Number(document.body.dataset.updates || '0') + 1)
  }

  function say(text, ok) {
    var box = $('action-result')
    box.textContent = text
    box.className = ok ? 'ok' : 'error'
  }

  function act(service, action) {
    var token = sessionStorage.getItem(TOKEN_KEY)
    if (!token) { say('type the admin token first', false); return }
    fetch('/api/services/' + encodeURIComponent(service) + '/' + action, {
      method: 'POST', headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' }, body: '{}', cache: 'no-store',
    }).then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body } }) })
      .then(function (r) { say(r.ok ? r.body.message : r.body.error, r.ok) })
      .catch(function (e) { say(String(e), false) })
  }

  function setupToken() {
    var input = $('token')
    $('token-form').addEventListener('submit', function (e) {
      e.preventDefault()
      if (input.value.trim() === '') return
      sessionStorage.setItem(TOKEN_KEY, input.value.trim())
      input.value = ''
      tokenState()
    })
    $('token-forget').addEventListener('click', function () { sessionStorage.removeItem(TOKEN_KEY); tokenState() })
    tokenState()
  }
  function tokenState() {
    $('token-state').textContent = sessionStorage.getItem(TOKEN_KEY) ? 'token set for this tab' : 'no token: read-only'
    if (model) drawServices(model)
  }

  function connect() {
    var source = new EventSource('/api/events')
    source.addEventListener('model', function (e) { draw(JSON.parse(e.data)) })
    source.addEventListener('open', function () { $('connection').textContent = 'live'; $('connection').className = 'live' })
    source.addEventListener('error', function () { $('connection').textContent = 'reconnecting\u2026'; $('connection').className = 'down' })
  }

  setupToken()
  connect()
})()
`
