// The search service over a stand-in pool (a MicroBatcher whose frames a function answers):
// `cache: false` requests each reach the pool, identical or not, while cached ones share one
// call; and the timings count every attempt and the time between them.
import { describe, expect, it } from 'vitest';
import type { SearchRequest } from '../../shared/api/index.ts';
import type { ResultFrame, SearchFrame } from '../../shared/protocol/index.ts';
import { Coalescer, ResultCache, VersionLease } from '../cache/index.ts';
import { MicroBatcher } from '../pool/index.ts';
import { SearchService, type PoolAnswer } from './search-service.ts';

const timings = { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 1 };

/** `answer` decides, per frame, how many attempts delivery took and whether the pool shed the queries. */
function service(answer: (frame: SearchFrame, n: number) => { attempts?: number; overloaded?: boolean; delayMs?: number } = () => ({})) {
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
        timings,
        results: frame.queries.map((q) => (overloaded ? { id: q.id, hits: [], error: { code: 'overloaded' as const, message: 'busy' } } : { id: q.id, hits: [{ docId: 'd1', score: 1, shard: 0, title: 't', text: 'x' }] })),
      };
      return { frame: reply, sentAt: Date.now(), ...(attempts ? { attempts } : {}) };
    },
  });
  const coalescer = new Coalescer<PoolAnswer>();
  const search = new SearchService({ batcher, cache: new ResultCache(undefined, { ttlS: 300, memoryEntries: 100 }), lease: new VersionLease(), coalescer, deadlineMs: 2000, retryBaseMs: 5 });
  const ctx = () => ({ startedAt: performance.now(), waitUntil: () => {} });
  const queries = () => frames.reduce((n, f) => n + f.queries.length, 0);
  return { search, ctx, coalescer, queries };
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
});
