// bench:edge — the edge worker in workerd (wrangler dev) in front of a local pool cluster
// (3 processes, 4 shards, 2 replicas, SciFact OPQ+IVF-PQ 16x with BM25), all on loopback:
//  1. the same top-10 through `wrangler dev` as from the pool directly (300 test queries x 3 modes);
//  2. latency added by the edge: each query sent straight to a pool router and through the
//     edge (cache off), one at a time; cache-hit latency. Measured on the deploy bundle served by
//     workerd (Miniflare), and through wrangler dev, whose development proxies add to each
//     request and each outgoing fetch;
//  3. throughput at 16 and 64 connections (deploy bundle): pool direct, edge without cache, hits;
//  4. 60 s at 64 connections through the edge, then 60 s with one pool node killed after 20 s;
//  5. the quick start with every default, loaded by autocannon (edge-quickstart.ts);
//  6. conversations: a stateful turn against the same turn sent stateless (edge-conversation.ts);
// and writes bench/results/edge.md. BENCH_WORK keeps the index between runs;
// BENCH_EDGE_ONLY=quickstart (or conversation) runs only section 5 (or 6) and replaces it in the existing edge.md.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WireQuery } from '../shared/protocol/index.ts';
import { normalizeQuery, type SearchResponse } from '../shared/api/index.ts';
import { startLocalCluster, type LocalCluster } from '../gpu-pool/service/cluster/index.ts';
import { PoolClient } from '../gpu-pool/service/pool-client/index.ts';
import { closedLoopWith, percentile, sendQuery, summarizeLoad, type LoadSample } from '../test/load/closed-loop.ts';
import { EdgeLoadClient } from '../test/load/edge-client.ts';
import { startEdge, startEdgeBundle, testKey, type EdgeServer } from '../test/edge/harness.ts';
import { scifactTestQueries } from '../test/fixtures.ts';
import { poolIndex } from './pool-index.ts';
import { machineLine } from './machine.ts';
import { quickStartSection } from './edge-quickstart.ts';
import { CONVERSATION_HEADING, conversationSection } from './edge-conversation.ts';
import { readFile } from 'node:fs/promises';
import { REPO_ROOT } from '../test/fixtures.ts';
import { writeResultTable } from './result-table.ts';

const KEY = 'bench-edge-key';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const KILL_AFTER_S = Number(process.env.BENCH_KILL_AFTER_S ?? 20);
const FACTORY = process.env.BENCH_POOL_FACTORY ?? 'OPQ128,IVF256,PQ128np';
const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-edge-')));
const log = (m: string) => process.stderr.write(`[bench:edge] ${m}\n`);
await mkdir(work, { recursive: true });

const QUICKSTART_HEADING = '## Quick-start defaults';
const only = process.env.BENCH_EDGE_ONLY;
if (only === 'quickstart' || only === 'conversation') {
  const section = only === 'quickstart' ? await quickStartSection({ work, seconds: SECONDS, log }) : await conversationSection({ work, factory: FACTORY, log });
  const heading = only === 'quickstart' ? QUICKSTART_HEADING : CONVERSATION_HEADING;
  const path = join(REPO_ROOT, 'bench', 'results', 'edge.md');
  const existing = await readFile(path, 'utf8').catch(() => '# bench:edge\n');
  // The rest of the file is kept as it was measured; only this section is replaced (it ends at the next section).
  const at = existing.indexOf(heading);
  const next = at >= 0 ? existing.indexOf('\n## ', at + heading.length) : -1;
  const before = (at >= 0 ? existing.slice(0, at) : `${existing.trimEnd()}\n\n`).split('\n');
  const after = next >= 0 ? existing.slice(next + 1).trimEnd().split('\n') : [];
  await writeResultTable('edge.md', [...before.slice(0, -1), ...section, ...(after.length ? [...after, ''] : [])]);
  if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
  process.exit(0);
} else if (only) throw new Error(`BENCH_EDGE_ONLY must be quickstart or conversation, got "${only}"`);

const index = poolIndex(work, FACTORY, log);
const queries = await scifactTestQueries();
const modes = ['dense', 'bm25', 'hybrid'] as const;
const key = testKey('bench', ['search', 'admin'], { perSecond: 1e6, burst: 1e6 });
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');

let cluster: LocalCluster | undefined;
let edge: EdgeServer | undefined;
const direct: PoolClient[] = [];
let client: EdgeLoadClient | undefined;
let lines: string[] = [];
try {
  log('starting a 3-node pool cluster and the edge (wrangler dev)');
  cluster = await startLocalCluster({
    index,
    nodes: 3,
    replicas: 2,
    shards: 4,
    configPath: join(work, 'edge-cluster.json'),
    signingKey: KEY,
    // Closed loops of 64 connections queue at most 64 queries: no delay-based shedding.
    overrides: { batching: { maxBatchSize: 32, maxWaitMs: 0, concurrency: 2, maxQueue: 256, maxQueueDelayMs: 600_000 }, threads: 1 },
  });
  for (const n of cluster.nodes) direct.push(await PoolClient.create(n.url, KEY));
  const edgeVars = {
    POOL_ENDPOINTS: JSON.stringify(cluster.nodes.map((n) => ({ url: n.url, weight: 1 }))),
    POOL_SIGNING_KEY: KEY,
    API_KEYS: JSON.stringify([key.entry]),
    REQUEST_DEADLINE_MS: '10000',
  };
  edge = await startEdge(edgeVars);
  client = new EdgeLoadClient(edge.url, key.key);
  const router = (i: number) => direct[i % direct.length];
  lines = ['# bench:edge', '', `Edge: workerd (wrangler 4.86). Pool: 3 nodes, 4 shards, 2 replicas, ${FACTORY} + BM25, use-lite on CPU, 1 thread per node. 300 SciFact test queries. Loopback, every process on the same machine.`, machineLine(), ''];

  // 1. Equivalence, through wrangler dev.
  // The edge collapses runs of whitespace (the cache key and the text searched are the same
  // normalized query), so the pool is sent that text too; two SciFact test queries hold a double
  // space, which the use-lite tokenizer does not ignore.
  log('1. the same top-10 through wrangler dev as from the pool (300 queries x 3 modes)');
  const rewritten = queries.filter((q) => normalizeQuery(q.text) !== q.text).length;
  let checked = 0;
  const mismatches: string[] = [];
  let maxScoreDiff = 0;
  for (const mode of modes) {
    for (const [i, q] of queries.entries()) {
      const want = await router(i).search([{ id: q.id, mode, k: 10, text: normalizeQuery(q.text) }], { deadlineMs: 30_000 });
      const got = await client.search({ query: q.text, mode, k: 10, cache: false });
      checked++;
      const body = got.json as SearchResponse;
      const ids = got.status === 200 ? body.hits.map((h) => h.docId) : [];
      const wantIds = want.results[0].hits.map((h) => h.docId);
      if (got.status !== 200 || JSON.stringify(ids) !== JSON.stringify(wantIds)) {
        const scores = (hits: { docId: string; score: number }[]) => hits.map((h) => `${h.docId}:${h.score.toFixed(6)}`).join(' ');
        mismatches.push(`${mode} query ${q.id}: edge ${got.status === 200 ? scores(body.hits) : JSON.stringify(got.json)} | pool ${scores(want.results[0].hits)}`);
      } else body.hits.forEach((h, j) => (maxScoreDiff = Math.max(maxScoreDiff, Math.abs(h.score - want.results[0].hits[j].score))));
    }
  }
  log(`${checked} answers checked, ${mismatches.length} differ`);
  for (const m of mismatches) log(m);
  lines.push(
    '## Same answers through `wrangler dev`',
    '',
    `The pool is sent the query text as the edge normalizes it (whitespace runs collapsed; ${rewritten} of ${queries.length} queries change).`,
    '',
    '| answers compared | top-10 differ | max score difference (equal lists) |',
    '|---:|---:|---:|',
    `| ${checked} | ${mismatches.length} | ${maxScoreDiff.toExponential(2)} |`,
    '',
  );
  if (mismatches.length) lines.push('Differences:', '', ...mismatches.map((m) => `- ${m}`), '');

  client.close();
  await edge.stop();

  // 2. Latency, one request at a time: the same query to the same pool router directly and
  // through the edge (cache off), alternating which goes first. The edge is given that one
  // router, so the difference is the edge's and not a router's.
  lines.push('## Latency, one request at a time (ms)', '', 'Edge-added: the median and p99 of (edge − direct) over the same queries, both sent to the same pool router (node0); direct is a msgpack frame POSTed to it, edge is the JSON API with `cache: false` (the cache bypassed: no lookup, no store) on an edge whose only endpoint is that router. Miss + store: the same queries with the cache on, first time (looked up, asked of the pool, written to the Cache API; here the Cache API is emulated in the same workerd process, so its write shares the CPU). Cache hit: the same queries again.', '');
  lines.push('| edge served by | mode | direct p50 | direct p99 | edge p50 | edge p99 | edge-added p50 | edge-added p99 | miss + store p50 | cache hit p50 | cache hit p99 |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const latency: Record<string, { added50: number; hit50: number }> = {};
  const measureLatency = async (served: string, edgeClient: EdgeLoadClient) => {
    log(`2. latency added by the edge (${served})`);
    for (const mode of ['bm25', 'dense', 'hybrid'] as const) {
      for (let i = 0; i < 100; i++) await edgeClient.search({ query: queries[i].text, mode, k: 10, cache: false }); // warm up
      const d: number[] = [];
      const e: number[] = [];
      const added: number[] = [];
      for (const [i, q] of queries.entries()) {
        const wq: WireQuery = { id: q.id, mode, k: 10, text: q.text };
        const viaPool = async () => (await sendQuery(direct[0], wq, 10_000, 0)).latencyMs;
        const viaEdge = async () => (await edgeClient.sample({ query: q.text, mode, k: 10, cache: false }, 0)).latencyMs;
        let a: number;
        let b: number;
        if (i % 2) [a, b] = [await viaPool(), await viaEdge()];
        else [b, a] = [await viaEdge(), await viaPool()];
        d.push(a);
        e.push(b);
        added.push(b - a);
      }
      // Fill the cache (timing the misses), then time hits.
      const misses: number[] = [];
      for (const q of queries) {
        const s = await edgeClient.sample({ query: q.text, mode, k: 10 }, 0);
        if (!s.cached) misses.push(s.latencyMs);
      }
      const hits: number[] = [];
      let notHit = 0;
      for (const q of queries) {
        const s = await edgeClient.sample({ query: q.text, mode, k: 10 }, 0);
        if (s.cached) hits.push(s.latencyMs);
        else notHit++;
      }
      if (notHit) log(`${notHit} repeats went to the pool (their version promise had lapsed and could not be renewed in time)`);
      latency[`${served}, ${mode}`] = { added50: percentile(added, 50), hit50: percentile(hits, 50) };
      lines.push(`| ${served} | ${mode} | ${f2(percentile(d, 50))} | ${f2(percentile(d, 99))} | ${f2(percentile(e, 50))} | ${f2(percentile(e, 99))} | ${f2(percentile(added, 50))} | ${f2(percentile(added, 99))} | ${f2(percentile(misses, 50))} | ${f2(percentile(hits, 50))} | ${f2(percentile(hits, 99))} |`);
      log(`${served}, ${mode}: edge-added p50 ${f2(percentile(added, 50))} ms, cache hit p50 ${f2(percentile(hits, 50))} ms`);
    }
  };
  const oneRouter = { ...edgeVars, POOL_ENDPOINTS: cluster.nodes[0].url };
  for (const [served, start] of [['wrangler dev', startEdge], ['workerd (deploy bundle)', startEdgeBundle]] as const) {
    edge = await start(oneRouter);
    client = new EdgeLoadClient(edge.url, key.key);
    await measureLatency(served, client);
    client.close();
    await edge.stop();
  }
  lines.push('');
  edge = await startEdgeBundle(edgeVars);
  client = new EdgeLoadClient(edge.url, key.key);
  const edgeClient = client;

  // 3. Throughput.
  log('3. throughput at 16 and 64 connections');
  lines.push(`## Throughput (hybrid, k=10, ${SECONDS} s closed loop per cell)`, '', '| connections | path | q/s | p50 ms | p99 ms | errors |', '|---:|---|---:|---:|---:|---:|');
  const q = (i: number) => queries[i % queries.length];
  for (const connections of [16, 64]) {
    const cells: [string, (i: number, t0: number) => Promise<LoadSample>][] = [
      ['pool direct', (i, t0) => sendQuery(router(i), { id: q(i).id, mode: 'hybrid', k: 10, text: q(i).text }, 10_000, t0)],
      ['edge, cache off', (i, t0) => edgeClient.sample({ query: q(i).text, mode: 'hybrid', k: 10, cache: false }, t0)],
      ['edge, cache hits', (i, t0) => edgeClient.sample({ query: q(i).text, mode: 'hybrid', k: 10 }, t0)],
    ];
    for (const [path, send] of cells) {
      const { samples, seconds } = await closedLoopWith(send, { clients: connections, durationMs: SECONDS * 1000 });
      const r = summarizeLoad(samples, seconds);
      lines.push(`| ${connections} | ${path} | ${f1(r.qps)} | ${f1(r.p50)} | ${f1(r.p99)} | ${r.failed} |`);
      log(`${connections} connections, ${path}: ${f1(r.qps)} q/s, p50 ${f1(r.p50)} ms, p99 ${f1(r.p99)} ms, ${r.failed} errors ${r.codes.join(' ')}`);
    }
  }
  lines.push('');

  // 4. Soak, then a node killed mid-run. Cache off: every request reaches the pool.
  log(`4. ${SOAK_SECONDS} s at 64 connections, then again with node1 killed after ${KILL_AFTER_S} s`);
  lines.push(`## ${SOAK_SECONDS} s at 64 connections through the edge (hybrid, cache off)`, '', '| run | requests | errors | error rate | partial answers | q/s | p50 ms | p99 ms |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  const soak = async (name: string, during?: () => Promise<void>) => {
    const run = closedLoopWith((i, t0) => edgeClient.sample({ query: q(i).text, mode: 'hybrid', k: 10, cache: false }, t0), { clients: 64, durationMs: SOAK_SECONDS * 1000 });
    await during?.();
    const { samples, seconds } = await run;
    const r = summarizeLoad(samples, seconds);
    const partial = samples.filter((s) => s.ok && s.partial?.length).length;
    lines.push(`| ${name} | ${samples.length} | ${r.failed} | ${((100 * r.failed) / samples.length).toFixed(3)}% | ${partial} | ${f1(r.qps)} | ${f1(r.p50)} | ${f1(r.p99)} |`);
    log(`${name}: ${samples.length} requests, ${r.failed} errors (${r.codes.join(' ')}), ${partial} partial`);
  };
  await soak('all nodes up');
  await soak(`node1 SIGKILLed after ${KILL_AFTER_S} s`, async () => {
    await new Promise((r) => setTimeout(r, KILL_AFTER_S * 1000));
    await cluster!.kill('node1');
  });
  lines.push('');
  lines.push(`Targets: edge-added p50 ≤ 3 ms and cache-hit p50 ≤ 2 ms. Measured: ${Object.entries(latency).map(([m, l]) => `${m}: ${f2(l.added50)} / ${f2(l.hit50)}`).join('; ')}.`, '');
} finally {
  client?.close();
  for (const c of direct) c.close();
  await edge?.stop();
  await cluster?.stop();
}
// Its own cluster and edges, once the others are gone: nothing else shares the CPU.
lines.push(...(await quickStartSection({ work, seconds: SECONDS, log })));
lines.push(...(await conversationSection({ work, factory: FACTORY, log })));
await writeResultTable('edge.md', lines);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
