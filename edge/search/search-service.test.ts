// The search service over a stand-in pool (a MicroBatcher whose frames a function answers):
// `cache: false` requests each reach the pool, identical or not, while cached ones share one
// call; and the timings count every attempt and the time between them.
import { describe, expect, it } from 'vitest';
import { ApiError, SearchRequest } from '../../shared/api/index.ts';
import type { ErrorCode, ResultFrame, SearchFrame, WireQuery } from '../../shared/protocol/index.ts';
import { Coalescer, ResultCache, VersionLease } from '../cache/index.ts';
import { MicroBatcher } from '../pool/index.ts';
import { SearchService, type PoolAnswer } from './search-service.ts';

const timings = { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 1 };

/**
 * `answer` decides, per frame, how many attempts delivery took and whether the pool shed the
 * queries; `refuse` answers a query with a per-query error of the pool's instead.
 */
function service(
  answer: (frame: SearchFrame, n: number) => { attempts?: number; overloaded?: boolean; delayMs?: number } = () => ({}),
  refuse?: (q: WireQuery) => { code: ErrorCode; message: string } | undefined,
) {
  const frames: SearchFrame[] = [];
  const batcher = new MicroBatcher({
    windowMs: 0,
    maxQueries: 64,
    send: async (frame) => {
      frames.push(frame);
      const { attempts, overloaded, delayMs = 20 } = answer(frame, frames.length);
      await new Promise((r) => setTimeout(r, delayMs));
      const reply: ResultFrame = {
        v: 1,
        type: 'result',
        batchId: frame.batchId,
        indexVersion: 'v1',
        versionLeaseMs: 60_000,
        timings,
        results: frame.queries.map((q) => {
          const error = refuse?.(q);
          if (error) return { id: q.id, hits: [], error };
          return overloaded ? { id: q.id, hits: [], error: { code: 'overloaded' as const, message: 'busy' } } : { id: q.id, hits: [{ docId: 'd1', score: 1, shard: 0, title: 't', text: 'x' }] };
        }),
      };
      return { frame: reply, sentAt: Date.now(), ...(attempts ? { attempts } : {}) };
    },
  });
  const coalescer = new Coalescer<PoolAnswer>();
  const search = new SearchService({ batcher, cache: new ResultCache(undefined, { ttlS: 300, memoryEntries: 100 }), lease: new VersionLease(), coalescer, deadlineMs: 2000, retryBaseMs: 5 });
  const ctx = () => ({ startedAt: performance.now(), waitUntil: () => {} });
  const queries = () => frames.reduce((n, f) => n + f.queries.length, 0);
  return { search, ctx, coalescer, queries, frames };
}

const req = (cache: boolean): SearchRequest => ({ query: 'the same body every time', mode: 'bm25', k: 3, cache });

describe('SearchService', () => {
  it('sends every cache: false request to the pool, identical concurrent ones included', async () => {
    const s = service();
    const answers = await Promise.all(Array.from({ length: 20 }, () => s.search.search(req(false), s.ctx())));
    expect(s.queries()).toBe(20);
    expect(s.coalescer.coalesced).toBe(0);
    expect(answers.every((a) => !a.cached && a.timings.poolAttempts === 1)).toBe(true);
  });

  it('shares one pool call among identical concurrent cached requests', async () => {
    const s = service();
    const answers = await Promise.all(Array.from({ length: 20 }, () => s.search.search(req(true), s.ctx())));
    expect(s.queries()).toBe(1);
    expect(s.coalescer.coalesced).toBe(19);
    for (const a of answers) expect(a.timings.poolMs).toBeLessThanOrEqual(a.timings.edgeMs);
  });

  it('reports the pool time and attempts of every try: transport retries and queries shed and asked again', async () => {
    // First frame: delivered on the 3rd attempt, and the pool shed the query; second: 2 attempts, answered.
    const s = service((_, n) => (n === 1 ? { attempts: 3, overloaded: true, delayMs: 100 } : { attempts: 2, delayMs: 100 }));
    const answer = await s.search.search(req(false), s.ctx());
    expect(answer.timings.poolAttempts).toBe(5);
    expect(answer.timings.poolMs).toBeGreaterThanOrEqual(195); // both frames, not only the last
    expect(answer.timings.edgeMs).toBeGreaterThanOrEqual(answer.timings.poolMs!);
    const cached = await s.search.search(req(true), s.ctx());
    expect(cached.timings.poolAttempts).toBe(2);
  });

  it('forwards rerank to the pool, and never lets requests that differ in it share a pool query', async () => {
    const s = service();
    const base = { query: 'statins and dementia', mode: 'bm25', k: 3 };
    const bodies = [base, { ...base, rerank: { method: 'colbert' } }, { ...base, rerank: { method: 'colbert', fuse: true } }, { ...base, rerank: { method: 'colbert', depth: 20 } }];
    // Concurrent: coalescing would merge equal keys, micro-batching packs them in one frame.
    await Promise.all(bodies.map((b) => s.search.search(SearchRequest.parse(b), s.ctx())));
    expect(s.coalescer.coalesced).toBe(0);
    const sent = s.frames.flatMap((f) => f.queries);
    expect(sent.map((q) => q.rerank)).toEqual([undefined, { method: 'colbert', depth: 100, fuse: false }, { method: 'colbert', depth: 100, fuse: true }, { method: 'colbert', depth: 20, fuse: false }]);
    expect(sent.every((q) => q.text === base.query && q.mode === 'bm25' && q.k === 3)).toBe(true);
    // Equal ones (defaults stated or not) share the entry.
    const again = await s.search.search(SearchRequest.parse({ ...base, rerank: { method: 'colbert', depth: 100, fuse: false } }), s.ctx());
    expect(again.cached).toBe(true);
    expect(s.queries()).toBe(4);
  });

  it("answers the pool's refusal of a mode or rerank the index cannot serve with a 400 naming the field, never cached nor retried", async () => {
    const s = service(undefined, (q) =>
      q.mode === 'colbert'
        ? { code: 'bad-frame', message: 'index v1 cannot answer mode "colbert": it holds dense + bm25, not colbert (build it with --method colbert)' }
        : q.rerank
          ? { code: 'bad-frame', message: 'index v1 cannot re-rank with colbert: it holds dense + bm25, no ColBERT token store (build it with --method colbert)' }
          : undefined,
    );
    const refusal = async (body: Record<string, unknown>) => {
      const err = await s.search.search(SearchRequest.parse(body), s.ctx()).catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      return { status: err.status, code: err.code, field: err.field, message: err.message };
    };
    const mode = await refusal({ query: 'q', mode: 'colbert' });
    expect(mode).toEqual({ status: 400, code: 'bad_request', field: 'mode', message: 'mode: index v1 cannot answer mode "colbert": it holds dense + bm25, not colbert (build it with --method colbert)' });
    expect(await refusal({ query: 'q', mode: 'colbert', rerank: { method: 'colbert' } })).toMatchObject({ status: 400, field: 'mode' });
    const rerank = await refusal({ query: 'q', mode: 'bm25', rerank: { method: 'colbert', fuse: true } });
    expect(rerank).toMatchObject({ status: 400, code: 'bad_request', field: 'rerank', message: expect.stringMatching(/^rerank: index v1 cannot re-rank with colbert: .*--method colbert/) });
    // Each went to the pool once (not retried); asked again, each goes again (nothing cached).
    expect(s.queries()).toBe(3);
    expect(await refusal({ query: 'q', mode: 'colbert' })).toEqual(mode);
    expect(s.queries()).toBe(4);
    // The same query without what the index lacks is answered.
    expect((await s.search.search(SearchRequest.parse({ query: 'q', mode: 'bm25' }), s.ctx())).hits).toHaveLength(1);
  });
});
