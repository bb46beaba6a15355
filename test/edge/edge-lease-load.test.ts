// Cache hits under pool overload. The edge (workerd) sits in front of a pool node that is slow
// (a proxy holds every search frame back) and saturated (concurrent `cache: false` queries, through
// the edge and straight to the node, so it sheds). For several version-promise periods, many
// concurrent requests for cached queries must all be answered 200 from the cache, the pool must
// receive no search for them (the edge renews the promise with lease frames, which the node
// answers outside its queue), and a lapse of the promise (the pool unreachable for longer than
// it) must cost one renewal, not a search per hit.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { SIGNING_KEY, metricValue, spawnPoolNodes, writeClusterConfig, type PoolProcess } from '../pool/harness.ts';
import { startFrameProxy, type FrameProxy } from './frame-proxy.ts';
import { startEdge, testKey, type EdgeServer } from './harness.ts';

/** The pool's version promise (versionLeaseMs, its default). */
const PROMISE_MS = 1000;
/** Every search frame waits this long in the proxy: a slow pool. */
const SEARCH_DELAY_MS = 300;
/** Lease frames wait a network round trip. */
const LEASE_DELAY_MS = 30;
/** Several promise periods of load. */
const LOAD_MS = 5 * PROMISE_MS;
const BREAKER_COOLDOWN_MS = 300;
const CACHED_WORKERS = 16;

let work: string;
let pool: { nodes: PoolProcess[]; stop(graceMs?: number): Promise<void> };
let poolUrl: string;
let direct: PoolClient;
let proxy: FrameProxy;
let edge: EdgeServer;
let cachedQueries: string[];
let loadQueries: string[];
const user = testKey('load', ['search'], { perSecond: 100_000, burst: 100_000 });

/** One search through the edge: its status, whether it came from the cache, the edge's own time for it and the time seen here. */
async function search(query: string, mode: 'bm25' | 'hybrid', cache: boolean): Promise<{ status: number; cached?: boolean; indexVersion?: string; edgeMs?: number; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${edge.url}/v1/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
    body: JSON.stringify({ query, mode, k: 5, cache }),
  });
  const body = (await res.json()) as { cached?: boolean; indexVersion?: string; timings?: { edgeMs: number } };
  return { status: res.status, cached: body.cached, indexVersion: body.indexVersion, edgeMs: body.timings?.edgeMs, ms: performance.now() - t0 };
}

const metrics = async () => (await fetch(`${poolUrl}/metrics`)).text();
const searchedCached = () => proxy.searchedTexts.filter((t) => cachedQueries.includes(t)).length;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 200, shards: 2 });
  const queries = (await scifactTestQueries(48)).map((q) => q.text);
  cachedQueries = queries.slice(0, 8);
  loadQueries = queries.slice(8);
  // One node holding both shards, in a process of its own as in production (the load generated
  // here does not slow its event loop). Small batches, one at a time, and little patience: a
  // burst makes it shed.
  work = await mkdtemp(join(tmpdir(), 'es-lease-load-'));
  const port = await freePort();
  poolUrl = `http://127.0.0.1:${port}`;
  const config = await writeClusterConfig(join(work, 'cluster.json'), {
    index,
    nodes: [{ id: 'solo', url: poolUrl, shards: [0, 1] }],
    threads: 1,
    versionLeaseMs: PROMISE_MS,
    batching: { maxBatchSize: 4, concurrency: 1, maxQueueDelayMs: 5, maxQueue: 64 },
  });
  pool = await spawnPoolNodes([{ nodeId: 'solo', configPath: config, port }]);
  direct = await PoolClient.create(poolUrl, SIGNING_KEY);
  proxy = await startFrameProxy(poolUrl, { search: SEARCH_DELAY_MS, lease: LEASE_DELAY_MS });
  edge = await startEdge({
    POOL_ENDPOINTS: proxy.url,
    POOL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: JSON.stringify([user.entry]),
    REQUEST_DEADLINE_MS: '3000',
    BREAKER_COOLDOWN_MS: String(BREAKER_COOLDOWN_MS),
  });
  // A warm cache: each cached query asked once (a search), then answered from the cache.
  for (const q of cachedQueries) expect(await search(q, 'bm25', true)).toMatchObject({ status: 200, cached: false });
  for (const q of cachedQueries) expect(await search(q, 'bm25', true)).toMatchObject({ status: 200, cached: true });
}, 300_000);
afterAll(async () => {
  await edge?.stop();
  await proxy?.close();
  direct?.close();
  await pool?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * CACHED_WORKERS loops asking for the cached queries for `ms`, and with `overload`, loops of
 * `cache: false` queries through the edge and frames straight to the node beside them.
 */
async function hammer(ms: number, overload: boolean) {
  let stop = false;
  const hits: Awaited<ReturnType<typeof search>>[] = [];
  const misses: number[] = [];
  let directFrames = 0;
  const loop = async (fn: (i: number) => Promise<void>, offset: number) => {
    for (let i = offset; !stop; i += 7) await fn(i);
  };
  const workers = [
    // Cached queries, many at once (what a 2-core machine running workerd and the pool can take).
    ...Array.from({ length: CACHED_WORKERS }, (_, w) => loop(async (i) => void hits.push(await search(cachedQueries[i % cachedQueries.length], 'bm25', true)), w)),
  ];
  if (overload) {
    workers.push(
      // Overload through the edge: queries that bypass the cache, each one a pool query.
      ...Array.from({ length: 8 }, (_, w) => loop(async (i) => void misses.push((await search(loadQueries[i % loadQueries.length], 'hybrid', false)).status), w)),
      // And straight to the node, so it is saturated whatever the edge's batching makes of the above.
      ...Array.from({ length: 4 }, (_, w) =>
        loop(async (i) => {
          await direct.post([{ id: `d${i}`, mode: 'hybrid', k: 10, text: loadQueries[i % loadQueries.length] }]);
          directFrames++;
        }, w),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  await Promise.all(workers);
  return { hits, misses, directFrames };
}

describe('cache hits while the pool is slow and shedding', () => {
  it(`answer 200 from the cache for ${LOAD_MS / PROMISE_MS} promise periods, with no search for them and lease frames only`, async () => {
    // For comparison: the same hits with an idle pool.
    const idle = (await hammer(1500, false)).hits.map((h) => h.ms);
    const before = { metrics: await metrics(), leases: proxy.frames.lease ?? 0, searches: proxy.frames.search ?? 0, searchedCached: searchedCached() };
    const { hits, misses: overload, directFrames } = await hammer(LOAD_MS, true);
    const after = await metrics();

    const leases = (proxy.frames.lease ?? 0) - before.leases;
    const shed = metricValue(after, 'edgesearch_shed_queries_total') - metricValue(before.metrics, 'edgesearch_shed_queries_total');
    const leasesAnswered = metricValue(after, 'edgesearch_requests_total', { type: 'lease', status: '200' }) - metricValue(before.metrics, 'edgesearch_requests_total', { type: 'lease', status: '200' });
    const statuses = (xs: number[]) => Object.fromEntries([...new Set(xs)].sort().map((s) => [s, xs.filter((x) => x === s).length]));
    const ms = hits.map((h) => h.ms);
    const edgeMs = hits.map((h) => h.edgeMs ?? Infinity);
    console.info(
      `lease load: ${hits.length} cached-query requests in ${LOAD_MS} ms: statuses ${JSON.stringify(statuses(hits.map((h) => h.status)))}, ` +
        `cached ${hits.filter((h) => h.cached).length}, edge time p50 ${quantile(edgeMs, 0.5)} ms p99 ${quantile(edgeMs, 0.99)} ms max ${Math.max(...edgeMs)} ms (${edgeMs.filter((x) => x > 20).length} over 20 ms), ` +
        `seen by this (busy) process p50 ${quantile(ms, 0.5).toFixed(1)} ms p99 ${quantile(ms, 0.99).toFixed(1)} ms (idle pool: p50 ${quantile(idle, 0.5).toFixed(1)} ms p99 ${quantile(idle, 0.99).toFixed(1)} ms); ` +
        `pool: search frames ${(proxy.frames.search ?? 0) - before.searches} (for the cached queries: ${searchedCached() - before.searchedCached} queries), ` +
        `lease frames ${leases} (answered 200: ${leasesAnswered}), shed queries ${shed}; overload via the edge ${JSON.stringify(statuses(overload))}, direct frames ${directFrames}`,
    );

    // The pool was overloaded: it shed queries, and the edge's own misses felt it.
    expect(shed).toBeGreaterThan(0);
    expect(overload.length).toBeGreaterThan(0);
    // Every request for a cached query was answered from the cache.
    expect(hits.length).toBeGreaterThan(CACHED_WORKERS * 5);
    expect(hits.filter((h) => h.status !== 200)).toEqual([]);
    expect(hits.filter((h) => !h.cached)).toEqual([]);
    // Not one search for them reached the pool. The promise was renewed by lease frames, at most
    // one per half promise (this edge runs one isolate), each answered, and by the answers to
    // the other queries that got through (any complete answer renews it: then no lease is due).
    expect(searchedCached() - before.searchedCached).toBe(0);
    expect(leases).toBeLessThanOrEqual(Math.ceil(LOAD_MS / (PROMISE_MS / 2)) + 2);
    expect(leasesAnswered).toBe(leases);
    // Most hits waited for nothing at all, by the edge's own clock (which moves only across I/O;
    // what this process sees includes the CPU it shares with workerd and the pool). The rest waited
    // for a renewal when a busy machine delayed one past the promise: never for a search (above).
    expect(quantile(edgeMs, 0.5)).toBeLessThan(20);
  });

  it('after a lapse (the pool unreachable for longer than its promise), hits wait for one shared renewal, then come from the cache', async () => {
    proxy.down = true;
    await new Promise((r) => setTimeout(r, PROMISE_MS + 300));
    // The promise has lapsed and nothing can renew it: a hit is not served on trust (the renewal
    // fails, and so does the search it falls back to: 503, or 504 had the retries used the time).
    const blind = await search(cachedQueries[0], 'bm25', true);
    expect([503, 504]).toContain(blind.status);

    proxy.down = false;
    await new Promise((r) => setTimeout(r, BREAKER_COOLDOWN_MS + 200)); // the router's circuit half-opens
    const before = { leases: proxy.frames.lease ?? 0, searches: proxy.frames.search ?? 0 };
    proxy.delays.lease = 150; // so that every hit below arrives while the renewal is out
    const hits = await Promise.all(Array.from({ length: 24 }, (_, i) => search(cachedQueries[i % cachedQueries.length], 'bm25', true)));
    proxy.delays.lease = LEASE_DELAY_MS;
    console.info(`lease lapse: ${hits.length} hits after the pool came back: statuses ${JSON.stringify(hits.map((h) => h.status).filter((s) => s !== 200))} non-200, cached ${hits.filter((h) => h.cached).length}, lease frames ${(proxy.frames.lease ?? 0) - before.leases}, search frames ${(proxy.frames.search ?? 0) - before.searches}, slowest ${Math.max(...hits.map((h) => h.ms)).toFixed(1)} ms`);
    expect(hits.every((h) => h.status === 200 && h.cached === true)).toBe(true);
    expect((proxy.frames.lease ?? 0) - before.leases).toBe(1);
    expect((proxy.frames.search ?? 0) - before.searches).toBe(0);
    // They waited for that renewal (it was held 150 ms).
    expect(Math.min(...hits.map((h) => h.ms))).toBeGreaterThanOrEqual(100);
  });
});
