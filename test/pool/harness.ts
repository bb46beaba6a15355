// Shared by the pool tests: a small real index, a local cluster of real processes, and the
// answers a single in-process Searcher gives on the same shards (the reference).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseClusterConfig, startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../../gpu-pool/service/cluster/index.ts';
import { createLogger } from '../../gpu-pool/service/logging/index.ts';
import { PoolNode } from '../../gpu-pool/service/server/index.ts';
import type { MethodName } from '../../gpu-pool/engine/methods/index.ts';
import type { ConversationTurn, QueryParams, RerankParams } from '../../shared/protocol/index.ts';
import { PoolClient, sendSwap, signSwap } from '../../gpu-pool/service/pool-client/index.ts';
import { Searcher } from '../../gpu-pool/engine/search/index.ts';
import { REPO_ROOT } from '../fixtures.ts';

export const SIGNING_KEY = 'pool-test-key-0123456789abcdef';
/** The operators' key for hot swaps: never the key edges sign search frames with. */
export const ADMIN_KEY = 'pool-test-admin-key-fedcba9876543210';
const CLI = join(REPO_ROOT, 'bin', 'edgesearch.js');

export interface Reference {
  ids: string[];
  scores: number[];
}

/** What one process serving every shard answers: top-k ids and scores per query and mode. */
/** A mode as a test asks for it: the mode, and a re-ranking stage if any, under a name for the answer ids. */
export interface ModeVariant {
  name: string;
  mode: MethodName;
  rerank?: RerankParams;
  params?: QueryParams;
  /** The turns before query i. */
  context?: (i: number) => ConversationTurn[];
}

/** What one Searcher holding every shard answers, keyed `${mode or variant name}:${query id}`. */
export async function referenceAnswers(
  indexDir: string,
  queries: { id: string; text: string }[],
  modes: (MethodName | ModeVariant)[],
  k = 10,
  opts: { conversationalModel?: string } = {},
): Promise<Map<string, Reference>> {
  const searcher = await Searcher.open(indexDir, { threads: 1, log: () => {}, ...opts });
  const out = new Map<string, Reference>();
  try {
    for (const m of modes) {
      const v: ModeVariant = typeof m === 'string' ? { name: m, mode: m } : m;
      const results = await searcher.search(
        v.mode,
        queries.map((q, i) => ({ id: q.id, text: q.text, k, ...(v.rerank ? { rerank: v.rerank } : {}), ...(v.params ? { params: v.params } : {}), ...(v.context ? { context: v.context(i) } : {}) })),
      );
      results.forEach((hits, i) => out.set(`${v.name}:${queries[i].id}`, { ids: hits.map((h) => h.docId), scores: hits.map((h) => h.score) }));
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
    adminKey: ADMIN_KEY,
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
  const node = await PoolNode.start({ config, nodeId: 'solo', port: 0, host: '127.0.0.1', signingKey: SIGNING_KEY, adminKey: ADMIN_KEY, logger: createLogger({ name: 'pool', level: 'silent' }) });
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

/** POSTs a `/v1/admin/swap` request (`{shard, dir}`, or any body) signed with the admin key for node `node`. */
export async function adminSwap(nodeUrl: string, body: unknown, opts: { node?: string; key?: string } = {}): Promise<Response> {
  return sendSwap(nodeUrl, await signSwap(opts.key ?? ADMIN_KEY, opts.node ?? 'solo', body));
}

/** One `edgesearch pool serve` child process started by `spawnPoolNodes`. */
export interface PoolProcess {
  id: string;
  /** Where the process itself listens (the config may name a proxy in front of it instead). */
  url: string;
  process: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  logs: string[];
}

/**
 * Starts `pool serve` processes, each on its own config file and listen port, and waits until all
 * are ready. `startTestCluster` cannot do this: it writes one config whose urls are the listen
 * ports, while a test that puts a proxy in front of a node (or gives nodes different settings)
 * needs a node reached at another address than it listens on.
 */
export async function spawnPoolNodes(specs: { nodeId: string; configPath: string; port: number; env?: Record<string, string> }[], readyTimeoutMs = 180_000): Promise<{ nodes: PoolProcess[]; stop(graceMs?: number): Promise<void> }> {
  const nodes = specs.map((s): PoolProcess => {
    const child = spawn(process.execPath, [CLI, 'pool', 'serve', '--config', s.configPath, '--node', s.nodeId, '--port', String(s.port)], {
      env: { ...process.env, EDGESEARCH_POOL_KEY: SIGNING_KEY, EDGESEARCH_POOL_ADMIN_KEY: ADMIN_KEY, ...s.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const logs: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { id: s.nodeId, url: `http://127.0.0.1:${s.port}`, process: child, exited, logs };
  });
  const stop = async (graceMs = 10_000) => {
    const live = nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
    for (const n of live) n.process.kill('SIGTERM');
    const timer = setTimeout(() => live.forEach((n) => n.process.kill('SIGKILL')), graceMs);
    await Promise.all(live.map((n) => n.exited));
    clearTimeout(timer);
  };
  const ready = async (n: PoolProcess) => {
    const until = Date.now() + readyTimeoutMs;
    while (Date.now() < until) {
      if (n.process.exitCode !== null || n.process.signalCode !== null) throw new Error(`${n.id} exited before it was ready:\n${n.logs.slice(-20).join('\n')}`);
      if ((await fetch(`${n.url}/readyz`).catch(() => undefined))?.status === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${n.id} not ready after ${readyTimeoutMs} ms:\n${n.logs.slice(-20).join('\n')}`);
  };
  try {
    await Promise.all(nodes.map(ready));
  } catch (err) {
    await stop(1000);
    throw err;
  }
  return { nodes, stop };
}

/** Writes a cluster config file (JSON) and returns its path. */
export async function writeClusterConfig(path: string, config: Record<string, unknown>): Promise<string> {
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/**
 * The value of a Prometheus sample family in a /metrics text: the sum of every sample named
 * `name` whose labels include `labels`.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
