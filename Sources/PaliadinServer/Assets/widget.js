// Paliadin drop-in widget:
//   <script src="https://host/paliadin/widget.js" async></script>
// Adds a launcher button (bottom-right) that toggles a drawer with the chat
// page in an iframe. Everything lives in a shadow root so host CSS can't leak in.
// (Passing richer page context to the assistant comes in a later task.)
(() => {
  'use strict';
  if (window.__paliadinWidget) return; // included twice
  window.__paliadinWidget = true;

  // Capture our own URL now: currentScript is only set while this runs.
  const script = document.currentScript ||
    [...document.scripts].find((s) => /\/paliadin\/widget\.js([?#]|$)/.test(s.src));
  if (!script || !script.src) return;
  const base = new URL(script.src, location.href);
  const chatUrl = new URL(`/paliadin?embed=1&origin=${encodeURIComponent(location.href)}`, base).href;

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

  function mount() {
    const host = document.createElement('div');
    host.id = 'paliadin-widget';
    const root = host.attachShadow({ mode: 'open' });
    addStyles(root);

    const launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'launcher';
    launcher.setAttribute('aria-label', 'Open Paliadin assistant');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-controls', 'paliadin-drawer');
    launcher.append(chatIcon());

    const drawer = document.createElement('div');
    drawer.id = 'paliadin-drawer';
    drawer.className = 'drawer';
    drawer.setAttribute('role', 'dialog');
    drawer.setAttribute('aria-label', 'Paliadin assistant');
    drawer.hidden = true;

    const head = document.createElement('div');
    head.className = 'head';
    const title = document.createElement('span');
    title.textContent = 'Paliadin';
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.setAttribute('aria-label', 'Close assistant');
    close.textContent = '×';
    head.append(title, close);
    drawer.append(head);

    let iframe = null; // created on first open so pages don't pay for it up front

    function open() {
      if (!iframe) {
        iframe = document.createElement('iframe');
        iframe.title = 'Paliadin assistant chat';
        iframe.src = chatUrl;
        iframe.setAttribute('allow', 'clipboard-write');
        drawer.append(iframe);
      }
      drawer.hidden = false;
      launcher.setAttribute('aria-expanded', 'true');
      launcher.setAttribute('aria-label', 'Close Paliadin assistant');
      iframe.focus();
    }

    function hide() {
      if (drawer.hidden) return;
      drawer.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      launcher.setAttribute('aria-label', 'Open Paliadin assistant');
      launcher.focus();
    }

    launcher.addEventListener('click', () => (drawer.hidden ? open() : hide()));
    close.addEventListener('click', hide);
    document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide(); });
    // Escape pressed inside the iframe arrives as a message from the chat page.
    window.addEventListener('message', (e) => {
      if (iframe && e.source === iframe.contentWindow && e.origin === base.origin &&
          e.data && e.data.type === 'paliadin:close') hide();
    });

    root.append(launcher, drawer);
    document.body.append(host);
  }

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
