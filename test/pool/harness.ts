// Shared by the pool tests: a small real index, a local cluster of real processes, and the
// answers a single in-process Searcher gives on the same shards (the reference).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClusterConfig, startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../../gpu-pool/cluster/index.ts';
import { createLogger } from '../../gpu-pool/logging/index.ts';
import { PoolNode } from '../../gpu-pool/server/index.ts';
import type { MethodName } from '../../gpu-pool/methods/index.ts';
import { PoolClient } from '../../gpu-pool/pool-client/index.ts';
import { Searcher } from '../../gpu-pool/search/index.ts';
import { importSigningKey, signatureHeaders } from '../../shared/protocol/index.ts';

export const SIGNING_KEY = 'pool-test-key-0123456789abcdef';

export interface Reference {
  ids: string[];
  scores: number[];
}

/** What one process serving every shard answers: top-k ids and scores per query and mode. */
export async function referenceAnswers(indexDir: string, queries: { id: string; text: string }[], modes: MethodName[], k = 10): Promise<Map<string, Reference>> {
  const searcher = await Searcher.open(indexDir, { threads: 1, log: () => {} });
  const out = new Map<string, Reference>();
  try {
    for (const mode of modes) {
      const results = await searcher.search(mode, queries.map((q) => ({ id: q.id, text: q.text, k })));
      results.forEach((hits, i) => out.set(`${mode}:${queries[i].id}`, { ids: hits.map((h) => h.docId), scores: hits.map((h) => h.score) }));
    }
  } finally {
    await searcher.close();
  }
  return out;
}

export interface TestCluster {
  cluster: LocalCluster;
  client: PoolClient;
  work: string;
  stop(): Promise<void>;
}

export async function startTestCluster(index: string, opts: Partial<LocalClusterOptions> & { nodes: number; replicas: number; shards: number }): Promise<TestCluster> {
  const work = await mkdtemp(join(tmpdir(), 'es-pool-'));
  const logs: string[] = [];
  const cluster = await startLocalCluster({
    index,
    configPath: join(work, 'cluster.json'),
    signingKey: SIGNING_KEY,
    onLog: (node, line) => logs.push(`[${node}] ${line}`),
    ...opts,
    overrides: { threads: 1, ...opts.overrides },
  }).catch((err) => {
    throw new Error(`${(err as Error).message}\n${logs.slice(-20).join('\n')}`);
  });
  const client = await PoolClient.create(cluster.nodes[0].url, SIGNING_KEY);
  return {
    cluster,
    client,
    work,
    async stop() {
      client.close();
      await cluster.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}

export interface SoloNode {
  node: PoolNode;
  client: PoolClient;
  close(): Promise<void>;
}

/** One in-process pool node holding every shard of `index` (router too), ready, with a client. */
export async function startSoloNode(index: string, shards: number, extra: Record<string, unknown> = {}): Promise<SoloNode> {
  const nodes = [{ id: 'solo', url: 'http://127.0.0.1:1', shards: Array.from({ length: shards }, (_, i) => i) }];
  const config = parseClusterConfig({ index, nodes, threads: 1, ...extra }, 'test config', '/');
  const node = await PoolNode.start({ config, nodeId: 'solo', port: 0, host: '127.0.0.1', signingKey: SIGNING_KEY, logger: createLogger({ name: 'pool', level: 'silent' }) });
  await node.whenReady();
  const client = await PoolClient.create(node.url, SIGNING_KEY);
  return {
    node,
    client,
    async close() {
      client.close();
      await node.close();
    },
  };
}

/** POSTs a signed `/v1/admin/swap` request (`{shard, dir}`, or any body) to a pool node. */
export async function adminSwap(nodeUrl: string, body: unknown): Promise<Response> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const headers = await signatureHeaders(await importSigningKey(SIGNING_KEY), bytes);
  return fetch(`${nodeUrl}/v1/admin/swap`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/json', ...headers } });
}
