// The demo page served at `/`: one self-contained document (inline CSS and JS, nothing fetched
// but the API itself) that searches through this edge and shows hits, timings and cache state;
// in phrase mode, the answer phrase of each hit and its evidence passage with the span marked; in
// conversation mode, follow-up questions in a conversation kept at the edge, with the query each
// was searched as.
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
  #conversation { border-left: 3px solid var(--accent); padding: 0.25rem 0.75rem; margin: 1rem 0 0; }
  #conversation h2 { font-size: 0.9rem; margin: 0; display: flex; gap: 0.75rem; align-items: center; }
  #conversation button { font-size: 0.8rem; padding: 0.2rem 0.6rem; }
  #turns { margin: 0.3rem 0; padding-left: 1.5rem; color: var(--muted); }
  #formed { margin: 0.2rem 0 0; font-size: 0.85rem; }
  #formed b { font-weight: 600; }
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

// Conversation mode: the edge keeps the turns (one Durable Object per conversation); the page
// keeps the id and a copy of the turns, to show them and what each query was searched as.
const conversation = { id: null, turns: [] };
const syncConversation = () => {
  const on = $('conv').checked;
  $('conversation').hidden = !on;
  $('policy-field').hidden = !on || $('mode').value === 'conversational';
};
$('conv').addEventListener('change', syncConversation);
$('mode').addEventListener('change', syncConversation);
syncConversation();
function showTurns() {
  $('turns').replaceChildren(...conversation.turns.map((t) => {
    const li = document.createElement('li');
    li.textContent = t.query;
    return li;
  }));
  $('conv-id').textContent = conversation.id ? conversation.id.slice(0, 10) + '…' : 'not started';
}
// What the pool searched: the policy's pieces, as gpu-pool/engine/conversation forms them (the
// pool also cuts the oldest turns to the encoder's window).
function formedQuery(before, current, policy, mode) {
  if (before.length === 0) return current;
  if (mode === 'conversational') return before.map((t) => t.query).concat(current).join(' | ');
  if (policy === 'raw') return current;
  if (policy === 'first') return before[0].query + ' ' + current;
  const w = /^window:(\\d+)$/.exec(policy);
  const turns = w ? before.slice(-Number(w[1])) : before;
  const pieces = [];
  for (const t of turns) { pieces.push(t.query); if (policy === 'concat+responses' && t.response) pieces.push(t.response); }
  return pieces.concat(current).join(' ');
}
function showFormed(text, mode) {
  const label = document.createElement('b');
  label.textContent = mode === 'conversational' ? 'encoded from the conversation: ' : 'searched as: ';
  $('formed').replaceChildren(label, text);
}
$('new-conversation').addEventListener('click', () => {
  const old = conversation.id;
  conversation.id = null;
  conversation.turns = [];
  showTurns();
  $('formed').replaceChildren();
  results.replaceChildren();
  setStatus('new conversation: the next question starts it', 'done');
  // Erase the old one at the edge (it would expire on its own).
  if (old) fetch('/v1/conversations/' + encodeURIComponent(old), { method: 'DELETE', headers: authHeaders() }).catch(() => {});
});
showTurns();

function authHeaders() {
  const key = $('key').value.trim();
  const headers = { 'content-type': 'application/json' };
  if (key) headers.authorization = 'Bearer ' + key; // none: the edge may be in public mode
  return headers;
}

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
  const inConversation = $('conv').checked;
  const policy = $('policy').value;
  if (inConversation && body.mode !== 'conversational') body.params = Object.assign(body.params || {}, { policy });
  // The best passage is stored as the turn's response (policy concat+responses reads it).
  if (inConversation) body.record = 'top';
  const key = $('key').value.trim();
  if (key) sessionStorage.setItem(KEY_STORAGE, key); else sessionStorage.removeItem(KEY_STORAGE);
  const headers = authHeaders();

  const mine = ++seq;
  button.disabled = true;
  setStatus('searching…', 'loading');
  const started = performance.now();
  let res, data;
  try {
    if (inConversation && !conversation.id) {
      const made = await fetch('/v1/conversations', { method: 'POST', headers, body: '{}' });
      const created = await made.json().catch(() => null);
      if (made.ok && created && created.id) conversation.id = created.id;
      else { res = made; data = created; }
    }
    if (!res) {
      const url = inConversation ? '/v1/conversations/' + encodeURIComponent(conversation.id) + '/search' : '/v1/search';
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
      data = await res.json().catch(() => null);
    }
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
    // A conversation that expired (or was erased) is gone: the next question starts a new one.
    if (inConversation && res.status === 404) {
      conversation.id = null;
      conversation.turns = [];
      showTurns();
      text += ' · the conversation is gone; the next question starts a new one';
    }
    setStatus(text, 'error');
    return;
  }
  if (inConversation) {
    showFormed(formedQuery(conversation.turns, data.query || query, policy, body.mode), body.mode);
    conversation.turns.push({ query: data.query || query, response: data.hits.length ? data.hits[0].text : undefined });
    showTurns();
  }

  const parts = [data.hits.length + (data.hits.length === 1 ? ' hit' : ' hits'), fmt(roundTrip) + ' ms round trip'];
  if (inConversation && data.turn) parts.unshift('turn ' + data.turn);
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
    <option value="conversational">conversational</option>
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
  <label class="check" title="Follow-up questions: the edge keeps the conversation, and each question is searched with the ones before it"><input id="conv" name="conv" type="checkbox"> conversation</label>
  <label id="policy-field" title="How a question is formed from the conversation before it">Policy <select id="policy" name="policy">
    <option value="concat" selected>concat</option>
    <option value="raw">raw</option>
    <option value="first">first</option>
    <option value="concat+responses">concat+responses</option>
    <option value="window:2">window:2</option>
  </select></label>
  <label>API key <input id="key" name="key" type="password" placeholder="optional" autocomplete="off"></label>
  <button id="go" type="submit">Search</button>
</form>
<p class="note">The API key is kept in this tab's session storage only; it is forgotten when the tab closes.</p>
<section id="conversation" hidden>
  <h2>Conversation <span class="meta" id="conv-id"></span> <button id="new-conversation" type="button">new conversation</button></h2>
  <ol id="turns"></ol>
  <p id="formed"></p>
</section>
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
