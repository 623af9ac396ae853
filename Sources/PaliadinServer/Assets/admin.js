// Paliadin admin dashboard: stats + recent turns, refreshed every 10 s.
// Everything from the server is rendered with textContent.
(() => {
  'use strict';

  const REFRESH_MS = 10000;
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let loading = false;

  // ---------- formatting (defensive: any field may be null/absent) ----------

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const dash = '—';

  function fmtInt(v) { return isNum(v) ? v.toLocaleString() : dash; }

  function fmtMs(v) {
    if (!isNum(v)) return dash;
    return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
  }

  // error_rate is assumed to be a fraction (0..1); values > 1 are taken as percent.
  function fmtPct(v) {
    if (!isNum(v)) return dash;
    return `${(v <= 1 ? v * 100 : v).toFixed(1)}%`;
  }

  // Accepts ISO strings or epoch seconds/milliseconds.
  function fmtTime(v) {
    if (v == null || v === '') return dash;
    const d = isNum(v) ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
    return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
  }

  function fmtTools(v) {
    if (Array.isArray(v)) return v.length ? v.join(', ') : dash;
    if (v === true) return 'yes';
    if (v === false) return 'no';
    return v == null ? dash : String(v);
  }

  const str = (v) => (v == null || v === '' ? dash : String(v));
  const short = (v, n) => { const s = str(v); return s.length > n ? `${s.slice(0, n)}…` : s; };

  // ---------- rendering ----------

  // A cell spec is a string (text) or {text, cls, title}.
  function td(spec) {
    const cell = document.createElement('td');
    const c = typeof spec === 'object' && spec !== null ? spec : { text: spec };
    cell.textContent = c.text == null ? dash : String(c.text);
    if (c.cls) cell.className = c.cls;
    if (c.title) cell.title = c.title;
    return cell;
  }

  function fillTable(tbodyId, rows, toCells, emptyText) {
    const body = $(tbodyId);
    const cols = body.closest('table').querySelectorAll('thead th').length;
    const trs = (Array.isArray(rows) ? rows : []).filter(Boolean).map((r) => {
      const tr = document.createElement('tr');
      tr.append(...toCells(r).map(td));
      return tr;
    });
    if (!trs.length) {
      const tr = document.createElement('tr');
      const cell = td({ text: emptyText || 'No data yet.', cls: 'empty' });
      cell.colSpan = cols;
      tr.append(cell);
      trs.push(tr);
    }
    body.replaceChildren(...trs);
  }

  function renderCards(s) {
    const dur = s.duration_ms || {};
    const ttft = s.ttft_ms || {};
    const cards = [
      ['turns-total', 'Turns total', fmtInt(s.turns_total)],
      ['turns-today', 'Turns today', fmtInt(s.turns_today)],
      ['turns-7d', 'Turns (7 days)', fmtInt(s.turns_7d)],
      ['running', 'Running now', fmtInt(s.running)],
      ['error-rate', 'Error rate', fmtPct(s.error_rate)],
      ['errors-total', 'Errors total', fmtInt(s.errors_total)],
      ['duration-p50', 'Duration p50', fmtMs(dur.p50)],
      ['duration-p95', 'Duration p95', fmtMs(dur.p95)],
      ['ttft-p50', 'TTFT p50', fmtMs(ttft.p50)],
    ];
    $('cards').replaceChildren(...cards.map(([key, label, value]) => {
      const card = document.createElement('div');
      card.className = 'card';
      card.dataset.testid = `card-${key}`;
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      card.append(dt, dd);
      return card;
    }));
  }

  function renderStats(s) {
    s = s && typeof s === 'object' ? s : {};
    renderCards(s);

    const byCode = s.errors_by_code && typeof s.errors_by_code === 'object' ? s.errors_by_code : {};
    const codes = Object.entries(byCode).sort((a, b) => (b[1] || 0) - (a[1] || 0));
    fillTable('errors', codes, ([code, n]) => [code, { text: fmtInt(n), cls: 'num' }], 'No errors.');

    fillTable('backends', s.by_backend, (b) => [
      str(b.backend), str(b.model),
      { text: fmtInt(b.turns), cls: 'num' }, { text: fmtInt(b.errors), cls: 'num' },
      { text: fmtMs(b.duration_p50_ms), cls: 'num' }, { text: fmtMs(b.ttft_p50_ms), cls: 'num' },
    ]);

    fillTable('days', s.by_day, (d) => [
      { text: str(d.day), cls: 'nowrap' },
      { text: fmtInt(d.turns), cls: 'num' }, { text: fmtInt(d.errors), cls: 'num' },
      { text: fmtMs(d.duration_p50_ms), cls: 'num' },
    ]);
  }

  function renderTurns(turns) {
    fillTable('turns', turns, (t) => {
      const status = str(t.status);
      const tokens = `${isNum(t.tokens_in) ? t.tokens_in : dash} / ${isNum(t.tokens_out) ? t.tokens_out : dash}`;
      return [
        { text: fmtTime(t.started_at), cls: 'nowrap' },
        { text: status, cls: `nowrap status-${status.replace(/[^a-z_]/gi, '')}` },
        str(t.error_code),
        str(t.user_id),
        { text: short(t.session_id, 8), title: str(t.session_id) },
        { text: short(t.page_origin, 40), title: str(t.page_origin) },
        { text: short(t.user_message, 160), cls: 'message', title: str(t.user_message) },
        { text: fmtMs(t.duration_ms), cls: 'num' },
        { text: fmtMs(t.ttft_ms), cls: 'num' },
        str(t.backend), str(t.model), fmtTools(t.used_tools),
        { text: tokens, cls: 'num' },
        { text: short(t.turn_id, 8), title: str(t.turn_id), cls: 'nowrap' },
      ];
    }, 'No turns yet.');
  }

  // ---------- loading ----------

  async function getJSON(url) {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    let data = null;
    try { data = await res.json(); } catch { /* non-JSON */ }
    if (!res.ok) throw new Error((data && data.error) || `HTTP ${res.status}`);
    return data;
  }

  async function refresh() {
    clearTimeout(timer);
    if (loading) return;
    loading = true;
    const [stats, turns] = await Promise.allSettled([
      getJSON('/api/admin/paliadin/stats'),
      getJSON('/api/admin/paliadin/turns'),
    ]);
    loading = false;
    if (stats.status === 'fulfilled') renderStats(stats.value);
    if (turns.status === 'fulfilled') renderTurns(turns.value);

    const failed = [stats, turns].filter((r) => r.status === 'rejected');
    const updated = $('updated');
    updated.classList.toggle('stale', failed.length > 0);
    updated.textContent = failed.length
      ? `Refresh failed: ${failed[0].reason.message}`
      : `Updated ${new Date().toLocaleTimeString()}`;
    timer = setTimeout(tick, REFRESH_MS);
  }

  // Skip background refreshes while the tab is hidden.
  function tick() {
    if (document.hidden) timer = setTimeout(tick, REFRESH_MS);
    else refresh();
  }

  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  $('refresh').addEventListener('click', refresh);
  refresh();
})();
