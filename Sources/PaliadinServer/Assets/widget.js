// Paliadin drop-in widget. One tag on any page of the host app:
//
//   <script src="https://paliadin.example.com/paliadin/widget.js" async
//           data-context='{"plan":"pro"}' data-title="Help"
//           data-session-token="<JWT your server signed for this user>"></script>
//
// It adds a launcher button (bottom-right) that opens a drawer with the chat page in an
// iframe served by Paliadin itself, so the chat's requests stay same-origin with Paliadin.
// Everything the widget draws lives in a shadow root: the host page's CSS cannot reach it.
// The host page may also call, at any time:
//
//   window.Paliadin.setContext({ order: 1234 })   // what the assistant should know
//   window.Paliadin.open() / window.Paliadin.close()
//
// With each turn the chat sends the page context: the host page's origin, path and title,
// and what the host supplied (data-context, then setContext), at most 8 KiB of JSON.
// The host's origin must be allowed by Paliadin's PALIADIN_EMBED_ORIGINS setting.
(() => {
  'use strict';
  // Included twice? (`=== true`: an element named __paliadinWidget on the host page is not us.)
  if (window.__paliadinWidget === true) return;
  window.__paliadinWidget = true;

  const MAX_CONTEXT_CHARS = 8 * 1024;
  const MAX_TITLE_CHARS = 300;
  const MAX_PATH_CHARS = 1000;

  // Capture our own tag now: currentScript is only set while this runs.
  const script = document.currentScript ||
    [...document.scripts].find((s) => /\/paliadin\/widget\.js([?#]|$)/.test(s.src));
  if (!script || !script.src) return;
  const base = new URL(script.src, location.href);
  const chatPath = `/paliadin?embed=1&host=${encodeURIComponent(location.origin)}`;
  // A session token the host app signed for this user (data-session-token): the drawer
  // signs in with it first (Paliadin keeps it in its own HttpOnly cookie), then shows the chat.
  const sessionToken = script.dataset.sessionToken;
  const chatUrl = new URL(sessionToken
    ? `/paliadin/session?token=${encodeURIComponent(sessionToken)}&next=${encodeURIComponent(chatPath)}`
    : chatPath, base).href;
  const drawerTitle = (script.dataset.title || 'Paliadin').slice(0, 80);

  // What the host page supplied, kept only while it fits the size bound.
  let hostContext = null;

  function acceptHostContext(value, source) {
    if (value == null) { hostContext = null; return true; }
    if (typeof value !== 'object' || Array.isArray(value)) {
      console.warn(`[paliadin] ${source}: the context must be a JSON object; ignored.`);
      return false;
    }
    let json;
    try { json = JSON.stringify(value); } catch (err) {
      console.warn(`[paliadin] ${source}: the context cannot be turned into JSON (${err.message}); ignored.`);
      return false;
    }
    if (json.length > MAX_CONTEXT_CHARS) {
      console.warn(`[paliadin] ${source}: the context is ${json.length} characters of JSON, over the ${MAX_CONTEXT_CHARS} limit; ignored.`);
      return false;
    }
    hostContext = JSON.parse(json); // a plain copy: later changes by the host do not leak in
    return true;
  }

  if (script.dataset.context) {
    try { acceptHostContext(JSON.parse(script.dataset.context), 'data-context'); } catch (err) {
      console.warn(`[paliadin] data-context is not valid JSON (${err.message}); ignored.`);
    }
  }

  // The context as of now: single-page apps change path and title without reloading.
  function pageContext() {
    const context = {
      origin: location.origin,
      path: location.pathname.slice(0, MAX_PATH_CHARS),
      title: (document.title || '').slice(0, MAX_TITLE_CHARS),
    };
    if (hostContext) context.data = hostContext;
    return context;
  }

  const CSS = `
    :host { all: initial; }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    button { font: 600 14px/1 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; cursor: pointer; }
    button:focus-visible { outline: 3px solid #7aa2ff; outline-offset: 2px; }
    .launcher {
      position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;
      width: 56px; height: 56px; border-radius: 50%; border: 0; padding: 0;
      background: #2457d6; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.3);
      display: flex; align-items: center; justify-content: center;
    }
    .launcher svg { width: 28px; height: 28px; fill: currentColor; }
    .drawer {
      position: fixed; right: 16px; bottom: 88px; z-index: 2147483001;
      width: min(400px, calc(100vw - 32px)); height: min(640px, calc(100vh - 112px));
      display: flex; flex-direction: column; overflow: hidden;
      background: #fff; color: #1b1f24; border-radius: 12px;
      box-shadow: 0 10px 40px rgba(0,0,0,.35);
    }
    .head {
      display: flex; align-items: center; justify-content: space-between;
      padding: 6px 8px 6px 14px; border-bottom: 1px solid #d5d9e0;
      font: 600 14px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
    }
    .notice { margin: 16px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
    .close { border: 0; background: transparent; color: inherit; font-size: 22px; width: 40px; height: 40px; border-radius: 8px; }
    iframe { flex: 1; width: 100%; border: 0; background: transparent; }
    @media (max-width: 480px) {
      .drawer { inset: 0; width: 100vw; height: 100%; border-radius: 0; }
    }
    @media (prefers-color-scheme: dark) {
      .drawer { background: #1e232a; color: #e6e9ee; }
      .head { border-bottom-color: #353c46; }
      .launcher { background: #7aa2ff; color: #0b1020; }
    }`;

  function addStyles(root) {
    // Constructed stylesheets are not blocked by a strict style-src CSP.
    if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' &&
        'replaceSync' in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = CSS;
      root.append(style);
    }
  }

  function chatIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
    svg.append(path);
    return svg;
  }

  let api = null; // set by mount; calls before it are remembered
  let openWhenMounted = false;

  function mount() {
    const host = document.createElement('div');
    host.id = 'paliadin-widget';
    const root = host.attachShadow({ mode: 'open' });
    addStyles(root);

    const launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'launcher';
    launcher.setAttribute('aria-label', `Open ${drawerTitle} assistant`);
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'paliadin-drawer');
    launcher.append(chatIcon());

    const drawer = document.createElement('div');
    drawer.id = 'paliadin-drawer';
    drawer.className = 'drawer';
    drawer.setAttribute('role', 'dialog');
    drawer.setAttribute('aria-label', `${drawerTitle} assistant`);
    drawer.hidden = true;

    const head = document.createElement('div');
    head.className = 'head';
    const title = document.createElement('span');
    title.textContent = drawerTitle;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.setAttribute('aria-label', 'Close assistant');
    close.textContent = '×';
    head.append(title, close);
    drawer.append(head);

    let iframe = null; // created on first open so pages don't pay for it up front
    let chatStarted = false;

    // A chat that never says it started was most likely refused by Paliadin's
    // frame-ancestors policy: say so in the drawer rather than show an empty frame.
    function watchStart() {
      setTimeout(() => {
        if (chatStarted || !iframe) return;
        console.warn(`[paliadin] the chat did not start in the drawer: is ${location.origin} in Paliadin's PALIADIN_EMBED_ORIGINS?`);
        const notice = document.createElement('p');
        notice.className = 'notice';
        notice.setAttribute('role', 'alert');
        notice.textContent = 'The assistant is not available on this site right now.';
        iframe.hidden = true;
        drawer.append(notice);
      }, 8000);
    }

    function sendContext() {
      if (!iframe || !iframe.contentWindow) return;
      iframe.contentWindow.postMessage({ type: 'paliadin:context', context: pageContext() }, base.origin);
    }

    function open() {
      if (!iframe) {
        iframe = document.createElement('iframe');
        iframe.title = `${drawerTitle} assistant chat`;
        iframe.src = chatUrl;
        iframe.setAttribute('allow', 'clipboard-write');
        drawer.append(iframe);
        watchStart();
      } else {
        sendContext(); // path or title may have changed since
      }
      drawer.hidden = false;
      launcher.setAttribute('aria-expanded', 'true');
      launcher.setAttribute('aria-label', `Close ${drawerTitle} assistant`);
      iframe.focus();
    }

    function hide() {
      if (drawer.hidden) return;
      drawer.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      launcher.setAttribute('aria-label', `Open ${drawerTitle} assistant`);
      launcher.focus();
    }

    launcher.addEventListener('click', () => (drawer.hidden ? open() : hide()));
    close.addEventListener('click', hide);
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide(); });
    // The chat page in the iframe asks for the context when it starts, and asks to close
    // when Escape is pressed inside it. Only messages from our own iframe count.
    window.addEventListener('message', (e) => {
      if (!iframe || e.source !== iframe.contentWindow || e.origin !== base.origin || !e.data) return;
      // On start, and before each turn (single-page apps change path and title as they go).
      if (e.data.type === 'paliadin:ready') chatStarted = true;
      if (e.data.type === 'paliadin:ready' || e.data.type === 'paliadin:context-request') sendContext();
      if (e.data.type === 'paliadin:close') hide();
    });

    root.append(launcher, drawer);
    document.body.append(host);
    api = { open, hide, sendContext };
    if (openWhenMounted) open();
  }

  window.Paliadin = Object.freeze({
    // Replaces what the host page tells the assistant (a JSON object; null clears it).
    setContext(value) {
      const accepted = acceptHostContext(value, 'setContext');
      if (accepted && api) api.sendContext();
      return accepted;
    },
    open() { if (api) api.open(); else openWhenMounted = true; },
    close() { if (api) api.hide(); else openWhenMounted = false; },
  });

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
