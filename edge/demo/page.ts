// The demo page served at `/`: one self-contained document (inline CSS and JS, nothing fetched
// but the API itself) that searches through this edge and shows hits, timings and cache state;
// in phrase mode, the answer phrase of each hit and its evidence passage with the span marked.
// Its Content-Security-Policy allows exactly its own inline style and script, by hash (no
// 'unsafe-inline'), and connections to this origin only.
import { highlightSegments, spanSegments } from './highlight.ts';

const STYLE = `
  :root { color-scheme: light dark; --muted: #6b7280; --accent: #2563eb; --error: #dc2626; --warn: #b45309; }
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  h1 small { color: var(--muted); font-weight: normal; font-size: 0.9rem; }
  form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: end; }
  label { display: flex; flex-direction: column; font-size: 0.8rem; color: var(--muted); }
  label.grow { flex: 1 1 16rem; }
  label.check { flex-direction: row; align-items: center; gap: 0.3rem; padding-bottom: 0.45rem; }
  [hidden] { display: none !important; }
  input, select, button { font: inherit; padding: 0.35rem 0.5rem; }
  #k { width: 4.5rem; }
  button { background: var(--accent); color: white; border: 0; border-radius: 4px; padding: 0.4rem 1rem; cursor: pointer; }
  button:disabled { opacity: 0.6; cursor: wait; }
  #status { margin: 1rem 0 0.25rem; color: var(--muted); font-variant-numeric: tabular-nums; min-height: 1.5em; }
  #status.error { color: var(--error); font-weight: 600; }
  #partial { color: var(--warn); font-weight: 600; margin: 0; }
  .note { color: var(--muted); font-size: 0.75rem; margin: 0; }
  #results { list-style: none; padding: 0; }
  .hit { border-top: 1px solid #8884; padding: 0.75rem 0; }
  .rank { color: var(--muted); margin-right: 0.4rem; }
  .title { font-weight: 600; }
  .answer { font-size: 1.15rem; font-weight: 600; margin: 0.2rem 0; }
  .meta { color: var(--muted); font-size: 0.8rem; font-family: ui-monospace, monospace; }
  .evidence { margin: 0.3rem 0 0; }
  mark { background: #fde68a; color: inherit; border-radius: 2px; }
  @media (prefers-color-scheme: dark) { mark { background: #854d0e; } }
`;

// Browser code, kept to plain ES2020. No backticks or template placeholders inside: it lives in
// a template literal. highlightSegments and spanSegments arrive compiled to JS by the bundler,
// and are bound by assignment so a minifier renaming the declarations cannot break the references.
const SCRIPT = `
const highlightSegments = (${highlightSegments.toString()});
const spanSegments = (${spanSegments.toString()});
const $ = (id) => document.getElementById(id);
const form = $('search'), status = $('status'), partial = $('partial'), results = $('results'), button = $('go');
const KEY_STORAGE = 'edgesearch.apiKey';
// sessionStorage, not localStorage: the key lasts as long as this tab, so it is not left on a
// shared machine, nor handed to every later page load of this origin.
$('key').value = sessionStorage.getItem(KEY_STORAGE) || '';
let seq = 0; // answers to older submissions are dropped when a newer one is in flight
// Fusion is an option of re-ranking only.
const syncFuse = () => { $('fuse').disabled = !$('rerank').checked; };
$('rerank').addEventListener('change', syncFuse);
syncFuse();
// The unit (phrase, sentence, passage, document) is a parameter of phrase search only.
const syncUnit = () => { $('unit-field').hidden = $('mode').value !== 'phrase'; };
$('mode').addEventListener('change', syncUnit);
syncUnit();

function setStatus(text, state) {
  status.textContent = text;
  status.className = state === 'error' ? 'error' : '';
  status.dataset.state = state;
  status.dataset.seq = String(seq); // lets a test wait for the answer to its own submission
}

function fmt(ms) {
  return ms < 10 ? ms.toFixed(1) : String(Math.round(ms));
}

function renderHit(hit, query) {
  const li = document.createElement('li');
  li.className = 'hit';
  const head = document.createElement('div');
  const rank = document.createElement('span');
  rank.className = 'rank';
  rank.textContent = hit.rank + '.';
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = hit.title || '(untitled)';
  head.append(rank, title);
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = hit.docId + ' · score ' + hit.score.toFixed(3);
  // A re-ranked hit: where the first stage had it.
  if (hit.branches && hit.branches.first) meta.textContent += ' · first stage #' + hit.branches.first.rank;
  // Passages are untrusted: text nodes and <mark> elements only, never innerHTML. A phrase
  // search's hit marks its span (the answer phrase, or its sentence) and shows it on its own
  // above the passage; other hits mark the query's words.
  const evidence = document.createElement('p');
  evidence.className = 'evidence';
  const spanned = hit.span ? spanSegments(hit.text, hit.span) : undefined;
  for (const seg of spanned || highlightSegments(hit.text, query)) {
    if (!seg.match) { evidence.append(seg.text); continue; }
    const mark = document.createElement('mark');
    mark.textContent = seg.text;
    if (spanned) mark.className = 'span';
    evidence.append(mark);
  }
  li.append(head);
  if (hit.span) {
    const answer = document.createElement('p');
    answer.className = 'answer';
    answer.textContent = hit.span.text;
    li.append(answer);
  }
  li.append(meta, evidence);
  return li;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const query = $('q').value;
  const body = { query, mode: $('mode').value, k: Number($('k').value) || 10 };
  if (body.mode === 'phrase') body.params = { unit: $('unit').value };
  if ($('rerank').checked) body.rerank = { method: 'colbert', fuse: $('fuse').checked };
  const key = $('key').value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key); else sessionStorage.removeItem(KEY_STORAGE);
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = 'Bearer ' + key; // none: the edge may be in public mode

  const mine = ++seq;
  button.disabled = true;
  setStatus('searching…', 'loading');
  const started = performance.now();
  let res, data;
  try {
    res = await fetch('/v1/search', { method: 'POST', headers, body: JSON.stringify(body) });
    data = await res.json().catch(() => null);
  } catch (err) {
    if (mine !== seq) return;
    button.disabled = false;
    setStatus('network error: ' + err.message, 'error');
    return;
  }
  const roundTrip = performance.now() - started;
  if (mine !== seq) return;
  button.disabled = false;
  partial.hidden = true;

  if (!res.ok || !data || !Array.isArray(data.hits)) {
    results.replaceChildren();
    const e = data && data.error;
    let text = e ? e.code + ': ' + e.message : 'HTTP ' + res.status;
    if (e && e.field) text += ' (field ' + e.field + ')';
    const retry = res.headers.get('retry-after');
    if (retry) text += ' · retry after ' + retry + ' s';
    setStatus(text, 'error');
    return;
  }

  const parts = [data.hits.length + (data.hits.length === 1 ? ' hit' : ' hits'), fmt(roundTrip) + ' ms round trip'];
  if (data.timings && typeof data.timings.edgeMs === 'number') parts.push('edge ' + fmt(data.timings.edgeMs) + ' ms');
  if (data.timings && typeof data.timings.poolMs === 'number') parts.push('pool ' + fmt(data.timings.poolMs) + ' ms');
  parts.push(data.cached ? 'cache hit' : 'cache miss');
  if (data.indexVersion) parts.push('index ' + data.indexVersion.slice(0, 12));
  setStatus(parts.join(' · '), 'done');
  status.title = data.indexVersion ? 'index version ' + data.indexVersion : '';
  if (data.partial && data.partial.missingShards) {
    partial.textContent = 'partial: shards ' + data.partial.missingShards.join(', ') + ' missing — results may be incomplete';
    partial.hidden = false;
  }
  results.replaceChildren(...data.hits.map((hit) => renderHit(hit, data.query || query)));
});
`;

function render(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgesearch demo</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>edgesearch <small>neural + BM25 search at the edge</small></h1>
<form id="search">
  <label class="grow">Query <input id="q" name="q" type="search" placeholder="e.g. statins and dementia risk" required autofocus></label>
  <label>Mode <select id="mode" name="mode">
    <option value="hybrid" selected>hybrid</option>
    <option value="dense">dense</option>
    <option value="bm25">bm25</option>
    <option value="colbert">colbert</option>
    <option value="phrase">phrase</option>
  </select></label>
  <label id="unit-field" title="Phrase search returns answer phrases, or their scores aggregated to the sentence, passage or document">Unit <select id="unit" name="unit">
    <option value="phrase" selected>phrase</option>
    <option value="sentence">sentence</option>
    <option value="passage">passage</option>
    <option value="document">document</option>
  </select></label>
  <label>k <input id="k" name="k" type="number" min="1" max="100" value="10"></label>
  <label class="check" title="Re-score the best 100 with ColBERT's MaxSim (needs an index built with --method colbert)"><input id="rerank" name="rerank" type="checkbox"> re-rank with ColBERT</label>
  <label class="check" title="Rank by both stages' scores, z-normalised and added (weight 0.5 each)"><input id="fuse" name="fuse" type="checkbox"> fuse</label>
  <label>API key <input id="key" name="key" type="password" placeholder="optional" autocomplete="off"></label>
  <button id="go" type="submit">Search</button>
</form>
<p class="note">The API key is kept in this tab's session storage only; it is forgotten when the tab closes.</p>
<p id="status" role="status" aria-live="polite"></p>
<p id="partial" hidden></p>
<ol id="results"></ol>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

async function sha256Source(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let bin = '';
  for (const b of digest) bin += String.fromCharCode(b);
  return `'sha256-${btoa(bin)}'`;
}

export interface DemoPage {
  html: string;
  /** The page's Content-Security-Policy. */
  csp: string;
}

let page: Promise<DemoPage> | undefined;

/** The page and its policy (built once per isolate: both are constant). */
export function demoPage(): Promise<DemoPage> {
  page ??= (async () => {
    const csp = [
      "default-src 'none'",
      `script-src ${await sha256Source(SCRIPT)}`,
      `style-src ${await sha256Source(STYLE)}`,
      // The icon is an empty data: URL, so the browser asks for no /favicon.ico.
      'img-src data:',
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
    return { html: render(), csp };
  })();
  return page;
}
