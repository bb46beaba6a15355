// The quick start as a load-testing user meets it: the local cluster that `npm run pool:cluster --
// --nodes 3 --shards 4 --replicas 2` starts (pool defaults, no overrides), the edge with its
// defaults through `wrangler dev` and as the deploy bundle in workerd, and autocannon, the load
// tool a user reaches for: hybrid, k=10, the 300 SciFact test queries in rotation, 16 and 64
// connections, `cache: false` (no cache, no coalescing) and cache hits.
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startLocalCluster, type LocalCluster } from '../gpu-pool/service/cluster/index.ts';
import { startEdge, startEdgeBundle, testKey, type EdgeServer } from '../test/edge/harness.ts';
import { scifactTestQueries } from '../test/fixtures.ts';
import { machineLine } from './machine.ts';
import { poolIndex } from './pool-index.ts';

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');

export interface QuickStartOptions {
  work: string;
  seconds: number;
  log: (m: string) => void;
}

/** Runs the section and returns its markdown lines. */
export async function quickStartSection(opts: QuickStartOptions): Promise<string[]> {
  const { work, seconds, log } = opts;
  const index = poolIndex(work, 'Flat', log);
  const queries = await scifactTestQueries();
  const signingKey = 'bench-quickstart-key';
  // Keys from `edge keygen` carry the default rate (50/s); a load test needs one that allows the load.
  const key = testKey('loadtest', ['search'], { perSecond: 1e6, burst: 1e6 });
  const lines: string[] = [
    '## Quick-start defaults, loaded with autocannon',
    '',
    `The cluster \`npm run pool:cluster -- --nodes 3 --shards 4 --replicas 2\` starts (Flat + BM25, use-lite, every pool setting at its default), the edge with every setting at its default except \`API_KEYS\` (one key whose rate allows the load), autocannon ${seconds} s per cell, hybrid, k=10, the 300 SciFact test queries in rotation. Cache off: \`"cache": false\` (no cache lookup, no coalescing: every request is a pool query). Hits: the same queries after one pass warmed the cache. Command: \`BENCH_EDGE_ONLY=quickstart npm run bench:edge\`.`,
    '',
    '| edge served by | connections | cache | q/s | p50 ms | p99 ms | max ms | non-2xx | errors |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  let cluster: LocalCluster | undefined;
  try {
    log('quick start: a 3-node cluster with default settings');
    cluster = await startLocalCluster({ index, nodes: 3, replicas: 2, shards: 4, configPath: join(work, 'quickstart-cluster.json'), signingKey });
    const vars = { POOL_ENDPOINTS: cluster.nodes.map((n) => n.url).join(','), POOL_SIGNING_KEY: signingKey, API_KEYS: JSON.stringify([key.entry]) };
    for (const [served, start] of [['wrangler dev', startEdge], ['workerd (deploy bundle)', startEdgeBundle]] as const) {
      let edge: EdgeServer | undefined;
      try {
        edge = await start(vars);
        for (const connections of [16, 64]) {
          for (const cache of [false, true]) {
            const bodies = queries.map((q) => JSON.stringify({ query: q.text, mode: 'hybrid', k: 10, ...(cache ? {} : { cache: false }) }));
            if (cache) await warm(edge.url, key.key, bodies);
            log(`quick start: ${served}, ${connections} connections, ${cache ? 'hits' : 'cache off'}`);
            let next = 0;
            const r = await autocannon({
              url: edge.url,
              connections,
              duration: seconds,
              timeout: 30,
              requests: [
                {
                  method: 'POST',
                  path: '/v1/search',
                  headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` },
                  setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
                },
              ],
            });
            const statuses = Object.entries(r.statusCodeStats ?? {})
              .filter(([code]) => !code.startsWith('2'))
              .map(([code, s]) => `${s.count} × ${code}`)
              .join(', ');
            lines.push(`| ${served} | ${connections} | ${cache ? 'hits' : 'cache off'} | ${f1(r.requests.average)} | ${f1(r.latency.p50)} | ${f1(r.latency.p99)} | ${f1(r.latency.max)} | ${r.non2xx}${statuses ? ` (${statuses})` : ''} | ${r.errors + r.timeouts} |`);
          }
        }
      } finally {
        await edge?.stop();
      }
    }
  } finally {
    await cluster?.stop();
  }
  lines.push('', `${machineLine()} The 3 pool nodes, the edge and autocannon share its cores.`, '');
  return lines;
}

/** Sends every body once, a few at a time, so the cache holds them all. */
async function warm(url: string, key: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 8) {
    await Promise.all(
      bodies.slice(i, i + 8).map(async (body) => {
        const res = await fetch(`${url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
        await res.arrayBuffer();
      }),
    );
  }
}
