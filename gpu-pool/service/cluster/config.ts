import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ExecutionProvider } from '../../engine/encoders/index.ts';

export const NodeConfig = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'node ids are 1-64 letters, digits, "_", "-" or "."'),
    /** Where other nodes and edges reach this node, e.g. http://10.0.0.5:7700. */
    url: z.url(),
    /** Shard numbers this node holds (replicas are the same shard on several nodes). */
    shards: z.array(z.number().int().nonnegative()).default([]),
    /** Whether this node takes `search` frames: encodes, fans out, merges. */
    router: z.boolean().default(true),
    /**
     * This node's execution providers, overriding `encoder.providers`: e.g. one process per GPU
     * of a machine, each with [{"name": "cuda", "deviceId": N}, "cpu"].
     */
    providers: z.array(ExecutionProvider).min(1).optional(),
  })
  .strict();
export type NodeConfig = z.infer<typeof NodeConfig>;

export const BatchingConfig = z
  .object({
    /** Queries encoded and searched together at most. 1 turns dynamic batching off. */
    maxBatchSize: z.number().int().min(1).max(1024).default(32),
    /**
     * How long the first query of a batch waits for company. 0: a batch leaves as soon as a
     * slot is free, so batches form only under load (no added latency when idle).
     */
    maxWaitMs: z.number().min(0).max(1000).default(0),
    /** Queries waiting beyond this are shed with an overload error. */
    maxQueue: z.number().int().min(1).max(1_000_000).default(256),
    /**
     * Queries whose expected wait for a batch slot (queue ahead and running batches, at recent
     * costs) exceeds this are shed at once, and one batch holds at most this many ms of expected
     * work: under overload, admitted queries keep a latency of a few times this. The default
     * fits the edge's 5 s deadline, and lets a quick-start cluster on 2 cores take 16 (and 64)
     * load-test connections without shedding (bench/results/edge.md); 100 shed there, and the
     * edge's retries of shed queries cut throughput by 5x.
     */
    maxQueueDelayMs: z.number().min(0).max(600_000).default(1000),
    /** Batches in flight at once (encode of one overlaps the fan-out of another). */
    concurrency: z.number().int().min(1).max(64).default(2),
  })
  .strict();

export const EncoderConfig = z
  .object({
    /**
     * How a dynamic batch's queries meet onnxruntime. 'rows': one row per call, so a query's vector
     * does not depend on its batch (exact, and on CPU barely slower). 'padded': length-sorted,
     * right-padded batches, one call per `batchSize` queries (what an accelerator needs; vectors
     * vary in the last bits with the batch). 'auto': 'padded' on an accelerator, 'rows' on CPU.
     */
    batching: z.enum(['rows', 'padded', 'auto']).default('auto'),
    /** Rows per onnxruntime call with padded batching; default: batching.maxBatchSize. */
    batchSize: z.number().int().min(1).max(1024).optional(),
    /** Execution providers to try in order (default: the model manifest's), with options. */
    providers: z.array(ExecutionProvider).min(1).optional(),
  })
  .strict();

export const HttpConfig = z
  .object({
    /** Open connections a node accepts at once; more are refused at the socket. */
    maxConnections: z.number().int().min(1).max(1_000_000).default(1024),
    /** Time a client has to send the request headers. */
    headersTimeoutS: z.number().min(1).max(600).default(10),
    /** Time a client has to send the whole request, body included (Node's default is 300 s). */
    requestTimeoutS: z.number().min(1).max(3600).default(30),
    /** An idle keep-alive connection is closed after this long. */
    keepAliveTimeoutS: z.number().min(1).max(3600).default(30),
    /**
     * Request bodies held in memory at once, all connections together. A signed-looking request
     * whose body would exceed it is refused as overloaded before it is read.
     */
    bodyBudgetBytes: z.number().int().min(64 * 1024).max(16 * 1024 ** 3).default(64 * 1024 ** 2),
  })
  .strict();
export type HttpConfig = z.infer<typeof HttpConfig>;

export const ClusterConfig = z
  .object({
    /** The index directory (index.json and its shard directories), relative to the config file. */
    index: z.string().min(1),
    /** Query encoder; default: the model recorded in the index. */
    model: z.string().optional(),
    /** Mode conversational's query encoder (a `convdr train` output, relative to the config file); absent: the mode is refused. */
    conversationalModel: z.string().optional(),
    nodes: z.array(NodeConfig).min(1),
    batching: BatchingConfig.default(BatchingConfig.parse({})),
    encoder: EncoderConfig.default(EncoderConfig.parse({})),
    /** A second replica is asked when the first has not answered after this long. */
    hedgeMs: z.number().min(0).max(60_000).default(50),
    /** A replica that failed is tried last for this long. */
    cooldownMs: z.number().min(0).max(600_000).default(1000),
    /** Environment variable holding the HMAC key shared by edges and nodes (search frames and their answers). */
    signingKeyEnv: z.string().default('EDGESEARCH_POOL_KEY'),
    /**
     * Environment variable holding the admin key (hot swaps). Only operators hold it, never an
     * edge; unset, a node refuses every admin request.
     */
    adminKeyEnv: z.string().default('EDGESEARCH_POOL_ADMIN_KEY'),
    /**
     * Directory admin swaps may load shard versions from (realpath, no symlinks); relative to the
     * config file. Default: the directory that holds the index directory.
     */
    indexRoot: z.string().min(1).optional(),
    /**
     * Environment variable holding a bearer token for `/metrics` and the detail of `/readyz`.
     * Unset, only loopback callers see them; everyone sees `/readyz`'s status code.
     */
    metricsTokenEnv: z.string().default('EDGESEARCH_POOL_METRICS_TOKEN'),
    http: HttpConfig.default(HttpConfig.parse({})),
    /** Served shard files are checksummed again this often; a mismatch takes the shard out of service. 0: never. */
    reverifyIntervalS: z.number().min(0).max(604_800).default(3600),
    /** Accepted clock skew and replay window for signed requests. */
    signatureWindowMs: z.number().int().min(1000).max(600_000).default(30_000),
    /** ONNX and faiss threads per node. */
    threads: z.number().int().min(1).max(256).optional(),
    /** Recompute shard checksums before serving (readyz waits for it). */
    verify: z.boolean().default(true),
    /**
     * How long each answer promises its index version stays served. Edges serve cached
     * results of that version until the promise ends; a hot swap waits this long at most.
     */
    versionLeaseMs: z.number().int().min(0).max(600_000).default(1000),
  })
  .strict()
  .superRefine((c, ctx) => {
    const ids = new Set<string>();
    c.nodes.forEach((n, i) => {
      if (ids.has(n.id)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'id'], message: `duplicate node id "${n.id}"` });
      ids.add(n.id);
    });
    if (!c.nodes.some((n) => n.router)) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'no node has the router role' });
  });
export type ClusterConfig = z.infer<typeof ClusterConfig>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads and validates a cluster config (JSON); the index path is resolved against the file's folder. */
export async function readClusterConfig(path: string): Promise<ClusterConfig> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return parseClusterConfig(json, path);
}

/**
 * Fields that once were in the schema and are gone, with what to do instead. A config naming one
 * is refused, as unknown fields are: its author expected an effect that the pool does not have.
 */
const REMOVED_FIELDS: Record<string, string> = {
  defaultDeadlineMs:
    'removed: it was never read. Every search frame carries its own deadline (the edge sets it from REQUEST_DEADLINE_MS, PoolClient from its deadlineMs option); delete the field',
};

export function parseClusterConfig(json: unknown, where: string, baseDir = dirname(resolve(where))): ClusterConfig {
  if (typeof json === 'object' && json !== null) {
    const removed = Object.keys(REMOVED_FIELDS).find((k) => k in json);
    if (removed !== undefined) throw new ConfigError(`${where}: field ${removed}: ${REMOVED_FIELDS[removed]}`);
  }
  const parsed = ClusterConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${where}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const config = parsed.data;
  const index = resolve(baseDir, config.index);
  return {
    ...config,
    index,
    indexRoot: resolve(baseDir, config.indexRoot ?? dirname(index)),
    model: config.model ? resolve(baseDir, config.model) : undefined,
    conversationalModel: config.conversationalModel ? resolve(baseDir, config.conversationalModel) : undefined,
  };
}

/** The node `id` of the config; `where` names the config in the error when there is none. */
export function nodeConfig(config: ClusterConfig, id: string, where = 'the cluster config'): NodeConfig {
  const node = config.nodes.find((n) => n.id === id);
  if (!node) throw new Error(`node "${id}" is not in ${where} (nodes: ${config.nodes.map((n) => n.id).join(', ')})`);
  return node;
}

/** shard number → ids of the nodes holding it, in config order. */
export function shardReplicas(config: ClusterConfig): Map<number, string[]> {
  const map = new Map<number, string[]>();
  for (const node of config.nodes) for (const s of node.shards) map.set(s, [...(map.get(s) ?? []), node.id]);
  return map;
}

/**
 * Spreads `shards` shards over `nodes` nodes with `replicas` copies each, never two copies on
 * one node: shard s lives on nodes s, s+1, ... (mod nodes).
 */
export function planShards(nodes: number, shards: number, replicas: number): number[][] {
  if (replicas > nodes) throw new ConfigError(`${replicas} replicas need at least ${replicas} nodes, got ${nodes}`);
  const plan: number[][] = Array.from({ length: nodes }, () => []);
  for (let s = 0; s < shards; s++) for (let r = 0; r < replicas; r++) plan[(s + r) % nodes].push(s);
  return plan.map((list) => list.sort((a, b) => a - b));
}
