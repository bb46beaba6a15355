// Late interaction through the edge in workerd (wrangler dev) in front of real pool nodes: mode
// colbert and BM25 re-ranked by ColBERT (MaxSim alone and fused) answer exactly as the local
// engine's Searcher does on the same index, requests that differ only in their re-ranking are
// neither coalesced nor cached together, and an index without a token store refuses both with a
// 400 naming the index, which is neither cached nor held against the router. Every answer is
// checked against the edge's own /openapi.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeSearchError, createClient } from '@edgesearch/client';
import type { SearchRequestInput } from '../../shared/api/index.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { SIGNING_KEY, referenceAnswers, startSoloNode, type ModeVariant, type Reference, type SoloNode } from '../pool/harness.ts';
import { startEdge, testKey, type EdgeServer } from './harness.ts';
import { OpenApiChecker } from './openapi-check.ts';

const VARIANTS: ModeVariant[] = [
  { name: 'colbert', mode: 'colbert' },
  { name: 'rerank', mode: 'bm25', rerank: { method: 'colbert', depth: 100, fuse: false } },
  { name: 'fused', mode: 'bm25', rerank: { method: 'colbert', depth: 100, fuse: true, weight: 0.4 } },
  { name: 'shallow', mode: 'bm25', rerank: { method: 'colbert', depth: 20, fuse: true } },
];
const key = testKey('searcher', ['search', 'admin'], { perSecond: 1000, burst: 1000 });

interface ApiHit {
  rank: number;
  docId: string;
  score: number;
  branches?: Record<string, { score: number; rank: number }>;
}
interface ApiAnswer {
  mode: string;
  cached: boolean;
  indexVersion: string;
  hits: ApiHit[];
  partial?: unknown;
}

let colbertPool: SoloNode;
let densePool: SoloNode;
let colbertEdge: EdgeServer;
let denseEdge: EdgeServer;
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;

let checker: OpenApiChecker;

/** POSTs a JSON body; every answer must be one the edge's own /openapi.json allows (ajv). */
async function post(edge: EdgeServer, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${edge.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` }, body: JSON.stringify(body) });
  const got = { status: res.status, headers: res.headers, body: await res.json() };
  checker.check('POST', path, got);
  return got;
}

const request = (v: ModeVariant, text: string, extra: Record<string, unknown> = {}) => ({ query: text, mode: v.mode, k: 10, ...(v.rerank ? { rerank: v.rerank } : {}), ...extra });

async function stats(edge: EdgeServer): Promise<{ batches: { queries: number }; coalesced: number; endpoints: { breaker: string }[] }> {
  const res = await fetch(`${edge.url}/v1/admin/stats`, { headers: { authorization: `Bearer ${key.key}` } });
  expect(res.status).toBe(200);
  return res.json();
}

beforeAll(async () => {
  const [colbertIndex, denseIndex] = await Promise.all([fixtureIndex({ method: 'colbert', limit: 120 }), fixtureIndex()]);
  queries = await scifactTestQueries(8);
  reference = await referenceAnswers(colbertIndex, queries, VARIANTS);
  [colbertPool, densePool] = await Promise.all([startSoloNode(colbertIndex, 2), startSoloNode(denseIndex, 2)]);
  // ColBERT on a CPU under a parallel test run: a generous deadline, so the comparison is exact.
  const vars = { POOL_SIGNING_KEY: SIGNING_KEY, API_KEYS: JSON.stringify([key.entry]), REQUEST_DEADLINE_MS: '60000' };
  [colbertEdge, denseEdge] = await Promise.all([startEdge({ ...vars, POOL_ENDPOINTS: colbertPool.node.url }), startEdge({ ...vars, POOL_ENDPOINTS: densePool.node.url })]);
  checker = new OpenApiChecker(await (await fetch(`${colbertEdge.url}/openapi.json`)).json());
}, 600_000);
afterAll(async () => {
  await Promise.all([colbertEdge?.stop(), denseEdge?.stop()]);
  await Promise.all([colbertPool?.close(), densePool?.close()]);
});

describe('the edge over a ColBERT index', () => {
  it('answers colbert and BM25 re-ranked by ColBERT (alone and fused) as the local Searcher does, every variant of a query at once', async () => {
    // All at once: the edge packs them into shared frames, and the variants of one query text
    // (equal but for mode or rerank) must each get their own answer.
    const asked = VARIANTS.flatMap((v) => queries.map((q) => ({ v, q })));
    const answers = await Promise.all(asked.map(({ v, q }) => post(colbertEdge, '/v1/search', request(v, q.text))));
    let nonEmpty = 0;
    answers.forEach(({ status, body }, i) => {
      const { v, q } = asked[i];
      const where = `${v.name}:${q.id}`;
      expect(status, `${where} ${JSON.stringify(body)}`).toBe(200);
      const answer = body as ApiAnswer;
      const want = reference.get(where)!;
      expect(answer.partial, where).toBeUndefined();
      expect(answer.mode).toBe(v.mode);
      expect(answer.hits.map((h) => h.docId), where).toEqual(want.ids);
      answer.hits.forEach((h, j) => expect(Math.abs(h.score - want.scores[j]), where).toBeLessThan(1e-4));
      if (v.rerank) {
        // Both stages' scores and ranks ride along; without fusion the score is the re-ranker's.
        for (const h of answer.hits) expect(h.branches, where).toMatchObject({ first: { rank: expect.any(Number) }, rerank: { rank: expect.any(Number) } });
        if (!v.rerank.fuse) expect(answer.hits.map((h) => h.branches!.rerank.rank)).toEqual(answer.hits.map((h) => h.rank));
      }
      if (answer.hits.length > 0) nonEmpty++;
    });
    expect(nonEmpty).toBe(asked.length);
    // The variants of one query really differ (else the comparison above proves little).
    const first = queries[0].id;
    expect(new Set(VARIANTS.map((v) => reference.get(`${v.name}:${first}`)!.ids.join(','))).size).toBeGreaterThan(1);
  });

  it('caches each re-ranking on its own: equal ones hit, another depth, fusion or weight misses', async () => {
    const text = queries[1].text;
    const ask = async (rerank: Record<string, unknown> | undefined) => {
      const { status, body } = await post(colbertEdge, '/v1/search', { query: text, mode: 'bm25', k: 5, ...(rerank ? { rerank } : {}) });
      expect(status, JSON.stringify(body)).toBe(200);
      return body as ApiAnswer;
    };
    const plain = await ask(undefined);
    const reranked = await ask({ method: 'colbert' });
    expect(reranked.cached).toBe(false);
    expect(reranked.hits[0].branches?.rerank).toBeDefined();
    expect(plain.hits[0].branches).toBeUndefined();
    // Stated defaults are the same request.
    const again = await ask({ method: 'colbert', depth: 100, fuse: false });
    expect(again.cached).toBe(true);
    expect(again.hits).toEqual(reranked.hits);
    expect((await ask(undefined)).cached).toBe(true);
    expect((await ask({ method: 'colbert', depth: 30 })).cached).toBe(false);
    const fused = await ask({ method: 'colbert', fuse: true });
    expect(fused.cached).toBe(false);
    expect((await ask({ method: 'colbert', fuse: true, weight: 0.9 })).cached).toBe(false);
    expect((await ask({ method: 'colbert', fuse: true })).cached).toBe(true);
  });

  it('refuses a mode the ColBERT index lacks (dense) with a 400 naming the index', async () => {
    const { status, body } = await post(colbertEdge, '/v1/search', { query: queries[0].text, mode: 'dense', k: 5 });
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body.error).toMatchObject({ code: 'bad_request', field: 'mode', message: expect.stringMatching(/^mode: index \S+ cannot answer mode "dense"/) });
  });

  it('serves typed-client searches with rerank', async () => {
    const es = createClient({ endpoint: colbertEdge.url, apiKey: key.key, retry: false });
    const req: SearchRequestInput = { query: queries[2].text, mode: 'bm25', k: 3, rerank: { method: 'colbert', fuse: true, weight: 0.4 }, cache: false };
    const res = await es.search(req);
    expect(res.hits.map((h) => h.docId)).toHaveLength(3);
    expect(res.hits[0].branches?.first?.rank).toBeGreaterThanOrEqual(1);
    expect(res.hits[0].branches?.rerank?.score).toEqual(expect.any(Number));
  });
});

describe('the edge over an index without a token store (dense + BM25)', () => {
  it('answers mode colbert and a rerank with a 400 in the pool’s words, every time, without holding it against the router', async () => {
    const before = await stats(denseEdge);
    const ok = await post(denseEdge, '/v1/search', { query: queries[0].text, mode: 'bm25', k: 5 });
    expect(ok.status).toBe(200);
    const version = (ok.body as ApiAnswer).indexVersion;
    for (let i = 0; i < 4; i++) {
      const mode = await post(denseEdge, '/v1/search', { query: queries[0].text, mode: 'colbert', k: 5 });
      expect(mode.status, JSON.stringify(mode.body)).toBe(400);
      expect(mode.body.error).toEqual({
        code: 'bad_request',
        field: 'mode',
        message: `mode: index ${version} cannot answer mode "colbert": it holds dense + bm25, not colbert (build it with --method colbert)`,
      });
      const rerank = await post(denseEdge, '/v1/search', { query: queries[0].text, mode: 'bm25', k: 5, rerank: { method: 'colbert', fuse: true } });
      expect(rerank.status, JSON.stringify(rerank.body)).toBe(400);
      expect(rerank.body.error).toMatchObject({ code: 'bad_request', field: 'rerank', message: expect.stringMatching(new RegExp(`^rerank: index ${version} cannot re-rank with colbert: .*--method colbert\\)$`)) });
    }
    // Each refusal went to the pool (none cached) once (none retried), and the router's circuit
    // (3 failures open it) is closed: the pool answered, it was the request that was wrong.
    const after = await stats(denseEdge);
    expect(after.batches.queries - before.batches.queries).toBe(1 + 8);
    expect(after.endpoints.map((e) => e.breaker)).toEqual(['closed']);
    expect((await post(denseEdge, '/v1/search', { query: queries[0].text, mode: 'bm25', k: 5 })).body.cached).toBe(true);
  });

  it('reports the refusal per query in a batch, and answers the others', async () => {
    const { status, body } = await post(denseEdge, '/v1/search/batch', {
      queries: [
        { query: queries[1].text, mode: 'bm25', k: 3 },
        { query: queries[1].text, mode: 'colbert', k: 3 },
        { query: queries[1].text, mode: 'hybrid', k: 3, rerank: { method: 'colbert' } },
      ],
    });
    expect(status).toBe(200);
    expect(body.results[0].hits).toHaveLength(3);
    expect(body.results[1].error).toMatchObject({ code: 'bad_request', field: 'mode' });
    expect(body.results[2].error).toMatchObject({ code: 'bad_request', field: 'rerank' });
  });

  it('throws the 400 as an EdgeSearchError from the typed client', async () => {
    const err = await createClient({ endpoint: denseEdge.url, apiKey: key.key, retry: false })
      .search({ query: 'statins', mode: 'colbert' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(EdgeSearchError);
    expect(err).toMatchObject({ status: 400, code: 'bad_request', field: 'mode' });
    expect(err.message).toMatch(/cannot answer mode "colbert"/);
  });
});
