// bench:pool — the GPU-pool service on SciFact with use-lite, on loopback:
//  1. the same top-10 from a 3-node, 4-shard, 2-replica cluster as from one node (300 test queries,
//     3 modes), with the encoder's 'rows' and 'padded' batching;
//  2. throughput and latency at 1, 8, 32, 64 closed-loop clients: dynamic batching with the encoder
//     fed one row per call ('rows', the CPU default) or one padded call per batch ('padded', the
//     accelerator default), vs max batch 1; single node vs 3-node cluster;
//  3. overload: an open-loop load at 4x the measured capacity;
// and writes bench/results/pool.md. BENCH_WORK keeps the index between runs.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WireQuery } from '../shared/protocol/index.ts';
import { startLocalCluster, type LocalCluster } from '../gpu-pool/service/cluster/index.ts';
import type { EncoderBatching } from '../gpu-pool/engine/encoders/index.ts';
import { PoolClient } from '../gpu-pool/service/pool-client/index.ts';
import { closedLoop, percentile, sendQuery, summarizeLoad, type LoadSample } from '../test/load/closed-loop.ts';
import { referenceAnswers } from '../test/pool/harness.ts';
import { scifactTestQueries } from '../test/fixtures.ts';
import { poolIndex } from './pool-index.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';

const KEY = 'bench-pool-key';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CLIENTS = [1, 8, 32, 64];
const work = process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-pool-')));
const log = (m: string) => process.stderr.write(`[bench:pool] ${m}\n`);
await mkdir(work, { recursive: true });

// The index the pool would serve in production: OPQ+IVF-PQ at 16x, searched at the default nprobe
// (a quarter of the lists, 64): bench:engine measures 98.6% of exact nDCG@10 there (97.8% at 32).
const FACTORY = process.env.BENCH_POOL_FACTORY ?? 'OPQ128,IVF256,PQ128np';
const index = poolIndex(work, FACTORY, log);
const queries = await scifactTestQueries();
const modes = ['dense', 'bm25', 'hybrid'] as const;

// Throughput cells turn delay-based shedding off (every query waits its turn); the overload
// run sheds when the expected wait exceeds 20 ms (maxQueueDelayMs 20; the default is 1000).
async function cluster(nodes: number, replicas: number, maxBatchSize: number, admission?: { maxQueue: number; maxQueueDelayMs: number }, encoder: EncoderBatching = 'rows'): Promise<LocalCluster> {
  return startLocalCluster({
    index,
    nodes,
    replicas,
    shards: 4,
    configPath: join(work, `cluster-${nodes}-${maxBatchSize}-${encoder}.json`),
    signingKey: KEY,
    overrides: {
      batching: { maxBatchSize, maxWaitMs: 0, concurrency: 2, ...(admission ?? { maxQueue: 256, maxQueueDelayMs: 600_000 }) },
      encoder: { batching: encoder },
      threads: nodes === 1 ? 2 : 1,
    },
  });
}

// 1. Same answers from the cluster as from one node. Ids must be equal; scores agree within 1e-5
// (other batch compositions take other BLAS blockings; padded batches change query vectors in the
// last bits). With 'padded', two hits whose scores are that close may trade places: counted apart.
const SCORE_TOLERANCE = 1e-5;
log('checking 300 queries x 3 modes: 3-node cluster vs one node');
const reference = await referenceAnswers(index, queries, [...modes]);
interface Check { encoder: EncoderBatching; checked: number; mismatched: number; nearTies: number; maxScoreDiff: number }
const checks: Check[] = [];
for (const encoder of ['rows', 'padded'] as const) {
  const check: Check = { encoder, checked: 0, mismatched: 0, nearTies: 0, maxScoreDiff: 0 };
  const c = await cluster(3, 2, 32, undefined, encoder);
  const client = await PoolClient.create(c.nodes[0].url, KEY);
  try {
    for (const mode of modes) {
      for (let i = 0; i < queries.length; i += 25) {
        const frame = await client.search(queries.slice(i, i + 25).map((q) => ({ id: `${mode}:${q.id}`, mode, k: 10, text: q.text })), { deadlineMs: 30_000 });
        for (const r of frame.results) {
          const want = reference.get(r.id)!;
          check.checked++;
          const diffs = r.hits.map((h, j) => Math.abs(h.score - (want.scores[j] ?? Infinity)));
          check.maxScoreDiff = Math.max(check.maxScoreDiff, ...diffs);
          if (!r.partial && !r.error && JSON.stringify(r.hits.map((h) => h.docId)) === JSON.stringify(want.ids)) continue;
          // Different ids only at positions whose reference scores lie within the tolerance of a neighbour.
          const tied = !r.partial && !r.error && r.hits.length === want.ids.length && r.hits.every((h, j) => h.docId === want.ids[j] || want.scores.some((s, m) => m !== j && Math.abs(s - want.scores[j]) <= SCORE_TOLERANCE));
          if (tied) check.nearTies++;
          else check.mismatched++;
        }
      }
    }
  } finally {
    client.close();
    await c.stop();
  }
  checks.push(check);
  log(`encoder ${encoder}: ${check.checked} answers checked, ${check.mismatched} differ, ${check.nearTies} differ only in the order of near-ties, max score difference ${check.maxScoreDiff.toExponential(2)}`);
}

// 2. Throughput and latency.
interface Row { setup: string; batching: string; clients: number; qps: number; p50: number; p95: number; p99: number; failed: number; meanBatch: number }
const rows: Row[] = [];
const queryAt = (i: number): WireQuery => {
  const q = queries[i % queries.length];
  const mode = modes[Math.floor(i / queries.length) % modes.length];
  return { id: `${mode}:${q.id}`, mode, k: 10, text: q.text };
};

async function meanBatchSize(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = Number(/^edgesearch_batch_size_sum (\S+)/m.exec(text)?.[1] ?? NaN);
  const count = Number(/^edgesearch_batch_size_count (\S+)/m.exec(text)?.[1] ?? NaN);
  return sum / count;
}

let capacity = 0;
let unloadedP99 = 0;
for (const [setup, nodes, replicas] of [['1 node', 1, 1], ['3 nodes', 3, 2]] as const) {
  for (const [batching, maxBatch, encoder] of [['dynamic (max 32), rows', 32, 'rows'], ['dynamic (max 32), padded', 32, 'padded'], ['max batch 1', 1, 'rows']] as const) {
    for (const clients of CLIENTS) {
      const c = await cluster(nodes, replicas, maxBatch, undefined, encoder);
      const client = await PoolClient.create(c.nodes[0].url, KEY);
      try {
        await closedLoop(client, { clients: 4, durationMs: 1000, query: queryAt }); // warm up
        const { samples, seconds } = await closedLoop(client, { clients, durationMs: SECONDS * 1000, query: queryAt });
        const row = { setup, batching, clients, ...summarizeLoad(samples, seconds), meanBatch: await meanBatchSize(c.nodes[0].url) };
        rows.push(row);
        log(`${setup}, ${batching}, ${clients} clients: ${row.qps.toFixed(1)} q/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms`);
        if (nodes === 1 && maxBatch === 32 && encoder === 'rows' && clients === 32) capacity = row.qps;
        if (nodes === 1 && maxBatch === 32 && encoder === 'rows' && clients === 1) unloadedP99 = row.p99;
      } finally {
        client.close();
        await c.stop();
      }
    }
  }
}

// 3. Overload: open loop at 4x capacity against one node with batching on.
function rssMB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  } catch {
    return NaN;
  }
}
async function overloadRun(maxQueueDelayMs: number) {
  const c = await cluster(1, 1, 32, { maxQueue: 256, maxQueueDelayMs });
  const client = await PoolClient.create(c.nodes[0].url, KEY);
  const pid = c.nodes[0].process.pid!;
  const rate = 4 * capacity;
  // Opens the client's connections and teaches the router its costs: the p99 is of the overload,
  // not of TCP handshakes at the first burst.
  await closedLoop(client, { clients: 32, durationMs: 1000, query: queryAt });
  const rss: number[] = [rssMB(pid)];
  const sampler = setInterval(() => rss.push(rssMB(pid)), 200);
  const samples: LoadSample[] = [];
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; performance.now() - t0 < SECONDS * 1000; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(sendQuery(client, queryAt(i), 5000, t0).then((s) => void samples.push(s)));
  }
  await Promise.all(pending);
  clearInterval(sampler);
  const up = c.nodes[0].process.exitCode === null && (await fetch(`${c.nodes[0].url}/healthz`)).status === 200;
  client.close();
  await c.stop();
  const admitted = samples.filter((s) => s.ok).map((s) => s.latencyMs);
  const serverMs = samples.flatMap((s) => (s.serverMs === undefined ? [] : [s.serverMs]));
  const shed = samples.filter((s) => s.code === 'overloaded').length;
  const run = { maxQueueDelayMs, rate, sent: samples.length, admitted: admitted.length, shed, otherErrors: samples.length - admitted.length - shed, p99: percentile(admitted, 99), serverP99: percentile(serverMs, 99), rssStart: rss[0], rssMax: Math.max(...rss.filter(Number.isFinite)), up };
  log(`overload at ${rate.toFixed(0)} q/s, maxQueueDelayMs ${maxQueueDelayMs}: ${shed} shed, admitted p99 ${run.p99.toFixed(1)} ms (unloaded ${unloadedP99.toFixed(1)} ms)`);
  return run;
}
// The default budget (100 ms) and a tight one for latency-first deployments.
const overloads = [await overloadRun(100), await overloadRun(10)];

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const qps = (setup: string, clients: number, batching: string) => rows.find((r) => r.setup === setup && r.clients === clients && r.batching === batching)!.qps;
const speedup = (setup: string, clients: number, batching = 'dynamic (max 32), rows') => qps(setup, clients, batching) / qps(setup, clients, 'max batch 1');
const lines = [
  `# Pool benchmark: SciFact (5,183 docs, 4 shards, ${FACTORY} + BM25), model use-lite, loopback`,
  '',
  `${machineLine('onnxruntime-node CPU')} Closed-loop clients send one-query frames (modes dense, BM25, hybrid in turn) for ${SECONDS} s per cell; client, router and shard processes share the machine.`,
  '',
  `Cluster vs one node (300 test queries x 3 modes, top-10), scores compared within ${SCORE_TOLERANCE}:`,
  ...checks.map((c) => `- encoder batching '${c.encoder}': ${c.checked} answers, ${c.mismatched} with different ids, ${c.nearTies} differing only in the order of hits whose scores are within the tolerance, largest score difference ${c.maxScoreDiff.toExponential(2)}.`),
  '',
  '| setup | batching | clients | q/s | p50 ms | p95 ms | p99 ms | failed | mean batch |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.setup} | ${r.batching} | ${r.clients} | ${f(r.qps)} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${r.failed} | ${f(r.meanBatch, 2)} |`),
  '',
  `Dynamic batching vs max batch 1 at 32 clients, encoder 'rows': ${f(speedup('1 node', 32), 2)}x (1 node), ${f(speedup('3 nodes', 32), 2)}x (3 nodes); encoder 'padded': ${f(speedup('1 node', 32, 'dynamic (max 32), padded'), 2)}x (1 node), ${f(speedup('3 nodes', 32, 'dynamic (max 32), padded'), 2)}x (3 nodes).`,
  `'rows' runs each query of a batch through onnxruntime alone (its vector never depends on the batch); 'padded' makes one length-sorted, right-padded call per batch. 'padded' vs 'rows' at 32 clients: ${f(qps('1 node', 32, 'dynamic (max 32), padded') / qps('1 node', 32, 'dynamic (max 32), rows'), 2)}x (1 node), ${f(qps('3 nodes', 32, 'dynamic (max 32), padded') / qps('3 nodes', 32, 'dynamic (max 32), rows'), 2)}x (3 nodes). The cluster default ('auto') is 'padded' on an accelerator and 'rows' on CPU.`,
  '',
  `Overload: one node, batching on, open loop at ${f(4 * capacity, 0)} q/s (4x the ${f(capacity, 0)} q/s measured at 32 clients) for ${SECONDS} s after a 1 s warm-up at 32 clients. A query is shed when the expected wait for a batch slot exceeds maxQueueDelayMs, which also bounds one batch's expected duration. Unloaded p99 (1 client): ${f(unloadedP99)} ms. The load generator shares the machine's cores with the node.`,
  '',
  '| maxQueueDelayMs | sent | answered | shed (overload) | other errors | p99 answered, client ms | p99 in router ms | p99 / unloaded p99 | RSS before / max MB | process after |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...overloads.map((o) => `| ${o.maxQueueDelayMs} | ${o.sent} | ${o.admitted} | ${o.shed} | ${o.otherErrors} | ${f(o.p99)} | ${f(o.serverP99)} | ${f(o.p99 / unloadedP99, 2)}x | ${f(o.rssStart, 0)} / ${f(o.rssMax, 0)} | ${o.up ? 'up, healthy' : 'DOWN'} |`),
  '',
];
await writeResultTable('pool.md', lines);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
