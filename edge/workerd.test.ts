// The edge worker in the real Workers runtime (wrangler dev → workerd). With no pool behind it:
// unknown paths, health of a dead pool, the OpenAPI document, public mode's limits per client
// address (IPv6 by prefix, unreadable addresses in one strict bucket), security headers and
// request ids, and 5xx answers that keep the pool's address to the log. In front of real pool
// processes serving a phrase index (constructed phrase vectors, random query heads): mode phrase
// and params.unit answer as a single Searcher on the same index does, with spans that are what
// they say (text.slice(start, end)), each unit cached on its own; an unknown unit and mode phrase
// on an index without phrases are 400s naming the field (and the index).
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Searcher } from '../gpu-pool/engine/search/index.ts';
import type { PhraseUnit } from '../shared/protocol/index.ts';
import { startEdge, testKey, waitForOutput, type EdgeServer } from '../test/edge/harness.ts';
import { OpenApiChecker } from '../test/edge/openapi-check.ts';
import { fixtureIndex } from '../test/index-fixture.ts';
import { constructedPhraseIndex, type ConstructedPhraseIndex } from '../test/phrase-index-fixture.ts';
import { SIGNING_KEY, startSoloNode, startTestCluster, type SoloNode, type TestCluster } from '../test/pool/harness.ts';

let edge: EdgeServer;
const admin = testKey('ops', ['admin']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A keyless search, from `ip` when given (wrangler dev passes a client's CF-Connecting-IP on; without one it sets 127.0.0.1). */
const search = (headers: Record<string, string> = {}) =>
  fetch(`${edge.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: 'x', mode: 'bm25' }) });
const from = async (ip: string) => {
  const res = await search({ 'cf-connecting-ip': ip });
  await res.arrayBuffer();
  return res.status;
};

/** GET with a Host header of our choosing (fetch would send the URL's). */
function getWithHost(path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${edge.url}${path}`, { headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('edge worker in workerd (wrangler dev)', () => {
  // (started here, not for the file: the phrase tests below run edges of their own)
  beforeAll(async () => {
    edge = await startEdge({
      POOL_ENDPOINTS: 'http://127.0.0.1:9',
      POOL_SIGNING_KEY: 'k',
      API_KEYS: JSON.stringify([admin.entry]),
      PUBLIC_MODE: 'true',
      PUBLIC_RATE: JSON.stringify({ perSecond: 0.05, burst: 2 }),
      UNKNOWN_CLIENT_RATE: JSON.stringify({ perSecond: 0.05, burst: 1 }),
      REQUEST_DEADLINE_MS: '200',
    });
  }, 120_000);
  afterAll(async () => {
    await edge?.stop();
  });

  it('returns a JSON error for unknown routes, with a request id and the security headers', async () => {
    const res = await fetch(`${edge.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /v1/nope' } });
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    // A new id per request; one a caller sends is not taken.
    const again = await fetch(`${edge.url}/v1/nope`, { headers: { 'x-request-id': 'chosen-by-caller' } });
    expect(again.headers.get('x-request-id')).toMatch(UUID);
    expect(again.headers.get('x-request-id')).not.toBe(res.headers.get('x-request-id'));
  });

  it('reports the pool down in public health without naming it; the admin view does', async () => {
    const res = await fetch(`${edge.url}/v1/health`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ edge: 'ok', pool: 'down' });
    expect(text).not.toMatch(/127\.0\.0\.1|http:/);
    expect((await fetch(`${edge.url}/v1/admin/health`)).status).toBe(401);
    const adminView = await fetch(`${edge.url}/v1/admin/health`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(adminView.status).toBe(503);
    expect(await adminView.json()).toMatchObject({ edge: 'ok', pool: 'down', endpoints: [{ url: 'http://127.0.0.1:9', weight: 1, breaker: 'closed', ready: false, detail: expect.any(String) }] });
  });

  it('serves an OpenAPI 3.1 document generated from the request schemas, with a relative server whatever the Host', async () => {
    const doc = await (await fetch(`${edge.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual([
      '/',
      '/openapi.json',
      '/v1/search',
      '/v1/search/batch',
      '/v1/conversations',
      '/v1/conversations/{id}',
      '/v1/conversations/{id}/search',
      '/v1/conversations/{id}/turns/{n}/response',
      '/v1/health',
      '/v1/admin/health',
      '/v1/admin/stats',
    ]);
    const req = doc.components.schemas.SearchRequest;
    expect(req.required).toEqual(['query']);
    expect(req.properties.k).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 10 });
    expect(req.properties.mode.enum).toEqual(['dense', 'bm25', 'hybrid', 'colbert', 'phrase', 'conversational']);
    expect(doc.components.schemas.BatchRequest.properties.queries.maxItems).toBe(32);
    expect(Object.keys(doc.components.schemas.Health.properties)).toEqual(['edge', 'pool', 'indexVersion']);
    expect(doc.servers).toEqual([{ url: '/' }]);
    // workerd builds the request URL from the Host header; the document must not repeat it.
    const evil = await getWithHost('/openapi.json', 'evil.example');
    expect(evil.status).toBe(200);
    expect(evil.body).not.toContain('evil.example');
    expect(JSON.parse(evil.body).servers).toEqual([{ url: '/' }]);
  });

  it('in public mode limits keyless searches per client IP, and a forged X-Real-IP does not reset it', async () => {
    const first = await search();
    // Admitted, then the unreachable pool: 503 or 504, with a generic message naming the request id.
    expect([503, 504]).toContain(first.status);
    const id = first.headers.get('x-request-id')!;
    const { error } = await first.json();
    expect(error.message).toBe(`${error.code === 'pool_unavailable' ? 'the search pool is unavailable' : 'the search pool did not answer in time'}; retry later (request id ${id})`);
    expect(error.message).not.toMatch(/127\.0\.0\.1|:9\b/);
    // The detail (which endpoint, what went wrong) is in the log, under that id.
    await waitForOutput(edge, new RegExp(`\\[request ${id}\\] 50[34] \\w+: .*http://127\\.0\\.0\\.1:9`));
    await (await search()).arrayBuffer();
    const limited = await search();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await limited.json()).error.code).toBe('rate_limited');
    expect((await search({ 'x-real-ip': '203.0.113.9' })).status).toBe(429);
    // Public mode never opens admin routes.
    expect((await fetch(`${edge.url}/v1/admin/stats`)).status).toBe(401);
  });

  it('buckets IPv6 clients by /64: rotating the interface id does not buy a fresh bucket', async () => {
    // Three spellings of addresses in 2001:db8:aa:1::/64 spend one bucket of 2.
    expect(await from('2001:db8:aa:1::1')).not.toBe(429);
    expect(await from('2001:0DB8:00AA:0001:ffff:eeee:dddd:cccc')).not.toBe(429);
    expect(await from('2001:db8:aa:1:1234:5678:9abc:def0')).toBe(429);
    expect(await from('2001:db8:aa:1::99')).toBe(429);
    // The neighbouring /64 has a bucket of its own.
    expect(await from('2001:db8:aa:2::1')).not.toBe(429);
    // IPv4 by the whole address; IPv4-mapped IPv6 is the same client.
    expect(await from('198.51.100.7')).not.toBe(429);
    expect(await from('::ffff:198.51.100.7')).not.toBe(429);
    expect(await from('198.51.100.7')).toBe(429);
    expect(await from('198.51.100.8')).not.toBe(429);
  });

  it('puts callers without a readable address in one strict bucket (UNKNOWN_CLIENT_RATE)', async () => {
    // wrangler dev always sets CF-Connecting-IP (127.0.0.1 when the client sends none), so an
    // unreadable value stands in for a missing one here; both take the same path.
    expect(await from('not-an-address')).not.toBe(429);
    expect(await from('also garbage')).toBe(429);
    expect(await from('203.0.113.50, 10.0.0.1')).toBe(429);
    expect(await from('203.0.113.50')).not.toBe(429);
  });
});

interface PhraseHit {
  rank: number;
  docId: string;
  score: number;
  title: string;
  text: string;
  span?: { start: number; end: number; text: string };
}

/** The sentences of a passage as phrase-index-fixture's sentenceWords cuts it ("… delta. Epsilon …"): [start, end) each. */
function fixtureSentences(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start = 0;
  for (const m of text.matchAll(/\. /g)) {
    out.push({ start, end: m.index + 1 });
    start = m.index + 2;
  }
  out.push({ start, end: text.length });
  return out;
}

describe('phrase search through the edge in workerd, in front of real pool processes', () => {
  const work = mkdtempSync(join(tmpdir(), 'es-workerd-phrase-'));
  const key = testKey('searcher', ['search', 'admin'], { perSecond: 1000, burst: 1000 });
  // Query texts as the edge normalizes them (the reference Searcher gets them verbatim).
  const QUERIES = ['alpha beta', 'Sigma tau upsilon', 'where is the kappa lambda', 'delta'];
  let built: ConstructedPhraseIndex;
  let pool: TestCluster;
  let densePool: SoloNode;
  let phraseEdge: EdgeServer;
  let denseEdge: EdgeServer;
  let searcher: Searcher;
  let checker: OpenApiChecker;

  /** POSTs a JSON body with the test's key; every answer must be one the edge's own /openapi.json allows. */
  async function post(to: EdgeServer, body: unknown, path = '/v1/search'): Promise<{ status: number; body: any }> {
    const res = await fetch(`${to.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` }, body: JSON.stringify(body) });
    const got = { status: res.status, headers: res.headers, body: await res.json() };
    checker.check('POST', path, got);
    return got;
  }

  /** A phrase search through the phrase edge that must answer 200. */
  async function phrase(query: string, unit?: PhraseUnit, k = 5): Promise<{ cached: boolean; mode: string; hits: PhraseHit[] }> {
    const { status, body } = await post(phraseEdge, { query, mode: 'phrase', k, ...(unit ? { params: { unit } } : {}) });
    expect(status, JSON.stringify(body)).toBe(200);
    return body;
  }

  /** What one Searcher holding every shard answers: docId, span offsets and score of each hit. */
  async function reference(query: string, unit: PhraseUnit, k = 5) {
    const [hits] = await searcher.search('phrase', [{ id: 'q', text: query, k, params: { unit } }]);
    return hits;
  }
  const place = (h: { docId: string; span?: { start: number; end: number } }) => `${h.docId}@${h.span ? `${h.span.start}-${h.span.end}` : '-'}`;

  /** The passage of the constructed index that `hit` is, by its text; its title must be the passage's. */
  function passageOf(hit: PhraseHit): number {
    const p = built.passages.findIndex((x) => x.text === hit.text);
    expect(p, `hit ${hit.docId} is no passage of the index: ${hit.text}`).toBeGreaterThanOrEqual(0);
    expect(hit.title).toBe(built.titles[p]);
    return p;
  }

  beforeAll(async () => {
    // 30 passages cut into sentences of 4 words, over 2 shards; and a dense + BM25 index for the refusal.
    const [index, dense] = await Promise.all([constructedPhraseIndex(join(work, 'constructed'), 30, 2, 11, { sentences: true }), fixtureIndex({ limit: 40, shards: 1 })]);
    built = index;
    searcher = await Searcher.open(built.dir, { threads: 1, log: () => {} });
    // Two `pool serve` processes, one shard each (the router fans out to the other over loopback).
    [pool, densePool] = await Promise.all([startTestCluster(built.dir, { nodes: 2, replicas: 1, shards: 2 }), startSoloNode(dense, 1)]);
    const vars = { POOL_SIGNING_KEY: SIGNING_KEY, API_KEYS: JSON.stringify([key.entry]), REQUEST_DEADLINE_MS: '60000' };
    [phraseEdge, denseEdge] = await Promise.all([startEdge({ ...vars, POOL_ENDPOINTS: pool.cluster.nodes[0].url }), startEdge({ ...vars, POOL_ENDPOINTS: densePool.node.url })]);
    checker = new OpenApiChecker(await (await fetch(`${phraseEdge.url}/openapi.json`)).json());
  }, 600_000);
  afterAll(async () => {
    await Promise.all([phraseEdge?.stop(), denseEdge?.stop()]);
    await Promise.all([pool?.stop(), densePool?.close()]);
    await searcher?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers mode phrase with answer phrases whose span is text.slice(start, end), exactly as a single Searcher does', async () => {
    for (const query of QUERIES) {
      const answer = await phrase(query);
      expect(answer.mode).toBe('phrase');
      expect(answer.hits.length, query).toBeGreaterThanOrEqual(1);
      for (const h of answer.hits) {
        passageOf(h);
        expect(h.span, `${query}: ${h.docId}`).toBeDefined();
        const { start, end, text } = h.span!;
        expect(text).toBe(h.text.slice(start, end));
        expect(end).toBeGreaterThan(start);
        // A constructed phrase is whole words: it starts and ends at word boundaries.
        expect(start === 0 || h.text[start - 1] === ' ', `${query}: "${text}" at ${start}`).toBe(true);
        expect(end === h.text.length || h.text[end] === ' ', `${query}: "${text}" ending at ${end}`).toBe(true);
      }
      // The pool encodes the query as the local Searcher does: the same phrases, spans and scores.
      const want = await reference(query, 'phrase');
      expect(answer.hits.map(place), query).toEqual(want.map(place));
      expect(answer.hits.map((h) => h.span!.text)).toEqual(want.map((h) => h.span!.text));
      answer.hits.forEach((h, i) => expect(Math.abs(h.score - want[i].score), query).toBeLessThan(1e-3));
    }
  });

  it('answers unit sentence with the sentence holding the phrase, unit passage with whole passages; each unit cached on its own', async () => {
    let split = 0;
    for (const query of QUERIES) {
      const phrases = await phrase(query, 'phrase');
      const sentences = await phrase(query, 'sentence');
      // Another unit is another request: not the phrase answer from the cache.
      expect(sentences.cached, query).toBe(false);
      expect(sentences.hits.length).toBeGreaterThanOrEqual(1);
      for (const h of sentences.hits) {
        passageOf(h);
        const { start, end, text } = h.span!;
        expect(text).toBe(h.text.slice(start, end));
        expect(fixtureSentences(h.text), `${query}: "${text}"`).toContainEqual({ start, end });
        if (end - start < h.text.length) split++;
      }
      // Max over a sentence's phrases (a phrase is the sentence's where it starts): the best
      // sentence is where the best phrase starts, with its score.
      const [top, best] = [sentences.hits[0], phrases.hits[0]];
      expect(top.docId).toBe(best.docId);
      expect(top.span!.start).toBeLessThanOrEqual(best.span!.start);
      expect(top.span!.end).toBeGreaterThan(best.span!.start);
      expect(Math.abs(top.score - best.score)).toBeLessThan(1e-4);
      expect(sentences.hits.map(place), query).toEqual((await reference(query, 'sentence')).map(place));

      const passages = await phrase(query, 'passage');
      expect(passages.cached).toBe(false);
      for (const h of passages.hits) expect(h.span).toBeUndefined();
      expect(new Set(passages.hits.map((h) => h.docId)).size).toBe(passages.hits.length);
      expect(passages.hits[0].docId).toBe(best.docId);

      // Each unit's answer is cached under its own key.
      const again = await phrase(query, 'sentence');
      expect(again.cached).toBe(true);
      expect(again.hits).toEqual(sentences.hits);
      expect((await phrase(query, 'phrase')).hits).toEqual(phrases.hits);
    }
    // The sentences are sentences, not whole passages.
    expect(split).toBeGreaterThanOrEqual(1);
  });

  it('refuses an unknown unit with a 400 naming params.unit and the units there are', async () => {
    const { status, body } = await post(phraseEdge, { query: 'alpha', mode: 'phrase', params: { unit: 'paragraph' } });
    expect(status).toBe(400);
    expect(body.error).toEqual({ code: 'bad_request', field: 'params.unit', message: 'params.unit: must be one of "phrase", "sentence", "passage", "document"' });
    // In a batch: that query alone, with its index.
    const batch = await post(phraseEdge, { queries: [{ query: 'alpha', mode: 'phrase' }, { query: 'alpha', mode: 'phrase', params: { unit: 'Sentence' } }] }, '/v1/search/batch');
    expect(batch.status).toBe(400);
    expect(batch.body.error).toMatchObject({ code: 'bad_request', field: 'queries.1.params.unit' });
  });

  it('refuses mode phrase on an index without phrases with a 400 naming the index, and still answers bm25 there', async () => {
    const ok = await post(denseEdge, { query: 'vitamin d', mode: 'bm25', k: 3 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const version = ok.body.indexVersion as string;
    for (const unit of [undefined, 'sentence'] as const) {
      const { status, body } = await post(denseEdge, { query: 'vitamin d', mode: 'phrase', ...(unit ? { params: { unit } } : {}) });
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body.error).toEqual({
        code: 'bad_request',
        field: 'mode',
        message: `mode: index ${version} cannot answer mode "phrase": it holds dense + bm25, not phrase (build it with --method phrase)`,
      });
    }
    expect((await post(denseEdge, { query: 'vitamin d', mode: 'bm25', k: 3 })).body.cached).toBe(true);
  });
});
