// The search service's use of the version promise, against a fake pool: hits renew it with
// lease frames (never with searches), and once it has lapsed, hits of the last version wait for
// one shared renewal and are served only if the pool promises that very version again.
import { describe, expect, it } from 'vitest';
import { SearchRequest } from '../../shared/api/index.ts';
import type { ResultFrame, SearchFrame } from '../../shared/protocol/index.ts';
import { Coalescer, ResultCache, VersionLease } from '../cache/index.ts';
import { MicroBatcher, type LeaseAnswer } from '../pool/index.ts';
import { SearchService, type PoolAnswer, type SearchContext } from './search-service.ts';

const PROMISE_MS = 1000;

/** A pool serving `version`: searches through the micro-batcher, leases on their own; both counted. */
function fakePool(now: () => number) {
  const pool = {
    version: 'v1',
    searches: 0,
    leases: 0,
    /** While set, leases wait for it (to have many hits wait on one renewal). */
    leaseGate: undefined as Promise<void> | undefined,
    leaseFails: false,
  };
  const batcher = new MicroBatcher({
    windowMs: 0,
    maxQueries: 32,
    send: async (frame: SearchFrame) => {
      pool.searches += frame.queries.length;
      const reply: ResultFrame = {
        v: 1,
        type: 'result',
        batchId: frame.batchId,
        indexVersion: pool.version,
        versionLeaseMs: PROMISE_MS,
        results: frame.queries.map((q) => ({ id: q.id, hits: [{ docId: `${pool.version}:${q.text}`, score: 1, shard: 0, title: '', text: '' }] })),
        timings: { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 0 },
      };
      return { frame: reply, sentAt: now() };
    },
  });
  const leases = {
    async ask(): Promise<LeaseAnswer> {
      pool.leases++;
      const sentAt = now();
      await pool.leaseGate;
      if (pool.leaseFails) throw new Error('pool unreachable');
      return { indexVersion: pool.version, versionUntil: sentAt + PROMISE_MS };
    },
  };
  return { pool, batcher, leases };
}

function setup() {
  // The edge's clock, which the test moves; the fake pool's answers count from it as well.
  const clock = { offset: 0 };
  const now = () => Date.now() + clock.offset;
  const { pool, batcher, leases } = fakePool(now);
  const lease = new VersionLease(now);
  const service = new SearchService({
    batcher,
    cache: new ResultCache(undefined, { ttlS: 300, memoryEntries: 100 }),
    lease,
    leases,
    coalescer: new Coalescer<PoolAnswer>(),
    deadlineMs: 2000,
    retryBaseMs: 1,
  });
  const background: Promise<unknown>[] = [];
  const ctx = (): SearchContext => ({ waitUntil: (p) => void background.push(p), startedAt: performance.now() });
  const search = (query: string) => service.search(SearchRequest.parse({ query, mode: 'bm25', k: 1 }), ctx());
  return { pool, clock, lease, search, background };
}

describe('SearchService and the version promise', () => {
  it('renews the promise of cached answers with lease frames, never with searches', async () => {
    const { pool, clock, search, background } = setup();
    expect((await search('a')).cached).toBe(false);
    expect(pool.searches).toBe(1);
    // The pool's promise is on the edge's clock: move it past half the promise.
    clock.offset = 600;
    for (let i = 0; i < 20; i++) expect((await search('a')).cached).toBe(true);
    await Promise.all(background);
    expect(pool.searches).toBe(1);
    expect(pool.leases).toBe(1);
  });

  it('once the promise has lapsed, hits wait for one shared renewal and are served from the cache', async () => {
    const { pool, clock, lease, search } = setup();
    await search('a');
    await search('b');
    clock.offset = 5000; // lapsed (the pool was unreachable, say)
    expect(lease.current()).toBeUndefined();
    let open!: () => void;
    pool.leaseGate = new Promise((r) => (open = r));
    const waiting = Promise.all(Array.from({ length: 10 }, (_, i) => search(i % 2 ? 'a' : 'b')));
    await new Promise((r) => setTimeout(r, 20));
    open();
    const answers = await waiting;
    expect(answers.every((a) => a.cached && a.indexVersion === 'v1')).toBe(true);
    expect(pool.leases).toBe(1);
    expect(pool.searches).toBe(2);
  });

  it('asks the pool when the renewal names another version, or fails', async () => {
    const { pool, clock, search } = setup();
    await search('a');
    clock.offset = 5000;
    pool.version = 'v2';
    const moved = await search('a');
    expect(moved).toMatchObject({ cached: false, indexVersion: 'v2' });
    expect(moved.hits[0].docId).toBe('v2:a');
    expect([pool.leases, pool.searches]).toEqual([1, 2]);

    clock.offset = 10_000;
    pool.leaseFails = true;
    const failed = await search('a');
    expect(failed).toMatchObject({ cached: false, indexVersion: 'v2' });
    expect([pool.leases, pool.searches]).toEqual([2, 3]);
  });

  it('never serves a lapsed version without asking, and a miss does not wait for a renewal', async () => {
    const { pool, clock, search } = setup();
    await search('a');
    clock.offset = 5000;
    expect((await search('c')).cached).toBe(false);
    expect(pool.leases).toBe(0);
  });
});
