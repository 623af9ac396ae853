// Paliadin Markdown renderer. Plain script (no build step), loaded before chat.js.
//
//   PaliadinMarkdown.render(text) -> DocumentFragment
//   PaliadinMarkdown.lastError    -> the internal error of the last render, or null
//
// Safe by construction: output is built with createElement/createTextNode and a
// fixed allow-list of attributes; nothing is ever parsed as HTML, so raw HTML in
// the text shows as literal text. Links are limited to http:, https: and mailto:.
//
// Streaming tolerant: the chat re-renders the whole answer on every animation
// frame, so any prefix of a document must render (an unclosed fence is a code
// block so far, an unclosed `**` or backtick is literal text) and nothing throws.
//
// Heading mapping (small headings for chat bubbles):
//   #  -> h3,  ## -> h4,  ### -> h5,  ####, #####, ###### -> h6
//
// Every scan is linear or bounded; inline parsing follows CommonMark's
// delimiter-stack algorithm, which is what keeps `***…`, `[[[…` and friends fast.
(() => {
  'use strict';

  const MAX_DEPTH = 12;         // quote/list nesting; deeper markers stay literal text
  const MAX_INLINE_DEPTH = 48;  // deeper emphasis/link nesting is flattened
  const MAX_DEST = 4096;        // longest link destination we look for
  const MAX_TITLE = 1024;       // longest link title we look for
  const MAX_AUTOLINK = 2048;    // longest <autolink>
  const MAX_TABLE_COLS = 64;    // a wider "header" is not a table: it stays a paragraph
  const MAX_TABLE_CELLS = 10000; // per table (header included); later rows become a paragraph
  const HEADING_TAG = [null, 'h3', 'h4', 'h5', 'h6', 'h6', 'h6'];
  const ALLOWED_ATTRS = new Set(['href', 'rel', 'target', 'class', 'start', 'title']);
  const ESCAPABLE = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
  const SAFE_PREFIX = /^(?:https?:\/\/|mailto:)/;
  const SPECIAL = /[\\`*_~[\]\n<]/g;          // chars the inline scanner stops at
  const BARE_URL = /https?:\/\/[^\s<>"]+/gi;  // autolink candidates in plain text
  const NON_SPACE = /[^ \t]/;
  const WS = /\s/;
  const PUNCT = /[\p{P}\p{S}]/u;

  // ---------- line helpers (single linear scans, no backtracking regexes) ----------

  const isSpTab = (c) => c === 32 || c === 9;

  function isBlank(s) {
    for (let i = 0; i < s.length; i++) if (!isSpTab(s.charCodeAt(i))) return false;
    return true;
  }

  // Leading whitespace of a line, scanned once: index of the first other char
  // (p === s.length for a blank line) and its column (tab stops of 4).
  function lead(s) {
    let p = s.search(NON_SPACE); // native scan: fast even on long runs of spaces
    if (p === -1) p = s.length;
    const tab = s.indexOf('\t');
    if (tab === -1 || tab >= p) return { p, col: p };
    let col = 0;
    for (let i = 0; i < p; i++) col += s.charCodeAt(i) === 9 ? 4 - (col % 4) : 1;
    return { p, col };
  }

  const firstNonSpace = (s) => lead(s).p;
  const indentOf = (s) => lead(s).col;

  // Removes up to n columns of leading whitespace; a half-eaten tab becomes spaces.
  function stripCols(s, n) {
    let col = 0, i = 0;
    while (i < s.length && col < n) {
      const c = s.charCodeAt(i);
      if (c === 32) { col++; i++; }
      else if (c === 9) {
        const w = 4 - (col % 4);
        if (col + w > n) return ' '.repeat(col + w - n) + s.slice(i + 1);
        col += w; i++;
      } else break;
    }
    return s.slice(i);
  }

  // ---------- block recognisers ----------

  // The recognisers below take the line's lead() so nothing rescans indentation.
  function atxHeading(line, L) {
    if (L.col > 3) return null;
    const p = L.p;
    let level = 0;
    while (level < 7 && line.charCodeAt(p + level) === 35) level++;
    if (level < 1 || level > 6) return null;
    const q = p + level;
    if (q < line.length && !isSpTab(line.charCodeAt(q))) return null;
    let s = line.slice(q).trim();
    // Optional closing run of '#', only when separated by a space.
    let j = s.length;
    while (j > 0 && s.charCodeAt(j - 1) === 35) j--;
    if (j === 0) s = '';
    else if (j < s.length && isSpTab(s.charCodeAt(j - 1))) s = s.slice(0, j).trim();
    return { level, text: s };
  }

  function fenceOpen(line, L) {
    const p = L.p;
    const ch = line.charCodeAt(p);
    if (ch !== 96 && ch !== 126) return null;
    let q = p;
    while (line.charCodeAt(q) === ch) q++;
    const len = q - p;
    if (len < 3) return null;
    const info = line.slice(q).trim();
    if (ch === 96 && info.indexOf('`') !== -1) return null; // that is inline code
    let e = 0;
    while (e < info.length && !isSpTab(info.charCodeAt(e))) e++;
    const lang = info.slice(0, e).replace(/[^A-Za-z0-9_+#.-]/g, '').slice(0, 32);
    return { ch, len, indent: L.col, lang };
  }

  function isFenceClose(line, f) {
    const p = firstNonSpace(line);
    let q = p;
    while (line.charCodeAt(q) === f.ch) q++;
    return q - p >= f.len && isBlank(line.slice(q));
  }

  // `---`, `***`, `___` (3+ of one char, spaces allowed between).
  function isHr(line, L) {
    if (L.col > 3) return false;
    let ch = 0, count = 0;
    for (let i = L.p; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (isSpTab(c)) continue;
      if (ch === 0) {
        if (c !== 45 && c !== 42 && c !== 95) return false;
        ch = c;
      } else if (c !== ch) return false;
      count++;
    }
    return count >= 3;
  }

  // Setext underline under a paragraph: `===` -> level 1, `---` -> level 2.
  // Needs 3+ chars (CommonMark accepts 1) so that a lone `-` typed while
  // streaming a list does not flash the line above as a heading.
  function setextLevel(line, L) {
    if (L.col > 3) return 0;
    const p = L.p;
    const ch = line.charCodeAt(p);
    if (ch !== 61 && ch !== 45) return 0;
    let q = p;
    while (line.charCodeAt(q) === ch) q++;
    if (q - p < 3 || !isBlank(line.slice(q))) return 0;
    return ch === 61 ? 1 : 2;
  }

  // `> text` -> 'text'; null when the line is not a quote line.
  function quoteRest(line, L) {
    if (L.col > 3) return null;
    const p = L.p;
    if (line.charCodeAt(p) !== 62) return null;
    const r = line.slice(p + 1);
    const c = r.charCodeAt(0);
    if (c === 32) return r.slice(1);
    if (c === 9) return '  ' + r.slice(1);
    return r;
  }

  // `- x`, `* x`, `+ x`, `1. x`, `1) x` -> marker description, else null.
  function listMarker(line, L) {
    const ind = L.col;
    const p = L.p;
    const c = line.charCodeAt(p);
    let type, ch, start = 1, q;
    if (c === 45 || c === 42 || c === 43) {
      type = 'ul'; ch = c; q = p + 1;
    } else {
      let d = p;
      while (d - p < 10 && line.charCodeAt(d) >= 48 && line.charCodeAt(d) <= 57) d++;
      if (d === p || d - p > 9) return null;
      const dl = line.charCodeAt(d);
      if (dl !== 46 && dl !== 41) return null;
      type = 'ol'; ch = dl; start = parseInt(line.slice(p, d), 10); q = d + 1;
    }
    if (q < line.length && !isSpTab(line.charCodeAt(q))) return null;
    const markerEnd = ind + (q - p);
    const rest = line.slice(q);
    const w = indentOf(rest);
    let content, contentCol, empty = false;
    if (isBlank(rest)) { empty = true; content = ''; contentCol = markerEnd + 1; }
    else if (w > 4) { content = stripCols(rest, 1); contentCol = markerEnd + 1; }
    else { content = stripCols(rest, w); contentCol = markerEnd + w; }
    return { ind, type, ch, start, content, contentCol, empty };
  }

  // Splits a pipe-table row into trimmed cells; `\|` is a literal pipe.
  function splitRow(line) {
    let s = line.trim();
    if (s.charCodeAt(0) === 124) s = s.slice(1);
    if (s.length && s.charCodeAt(s.length - 1) === 124 && s.charCodeAt(s.length - 2) !== 92) {
      s = s.slice(0, -1);
    }
    const cells = [];
    let cur = '', from = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 92 && s.charCodeAt(i + 1) === 124) {
        cur += s.slice(from, i) + '|'; i++; from = i + 1;
      } else if (c === 124) {
        cells.push((cur + s.slice(from, i)).trim()); cur = ''; from = i + 1;
      }
    }
    cells.push((cur + s.slice(from)).trim());
    return cells;
  }

  // Delimiter row `| --- | :-: |` -> alignments, else null.
  function delimRow(line) {
    if (line.indexOf('|') === -1) return null;
    const L = lead(line);
    if (L.col > 3) return null;
    const c0 = line.charCodeAt(L.p);
    if (c0 !== 124 && c0 !== 45 && c0 !== 58) return null;
    const aligns = [];
    for (const cell of splitRow(line)) {
      if (!/^:?-+:?$/.test(cell)) return null;
      const l = cell.charCodeAt(0) === 58, r = cell.charCodeAt(cell.length - 1) === 58;
      aligns.push(l && r ? 'center' : r ? 'right' : l ? 'left' : '');
    }
    return aligns;
  }

  function tableAt(lines, i) {
    if (i + 1 >= lines.length || lines[i].indexOf('|') === -1) return null;
    const aligns = delimRow(lines[i + 1]);
    if (!aligns || aligns.length > MAX_TABLE_COLS) return null;
    const head = splitRow(lines[i]);
    return head.length === aligns.length ? { head, aligns } : null;
  }

  // Can this line start a block that ends a running paragraph?
  function interrupts(line, depth, L) {
    if (fenceOpen(line, L) || atxHeading(line, L) || isHr(line, L)) return true;
    if (depth >= MAX_DEPTH) return false;
    if (quoteRest(line, L) !== null) return true;
    const m = listMarker(line, L);
    return !!m && !m.empty && (m.type === 'ul' || m.start === 1);
  }

  // ---------- block parser: lines -> block tree ----------

  // Returns { blocks, gap } where gap says a blank line separated two blocks
  // (used to tell loose list items from tight ones).
  function parseBlocks(lines, depth) {
    const out = [];
    const nested = depth < MAX_DEPTH;
    const n = lines.length;
    let i = 0, gap = false, pending = false;
    while (i < n) {
      const line = lines[i];
      const L = lead(line);
      if (L.p === line.length) { if (out.length) pending = true; i++; continue; }
      if (pending) { gap = true; pending = false; }
      let f, h, m, t;
      if ((f = fenceOpen(line, L))) {
        const code = [];
        let closed = false;
        for (i++; i < n; i++) {
          if (isFenceClose(lines[i], f)) { closed = true; i++; break; }
          code.push(stripCols(lines[i], f.indent));
        }
        // While streaming, the newline after the last code line arrives first.
        if (!closed && code.length && isBlank(code[code.length - 1])) code.pop();
        out.push({ t: 'code', lang: f.lang, text: code.join('\n') });
      } else if ((h = atxHeading(line, L))) {
        out.push({ t: 'h', level: h.level, text: h.text });
        i++;
      } else if (isHr(line, L)) {
        out.push({ t: 'hr' });
        i++;
      } else if (nested && quoteRest(line, L) !== null) {
        i = parseQuote(lines, i, depth, out);
      } else if (nested && (m = listMarker(line, L))) {
        i = parseList(lines, i, depth, out, m);
      } else if ((t = tableAt(lines, i))) {
        i = parseTable(lines, i, depth, out, t);
      } else {
        i = parseParagraph(lines, i, depth, out);
      }
    }
    return { blocks: out, gap };
  }

  function parseParagraph(lines, i, depth, out) {
    const buf = [lines[i].trim()];
    for (i++; i < lines.length; i++) {
      const line = lines[i];
      const L = lead(line);
      if (L.p === line.length) break;
      const level = setextLevel(line, L);
      if (level) {
        out.push({ t: 'h', level, text: buf.join('\n') });
        return i + 1;
      }
      if (interrupts(line, depth, L) || tableAt(lines, i)) break;
      buf.push(line.trim());
    }
    out.push({ t: 'p', text: buf.join('\n') });
    return i;
  }

  function parseQuote(lines, i, depth, out) {
    const inner = [];
    while (i < lines.length) {
      const line = lines[i];
      const L = lead(line);
      const r = quoteRest(line, L);
      if (r !== null) { inner.push(r); i++; continue; }
      // Lazy continuation: a plain line right after quoted text stays in the quote.
      if (L.p === line.length || !inner.length || isBlank(inner[inner.length - 1]) ||
          interrupts(line, depth, L)) break;
      inner.push(line);
      i++;
    }
    out.push({ t: 'quote', blocks: parseBlocks(inner, depth + 1).blocks });
    return i;
  }

  // Items continue with lines indented 2+ columns past the marker (lenient:
  // CommonMark wants the full content column); such lines are de-indented and
  // parsed recursively, which is how nested lists happen.
  function parseList(lines, i, depth, out, first) {
    const list = { t: 'list', ordered: first.type === 'ol', start: first.start, loose: false, items: [] };
    const base = first.ind;
    const n = lines.length;
    let m = first;
    while (m) {
      const item = [m.content];
      let blanks = 0, next = null;
      for (i++; i < n; i++) {
        const line = lines[i];
        const L = lead(line);
        if (L.p === line.length) { item.push(''); blanks++; continue; }
        if (L.col >= base + 2) { item.push(stripCols(line, Math.min(L.col, m.contentCol))); blanks = 0; continue; }
        const mk = !isHr(line, L) && listMarker(line, L);
        if (mk && mk.type === first.type && mk.ch === first.ch) { next = mk; break; }
        if (blanks === 0 && !mk && !interrupts(line, depth, L) && !tableAt(lines, i)) {
          item.push(line.trim()); // lazy paragraph continuation
          continue;
        }
        break;
      }
      if (blanks) {
        item.length -= blanks;
        if (next) list.loose = true;
        else i -= blanks; // trailing blank lines belong to the parent
      }
      const parsed = parseBlocks(item, depth + 1);
      if (parsed.gap) list.loose = true;
      list.items.push(parsed.blocks);
      m = next;
    }
    out.push(list);
    return i;
  }

  // Rows keep at most `width` cells (extra cells are dropped) and short rows are
  // NOT padded: they stay ragged, so the element count is bounded by the input
  // (padding made a wide header times many short lines quadratic). Once the
  // table holds MAX_TABLE_CELLS cells, its remaining lines become one paragraph.
  function parseTable(lines, i, depth, out, t) {
    const width = t.head.length;
    const rows = [];
    let cells = width, rest = null;
    for (i += 2; i < lines.length; i++) {
      const line = lines[i];
      const L = lead(line);
      if (L.p === line.length || interrupts(line, depth, L)) break;
      if (rest) { rest.push(line.trim()); continue; }
      const row = splitRow(line);
      if (row.length > width) row.length = width;
      if (cells + row.length > MAX_TABLE_CELLS) { rest = [line.trim()]; continue; }
      cells += row.length;
      rows.push(row);
    }
    out.push({ t: 'table', aligns: t.aligns, head: t.head, rows });
    if (rest) out.push({ t: 'p', text: rest.join('\n') });
    return i;
  }

  // ---------- inline parser: text -> node tree ----------
  //
  // Nodes live in doubly linked lists ({t, v, first, last, prev, next}) so that
  // wrapping a run of siblings into <em>/<a> is O(1). Used-up delimiter text
  // nodes are emptied rather than unlinked, so no parent pointers are needed.

  function unescapeMd(s) {
    return s.replace(/\\([!-/:-@[-`{-~])/g, '$1');
  }

  function codeSpanText(s) {
    s = s.replace(/\n/g, ' ');
    if (s.length >= 2 && s.charCodeAt(0) === 32 && s.charCodeAt(s.length - 1) === 32 && !isBlank(s)) {
      s = s.slice(1, -1);
    }
    return s;
  }

  // Positions of every backtick run, grouped by run length, so that finding the
  // closer of a code span is amortised O(1) instead of a rescan per opener.
  function backtickRuns(src) {
    const map = new Map();
    let i = src.indexOf('`');
    while (i !== -1) {
      let j = i;
      while (src.charCodeAt(j) === 96) j++;
      let e = map.get(j - i);
      if (!e) map.set(j - i, (e = { pos: [], k: 0 }));
      e.pos.push(i);
      i = src.indexOf('`', j);
    }
    return map;
  }

  function findRun(map, len, from) {
    const e = map.get(len);
    if (!e) return -1;
    while (e.k < e.pos.length && e.pos[e.k] < from) e.k++;
    return e.k < e.pos.length ? e.pos[e.k] : -1;
  }

  // Skips spaces/tabs and at most one newline.
  function skipWs(src, p) {
    let nl = false;
    for (;;) {
      const c = src.charCodeAt(p);
      if (isSpTab(c)) p++;
      else if (c === 10 && !nl) { nl = true; p++; }
      else return p;
    }
  }

  // `(dest "title")` starting at p -> { dest, title, end } or null. Bounded scans.
  function linkTail(src, p) {
    if (src.charCodeAt(p) !== 40) return null;
    const n = src.length;
    p = skipWs(src, p + 1);
    let dest;
    if (src.charCodeAt(p) === 60) {
      const s = p + 1;
      let q = s;
      while (q < n && q - s < MAX_DEST) {
        const c = src.charCodeAt(q);
        if (c === 62 || c === 60 || c === 10) break;
        q += c === 92 ? 2 : 1;
      }
      if (src.charCodeAt(q) !== 62) return null;
      dest = src.slice(s, q);
      p = q + 1;
    } else {
      const s = p;
      let depth = 0;
      while (p < n) {
        const c = src.charCodeAt(p);
        if (c === 92 && ESCAPABLE.has(src[p + 1])) { p += 2; continue; }
        if (c <= 32 || c === 127) break;
        if (c === 40) { if (++depth > 32) return null; }
        else if (c === 41) { if (depth === 0) break; depth--; }
        p++;
        if (p - s > MAX_DEST) return null;
      }
      if (depth !== 0) return null;
      dest = src.slice(s, p);
    }
    const afterDest = p;
    p = skipWs(src, p);
    let title = '';
    const open = src.charCodeAt(p);
    if (p > afterDest && (open === 34 || open === 39 || open === 40)) {
      const close = open === 40 ? 41 : open;
      const s = p + 1;
      let k = s;
      while (k < n && k - s < MAX_TITLE) {
        const c = src.charCodeAt(k);
        if (c === close) break;
        if (open === 40 && c === 40) return null;
        k += c === 92 ? 2 : 1;
      }
      if (src.charCodeAt(k) !== close) return null;
      title = unescapeMd(src.slice(s, k));
      p = skipWs(src, k + 1);
    }
    if (src.charCodeAt(p) !== 41) return null;
    return { dest: unescapeMd(dest), title, end: p + 1 };
  }

  // `<https://x>` or `<me@x.org>` at i -> { href, text, end } or null.
  function angleAutolink(src, i) {
    const n = src.length;
    let k = i + 1;
    for (; k < n && k - i < MAX_AUTOLINK; k++) {
      const c = src.charCodeAt(k);
      if (c === 62) break;
      if (c <= 32 || c === 60) return null;
    }
    if (src.charCodeAt(k) !== 62) return null;
    const inner = src.slice(i + 1, k);
    let href = null;
    if (/^[A-Za-z][A-Za-z0-9+.-]{1,31}:/.test(inner)) href = safeHref(inner);
    else if (/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/.test(inner)) {
      href = safeHref('mailto:' + inner);
    }
    return href ? { href, text: inner, end: k + 1 } : null;
  }

  // The only gate for hrefs: absolute http/https/mailto, as the browser parses it.
  function safeHref(raw) {
    const s = String(raw).trim();
    if (!SAFE_PREFIX.test(s.toLowerCase())) return null;
    let u;
    try { u = new URL(s); } catch { return null; }
    if (u.protocol === 'mailto:') return u.href;
    if ((u.protocol === 'http:' || u.protocol === 'https:') && u.hostname) return u.href;
    return null;
  }

  const isWs = (ch) => ch === '' || WS.test(ch);
  const isPunct = (ch) => ch !== '' && PUNCT.test(ch);

  function parseInline(src) {
    const root = { t: 'root', first: null, last: null };
    const n = src.length;
    const ticks = src.indexOf('`') === -1 ? null : backtickRuns(src);
    let delims = null;   // top of the emphasis delimiter stack
    let brackets = null; // top of the `[` opener stack
    let buf = '';

    function append(node) {
      node.prev = root.last;
      node.next = null;
      if (root.last) root.last.next = node; else root.first = node;
      root.last = node;
      return node;
    }

    function flush() {
      if (buf) { append({ t: 'text', v: buf }); buf = ''; }
    }

    // Moves the siblings strictly between a and b into a new container node.
    function wrap(a, b, t) {
      const node = { t, first: a.next, last: b.prev, prev: a, next: b };
      if (node.first === b) node.first = node.last = null;
      else { node.first.prev = null; node.last.next = null; }
      a.next = node;
      b.prev = node;
    }

    function removeDelim(d) {
      if (d.prev) d.prev.next = d.next;
      if (d.next) d.next.prev = d.prev;
      if (d === delims) delims = d.prev;
    }

    // CommonMark "process emphasis" for delimiters above `bottom`.
    // The per-kind lower bounds are source positions, not delimiter objects: a
    // bound delimiter may later be dropped from the stack (found.next = closer),
    // and a pointer to it would then never be met, so every later search would
    // walk to the bottom again (quadratic on `*_~~a*_~~a…`). Delimiters sit on
    // the stack in source order, so `pos > bound` stops at the same place.
    function processEmphasis(bottom) {
      let closer = delims === bottom ? null : delims;
      while (closer && closer.prev !== bottom) closer = closer.prev;
      const bottomPos = bottom ? bottom.pos : -1;
      const openersBottom = Object.create(null);
      while (closer) {
        if (!closer.canClose) { closer = closer.next; continue; }
        const key = closer.ch + (closer.canOpen ? 'o' : 'c') + (closer.orig % 3);
        const limitPos = key in openersBottom ? openersBottom[key] : bottomPos;
        let opener = closer.prev, found = null;
        while (opener && opener.pos > limitPos) {
          if (opener.ch === closer.ch && opener.canOpen && opener.count > 0) {
            const odd = (opener.canClose || closer.canOpen) &&
              (opener.orig + closer.orig) % 3 === 0 && !(opener.orig % 3 === 0 && closer.orig % 3 === 0);
            const tildeOk = closer.ch !== 126 || opener.count === closer.count;
            if (!odd && tildeOk) { found = opener; break; }
          }
          opener = opener.prev;
        }
        if (found) {
          const use = closer.ch === 126 ? 2 : (closer.count >= 2 && found.count >= 2 ? 2 : 1);
          const type = closer.ch === 126 ? 'del' : use === 2 ? 'strong' : 'em';
          const mark = String.fromCharCode(closer.ch);
          found.count -= use;
          closer.count -= use;
          found.node.v = mark.repeat(found.count);
          closer.node.v = mark.repeat(closer.count);
          wrap(found.node, closer.node, type);
          found.next = closer; // delimiters in between are now inside the wrapper
          closer.prev = found;
          if (found.count === 0) removeDelim(found);
          if (closer.count === 0) { const next = closer.next; removeDelim(closer); closer = next; }
        } else {
          openersBottom[key] = closer.prev ? closer.prev.pos : -1;
          const next = closer.next;
          if (!closer.canOpen) removeDelim(closer);
          closer = next;
        }
      }
      delims = bottom;
      if (bottom) bottom.next = null;
    }

    function closeBracket(i) {
      const opener = brackets;
      if (!opener) { buf += ']'; return i + 1; }
      brackets = opener.prev;
      if (!opener.active) { buf += ']'; return i + 1; }
      const tail = linkTail(src, i + 1);
      const href = tail && safeHref(tail.dest);
      if (!href) { buf += ']'; return i + 1; } // rejected links stay literal text
      flush();
      processEmphasis(opener.delims);
      const start = opener.node.next;
      const link = { t: 'link', href, title: tail.title, first: start, last: start ? root.last : null,
        prev: opener.node, next: null };
      if (start) start.prev = null;
      opener.node.next = link;
      opener.node.v = '';
      root.last = link;
      // Links cannot contain links: older openers can no longer form one.
      for (let b = brackets; b && b.active; b = b.prev) b.active = false;
      return tail.end;
    }

    let i = 0;
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c === 92) { // backslash escape
        const d = src[i + 1];
        if (d === '\n') { flush(); append({ t: 'br' }); i += 2; }
        else if (d !== undefined && ESCAPABLE.has(d)) { buf += d; i += 2; }
        else { buf += '\\'; i++; }
      } else if (c === 96) { // code span
        let j = i;
        while (src.charCodeAt(j) === 96) j++;
        const close = findRun(ticks, j - i, j);
        if (close < 0) { buf += src.slice(i, j); i = j; continue; }
        flush();
        append({ t: 'code', v: codeSpanText(src.slice(j, close)) });
        i = close + (j - i);
      } else if (c === 42 || c === 95 || c === 126) { // * _ ~
        let j = i;
        while (src.charCodeAt(j) === c) j++;
        const before = i > 0 ? src[i - 1] : '';
        const after = j < n ? src[j] : '';
        const bWs = isWs(before), aWs = isWs(after), bP = isPunct(before), aP = isPunct(after);
        const left = !aWs && (!aP || bWs || bP);
        const right = !bWs && (!bP || aWs || aP);
        const canOpen = c === 95 ? left && (!right || bP) : left;
        const canClose = c === 95 ? right && (!left || aP) : right;
        flush();
        const node = append({ t: 'text', v: src.slice(i, j) });
        if ((canOpen || canClose) && (c !== 126 || j - i === 2)) {
          const d = { node, pos: i, ch: c, count: j - i, orig: j - i, canOpen, canClose, prev: delims, next: null };
          if (delims) delims.next = d;
          delims = d;
        }
        i = j;
      } else if (c === 91) { // [
        flush();
        brackets = { node: append({ t: 'text', v: '[' }), delims, active: true, prev: brackets };
        i++;
      } else if (c === 93) { // ]
        i = closeBracket(i);
      } else if (c === 10) {
        flush();
        append({ t: 'br' });
        i++;
      } else if (c === 60) { // <autolink>
        const a = angleAutolink(src, i);
        if (!a) { buf += '<'; i++; continue; }
        flush();
        const text = { t: 'text', v: a.text, prev: null, next: null };
        append({ t: 'link', href: a.href, title: '', first: text, last: text });
        i = a.end;
      } else {
        SPECIAL.lastIndex = i;
        const m = SPECIAL.exec(src);
        const j = m ? m.index : n;
        buf += src.slice(i, j);
        i = j;
      }
    }
    flush();
    processEmphasis(null);
    return root;
  }

  // ---------- DOM building ----------

  function setAttr(e, name, value) {
    if (!ALLOWED_ATTRS.has(name)) throw new Error('markdown: attribute not allowed: ' + name);
    e.setAttribute(name, value);
  }

  function el(tag, cls) {
    const e = document.createElement(tag);
    if (cls) setAttr(e, 'class', cls);
    return e;
  }

  function linkEl(href, title) {
    const a = el('a');
    setAttr(a, 'href', href);
    setAttr(a, 'rel', 'noopener noreferrer nofollow');
    setAttr(a, 'target', '_blank');
    if (title) setAttr(a, 'title', title);
    return a;
  }

  // Drops trailing punctuation (and unbalanced closing brackets) from a bare URL.
  function trimUrl(u) {
    let paren = 0, square = 0;
    for (let k = 0; k < u.length; k++) {
      const c = u.charCodeAt(k);
      if (c === 40) paren++; else if (c === 41) paren--;
      else if (c === 91) square++; else if (c === 93) square--;
    }
    let end = u.length;
    while (end > 0) {
      const c = u[end - 1];
      if ('?!.,:;*_~\'"'.indexOf(c) !== -1) end--;
      else if (c === ')' && paren < 0) { paren++; end--; }
      else if (c === ']' && square < 0) { square++; end--; }
      else break;
    }
    return u.slice(0, end);
  }

  // Appends plain text, turning bare http(s) URLs into links (not inside links).
  function appendText(parent, s, inLink) {
    if (!s) return;
    if (inLink || s.indexOf('://') === -1) { parent.appendChild(document.createTextNode(s)); return; }
    let last = 0, m;
    BARE_URL.lastIndex = 0;
    while ((m = BARE_URL.exec(s))) {
      const at = m.index;
      if (at > 0 && /[A-Za-z0-9]/.test(s[at - 1])) continue;
      const url = trimUrl(m[0]);
      const href = /^https?:\/\/[A-Za-z0-9[]/i.test(url) ? safeHref(url) : null;
      if (!href) continue;
      if (at > last) parent.appendChild(document.createTextNode(s.slice(last, at)));
      const a = linkEl(href, '');
      a.textContent = url;
      parent.appendChild(a);
      last = at + url.length;
      BARE_URL.lastIndex = last;
    }
    if (last < s.length) parent.appendChild(document.createTextNode(s.slice(last)));
  }

  // Iterative walk (no recursion), merging adjacent text nodes.
  function buildInline(root, parent) {
    const stack = [];
    let node = root.first, into = parent, inLink = false, depth = 0, text = '';
    for (;;) {
      if (!node) {
        appendText(into, text, inLink);
        text = '';
        if (!stack.length) return;
        ({ node, into, inLink, depth } = stack.pop());
        continue;
      }
      if (node.t === 'text') { text += node.v; node = node.next; continue; }
      appendText(into, text, inLink);
      text = '';
      if (node.t === 'br') into.appendChild(el('br'));
      else if (node.t === 'code') { const code = el('code'); code.textContent = node.v; into.appendChild(code); }
      else {
        let box = into;
        if (depth < MAX_INLINE_DEPTH) {
          box = node.t === 'link' ? linkEl(node.href, node.title) : el(node.t);
          into.appendChild(box);
        }
        if (node.first) {
          stack.push({ node: node.next, into, inLink, depth });
          into = box;
          inLink = inLink || node.t === 'link';
          depth++;
          node = node.first;
          continue;
        }
      }
      node = node.next;
    }
  }

  function buildBlocks(blocks, parent, tight) {
    for (const b of blocks) {
      switch (b.t) {
        case 'p': {
          if (tight) { buildInline(parseInline(b.text), parent); break; }
          const p = el('p');
          buildInline(parseInline(b.text), p);
          parent.appendChild(p);
          break;
        }
        case 'h': {
          const h = el(HEADING_TAG[b.level]);
          buildInline(parseInline(b.text), h);
          parent.appendChild(h);
          break;
        }
        case 'hr':
          parent.appendChild(el('hr'));
          break;
        case 'code': {
          const pre = el('pre', 'md-code');
          const code = el('code', b.lang ? 'language-' + b.lang : '');
          code.textContent = b.text;
          pre.appendChild(code);
          parent.appendChild(pre);
          break;
        }
        case 'quote': {
          const q = el('blockquote');
          buildBlocks(b.blocks, q, false);
          parent.appendChild(q);
          break;
        }
        case 'list': {
          const list = el(b.ordered ? 'ol' : 'ul');
          if (b.ordered && b.start !== 1) setAttr(list, 'start', String(b.start));
          for (const item of b.items) {
            const li = el('li');
            buildBlocks(item, li, !b.loose);
            list.appendChild(li);
          }
          parent.appendChild(list);
          break;
        }
        case 'table':
          parent.appendChild(buildTable(b));
          break;
      }
    }
  }

  function buildTable(b) {
    const wrapper = el('div', 'md-table'); // scrolls sideways in narrow bubbles
    const table = el('table');
    const row = (cells, tag) => {
      const tr = el('tr');
      cells.forEach((cell, k) => {
        const td = el(tag, b.aligns[k] ? 'md-' + b.aligns[k] : '');
        buildInline(parseInline(cell), td);
        tr.appendChild(td);
      });
      return tr;
    };
    const thead = el('thead');
    thead.appendChild(row(b.head, 'th'));
    table.appendChild(thead);
    if (b.rows.length) {
      const tbody = el('tbody');
      for (const cells of b.rows) tbody.appendChild(row(cells, 'td'));
      table.appendChild(tbody);
    }
    wrapper.appendChild(table);
    return wrapper;
  }

  // ---------- public API ----------

  let lastError = null;

  function render(text) {
    let src = '';
    try { src = text == null ? '' : String(text); } catch { src = ''; }
    try {
      const lines = src.replace(/\r\n?/g, '\n').replace(/\0/g, '\uFFFD').split('\n');
      const frag = document.createDocumentFragment();
      buildBlocks(parseBlocks(lines, 0).blocks, frag, false);
      lastError = null;
      return frag;
    } catch (err) {
      // Never let a renderer bug hide the answer: show it as plain text.
      lastError = err;
      const frag = document.createDocumentFragment();
      try {
        const p = el('p', 'md-plain');
        p.textContent = src;
        frag.appendChild(p);
      } catch { /* nothing sensible left to do */ }
      return frag;
    }
  }

  window.PaliadinMarkdown = Object.freeze({
    render,
    get lastError() { return lastError; },
  });
})();
