import { describe, expect, it } from 'vitest';
import { SearchRequest } from '../../shared/api/index.ts';
import { cacheUrl, canonicalJson, contextDigest, requestKey } from './cache-key.ts';
import { Coalescer } from './coalescer.ts';
import { VersionLease } from './version-lease.ts';
import { ResultCache } from './result-cache.ts';

describe('cache keys', () => {
  it('sorts object keys at every level and drops undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('gives equal keys to requests that differ only in whitespace or parameter order', async () => {
    const a = SearchRequest.parse({ query: ' statins  and\tdementia ', mode: 'dense', k: 5, params: { nprobe: 8, efSearch: 16 } });
    const b = SearchRequest.parse({ query: 'statins and dementia', mode: 'dense', k: 5, params: { efSearch: 16, nprobe: 8 } });
    expect(await requestKey(a)).toBe(await requestKey(b));
  });

  it('gives different keys to a different query, mode, k or parameter', async () => {
    const base = { query: 'statins', mode: 'dense' as const, k: 5 };
    const keys = await Promise.all([base, { ...base, query: 'Statins' }, { ...base, mode: 'bm25' as const }, { ...base, k: 6 }, { ...base, params: { nprobe: 2 } }].map((q) => requestKey(q)));
    expect(new Set(keys).size).toBe(5);
  });

  it('keys the re-ranking stage: method, depth, fusion and (with fusion) its weight', async () => {
    const key = (body: Record<string, unknown>) => requestKey(SearchRequest.parse({ query: 'statins', mode: 'bm25', k: 5, ...body }));
    const plain = await key({});
    const rerank = await key({ rerank: { method: 'colbert' } });
    const keys = await Promise.all([
      key({ rerank: { method: 'colbert', depth: 50 } }),
      key({ rerank: { method: 'colbert', fuse: true } }),
      key({ rerank: { method: 'colbert', fuse: true, weight: 0.3 } }),
      key({ rerank: { method: 'colbert', fuse: true, weight: 0.7 } }),
      key({ rerank: { method: 'colbert', depth: 50, fuse: true, weight: 0.3 } }),
    ]);
    expect(new Set([plain, rerank, ...keys]).size).toBe(7);
    // Stated defaults key as omitted ones; a weight without fusion changes nothing, nor its key.
    expect(await key({ rerank: { method: 'colbert', depth: 100, fuse: false } })).toBe(rerank);
    expect(await key({ rerank: { fuse: false, method: 'colbert', weight: 0.9 } })).toBe(rerank);
    expect(await key({ rerank: { method: 'colbert', weight: 0.3, fuse: true } })).toBe(keys[2]);
    // A request without rerank keys as before rerank existed.
    expect(plain).toBe(await requestKey({ query: 'statins', mode: 'bm25', k: 5 }));
  });

  it('keys the phrase unit: each unit of one phrase query has an entry of its own', async () => {
    const key = (params?: Record<string, unknown>) => requestKey(SearchRequest.parse({ query: 'who wrote it', mode: 'phrase', k: 5, ...(params ? { params } : {}) }));
    const units = await Promise.all(['phrase', 'sentence', 'passage', 'document'].map((unit) => key({ unit })));
    expect(new Set(units).size).toBe(4);
    // The unit is one parameter among others: their order does not matter.
    expect(await key({ unit: 'sentence', candidates: 50 })).toBe(await key({ candidates: 50, unit: 'sentence' }));
    expect(await key({ unit: 'sentence', candidates: 50 })).not.toBe(await key({ candidates: 50, unit: 'passage' }));
  });

  it('digests a context: its turns, their order, their responses (absent and empty told apart)', async () => {
    const a = [{ query: 'tuberculosis' }, { query: 'is it treatable?', response: 'yes' }];
    const digests = await Promise.all(
      [
        a,
        [a[1], a[0]],
        [{ query: 'tuberculosis' }, { query: 'is it treatable?' }],
        [{ query: 'tuberculosis' }, { query: 'is it treatable?', response: '' }],
        [{ query: 'tuberculosis' }, { query: 'is it treatable?', response: 'Yes' }],
        [{ query: 'tuberculosis is it treatable?' }],
        [{ query: 'tuberculosis', response: 'is it treatable?' }],
        [{ query: 'tuberculosis' }],
      ].map((c) => contextDigest(c)),
    );
    expect(new Set(digests).size).toBe(8);
    for (const d of digests) expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(await contextDigest([{ query: 'tuberculosis' }, { response: 'yes', query: 'is it treatable?' }])).toBe(digests[0]);
  });

  it('keys the context and the policy: no answer formed from one context is keyed as another’s', async () => {
    const key = (body: Record<string, unknown>) => requestKey(SearchRequest.parse({ query: 'Is it treatable?', mode: 'bm25', k: 5, ...body }));
    const plain = await key({});
    const keys = await Promise.all([
      key({ context: [{ query: 'tuberculosis' }] }),
      key({ context: [{ query: 'type 2 diabetes' }] }),
      key({ context: [{ query: 'tuberculosis', response: 'isoniazid' }] }),
      key({ context: [{ query: 'tuberculosis' }, { query: 'in children' }] }),
      key({ context: [{ query: 'tuberculosis' }], params: { policy: 'raw' } }),
      key({ context: [{ query: 'tuberculosis' }], params: { policy: 'first' } }),
    ]);
    expect(new Set([plain, ...keys]).size).toBe(7);
    // Normalized turns key alike; an empty context is no context (keyed as before contexts existed).
    expect(await key({ context: [{ query: '  tuberculosis ' }] })).toBe(keys[0]);
    expect(await key({ context: [] })).toBe(plain);
    expect(plain).toBe(await requestKey({ query: 'Is it treatable?', mode: 'bm25', k: 5 }));
  });

  it('puts the index version into the cache URL', async () => {
    const key = await requestKey({ query: 'q', mode: 'bm25', k: 1 });
    const [v1, v2] = [cacheUrl(key, 'v1'), cacheUrl(key, 'v2')];
    expect(v1).not.toBe(v2);
    expect(v1).toMatch(/^https:\/\/cache\.edgesearch\.invalid\/v1\/search\/v1\/[0-9a-f]{64}$/);
    expect(cacheUrl(key, 'a/b?c')).toContain('/a%2Fb%3Fc/'); // any version string stays one path segment
  });
});

describe('VersionLease', () => {
  it("holds a version until the pool's promise ends, and a newer answer replaces it at once", () => {
    let now = 0;
    const lease = new VersionLease(() => now);
    expect(lease.current()).toBeUndefined();
    lease.renew('v1', 1000);
    now = 999;
    expect(lease.current()).toBe('v1');
    now = 1000;
    expect(lease.current()).toBeUndefined();
    expect(lease.lastSeen).toBe('v1');
    lease.renew('v2', 1200);
    expect(lease.current()).toBe('v2');
    lease.renew('v1', 1100); // a rolling swap: the newest answer wins while its promise holds
    expect(lease.current()).toBe('v1');
  });

  it('never serves from an answer without a promise, or one whose promise has already ended', () => {
    let now = 500;
    const lease = new VersionLease(() => now);
    lease.renew('v1', 500); // versionLeaseMs 0
    expect(lease.current()).toBeUndefined();
    lease.renew('v1', 900);
    lease.renew('v2', 400); // a late answer, promise long over: v1's promise still holds
    expect(lease.current()).toBe('v1');
    expect(lease.lastSeen).toBe('v2');
    now = 900;
    expect(lease.current()).toBeUndefined();
  });
});

describe('VersionLease refresh', () => {
  it('starts one background refresh once half the promise is spent, and none before', async () => {
    let now = 0;
    const lease = new VersionLease(() => now);
    let calls = 0;
    let finish!: () => void;
    const refresh = () => (calls++, new Promise<void>((r) => (finish = r)));
    expect(lease.refreshIfDue(refresh)).toBeUndefined(); // no promise yet: the request itself asks the pool
    lease.renew('v1', 1000);
    now = 499;
    expect(lease.refreshIfDue(refresh)).toBeUndefined();
    now = 500;
    const running = lease.refreshIfDue(refresh);
    expect(running).toBeDefined();
    expect(lease.refreshIfDue(refresh)).toBeUndefined(); // one at a time
    expect(calls).toBe(1);
    lease.renew('v1', 1500);
    finish();
    await running;
    now = 999;
    expect(lease.refreshIfDue(refresh)).toBeUndefined(); // renewed at 500 until 1500: half left at 1000
    now = 1000;
    expect(lease.refreshIfDue(refresh)).toBeDefined();
  });

  it('shares one renewal among everyone who asks while it runs, due or not', async () => {
    let now = 0;
    const lease = new VersionLease(() => now);
    lease.renew('v1', 100);
    now = 150; // lapsed: renewNow runs whether or not a refresh is due
    let calls = 0;
    let finish!: () => void;
    const renewal = () => (calls++, new Promise<void>((r) => (finish = r)));
    const a = lease.renewNow(renewal);
    const b = lease.renewNow(renewal);
    expect(b).toBe(a);
    expect(lease.refreshIfDue(renewal)).toBeUndefined();
    lease.renew('v1', 1150);
    finish();
    await a;
    expect(calls).toBe(1);
    expect(lease.current()).toBe('v1');
    const next = lease.renewNow(async () => {});
    expect(next).not.toBe(a); // settled: the next one is a new call
    await next;
    await expect(lease.renewNow(() => { throw new Error('thrown as it starts'); })).resolves.toBeUndefined();
  });

  it('swallows a failed refresh and allows the next one', async () => {
    let now = 0;
    const lease = new VersionLease(() => now);
    lease.renew('v1', 100);
    now = 60;
    await expect(lease.refreshIfDue(() => Promise.reject(new Error('pool down')))).resolves.toBeUndefined();
    expect(lease.refreshIfDue(async () => {})).toBeDefined();
    now = 100;
    expect(lease.refreshIfDue(async () => {})).toBeUndefined(); // the promise is over: no hits to keep warm
  });
});

describe('Coalescer', () => {
  it('runs one call for concurrent identical keys and forgets it once settled', async () => {
    const c = new Coalescer<number>();
    let calls = 0;
    let release!: (n: number) => void;
    const start = () => (calls++, new Promise<number>((r) => (release = r)));
    const a = c.run('k', start);
    const b = c.run('k', start);
    const other = c.run('other', async () => 7);
    expect([a.leader, b.leader, other.leader]).toEqual([true, false, true]);
    release(42);
    expect(await Promise.all([a.promise, b.promise, other.promise])).toEqual([42, 42, 7]);
    expect(calls).toBe(1);
    expect(c.coalesced).toBe(1);
    expect(c.size).toBe(0);
    const failing = c.run('k', () => Promise.reject(new Error('x')));
    await expect(failing.promise).rejects.toThrow('x');
    expect(c.run('k', async () => 1).leader).toBe(true); // the failure is not remembered
  });
});

describe('ResultCache memory layer', () => {
  const answer = (v: string) => ({ indexVersion: v, hits: [] });

  it('returns an entry only for its index version and within its TTL', async () => {
    let now = 0;
    const cache = new ResultCache(undefined, { ttlS: 10, memoryEntries: 10, now: () => now });
    await cache.put('u', answer('v1'));
    expect(await cache.get('u', 'v1')).toEqual(answer('v1'));
    expect(await cache.get('u', 'v2')).toBeUndefined();
    now = 10_000;
    expect(await cache.get('u', 'v1')).toBeUndefined();
  });

  it('evicts the least recently used entry beyond its size', async () => {
    const cache = new ResultCache(undefined, { ttlS: 10, memoryEntries: 2 });
    await cache.put('a', answer('v'));
    await cache.put('b', answer('v'));
    await cache.get('a', 'v'); // a is now the most recent
    await cache.put('c', answer('v'));
    expect(await cache.get('b', 'v')).toBeUndefined();
    expect(await cache.get('a', 'v')).toBeDefined();
    expect(await cache.get('c', 'v')).toBeDefined();
  });

  it('is off with a TTL of 0', async () => {
    const cache = new ResultCache(undefined, { ttlS: 0, memoryEntries: 2 });
    expect(cache.enabled).toBe(false);
    await cache.put('a', answer('v'));
    expect(await cache.get('a', 'v')).toBeUndefined();
  });
});
