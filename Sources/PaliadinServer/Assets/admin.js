// Paliadin admin dashboard: cards, per-day charts (inline SVG), error codes, recent turns
// with a drill-down to one turn's full event log. Refreshes every 5 s while the tab is visible.
// Everything from the server is rendered with textContent / setAttribute, never as markup.
(() => {
  'use strict';

  const REFRESH_MS = 5000;
  const REQUEST_TIMEOUT_MS = 15000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const TURN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const $ = (id) => document.getElementById(id);

  // ---------- formatting (defensive: any field may be null/absent) ----------

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const dash = '—';
  const str = (v) => (v == null || v === '' ? dash : String(v));
  const short = (v, n) => { const s = str(v); return s.length > n ? `${s.slice(0, n)}…` : s; };

  function fmtInt(v) { return isNum(v) ? v.toLocaleString() : dash; }

  function fmtMs(v) {
    if (!isNum(v)) return dash;
    return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
  }

  // Compact, for axis labels.
  function fmtMsAxis(v) {
    if (v === 0) return '0';
    if (v < 1000) return `${Number(v.toFixed(1))}ms`;
    const s = v / 1000;
    return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
  }

  // error_rate is a fraction (0..1).
  function fmtPct(v) { return isNum(v) ? `${(v * 100).toFixed(1)}%` : dash; }

  function clock(d) {
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }

  function parseDate(v) {
    if (v == null || v === '') return null;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }

  function fmtTime(v) {
    const d = parseDate(v);
    return d ? d.toLocaleString() : str(v);
  }

  // Today: the time only; earlier: month, day and time.
  function fmtWhen(v) {
    const d = parseDate(v);
    if (!d) return str(v);
    const now = new Date();
    if (d.toDateString() === now.toDateString()) return clock(d);
    return d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
  }

  function fmtTools(v) {
    if (Array.isArray(v)) return v.length ? v.join(', ') : dash;
    return str(v);
  }

  function json(v) {
    try { return JSON.stringify(v); } catch { return String(v); }
  }

  // ---------- DOM helpers ----------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v == null) continue;
        if (k === 'text') node.textContent = String(v);
        else if (k === 'cls') node.className = v;
        else node.setAttribute(k, String(v));
      }
    }
    node.append(...children);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null) node.setAttribute(k, String(v));
    node.append(...children);
    return node;
  }

  function svgText(x, y, text, attrs) {
    const node = svg('text', { x, y, ...attrs });
    node.textContent = text;
    return node;
  }

  function svgTitle(text) {
    const node = document.createElementNS(SVG_NS, 'title');
    node.textContent = text;
    return node;
  }

  // A cell spec is a string (text) or {text, cls, title}.
  function td(spec) {
    const c = typeof spec === 'object' && spec !== null ? spec : { text: spec };
    if (c.node) {
      const cell = el('td', { cls: c.cls });
      cell.append(c.node);
      return cell;
    }
    return el('td', { text: c.text == null ? dash : c.text, cls: c.cls, title: c.title });
  }

  // Re-renders a table body only when its data changed (keeps focus and element identity stable).
  const lastRendered = new Map();

  function fillTable(tbodyId, rows, toRow, emptyText) {
    const body = $(tbodyId);
    const key = json(rows);
    if (lastRendered.get(tbodyId) === key) return false;
    lastRendered.set(tbodyId, key);
    const cols = body.closest('table').querySelectorAll('thead th').length;
    const trs = (Array.isArray(rows) ? rows : []).filter(Boolean).map(toRow);
    if (!trs.length) {
      const cell = td({ text: emptyText || 'No data yet.', cls: 'empty' });
      cell.colSpan = cols;
      trs.push(el('tr', null, cell));
    }
    body.replaceChildren(...trs);
    return true;
  }

  const rowOf = (cells, props) => el('tr', props, ...cells.map(td));

  // ---------- cards ----------

  // key → {label, value(stats) → [text] or [[testid, text], ...]}
  const CARDS = [
    ['turns-today', 'Turns today (UTC)', (s) => fmtInt(s.turns_today)],
    ['turns-7d', 'Turns, last 7 days', (s) => fmtInt(s.turns_7d)],
    ['running', 'Running now', (s) => fmtInt(s.running)],
    ['error-rate', 'Error rate', (s) => fmtPct(s.error_rate)],
    ['duration', 'Duration p50 / p95', (s) => [
      ['card-duration-p50', fmtMs((s.duration_ms || {}).p50)], ' / ',
      ['card-duration-p95', fmtMs((s.duration_ms || {}).p95)]]],
    ['ttft', 'First token p50 / p95', (s) => [
      ['card-ttft-p50', fmtMs((s.ttft_ms || {}).p50)], ' / ',
      ['card-ttft-p95', fmtMs((s.ttft_ms || {}).p95)]]],
    ['turns-total', 'Turns total', (s) => fmtInt(s.turns_total)],
    ['errors-total', 'Errors total', (s) => fmtInt(s.errors_total)],
  ];

  const cardValues = new Map();

  function renderCards(s) {
    const list = $('cards');
    if (!cardValues.size) {
      for (const [key, label] of CARDS) {
        const dd = el('dd');
        cardValues.set(key, dd);
        list.append(el('div', { cls: 'card', 'data-testid': `card-${key}` }, el('dt', { text: label }), dd));
      }
    }
    for (const [key, , value] of CARDS) {
      const dd = cardValues.get(key);
      const v = value(s);
      if (!Array.isArray(v)) { dd.textContent = v; continue; }
      dd.replaceChildren(...v.map((part) => (Array.isArray(part)
        ? el('span', { 'data-testid': part[0], text: part[1] })
        : document.createTextNode(part))));
    }
  }

  // ---------- charts ----------

  const DAY_MS = 86400000;
  const dayKey = (ms) => new Date(ms).toISOString().slice(0, 10);
  const dayMs = (key) => Date.parse(`${key}T00:00:00Z`);

  // The days a chart shows: the last 14, or the last 30 when older data exists; gaps filled.
  function dayRange(stats) {
    const days = Array.isArray(stats.by_day) ? stats.by_day.filter((d) => d && typeof d.day === 'string') : [];
    const generated = parseDate(stats.generated_at) || new Date();
    const today = dayMs(dayKey(generated.getTime()));
    const oldest = days.length ? dayMs(days[0].day) : today;
    const span = Number.isNaN(oldest) ? 14 : Math.round((today - oldest) / DAY_MS) + 1;
    const count = span > 14 ? 30 : 14;
    const byKey = new Map(days.map((d) => [d.day, d]));
    const out = [];
    for (let i = count - 1; i >= 0; i--) {
      const key = dayKey(today - i * DAY_MS);
      out.push(byKey.get(key) || { day: key, turns: 0, errors: 0 });
    }
    return out;
  }

  // A round axis maximum and step (1, 2, 5 × 10^k) for values up to `max`.
  function niceScale(max, integer) {
    if (!(max > 0)) return { top: integer ? 4 : 1000, step: integer ? 1 : 250 };
    const raw = max / 4;
    const mag = 10 ** Math.floor(Math.log10(raw));
    let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
    if (integer) step = Math.max(1, Math.ceil(step));
    return { top: Math.ceil(max / step) * step, step };
  }

  const charts = new Map();

  // One persistent <svg> per chart box; each render replaces its children.
  function chartSVG(boxId, testid, captionId) {
    let node = charts.get(boxId);
    if (!node) {
      node = svg('svg', { 'data-testid': testid, role: 'img', 'aria-labelledby': captionId, focusable: 'false' });
      $(boxId).append(node);
      charts.set(boxId, node);
    }
    return node;
  }

  // Frame: grid lines, y labels, x labels; returns the geometry for the marks.
  function frame(node, days, scale, fmtY) {
    const width = Math.max(260, Math.round(node.parentElement.clientWidth || 320));
    const height = 170;
    const labels = [];
    for (let i = 0; i <= Math.round(scale.top / scale.step); i++) labels.push(fmtY(i * scale.step));
    const left = 10 + 6.5 * Math.max(...labels.map((l) => l.length));
    const plot = { left, top: 8, right: width - 8, bottom: height - 24 };
    const plotW = plot.right - plot.left;
    const plotH = plot.bottom - plot.top;
    const y = (v) => plot.bottom - (v / scale.top) * plotH;
    const band = plotW / days.length;
    const x = (i) => plot.left + band * (i + 0.5);
    node.setAttribute('viewBox', `0 0 ${width} ${height}`);
    node.setAttribute('width', width);
    node.setAttribute('height', height);

    const grid = svg('g', { class: 'grid' });
    labels.forEach((label, i) => {
      const gy = y(i * scale.step);
      grid.append(svg('line', { x1: plot.left, x2: plot.right, y1: gy, y2: gy }));
      grid.append(svgText(plot.left - 6, gy + 4, label, { 'text-anchor': 'end' }));
    });
    const every = Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor(plotW / 46))));
    const xAxis = svg('g', { class: 'x-axis' });
    days.forEach((d, i) => {
      if ((days.length - 1 - i) % every !== 0) return;
      xAxis.append(svgText(x(i), height - 8, d.day.slice(5), { 'text-anchor': 'middle' }));
    });
    xAxis.append(svg('line', { class: 'baseline', x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }));
    return { plot, y, x, band, grid, xAxis };
  }

  function barChart(boxId, testid, captionId, days, field, noun, barClass) {
    const node = chartSVG(boxId, testid, captionId);
    const values = days.map((d) => (isNum(d[field]) ? d[field] : 0));
    const scale = niceScale(Math.max(0, ...values), true);
    const f = frame(node, days, scale, (v) => String(Math.round(v)));
    const marks = svg('g', { class: 'marks' });
    const barW = Math.max(2, Math.min(28, f.band * 0.7));
    days.forEach((d, i) => {
      const v = values[i];
      const g = svg('g', { class: 'day' }, svgTitle(`${d.day}: ${v.toLocaleString()} ${noun}${v === 1 ? '' : 's'}`));
      g.append(svg('rect', {
        class: 'hit', x: f.x(i) - f.band / 2, y: f.plot.top, width: f.band, height: f.plot.bottom - f.plot.top,
      }));
      if (v > 0) {
        const top = f.y(v);
        g.append(svg('rect', {
          class: `bar ${barClass}`, x: f.x(i) - barW / 2, y: top, width: barW, height: Math.max(1, f.plot.bottom - top),
        }));
      }
      marks.append(g);
    });
    node.replaceChildren(svgTitle(`${document.getElementById(captionId).textContent}, last ${days.length} days`), f.grid, marks, f.xAxis);
  }

  function latencyChart(boxId, testid, captionId, days) {
    const node = chartSVG(boxId, testid, captionId);
    const series = [['duration_p50_ms', 'p50', 'series-p50'], ['duration_p95_ms', 'p95', 'series-p95']];
    const all = days.flatMap((d) => series.map(([k]) => d[k])).filter(isNum);
    const scale = niceScale(Math.max(0, ...all), false);
    const f = frame(node, days, scale, fmtMsAxis);
    const marks = svg('g', { class: 'marks' });
    // Hover targets first (under the lines), one per day with both figures.
    days.forEach((d, i) => {
      const parts = series.filter(([k]) => isNum(d[k])).map(([k, label]) => `${label} ${fmtMs(d[k])}`);
      const text = `${d.day}: ${parts.length ? parts.join(', ') : 'no finished turns'}`;
      marks.append(svg('g', { class: 'day' }, svgTitle(text), svg('rect', {
        class: 'hit', x: f.x(i) - f.band / 2, y: f.plot.top, width: f.band, height: f.plot.bottom - f.plot.top,
      })));
    });
    for (const [key, label, cls] of series) {
      // A line through consecutive days with a value; a day without one breaks it.
      let path = '';
      let joined = false;
      days.forEach((d, i) => {
        if (!isNum(d[key])) { joined = false; return; }
        path += `${joined ? 'L' : 'M'}${f.x(i).toFixed(1)},${f.y(d[key]).toFixed(1)}`;
        joined = true;
      });
      if (path) marks.append(svg('path', { class: `line ${cls}`, d: path }));
      days.forEach((d, i) => {
        if (!isNum(d[key])) return;
        marks.append(svg('circle', { class: `point ${cls}`, cx: f.x(i), cy: f.y(d[key]), r: 3.5 },
          svgTitle(`${d.day} ${label} duration: ${fmtMs(d[key])}`)));
      });
    }
    node.replaceChildren(svgTitle(`${document.getElementById(captionId).textContent}, p50 and p95, last ${days.length} days`),
      f.grid, marks, f.xAxis);
  }

  let lastStats = null;
  let lastChartWidth = 0;

  function renderCharts() {
    if (!lastStats) return;
    const days = dayRange(lastStats);
    lastChartWidth = $('chart-turns').clientWidth;
    barChart('chart-turns', 'chart-turns', 'cap-turns', days, 'turns', 'turn', 'bar-turns');
    barChart('chart-errors', 'chart-errors', 'cap-errors', days, 'errors', 'error', 'bar-errors');
    latencyChart('chart-latency', 'chart-latency', 'cap-latency', days);
  }

  // ---------- stats ----------

  function renderStats(s) {
    s = s && typeof s === 'object' ? s : {};
    lastStats = s;
    renderCards(s);
    renderCharts();

    const byCode = s.errors_by_code && typeof s.errors_by_code === 'object' ? s.errors_by_code : {};
    const codes = Object.entries(byCode).sort((a, b) => (b[1] || 0) - (a[1] || 0) || a[0].localeCompare(b[0]));
    const total = codes.reduce((n, [, c]) => n + (isNum(c) ? c : 0), 0);
    fillTable('errors', codes, ([code, n]) => rowOf([
      { text: code, cls: 'code' }, { text: fmtInt(n), cls: 'num' },
    ], { 'data-error-code': code, title: total ? `${((n / total) * 100).toFixed(0)}% of errors` : null }), 'No errors.');

    fillTable('backends', s.by_backend, (b) => rowOf([
      str(b.backend), str(b.model),
      { text: fmtInt(b.turns), cls: 'num' }, { text: fmtInt(b.errors), cls: 'num' },
      { text: fmtMs(b.duration_p50_ms), cls: 'num' }, { text: fmtMs(b.ttft_p50_ms), cls: 'num' },
    ]));

    const days = Array.isArray(s.by_day) ? s.by_day.slice().reverse() : [];
    fillTable('days', days, (d) => rowOf([
      { text: str(d.day), cls: 'nowrap' },
      { text: fmtInt(d.turns), cls: 'num' }, { text: fmtInt(d.errors), cls: 'num' },
      { text: fmtMs(d.duration_p50_ms), cls: 'num' }, { text: fmtMs(d.duration_p95_ms), cls: 'num' },
      { text: fmtMs(d.ttft_p50_ms), cls: 'num' }, { text: fmtMs(d.ttft_p95_ms), cls: 'num' },
    ]));
  }

  // ---------- recent turns ----------

  let selectedTurn = null;

  function renderTurns(turns) {
    const body = $('turns');
    const focused = body.contains(document.activeElement) ? document.activeElement.closest('tr')?.dataset.turnId : null;
    const changed = fillTable('turns', turns, (t) => {
      const id = str(t.turn_id);
      const status = str(t.status);
      const tokens = `${isNum(t.tokens_in) ? t.tokens_in : dash} / ${isNum(t.tokens_out) ? t.tokens_out : dash}`;
      const open = el('button', {
        type: 'button', cls: 'link-button', 'aria-controls': 'turn-detail', 'aria-label': `Show turn ${id}`,
        'data-testid': 'turn-open', text: short(id, 8),
      });
      const tr = rowOf([
        { node: open, cls: 'nowrap' },
        { text: fmtWhen(t.started_at), cls: 'nowrap', title: fmtTime(t.started_at) },
        { text: status, cls: `nowrap status-${status.replace(/[^a-z_]/gi, '')}` },
        { text: str(t.error_code), title: t.error_message ? String(t.error_message) : null },
        str(t.user_id),
        { text: short(t.session_id, 8), title: str(t.session_id) },
        { text: short(t.page_origin, 40), title: str(t.page_origin) },
        { text: short(t.user_message, 120), cls: 'message', title: str(t.user_message) },
        { text: fmtMs(t.duration_ms), cls: 'num' },
        { text: fmtMs(t.ttft_ms), cls: 'num' },
        fmtTools(t.used_tools), str(t.backend), str(t.model),
        { text: tokens, cls: 'num' },
      ], { cls: 'turn-row', 'data-turn-id': id, 'data-status': status });
      return tr;
    }, 'No turns yet.');
    if (!changed) return;
    markSelected();
    if (focused) body.querySelector(`tr[data-turn-id="${CSS.escape(focused)}"] button`)?.focus();
  }

  function markSelected() {
    for (const tr of $('turns').querySelectorAll('tr[data-turn-id]')) {
      const on = tr.dataset.turnId === selectedTurn;
      tr.classList.toggle('selected', on);
      tr.querySelector('button')?.setAttribute('aria-expanded', String(on));
    }
  }

  // ---------- one turn in full ----------

  let detailRequest = 0;
  let detailStatus = null;

  const DETAIL_FIELDS = [
    ['Status', (t) => str(t.status)],
    ['Error', (t) => (t.error_code ? `${t.error_code}${t.error_message ? ` — ${t.error_message}` : ''}` : dash)],
    ['User', (t) => str(t.user_id)],
    ['Session', (t) => str(t.session_id)],
    ['Page', (t) => str(t.page_origin)],
    ['Started', (t) => fmtTime(t.started_at)],
    ['First token', (t) => fmtTime(t.first_token_at)],
    ['Finished', (t) => fmtTime(t.finished_at)],
    ['Duration', (t) => fmtMs(t.duration_ms)],
    ['Time to first token', (t) => fmtMs(t.ttft_ms)],
    ['Backend / model', (t) => `${str(t.backend)} / ${str(t.model)}`],
    ['Tokens in / out', (t) => `${isNum(t.tokens_in) ? t.tokens_in : dash} / ${isNum(t.tokens_out) ? t.tokens_out : dash}`],
    ['Streamed', (t) => (t.streamed === true ? 'yes' : t.streamed === false ? 'no' : dash)],
    ['Tools', (t) => fmtTools(t.used_tools)],
    ['Rows seen', (t) => (Array.isArray(t.rows_seen) && t.rows_seen.length ? t.rows_seen.join(', ') : dash)],
    ['Chips', (t) => fmtInt(t.chip_count)],
    ['Classifier tag', (t) => str(t.classifier_tag)],
    ['Conversation', (t) => str(t.conversation_id)],
    ['Readers (resumed)', (t) => `${fmtInt(t.reader_connects)} (${fmtInt(t.reader_resumes)})`],
  ];

  function setDetailNote(text, isError) {
    const note = $('detail-note');
    note.textContent = text || '';
    note.classList.toggle('error', Boolean(isError));
  }

  function clearDetail() {
    const panel = $('turn-detail');
    panel.removeAttribute('data-turn-id');
    for (const id of ['detail-message', 'detail-response', 'detail-context', 'detail-event-count']) $(id).textContent = '';
    $('detail-fields').replaceChildren();
    $('detail-events').replaceChildren();
  }

  function renderDetail(t) {
    const panel = $('turn-detail');
    detailStatus = t.status;
    $('detail-id').textContent = str(t.turn_id);
    $('detail-fields').replaceChildren(...DETAIL_FIELDS.map(([label, value]) => el('div', null,
      el('dt', { text: label }), el('dd', { text: value(t) }))));
    $('detail-message').textContent = t.user_message == null ? '' : String(t.user_message);
    $('detail-response').textContent = t.response ? String(t.response) : '';
    $('detail-response').classList.toggle('empty-text', !t.response);
    $('detail-context').textContent = t.context == null ? 'none' : JSON.stringify(t.context, null, 2);

    const events = Array.isArray(t.events) ? t.events : [];
    $('detail-event-count').textContent = `(${events.length.toLocaleString()}${t.events_truncated ? ', cut short' : ''})`;
    $('detail-events').replaceChildren(...events.map((e) => el('tr', { 'data-seq': isNum(e.seq) ? e.seq : null },
      el('td', { cls: 'num', text: str(e.seq) }),
      el('td', { cls: `nowrap event-${String(e.event).replace(/[^a-z_]/gi, '')}`, text: str(e.event) }),
      el('td', { cls: 'event-data' }, el('code', { text: json(e.data) })))));
    panel.setAttribute('data-turn-id', str(t.turn_id));
    panel.setAttribute('data-status', str(t.status));
    setDetailNote(t.status === 'running' ? 'Still running: the log refreshes by itself.' : '', false);
  }

  async function loadDetail(id, { quiet = false } = {}) {
    const request = ++detailRequest;
    const panel = $('turn-detail');
    panel.setAttribute('aria-busy', 'true');
    if (!quiet) setDetailNote('Loading…', false);
    try {
      const turn = await getJSON(`/api/admin/paliadin/turns/${encodeURIComponent(id)}`);
      if (request !== detailRequest || selectedTurn !== id) return;
      renderDetail(turn || {});
    } catch (err) {
      if (request !== detailRequest || selectedTurn !== id) return;
      setDetailNote(`Could not load the turn: ${err.message}`, true);
    } finally {
      if (request === detailRequest) panel.removeAttribute('aria-busy');
    }
  }

  // The drill-down is a modal dialog: Escape, the Close button or a click outside closes it,
  // and focus goes back to the row's button.
  function openDetail(id) {
    if (!TURN_ID.test(id)) return undefined;
    const panel = $('turn-detail');
    if (selectedTurn !== id) {
      clearDetail();
      $('detail-id').textContent = id;
    }
    selectedTurn = id;
    detailStatus = null;
    markSelected();
    history.replaceState(null, '', `#turn=${id}`);
    if (!panel.open) panel.showModal();
    return loadDetail(id);
  }

  function onDetailClosed() {
    const id = selectedTurn;
    selectedTurn = null;
    detailStatus = null;
    detailRequest++;
    clearDetail();
    markSelected();
    history.replaceState(null, '', location.pathname + location.search);
    const button = id && $('turns').querySelector(`tr[data-turn-id="${CSS.escape(id)}"] button`);
    if (button) button.focus();
  }

  $('turns').addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-turn-id]');
    if (!row) return;
    // A drag that selected text is not a click on the row.
    if (!event.target.closest('button') && String(window.getSelection?.() || '') !== '') return;
    openDetail(row.dataset.turnId);
  });
  $('detail-close').addEventListener('click', () => $('turn-detail').close());
  $('turn-detail').addEventListener('close', onDetailClosed);
  $('turn-detail').addEventListener('click', (event) => {
    // A click on the backdrop lands on the dialog itself, outside its box.
    const panel = $('turn-detail');
    if (event.target !== panel) return;
    const box = panel.getBoundingClientRect();
    const inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) panel.close();
  });

  // ---------- loading ----------

  async function getJSON(url) {
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    try {
      let res;
      try {
        res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: abort.signal });
      } catch (err) {
        throw new Error(err && err.name === 'AbortError' ? 'the server did not answer in time' : 'the server cannot be reached');
      }
      let data = null;
      try { data = await res.json(); } catch { /* not JSON */ }
      if (!res.ok) throw new Error((data && typeof data.error === 'string' && data.error) || `HTTP ${res.status}`);
      return data;
    } finally {
      clearTimeout(timeout);
    }
  }

  let timer = null;
  let inFlight = null;
  let lastSuccess = null;

  function schedule() {
    clearTimeout(timer);
    timer = document.hidden ? null : setTimeout(refresh, REFRESH_MS);
  }

  // One refresh at a time: a call while one runs joins it instead of starting another.
  function refresh() {
    if (inFlight) return inFlight;
    clearTimeout(timer);
    timer = null;
    $('refresh').disabled = true;
    inFlight = (async () => {
      const [stats, turns] = await Promise.allSettled([
        getJSON('/api/admin/paliadin/stats'),
        getJSON('/api/admin/paliadin/turns'),
      ]);
      if (stats.status === 'fulfilled') renderStats(stats.value);
      if (turns.status === 'fulfilled') renderTurns(turns.value);
      if (selectedTurn && detailStatus === 'running') loadDetail(selectedTurn, { quiet: true });

      const failed = [stats, turns].find((r) => r.status === 'rejected');
      const now = new Date();
      const line = $('refresh-error');
      if (failed) {
        line.textContent = `Refresh failed at ${clock(now)}: ${failed.reason.message}.`
          + (lastSuccess ? ` Showing data from ${clock(lastSuccess)}.` : '');
        line.hidden = false;
      } else {
        lastSuccess = now;
        line.hidden = true;
        line.textContent = '';
      }
      const updated = $('updated');
      updated.textContent = lastSuccess ? `Updated ${clock(lastSuccess)}` : 'Not loaded yet';
      updated.classList.toggle('stale', Boolean(failed));
    })();
    return inFlight.finally(() => {
      inFlight = null;
      $('refresh').disabled = false;
      schedule();
    });
  }

  // Paused while the tab is hidden; back at once when it shows again.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) { clearTimeout(timer); timer = null; } else refresh();
  });
  $('refresh').addEventListener('click', () => { refresh(); });

  // Charts follow the width of their box (text stays at its real size).
  if (typeof ResizeObserver === 'function') {
    let frameRequest = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(frameRequest);
      frameRequest = requestAnimationFrame(() => {
        if ($('chart-turns').clientWidth !== lastChartWidth) renderCharts();
      });
    }).observe($('chart-turns'));
  }

  refresh();
  const linked = /^#turn=(.+)$/.exec(location.hash);
  if (linked && TURN_ID.test(linked[1])) openDetail(linked[1].toLowerCase());
})();
