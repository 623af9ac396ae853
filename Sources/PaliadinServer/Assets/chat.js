// Paliadin chat page. Plain script (no build step). User text is rendered with
// textContent; answers go through markdown.js, which builds DOM nodes only (never HTML).
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const ui = {
    scroller: $('scroller'), list: $('messages'), form: $('composer'), input: $('input'),
    send: $('send'), stop: $('stop'), reset: $('new'), status: $('status'),
  };

  // Embedded in the widget's iframe: /paliadin?embed=1&host=<host page's origin>. The
  // widget sends the page context (origin, path, title, host data) by postMessage.
  const params = new URLSearchParams(location.search);
  const embedded = params.get('embed') === '1' && window.parent !== window;
  const hostOrigin = embedded ? originOf(params.get('host') || params.get('origin')) : null;
  let pageContext = null;
  if (embedded) document.body.classList.add('embedded');

  function originOf(url) {
    try { return url ? new URL(url).origin : null; } catch { return null; }
  }

  const SESSION_KEY = 'paliadin.session';
  const RETRYABLE_CODES = new Set(['upstream_error', 'upstream_silence', 'upstream_timeout',
    'backend_unavailable', 'interrupted']);
  const active = new Set(); // turns currently sending/streaming/recovering
  // The composer waits while the conversation is loaded or reset, so a new turn never lands
  // between history rows or in a session that is being replaced.
  let loadingHistory = true;
  let resetting = false;
  let sessionId = loadSession();

  // ---------- helpers ----------

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // Fallback for insecure (plain http) contexts where randomUUID is missing.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function loadSession() {
    let id = null;
    try { id = localStorage.getItem(SESSION_KEY); } catch { /* storage blocked */ }
    if (!id) { id = newId(); saveSession(id); }
    return id;
  }

  function saveSession(id) {
    try { localStorage.setItem(SESSION_KEY, id); } catch { /* keep in memory only */ }
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function parseJSON(s) {
    try { return JSON.parse(s) || {}; } catch { return {}; }
  }

  const enc = encodeURIComponent;
  const streamUrl = (id) => `/api/paliadin/stream/${enc(id)}`;
  const setStatus = (text) => { ui.status.textContent = text || ''; };

  // fetch JSON; throws Error(message) with .status and .retryable on failure.
  async function api(path, { method = 'GET', body } = {}) {
    const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch {
      const err = new Error('Network error — check your connection.');
      err.retryable = true;
      throw err;
    }
    let data = null;
    try { data = await res.json(); } catch { /* empty or non-JSON body */ }
    if (!res.ok) {
      const err = new Error((data && data.error) || `Request failed (HTTP ${res.status}).`);
      err.status = res.status;
      err.retryable = res.status >= 500 || res.status === 429;
      throw err;
    }
    return data;
  }

  function describeError(code) {
    switch (code) {
      case 'upstream_error': return 'The model backend returned an error.';
      case 'upstream_silence': return 'The model stopped responding.';
      case 'upstream_timeout': return 'The model took too long to answer.';
      case 'backend_unavailable': return 'No model backend is available right now.';
      case 'cancelled': return 'Stopped.';
      case 'interrupted': return 'The answer was interrupted (the server restarted).';
      default: return code ? `Something went wrong (${code}).` : 'Something went wrong.';
    }
  }

  // Keep the view pinned to the bottom only if the user was already there.
  function keepScrolled(fn) {
    const s = ui.scroller;
    const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 48;
    fn();
    if (atBottom) s.scrollTop = s.scrollHeight;
  }

  function updateBusy() {
    const busy = active.size > 0;
    ui.send.disabled = busy || loadingHistory || resetting;
    ui.stop.disabled = !busy;
    ui.list.setAttribute('aria-busy', String(busy));
    for (const b of ui.list.querySelectorAll('button.retry')) b.disabled = busy;
  }

  // ---------- rendering ----------

  // A turn = user bubble + assistant bubble + streaming state.
  function newTurn(message, id) {
    const user = el('li', 'msg msg-user');
    user.dataset.testid = 'message-user';
    user.append(el('span', 'visually-hidden', 'You: '), el('div', 'text', message));

    const bot = el('li', 'msg msg-assistant');
    bot.dataset.testid = 'message-assistant';
    const text = el('div', 'text md');
    text.setAttribute('aria-live', 'polite');
    text.dataset.testid = 'answer';
    const meta = el('div', 'meta');
    meta.dataset.testid = 'turn-status';
    const actions = el('div', 'actions');
    bot.append(el('span', 'visually-hidden', 'Paliadin: '), text, meta, actions);

    keepScrolled(() => ui.list.append(user, bot));
    const turn = { id: null, message, user, bot, text, meta, actions, raw: '', renderQueued: false,
      es: null, lastSeq: -1, gotContent: false, done: false, pollTimer: null };
    if (id) setTurnId(turn, id);
    return turn;
  }

  function setTurnId(turn, id) {
    turn.id = id;
    turn.user.dataset.turnId = id;
    turn.bot.dataset.turnId = id;
  }

  const setMeta = (turn, text) => { turn.meta.textContent = text || ''; };

  // The answer's Markdown, rendered at most once per frame while it streams in.
  function setText(turn, text) {
    turn.raw = text;
    scheduleRender(turn);
  }

  function appendText(turn, delta) {
    turn.raw += delta;
    scheduleRender(turn);
  }

  function scheduleRender(turn) {
    if (turn.renderQueued) return;
    turn.renderQueued = true;
    requestAnimationFrame(() => renderNow(turn));
  }

  function renderNow(turn) {
    turn.renderQueued = false;
    keepScrolled(() => {
      if (window.PaliadinMarkdown) turn.text.replaceChildren(window.PaliadinMarkdown.render(turn.raw));
      else turn.text.textContent = turn.raw;
    });
  }

  function showError(turn, message, retryable, code) {
    turn.bot.classList.toggle('is-error', code !== 'cancelled');
    turn.bot.classList.toggle('is-cancelled', code === 'cancelled');
    const err = el('div', 'error', message);
    err.dataset.testid = 'turn-error';
    if (code) err.dataset.code = code;
    setMeta(turn, '');
    turn.actions.replaceChildren(err);
    if (retryable) {
      const btn = el('button', 'retry secondary', 'Retry');
      btn.type = 'button';
      btn.dataset.testid = 'retry';
      btn.disabled = active.size > 0;
      btn.addEventListener('click', () => { btn.remove(); send(turn.message); });
      turn.actions.append(btn);
    }
  }

  function summary(d) {
    const parts = [];
    if (typeof d.duration_ms === 'number') parts.push(`${(d.duration_ms / 1000).toFixed(1)} s`);
    const tools = d.used_tools;
    if (Array.isArray(tools) && tools.length) parts.push(`tools: ${tools.join(', ')}`);
    else if (tools === true || (typeof tools === 'number' && tools > 0)) parts.push('used tools');
    return parts.join(' · ');
  }

  // Render a finished turn record (from history or /recover).
  function renderRecord(turn, r) {
    setText(turn, r.response || '');
    if (r.status === 'completed') {
      if (!r.response) setText(turn, '(empty answer)');
      setMeta(turn, summary(r));
    } else if (r.status === 'cancelled' || r.error_code === 'cancelled') {
      showError(turn, 'Stopped.', false, 'cancelled');
    } else {
      const retry = r.retryable != null ? !!r.retryable : RETRYABLE_CODES.has(r.error_code);
      showError(turn, r.error_message || describeError(r.error_code), retry, r.error_code);
    }
  }

  function finish(turn) {
    turn.done = true;
    turn.text.setAttribute('aria-busy', 'false');
    if (turn.es) { turn.es.close(); turn.es = null; }
    clearTimeout(turn.pollTimer);
    active.delete(turn);
    updateBusy();
  }

  // ---------- streaming ----------

  // Open the turn's SSE stream from the start; the bubble text is reset because
  // the server replays every event.
  function attach(turn, url) {
    active.add(turn);
    updateBusy();
    turn.lastSeq = -1;
    turn.gotContent = false;
    // Screen readers hear the answer once it is complete, not every re-render.
    turn.text.setAttribute('aria-busy', 'true');
    setText(turn, '');
    setMeta(turn, 'thinking…');
    const es = new EventSource(url);
    turn.es = es;

    // Apply each sequenced frame once (guards against duplicates on reconnect).
    const fresh = (e) => {
      if (turn.done || turn.es !== es) return false;
      const seq = parseInt(e.lastEventId, 10);
      if (Number.isFinite(seq)) {
        if (seq <= turn.lastSeq) return false;
        turn.lastSeq = seq;
      }
      return true;
    };

    es.addEventListener('open', () => {
      if (!turn.done && turn.es === es) setMeta(turn, turn.gotContent ? '' : 'thinking…');
    });
    es.addEventListener('thinking', (e) => {
      if (!fresh(e) || turn.gotContent) return;
      const d = parseJSON(e.data);
      setMeta(turn, `thinking… ${Math.round(Number(d.elapsed_seconds) || 0)}s`);
    });
    es.addEventListener('content', (e) => {
      if (!fresh(e)) return;
      const d = parseJSON(e.data);
      if (typeof d.delta === 'string') appendText(turn, d.delta);
      else if (typeof d.text === 'string') setText(turn, d.text);
      if (!turn.gotContent) { turn.gotContent = true; setMeta(turn, ''); }
    });
    es.addEventListener('end', (e) => {
      if (!fresh(e)) return;
      const d = parseJSON(e.data);
      finish(turn);
      if (!turn.raw) setText(turn, '(empty answer)');
      setMeta(turn, summary(d));
    });
    // "error" fires both for server `event: error` frames (MessageEvent with
    // data) and for connection problems (plain Event).
    es.addEventListener('error', (e) => {
      if (turn.done || turn.es !== es) return;
      if (typeof e.data === 'string') {
        if (!fresh(e)) return;
        const d = parseJSON(e.data);
        finish(turn);
        const msg = d.code === 'cancelled' ? 'Stopped.' : (d.message || describeError(d.code));
        showError(turn, msg, d.retryable === true, d.code);
      } else if (es.readyState === EventSource.CLOSED) {
        es.close();
        turn.es = null;
        recover(turn);
      } else {
        setMeta(turn, 'Connection lost — reconnecting…');
      }
    });
  }

  // The stream is gone for good: poll /recover every 2 s.
  function recover(turn) {
    setMeta(turn, 'Connection lost — checking on the answer…');
    let tries = 0;
    const tick = async () => {
      if (turn.done) return;
      tries += 1;
      try {
        const r = await api(`/api/paliadin/turn/${enc(turn.id)}/recover`);
        if (turn.done) return;
        if (r && r.recovery_state === 'recovered') { finish(turn); renderRecord(turn, r); return; }
        if (r && r.recovery_state === 'lost') {
          finish(turn);
          showError(turn, 'This answer was lost (the server could not recover it). Please ask again.', true, 'lost');
          return;
        }
      } catch (err) {
        if (err.status === 404) {
          finish(turn);
          showError(turn, 'This answer was lost (the turn no longer exists). Please ask again.', true, 'lost');
          return;
        }
      }
      if (tries >= 150) { // ~5 minutes
        finish(turn);
        showError(turn, 'Gave up waiting for the answer. Please try again.', true, 'lost');
        return;
      }
      turn.pollTimer = setTimeout(tick, 2000);
    };
    turn.pollTimer = setTimeout(tick, 2000);
  }

  // ---------- actions ----------

  async function send(raw) {
    const message = (raw || '').trim();
    if (!message) return;
    if (active.size > 0) { setStatus('Please wait for the current answer, or press Stop.'); return; }
    if (loadingHistory || resetting) { setStatus('One moment: the conversation is loading.'); return; }
    setStatus('');
    const turn = newTurn(message, null);
    active.add(turn);
    updateBusy();
    setMeta(turn, 'Sending…');
    await refreshContext();
    let res;
    try {
      res = await api('/api/paliadin/turn', {
        method: 'POST',
        body: {
          user_message: message, session_id: sessionId,
          page_origin: pageContext ? `${pageContext.origin}${pageContext.path || ''}` : undefined,
          context: pageContext || undefined,
        },
      });
      if (!res || !res.turn_id) throw new Error('Unexpected response from the server.');
    } catch (err) {
      finish(turn);
      showError(turn, `Could not send: ${err.message}`, err.retryable !== false, 'send_failed');
      if (!ui.input.value) ui.input.value = message; // don't lose what was typed
      return;
    }
    if (turn.done) { // conversation was reset meanwhile: stop the orphaned turn
      api(`/api/paliadin/turn/${enc(res.turn_id)}/cancel`, { method: 'POST' }).catch(() => {});
      return;
    }
    setTurnId(turn, res.turn_id);
    attach(turn, res.sse_url || streamUrl(res.turn_id));
    if (turn.cancelRequested) cancel(turn);
  }

  async function cancel(turn) {
    if (!turn.id) { turn.cancelRequested = true; return; }
    try {
      await api(`/api/paliadin/turn/${enc(turn.id)}/cancel`, { method: 'POST' });
      setMeta(turn, 'Stopping…');
    } catch (err) {
      setStatus(`Could not stop: ${err.message}`);
    }
  }

  async function resetConversation() {
    if (resetting) return;
    resetting = true;
    for (const turn of [...active]) {
      if (turn.id) api(`/api/paliadin/turn/${enc(turn.id)}/cancel`, { method: 'POST' }).catch(() => {});
      finish(turn);
    }
    // The new session starts now; the composer waits until the server has reset.
    const previous = sessionId;
    sessionId = newId();
    saveSession(sessionId);
    ui.list.replaceChildren();
    ui.reset.disabled = true;
    updateBusy();
    let warning = '';
    try {
      await api('/api/paliadin/reset', { method: 'POST', body: { session_id: previous } });
    } catch (err) {
      warning = ` (the server could not reset: ${err.message})`;
    }
    resetting = false;
    updateBusy();
    ui.reset.disabled = false;
    setStatus(`Started a new conversation${warning}.`);
    ui.input.focus();
  }

  async function loadHistory() {
    const session = sessionId;
    setStatus('Loading conversation…');
    let rows;
    try {
      rows = await api(`/api/paliadin/history?session=${enc(session)}&limit=50`);
    } catch (err) {
      setStatus(`Could not load the conversation: ${err.message}`);
      return;
    } finally {
      loadingHistory = false;
      updateBusy();
    }
    if (session !== sessionId) return; // reset while loading
    setStatus('');
    const shown = new Set([...ui.list.querySelectorAll('[data-turn-id]')].map((e) => e.dataset.turnId));
    for (const r of Array.isArray(rows) ? rows : []) {
      if (!r || !r.turn_id || shown.has(r.turn_id)) continue;
      const turn = newTurn(r.user_message || '', r.turn_id);
      if (r.status === 'running') attach(turn, streamUrl(r.turn_id));
      else renderRecord(turn, r);
    }
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
  }

  // ---------- wiring ----------

  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (active.size > 0) return;
    const text = ui.input.value;
    if (!text.trim()) return;
    ui.input.value = '';
    send(text);
  });

  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      ui.form.requestSubmit ? ui.form.requestSubmit() : ui.send.click();
    }
  });

  ui.stop.addEventListener('click', () => { for (const t of active) cancel(t); });
  ui.reset.addEventListener('click', resetConversation);

  // In the widget: take the page context from the host page (only from the page that
  // framed us, whose origin Paliadin's frame-ancestors policy allowed), ask for it now, and
  // let Escape close the drawer.
  if (embedded && hostOrigin) {
    window.addEventListener('message', (e) => {
      if (e.source !== window.parent || e.origin !== hostOrigin || !e.data) return;
      if (e.data.type !== 'paliadin:context') return;
      // The origin is the one the browser vouches for, not what the message claims.
      const context = acceptContext(e.data.context);
      pageContext = context ? { ...context, origin: e.origin } : null;
      document.body.dataset.contextReceived = 'true'; // for tests
      for (const resolve of contextWaiters.splice(0)) resolve();
    });
    window.parent.postMessage({ type: 'paliadin:ready' }, hostOrigin);
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') window.parent.postMessage({ type: 'paliadin:close' }, hostOrigin);
    });
  }

  // Asks the host page for its context as of now and waits for it briefly (a host page that
  // does not answer leaves the last context in place).
  const contextWaiters = [];
  function refreshContext() {
    if (!embedded || !hostOrigin) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 400);
      contextWaiters.push(() => { clearTimeout(timer); resolve(); });
      window.parent.postMessage({ type: 'paliadin:context-request' }, hostOrigin);
    });
  }

  // The widget bounds the context already; this keeps a misbehaving host page from
  // sending more than the server would take.
  function acceptContext(value) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
    try {
      const json = JSON.stringify(value);
      return json.length <= 16 * 1024 ? JSON.parse(json) : null;
    } catch { return null; }
  }

  updateBusy();
  loadHistory();
  if (embedded) ui.input.focus();
})();
