// bench:peers child: how close one pool node comes to the encoder-bound limit. The limit is the
// encoder alone (use-lite, the node's 2 threads, batches of 32 test queries, the pool's max batch);
// the pool is one node serving the 4-shard OPQ+IVF-PQ index to 32 closed-loop dense clients.
import { join } from 'node:path';
import { loadEncoder } from '../../gpu-pool/engine/encoders/index.ts';
import { startLocalCluster } from '../../gpu-pool/service/cluster/index.ts';
import { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import { scifactTestQueries } from '../../test/fixtures.ts';
import { closedLoop, summarizeLoad } from '../../test/load/closed-loop.ts';
import { poolIndex } from '../pool-index.ts';
import { SCIFACT_MODEL } from '../scifact-encoding.ts';

const work = process.argv[2];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const BATCH = 32;
const CLIENTS = 32;
const KEY = 'bench-peers-key';
const queries = await scifactTestQueries();
const line = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

{
  const encoder = await loadEncoder(SCIFACT_MODEL, { threads: 2 });
  await encoder.encodeQueries(queries.slice(0, BATCH).map((q) => q.text));
  let encoded = 0;
  const t = performance.now();
  while (performance.now() - t < SECONDS * 1000) {
    const start = (encoded / BATCH) % Math.floor(queries.length / BATCH);
    await encoder.encodeQueries(queries.slice(start * BATCH, (start + 1) * BATCH).map((q) => q.text));
    encoded += BATCH;
  }
  line({ what: 'encoder alone', qps: encoded / ((performance.now() - t) / 1000), batch: BATCH, threads: 2 });
  await encoder.dispose();
}

{
  const index = poolIndex(work, 'OPQ128,IVF256,PQ128np', (m) => process.stderr.write(`[end-to-end] ${m}\n`));
  const cluster = await startLocalCluster({
    index,
    nodes: 1,
    replicas: 1,
    shards: 4,
    configPath: join(work, 'peers-end-to-end-cluster.json'),
    signingKey: KEY,
    overrides: { batching: { maxBatchSize: BATCH, maxWaitMs: 0, concurrency: 2, maxQueue: 256, maxQueueDelayMs: 600_000 }, threads: 2 },
  });
  const client = await PoolClient.create(cluster.nodes[0].url, KEY);
  try {
    const query = (i: number) => ({ id: `q${i}`, mode: 'dense' as const, k: 10, text: queries[i % queries.length].text });
    await closedLoop(client, { clients: 4, durationMs: 1000, query });
    const { samples, seconds } = await closedLoop(client, { clients: CLIENTS, durationMs: SECONDS * 1000, query });
    line({ what: 'pool node', ...summarizeLoad(samples, seconds), clients: CLIENTS });
  } finally {
    client.close();
    await cluster.stop();
  }
}
