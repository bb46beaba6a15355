// The demo page at `/` in real headless Chromium, served by the edge in workerd (wrangler dev)
// in front of a real pool node: it searches, highlights, shows timings and cache state, and
// reports API errors. In front of a phrase index: the answer phrase, the evidence passage with
// its span marked, and the unit switch. Skipped without a browser unless
// EDGESEARCH_REQUIRE_BROWSER=1 (CI).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { highlightSegments } from '../../edge/demo/highlight.ts';
import { startEdge, type EdgeServer } from '../edge/harness.ts';
import { chromiumMissing, chromiumRequired, haveChromium, launchChromium } from './chromium.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { constructedPhraseIndex, type ConstructedPhraseIndex } from '../phrase-index-fixture.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../pool/harness.ts';

if (!haveChromium && chromiumRequired) {
  it('has a browser to drive the demo page', () => {
    throw new Error(`${chromiumMissing}; EDGESEARCH_REQUIRE_BROWSER=1 makes the browser test mandatory`);
  });
} else if (!haveChromium) {
  console.warn(`skipping the demo page browser test: ${chromiumMissing}`);
}

interface ApiHit {
  rank: number;
  docId: string;
  title: string;
  text: string;
  score: number;
  span?: { start: number; end: number; text: string };
}

/**
 * Fills the form (the unit too, when given), submits and waits until the page has shown the
 * answer to this submission; returns the status line.
 */
async function submitSearch(page: Page, q: string, mode: string, opts: { key?: string; unit?: string } = {}): Promise<string> {
  await page.fill('#q', q);
  await page.selectOption('#mode', mode);
  if (opts.unit) await page.selectOption('#unit', opts.unit);
  await page.fill('#key', opts.key ?? '');
  const before = Number((await page.getAttribute('#status', 'data-seq')) ?? 0);
  await page.click('#go');
  await page.waitForFunction((n) => {
    const s = document.getElementById('status')!;
    return Number(s.dataset.seq) > n && s.dataset.state !== 'loading';
  }, before);
  return (await page.textContent('#status'))!;
}

/** Watches a page for CSP violations (the page's policy allows its own script and style by hash). */
async function watchCsp(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

describe.skipIf(!haveChromium)('demo page in headless Chromium', () => {
  let pool: SoloNode;
  let edge: EdgeServer;
  let browser: Browser;
  let page: Page;
  let query: string;
  let csp: string;
  const problems: string[] = [];

  const api = async (body: Record<string, unknown>): Promise<{ hits: ApiHit[]; cached: boolean }> => {
    const res = await fetch(`${edge.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  };

  /** Fills the form, submits and waits until the page has shown the answer to this submission. */
  const search = (q: string, mode: string, key = '') => submitSearch(page, q, mode, { key });

  beforeAll(async () => {
    const index = await fixtureIndex({ limit: 200, shards: 2 });
    pool = await startSoloNode(index, 2);
    edge = await startEdge({ POOL_ENDPOINTS: pool.node.url, POOL_SIGNING_KEY: SIGNING_KEY, PUBLIC_MODE: 'true', PUBLIC_RATE: JSON.stringify({ perSecond: 50, burst: 100 }) });
    // A real SciFact claim whose best BM25 passage shares a word with it (probed with k=3, so
    // the page's k=10 requests still start as cache misses).
    for (const q of await scifactTestQueries(30)) {
      const { hits } = await api({ query: q.text, mode: 'bm25', k: 3 });
      if (hits.length > 0 && highlightSegments(hits[0].text, q.text).some((s) => s.match)) {
        query = q.text;
        break;
      }
    }
    expect(query, 'no SciFact test query has a highlightable BM25 hit in the fixture').toBeDefined();
    browser = await launchChromium();
    // A context of our own, so a second tab of the same profile can be opened in it.
    page = await (await browser.newContext()).newPage();
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      // Chromium logs every non-2xx fetch; the 401 and 429 the error cases provoke are expected.
      // (400: colbert asked of this dense index)
      const expected = /^Failed to load resource: the server responded with a status of (400 \(Bad Request\)|401 \(Unauthorized\)|429 \(Too Many Requests\))$/.test(msg.text()) && msg.location().url === `${edge.url}/v1/search`;
      if (!expected) problems.push(`console.error: ${msg.text()} (${msg.location().url})`);
    });
    // The page's CSP (script and style allowed by hash) must let it run and report nothing.
    await watchCsp(page);
    const res = await page.goto(`${edge.url}/`);
    csp = (await res!.headerValue('content-security-policy')) ?? '';
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await edge?.stop();
    await pool?.close();
  });

  it('is served with a Content-Security-Policy that allows its own script and style by hash only', async () => {
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/]+=*'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    // The inline script ran (its top-level declarations exist).
    expect(await page.evaluate('typeof highlightSegments')).toBe('function');
  });

  it('serves the form with its defaults', async () => {
    expect(await page.title()).toBe('edgesearch demo');
    expect(await page.inputValue('#mode')).toBe('hybrid');
    expect(await page.inputValue('#k')).toBe('10');
    expect(await page.getAttribute('#key', 'type')).toBe('password');
    expect(await page.getAttribute('#q', 'placeholder')).toBeTruthy();
    expect(await page.$$eval('#mode option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['hybrid', 'dense', 'bm25', 'colbert', 'phrase', 'conversational']);
    // Conversation mode is off; its panel and policy switch show when it is on.
    expect(await page.isChecked('#conv')).toBe(false);
    expect(await page.isHidden('#conversation')).toBe(true);
    expect(await page.isHidden('#policy')).toBe(true);
    await page.check('#conv');
    expect(await page.isVisible('#conversation')).toBe(true);
    expect(await page.inputValue('#policy')).toBe('concat');
    await page.selectOption('#mode', 'conversational');
    expect(await page.isHidden('#policy')).toBe(true); // the conversational encoder forms its own query
    await page.selectOption('#mode', 'hybrid');
    await page.uncheck('#conv');
    // The unit switch belongs to phrase mode: hidden until it is chosen.
    expect(await page.isHidden('#unit')).toBe(true);
    await page.selectOption('#mode', 'phrase');
    expect(await page.isVisible('#unit')).toBe(true);
    expect(await page.inputValue('#unit')).toBe('phrase');
    expect(await page.$$eval('#unit option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['phrase', 'sentence', 'passage', 'document']);
    await page.selectOption('#mode', 'hybrid');
    expect(await page.isHidden('#unit')).toBe(true);
    // Re-ranking is off, and fusion (an option of re-ranking) is off and disabled until it is on.
    expect(await page.isChecked('#rerank')).toBe(false);
    expect(await page.isDisabled('#fuse')).toBe(true);
    await page.check('#rerank');
    expect(await page.isEnabled('#fuse')).toBe(true);
    await page.uncheck('#rerank');
    expect(await page.isDisabled('#fuse')).toBe(true);
  });

  it('searches in bm25 mode: highlighted evidence, the API’s hits, latency and a cache miss', async () => {
    const status = await search(query, 'bm25');
    expect(status).toMatch(/^\d+ hits? · \d+(\.\d)? ms round trip · edge \d+(\.\d)? ms · pool \d+(\.\d)? ms · cache miss · index \S+$/);
    expect(await page.getAttribute('#status', 'class')).not.toBe('error');
    expect(await page.isHidden('#partial')).toBe(true);

    const shown = await page.$$eval('#results > li.hit', (lis) =>
      lis.map((li) => ({
        title: li.querySelector('.title')!.textContent,
        meta: li.querySelector('.meta')!.textContent,
        evidence: li.querySelector('.evidence')!.textContent,
        segments: Array.from(li.querySelector('.evidence')!.childNodes, (n) => ({ text: n.textContent, match: n.nodeName === 'MARK' })),
      })),
    );
    expect(shown.length).toBeGreaterThanOrEqual(1);
    expect(status.startsWith(`${shown.length} hit`)).toBe(true);

    // The same request straight to the API (now from the cache) has the same first hit.
    const { hits } = await api({ query, mode: 'bm25', k: 10 });
    expect(shown).toHaveLength(hits.length);
    expect(shown[0].title).toBe(hits[0].title);
    expect(shown[0].meta).toBe(`${hits[0].docId} · score ${hits[0].score.toFixed(3)}`);
    expect(shown[0].evidence).toBe(hits[0].text);

    // Marks sit on query words (or words sharing their first four letters: a stem match), and
    // the inlined highlighter splits the passage exactly as the module does.
    const words = query.toLowerCase().match(/[\p{L}\p{N}]+/gu)!.filter((w) => w.length >= 2);
    const marks = shown[0].segments.filter((s) => s.match).map((s) => s.text!.toLowerCase());
    expect(marks.length).toBeGreaterThanOrEqual(1);
    for (const m of marks) expect(words.some((w) => w === m || (w.length >= 4 && m.slice(0, 4) === w.slice(0, 4))), `mark "${m}" for query "${query}"`).toBe(true);
    const merged = shown[0].segments.reduce<{ text: string; match: boolean }[]>((out, s) => {
      const last = out.at(-1);
      if (last && !last.match && !s.match) last.text += s.text!;
      else out.push({ text: s.text!, match: s.match });
      return out;
    }, []);
    expect(merged).toEqual(highlightSegments(hits[0].text, query));
    if (process.env.EDGESEARCH_SCREENSHOT) await page.screenshot({ path: process.env.EDGESEARCH_SCREENSHOT, fullPage: true });
  });

  it('answers the same search again from the cache', async () => {
    expect(await search(query, 'bm25')).toMatch(/ · cache hit · /);
  });

  it('searches in hybrid mode', async () => {
    const status = await search(query, 'hybrid');
    expect(status).toMatch(/^\d+ hits? · .* · cache miss · /);
    expect(await page.locator('#results > li.hit').count()).toBeGreaterThanOrEqual(1);
    const { hits } = await api({ query, mode: 'hybrid', k: 10 });
    expect(await page.textContent('#results > li.hit:first-child .title')).toBe(hits[0].title);
  });

  it('shows the API error for an invalid key, and searches without one again', async () => {
    const status = await search(query, 'bm25', 'es_not_a_key');
    expect(status).toBe('unauthorized: unknown API key');
    expect(await page.getAttribute('#status', 'class')).toBe('error');
    expect(await page.locator('#results > li').count()).toBe(0);
    // The key is kept for this tab only (sessionStorage): a reload keeps it, another tab of the
    // same origin and browser profile does not see it, and nothing is in localStorage.
    expect(await page.evaluate(() => sessionStorage.getItem('edgesearch.apiKey'))).toBe('es_not_a_key');
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.reload();
    expect(await page.inputValue('#key')).toBe('es_not_a_key');
    const otherTab = await page.context().newPage();
    await otherTab.goto(`${edge.url}/`);
    expect(await otherTab.inputValue('#key')).toBe('');
    await otherTab.close();

    // (a hit or a miss: the reload may outlast the pool's version promise)
    expect(await search(query, 'bm25', '')).toMatch(/^\d+ hits? · .* · cache (hit|miss) · /);
    expect(await page.evaluate(() => sessionStorage.getItem('edgesearch.apiKey'))).toBeNull();
  });

  it('flags a partial answer and shows Retry-After (answers stubbed in the browser)', async () => {
    const hit = { rank: 1, docId: 'd1', score: 1.23456, title: 'A <b>title</b>', text: 'Statins <img src=x onerror=alert(1)> reduce risk', shard: 0 };
    await page.route('**/v1/search', (route) =>
      route.fulfill({ json: { query: 'statin', mode: 'bm25', k: 10, indexVersion: 'v1', cached: false, partial: { missingShards: [1, 3] }, hits: [hit], timings: { edgeMs: 1.5 } } }),
    );
    expect(await search('statin', 'bm25')).toMatch(/^1 hit · [\d.]+ ms round trip · edge 1\.5 ms · cache miss · index v1$/);
    expect(await page.textContent('#partial')).toBe('partial: shards 1, 3 missing — results may be incomplete');
    expect(await page.isVisible('#partial')).toBe(true);
    // Untrusted text stays text.
    expect(await page.textContent('.hit .title')).toBe(hit.title);
    expect(await page.locator('.hit img, .hit b').count()).toBe(0);
    expect(await page.$$eval('.hit .evidence mark', (ms) => ms.map((m) => m.textContent))).toEqual(['Statins']);
    expect(await page.textContent('.hit .meta')).toBe('d1 · score 1.235');

    await page.unroute('**/v1/search');
    await page.route('**/v1/search', (route) =>
      route.fulfill({ status: 429, headers: { 'retry-after': '2' }, json: { error: { code: 'rate_limited', message: 'too many requests' } } }),
    );
    expect(await search('statin', 'bm25')).toBe('rate_limited: too many requests · retry after 2 s');
    expect(await page.isHidden('#partial')).toBe(true);
    await page.unroute('**/v1/search');
  });

  it('sends the re-rank option, shows the first-stage rank, and shows the 400 of an index without ColBERT', async () => {
    const sent: Record<string, unknown>[] = [];
    const hit = { rank: 1, docId: 'd9', score: 0.5, title: 'T', text: 'statins', shard: 0, branches: { first: { score: 7.5, rank: 4 }, rerank: { score: 0.5, rank: 1 } } };
    await page.route('**/v1/search', (route) => {
      sent.push(route.request().postDataJSON());
      return route.fulfill({ json: { query: 'statin', mode: 'bm25', k: 10, indexVersion: 'v1', cached: false, hits: [hit], timings: { edgeMs: 1 } } });
    });
    await page.check('#rerank');
    await page.check('#fuse');
    await search('statin', 'bm25');
    await page.uncheck('#fuse');
    await search('statin', 'colbert');
    await page.uncheck('#rerank');
    await search('statin', 'colbert');
    expect(sent).toEqual([
      { query: 'statin', mode: 'bm25', k: 10, rerank: { method: 'colbert', fuse: true } },
      { query: 'statin', mode: 'colbert', k: 10, rerank: { method: 'colbert', fuse: false } },
      { query: 'statin', mode: 'colbert', k: 10 },
    ]);
    expect(await page.textContent('.hit .meta')).toBe('d9 · score 0.500 · first stage #4');
    await page.unroute('**/v1/search');

    // The real edge, in front of this dense + BM25 index: mode colbert and a rerank are refused
    // with the pool's words.
    expect(await search(query, 'colbert')).toMatch(/^bad_request: mode: index \S+ cannot answer mode "colbert": .*--method colbert\) \(field mode\)$/);
    expect(await page.getAttribute('#status', 'class')).toBe('error');
    expect(await page.locator('#results > li').count()).toBe(0);
    await page.check('#rerank');
    expect(await search(query, 'bm25')).toMatch(/^bad_request: rerank: index \S+ cannot re-rank with colbert: .*\(field rerank\)$/);
    await page.uncheck('#rerank');
    expect(await search(query, 'bm25')).toMatch(/^\d+ hits? · /);
  });

  it('holds a conversation at the edge: follow-up questions, the query each was searched as, a new conversation', async () => {
    const questions = (await scifactTestQueries(3)).map((q) => q.text.replace(/\s+/gu, ' ').trim());
    const conversationUrls: string[] = [];
    const onRequest = (req: { url(): string; method(): string }) => {
      if (req.url().includes('/v1/conversations')) conversationUrls.push(`${req.method()} ${new URL(req.url()).pathname}`);
    };
    page.on('request', onRequest);
    await page.check('#conv');
    await page.selectOption('#policy', 'concat');
    const turns = async () => page.$$eval('#turns li', (lis) => lis.map((li) => li.textContent));
    const shownIds = async () => page.$$eval('#results > li.hit .meta', (ms) => ms.map((m) => m.textContent!.split(' · ')[0]));

    expect(await search(questions[0], 'bm25')).toMatch(/^turn 1 · \d+ hits? · /);
    expect(await page.textContent('#formed')).toBe(`searched as: ${questions[0]}`);
    expect(await turns()).toEqual([questions[0]]);
    const first = await api({ query: questions[0], mode: 'bm25', k: 10, cache: false });

    // The follow-up is searched with the first question before it: the same hits as the stateless call.
    expect(await search(questions[1], 'bm25')).toMatch(/^turn 2 · /);
    expect(await page.textContent('#formed')).toBe(`searched as: ${questions[0]} ${questions[1]}`);
    const stateless = await api({ query: questions[1], mode: 'bm25', k: 10, cache: false, context: [{ query: questions[0], response: first.hits[0].text }] });
    expect(await shownIds()).toEqual(stateless.hits.map((h) => h.docId));

    await page.selectOption('#policy', 'first');
    expect(await search(questions[2], 'bm25')).toMatch(/^turn 3 · /);
    expect(await page.textContent('#formed')).toBe(`searched as: ${questions[0]} ${questions[2]}`);
    const firstPolicy = await api({ query: questions[2], mode: 'bm25', k: 10, cache: false, params: { policy: 'first' }, context: [{ query: questions[0] }, { query: questions[1] }] });
    expect(await shownIds()).toEqual(firstPolicy.hits.map((h) => h.docId));
    expect(await turns()).toEqual(questions);

    // One conversation was created, and every turn went to it.
    const created = conversationUrls.filter((u) => u === 'POST /v1/conversations');
    expect(created).toHaveLength(1);
    const id = conversationUrls.find((u) => u.endsWith('/search'))!.split('/')[3];
    expect(conversationUrls.filter((u) => u === `POST /v1/conversations/${id}/search`)).toHaveLength(3);
    const stored = await (await fetch(`${edge.url}/v1/conversations/${id}`)).json();
    expect(stored.turns.map((t: { query: string }) => t.query)).toEqual(questions);

    // A new conversation forgets the turns (and erases the old one at the edge).
    await page.click('#new-conversation');
    expect(await turns()).toEqual([]);
    await expect.poll(async () => (await fetch(`${edge.url}/v1/conversations/${id}`)).status).toBe(404);
    expect(await search(questions[1], 'bm25')).toMatch(/^turn 1 · /);
    expect(await page.textContent('#formed')).toBe(`searched as: ${questions[1]}`);
    expect(conversationUrls.filter((u) => u === 'POST /v1/conversations')).toHaveLength(2);
    page.off('request', onRequest);
    await page.click('#new-conversation');
    await page.uncheck('#conv');
  });

  it('logged no page errors, unexpected console errors or CSP violations', async () => {
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });
});

describe.skipIf(!haveChromium)('demo page in headless Chromium, phrase mode over a phrase index', () => {
  const work = mkdtempSync(join(tmpdir(), 'es-demo-phrase-'));
  let built: ConstructedPhraseIndex;
  let pool: SoloNode;
  let edge: EdgeServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  /** The body of every search the page sent. */
  const sent: Record<string, any>[] = [];
  const QUERY = 'alpha beta gamma';

  const api = async (body: Record<string, unknown>): Promise<{ hits: ApiHit[]; cached: boolean }> => {
    const res = await fetch(`${edge.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json();
  };

  /** Each hit as shown: its answer line (null without one), its passage, and the passage's nodes. */
  const shownHits = () =>
    page.$$eval('#results > li.hit', (lis) =>
      lis.map((li) => ({
        title: li.querySelector('.title')!.textContent,
        answer: li.querySelector('.answer')?.textContent ?? null,
        evidence: li.querySelector('.evidence')!.textContent!,
        nodes: Array.from(li.querySelector('.evidence')!.childNodes, (n) => ({ name: n.nodeName, text: n.textContent! })),
      })),
    );

  beforeAll(async () => {
    // Passages of Greek letter names cut into sentences of 4 words; random query heads, so the
    // answers are whatever the pool finds, and the page must show exactly those.
    built = await constructedPhraseIndex(join(work, 'constructed'), 30, 2, 11, { sentences: true });
    pool = await startSoloNode(built.dir, 2);
    edge = await startEdge({ POOL_ENDPOINTS: pool.node.url, POOL_SIGNING_KEY: SIGNING_KEY, PUBLIC_MODE: 'true', PUBLIC_RATE: JSON.stringify({ perSecond: 50, burst: 100 }) });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console.error: ${msg.text()} (${msg.location().url})`);
    });
    page.on('request', (req) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/search') sent.push(req.postDataJSON());
    });
    await watchCsp(page);
    await page.goto(`${edge.url}/`);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await edge?.stop();
    await pool?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('shows each hit’s answer phrase, and its passage with exactly the span in a <mark>', async () => {
    const status = await submitSearch(page, QUERY, 'phrase');
    expect(status).toMatch(/^\d+ hits? · .* · cache miss · index \S+$/);
    expect(sent.at(-1)).toEqual({ query: QUERY, mode: 'phrase', k: 10, params: { unit: 'phrase' } });
    const shown = await shownHits();
    const { hits } = await api({ query: QUERY, mode: 'phrase', k: 10, params: { unit: 'phrase' } });
    expect(hits.length).toBeGreaterThanOrEqual(1);
    expect(shown).toHaveLength(hits.length);
    shown.forEach((s, i) => {
      const { text, span } = hits[i];
      expect(span, hits[i].docId).toBeDefined();
      expect(s.title).toBe(hits[i].title);
      // The answer phrase on a line of its own; the whole passage below it, the span marked.
      expect(s.answer).toBe(span!.text);
      expect(s.evidence).toBe(text);
      const marks = s.nodes.filter((n) => n.name === 'MARK');
      expect(marks.map((m) => m.text)).toEqual([span!.text]);
      expect(s.nodes.every((n) => n.name === 'MARK' || n.name === '#text')).toBe(true);
      // …at its offsets: what precedes the mark is text.slice(0, start).
      const before = s.nodes.slice(0, s.nodes.findIndex((n) => n.name === 'MARK')).map((n) => n.text).join('');
      expect(before).toBe(text.slice(0, span!.start));
    });
    if (process.env.EDGESEARCH_SCREENSHOT) await page.screenshot({ path: process.env.EDGESEARCH_SCREENSHOT.replace(/(\.png)?$/, '-phrase.png'), fullPage: true });
  });

  it('sends the unit switch as params.unit: sentences marked in their passage, passages without a span, documents with their best phrase', async () => {
    await submitSearch(page, QUERY, 'phrase', { unit: 'sentence' });
    expect(sent.at(-1)).toEqual({ query: QUERY, mode: 'phrase', k: 10, params: { unit: 'sentence' } });
    const sentences = await api({ query: QUERY, mode: 'phrase', k: 10, params: { unit: 'sentence' } });
    const shown = await shownHits();
    expect(shown).toHaveLength(sentences.hits.length);
    shown.forEach((s, i) => {
      const { text, span } = sentences.hits[i];
      expect(s.answer).toBe(span!.text);
      expect(s.evidence).toBe(text);
      expect(s.nodes.filter((n) => n.name === 'MARK').map((m) => m.text)).toEqual([span!.text]);
    });
    // Sentences, not whole passages (the fixture's passages have several).
    expect(sentences.hits.some((h) => h.span!.text.length < h.text.length)).toBe(true);

    for (const unit of ['passage', 'document']) {
      await submitSearch(page, QUERY, 'phrase', { unit });
      expect(sent.at(-1)).toEqual({ query: QUERY, mode: 'phrase', k: 10, params: { unit } });
      const { hits } = await api({ query: QUERY, mode: 'phrase', k: 10, params: { unit } });
      const shownUnits = await shownHits();
      expect(shownUnits.map((p) => p.evidence)).toEqual(hits.map((h) => h.text));
      // Passages have no span: no answer line, and the query's words are marked as in other
      // modes. A document's hit is its best phrase: answer line and span, as for unit phrase.
      expect(hits.every((h) => (unit === 'passage' ? h.span === undefined : h.span !== undefined)), unit).toBe(true);
      shownUnits.forEach((p, i) => {
        const span = hits[i].span;
        expect(p.answer).toBe(span ? span.text : null);
        const marks = span ? [span.text] : highlightSegments(p.evidence, QUERY).filter((x) => x.match).map((x) => x.text);
        expect(p.nodes.filter((n) => n.name === 'MARK').map((m) => m.text)).toEqual(marks);
      });
    }
    // Other modes send no unit (the switch is hidden, and its value stays for phrase mode).
    await page.route('**/v1/search', (route) => route.fulfill({ json: { query: QUERY, mode: 'bm25', k: 10, indexVersion: 'v1', cached: false, hits: [], timings: { edgeMs: 1 } } }));
    await submitSearch(page, QUERY, 'bm25');
    await page.unroute('**/v1/search');
    expect(sent.at(-1)).toEqual({ query: QUERY, mode: 'bm25', k: 10 });
    expect(await page.isHidden('#unit')).toBe(true);
    expect(await page.inputValue('#unit')).toBe('document');
  });

  it('shows HTML in a passage and its span as text, never as markup (answers stubbed in the browser)', async () => {
    const text = 'Who painted it? <img src=x onerror="window.injected=1"> The answer: <b>Monet</b> <script>window.injected=2</script>.';
    const at = text.indexOf('<b>Monet</b>');
    const span = { start: at, end: at + '<b>Monet</b>'.length, text: '<b>Monet</b>' };
    const hits = [
      { rank: 1, docId: 'd1', score: 2.5, title: '<i>Art</i>', text, shard: 0, span },
      // A span whose offsets do not cut out its text is not marked; the query's words are.
      { rank: 2, docId: 'd2', score: 1.5, title: 'T', text: 'painted by <u>someone</u>', shard: 1, span: { start: 0, end: 7, text: 'nothing' } },
    ];
    await page.route('**/v1/search', (route) => route.fulfill({ json: { query: 'who painted it', mode: 'phrase', k: 10, indexVersion: 'v1', cached: false, hits, timings: { edgeMs: 1 } } }));
    expect(await submitSearch(page, 'who painted it', 'phrase')).toMatch(/^2 hits · /);
    await page.unroute('**/v1/search');
    const shown = await shownHits();
    expect(shown[0]).toMatchObject({ title: '<i>Art</i>', answer: '<b>Monet</b>', evidence: text });
    expect(shown[0].nodes).toEqual([
      { name: '#text', text: text.slice(0, at) },
      { name: 'MARK', text: '<b>Monet</b>' },
      { name: '#text', text: text.slice(span.end) },
    ]);
    expect(shown[1].nodes.filter((n) => n.name === 'MARK').map((n) => n.text)).toEqual(['painted']);
    expect(await page.locator('.hit img, .hit b, .hit i, .hit u, .hit script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();
  });

  it('logged no page errors, console errors or CSP violations', async () => {
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });
});
