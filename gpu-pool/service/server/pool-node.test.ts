// Real pool nodes in this process on a small real index: what /metrics serves over HTTP, and what
// a router node logs and counts when a node holding a shard goes down.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, type Frame, importSigningKey, signatureHeaders } from '../../../shared/protocol/index.ts';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../../../test/pool/harness.ts';
import { parseClusterConfig } from '../cluster/index.ts';
import { createLogger } from '../logging/index.ts';
import { parseExposition, sampleValue, type Exposition } from '../metrics/exposition.test-support.ts';
import { CONTENT_TYPE } from '../metrics/index.ts';
import { PoolClient } from '../pool-client/index.ts';
import { PoolNode } from './index.ts';

let index: string;
beforeAll(async () => {
  index = await fixtureIndex({ limit: 200, shards: 2 });
}, 300_000);

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
  return parseExposition(await res.text());
}

describe('GET /metrics', () => {
  let solo: SoloNode;
  beforeAll(async () => {
    solo = await startSoloNode(index, 2);
  });
  afterAll(async () => {
    await solo?.close();
  });

  it('serves the pool’s metrics under their names and types, beside the process metrics, in valid text format', async () => {
    const frames = 5;
    for (let i = 0; i < frames; i++) {
      const r = await solo.client.search([
        { id: 'd', mode: 'dense', k: 5, text: 'cells proteins expression' },
        { id: 'b', mode: 'bm25', k: 5, text: 'vitamin deficiency' },
      ]);
      expect(r.results.every((x) => x.hits.length === 5 && x.partial === undefined)).toBe(true);
    }
    const e = await scrape(solo.node.url);

    // Every name, type and label the hand-written registry served, so dashboards keep working.
    expect(Object.fromEntries([...e.types].filter(([n]) => n.startsWith('edgesearch_')))).toEqual({
      edgesearch_queue_depth: 'gauge',
      edgesearch_requests_total: 'counter',
      edgesearch_shed_queries_total: 'counter',
      edgesearch_expired_queries_total: 'counter',
      edgesearch_shard_errors_total: 'counter',
      edgesearch_evidence_version_mismatches_total: 'counter',
      edgesearch_index_version_repins_total: 'counter',
      edgesearch_missing_shard_results_total: 'counter',
      edgesearch_hedged_requests_total: 'counter',
      edgesearch_batch_size: 'histogram',
      edgesearch_stage_ms: 'histogram',
      edgesearch_request_ms: 'histogram',
    });
    expect(sampleValue(e, 'edgesearch_queue_depth')).toBe(0);
    expect(sampleValue(e, 'edgesearch_requests_total', { type: 'search', status: '200' })).toBe(frames);
    expect(sampleValue(e, 'edgesearch_request_ms_count', { type: 'search' })).toBe(frames);
    expect(sampleValue(e, 'edgesearch_shed_queries_total')).toBe(0);
    // Each frame's two queries make one batch or two: 2 queries per frame in all.
    expect(sampleValue(e, 'edgesearch_batch_size_sum')).toBe(2 * frames);
    expect(sampleValue(e, 'edgesearch_batch_size_count')).toBeGreaterThanOrEqual(frames);
    expect(sampleValue(e, 'edgesearch_batch_size_bucket', { le: '+Inf' })).toBe(sampleValue(e, 'edgesearch_batch_size_count'));
    for (const stage of ['encode', 'search', 'merge', 'evidence']) {
      expect(sampleValue(e, 'edgesearch_stage_ms_count', { stage }), stage).toBe(sampleValue(e, 'edgesearch_batch_size_count'));
      expect(sampleValue(e, 'edgesearch_stage_ms_sum', { stage }), stage).toBeGreaterThan(0);
    }
    // Nothing failed: labelled failure counters have no sample yet.
    expect(e.samples.filter((s) => s.name === 'edgesearch_shard_errors_total' || s.name === 'edgesearch_missing_shard_results_total')).toEqual([]);

    // prom-client's default metrics, with numbers.
    expect(e.types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(sampleValue(e, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(sampleValue(e, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(e.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(Number.isFinite(sampleValue(e, 'nodejs_eventloop_lag_seconds'))).toBe(true);
    expect(sampleValue(e, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    expect(e.types.get('nodejs_gc_duration_seconds')).toBe('histogram');
    expect(sampleValue(e, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });
});

describe('a node holding a shard goes down', () => {
  const lines: Record<string, unknown>[] = [];
  let router: PoolNode;
  let holder: PoolNode;
  let client: PoolClient;

  beforeAll(async () => {
    const logger = createLogger({ name: 'pool', level: 'warn', write: (l) => lines.push(JSON.parse(l)) });
    const start = (nodes: object[], nodeId: string) =>
      PoolNode.start({ config: parseClusterConfig({ index, nodes, threads: 1 }, 'test config', '/'), nodeId, port: 0, host: '127.0.0.1', signingKey: SIGNING_KEY, logger });
    // The shard holder first, on a free port; the router's config then names where it listens.
    holder = await start([{ id: 'a', url: 'http://127.0.0.1:1', shards: [0] }, { id: 'b', url: 'http://127.0.0.1:1', shards: [1], router: false }], 'b');
    router = await start([{ id: 'a', url: 'http://127.0.0.1:1', shards: [0] }, { id: 'b', url: holder.url, shards: [1], router: false }], 'a');
    await Promise.all([holder.whenReady(), router.whenReady()]);
    client = await PoolClient.create(router.url, SIGNING_KEY);
  });
  afterAll(async () => {
    client?.close();
    await router?.close();
    await holder?.close();
  });

  it('counts every failure in /metrics and logs each kind once per window, with the count on shutdown', async () => {
    const query = { id: 'q', mode: 'bm25' as const, k: 10, text: 'cells proteins expression' };
    const whole = await client.search([query]);
    expect(whole.results[0].partial).toBeUndefined();
    expect(new Set(whole.results[0].hits.map((h) => h.shard))).toEqual(new Set([0, 1]));

    await holder.close();
    const frames = 15;
    const t0 = performance.now();
    for (let i = 0; i < frames; i++) {
      const r = await client.search([query], { deadlineMs: 5000 });
      expect(r.results[0].partial?.missingShards).toEqual([1]);
    }
    const elapsedMs = performance.now() - t0;
    const e = await scrape(router.url);
    expect(sampleValue(e, 'edgesearch_shard_errors_total', { shard: '1', node: 'b' })).toBe(frames);
    expect(sampleValue(e, 'edgesearch_missing_shard_results_total', { shard: '1' })).toBe(frames);
    expect(e.samples.filter((s) => s.name === 'edgesearch_missing_shard_results_total')).toHaveLength(1);

    // 15 failed calls and 15 partial batches, each kind logged once per 10 s window (once, unless
    // this machine is so slow that the loop took more than a window)...
    const linesOf = (msg: string) => lines.filter((l) => l.msg === msg);
    const kinds = { 'shard call failed': { shard: 1, peer: 'b' }, 'shard missing from answers': { shard: 1, stage: 'search' } };
    for (const [msg, fields] of Object.entries(kinds)) {
      expect(linesOf(msg).length, msg).toBeGreaterThanOrEqual(1);
      expect(linesOf(msg).length, msg).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / 10_000));
      for (const l of linesOf(msg)) expect(l).toMatchObject(fields);
    }
    // ...and the rest counted, `repeated: N`, by the time the node has stopped: none lost.
    await router.close();
    for (const msg of Object.keys(kinds)) {
      const told = linesOf(msg).reduce((n, l) => n + (typeof l.repeated === 'number' ? l.repeated : 1), 0);
      expect(told, msg).toBe(frames);
      expect(linesOf(msg).at(-1)!.repeated, msg).toBeGreaterThan(0);
    }
  });
});

describe('close() while a request body is still arriving', () => {
  it('answers that request (503 not-ready, which clients retry elsewhere) instead of resetting its connection', async () => {
    const solo = await startSoloNode(index, 2);
    solo.client.close();
    const body = encodeFrame({ v: 1, type: 'search', batchId: 'half', deadline: Date.now() + 10_000, queries: [{ id: 'q', mode: 'bm25', k: 3, text: 'cells' }] });
    const headers = await signatureHeaders(await importSigningKey(SIGNING_KEY), body);
    const { port } = new URL(solo.node.url);
    const answer = new Promise<{ status: number; frame: Frame }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/batch', headers: { ...headers, 'content-type': 'application/msgpack', 'content-length': body.byteLength } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, frame: decodeFrame(Buffer.concat(chunks)) }));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 10));
      // The first bytes have reached the node (its request handler has run) before close() starts.
      setTimeout(() => {
        const closed = solo.node.close();
        setTimeout(() => req.end(body.subarray(10)), 100);
        void closed;
      }, 200);
    });
    const { status, frame } = await answer;
    expect(status).toBe(503);
    expect(frame).toMatchObject({ type: 'error', code: 'not-ready', batchId: 'half' });
    await solo.node.close();
  });
});

describe('keys', () => {
  it('refuses to start with an admin key equal to the signing key: an edge must never be a pool admin', async () => {
    const config = parseClusterConfig({ index, nodes: [{ id: 'solo', url: 'http://127.0.0.1:1', shards: [0, 1] }], threads: 1 }, 'test config', '/');
    const start = PoolNode.start({ config, nodeId: 'solo', port: 0, host: '127.0.0.1', signingKey: SIGNING_KEY, adminKey: SIGNING_KEY, logger: createLogger({ name: 'pool', level: 'silent' }) });
    await expect(start).rejects.toThrow(/EDGESEARCH_POOL_ADMIN_KEY must differ from EDGESEARCH_POOL_KEY/);
  });
});
