import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { ErrorCode, ErrorFrame, Frame } from '../../shared/protocol/index.ts';
import { DEFAULT_LIMITS, ProtocolError, decodeFrame, encodeFrame, errorFrame, importSigningKey, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../shared/protocol/index.ts';
import { shardReplicas, type ClusterConfig } from '../cluster/config.ts';
import { loadEncoder, type Encoder } from '../encoders/index.ts';
import { FaissIndex } from '../index/index.ts';
import { createLogger, type Logger } from '../logging/index.ts';
import { CONTENT_TYPE } from '../metrics/index.ts';
import { HttpShardClient, LocalShardClient, ReplicaSet, Router, SHARD_TRAFFIC_HEADER, type ShardClient } from '../router/index.ts';
import { ShardHost } from '../shard-host/index.ts';
import { readIndexManifest } from '../shard/index.ts';
import { createPoolMetrics, type PoolMetrics } from './pool-metrics.ts';
import { shardErrorReporter, type ShardErrorReporter } from './shard-errors.ts';

export interface PoolNodeOptions {
  config: ClusterConfig;
  nodeId: string;
  /** Listen address; default: the host and port of the node's url in the config. */
  host?: string;
  port?: number;
  /** The HMAC key; default: the environment variable the config names. */
  signingKey?: string;
  logger?: Logger;
}

/** How long a drain waits for open requests (a body still uploading included) before it cuts them. */
const DRAIN_TIMEOUT_MS = 30_000;

const STATUS: Record<ErrorCode, number> = {
  'bad-frame': 400,
  limit: 400,
  'too-large': 413,
  unauthorized: 401,
  overloaded: 429,
  deadline: 504,
  'not-ready': 503,
  'unknown-shard': 404,
  internal: 500,
};

/**
 * One pool process: a shard host for the shards the config gives it, a router when it has that
 * role, and the HTTP front (`POST /v1/batch`, `/healthz`, `/readyz`, `/metrics`). It listens
 * at once and turns ready when every shard is loaded and verified and the encoder is up.
 */
export class PoolNode {
  readonly metrics: PoolMetrics;
  private readonly server: http.Server;
  private host?: ShardHost;
  private router?: Router;
  private encoder?: Encoder;
  private clients: HttpShardClient[] = [];
  private key?: CryptoKey;
  private ready = false;
  private notReadyReason = 'loading shards';
  private draining = false;
  /** Requests being read or answered: a drain waits for them, from their first byte on. */
  private open = 0;
  private idle?: () => void;
  readonly log: Logger;
  private readonly shardReports: ShardErrorReporter;

  private constructor(private readonly opts: PoolNodeOptions) {
    this.log = opts.logger ?? createLogger({ name: 'pool', base: { node: opts.nodeId } });
    this.metrics = createPoolMetrics(() => this.router?.queueDepth ?? 0);
    this.shardReports = shardErrorReporter(this.metrics, this.log);
    this.server = http.createServer((req, res) => void this.route(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  static async start(opts: PoolNodeOptions): Promise<PoolNode> {
    const self = opts.config.nodes.find((n) => n.id === opts.nodeId);
    if (!self) throw new Error(`node "${opts.nodeId}" is not in the cluster config (nodes: ${opts.config.nodes.map((n) => n.id).join(', ')})`);
    const secret = opts.signingKey ?? process.env[opts.config.signingKeyEnv];
    if (!secret) throw new Error(`no signing key: set ${opts.config.signingKeyEnv} (the HMAC key shared by edges and pool nodes)`);
    const node = new PoolNode(opts);
    node.key = await importSigningKey(secret);
    const url = new URL(self.url);
    await new Promise<void>((resolve, reject) => {
      node.server.once('error', reject);
      node.server.listen(opts.port ?? Number(url.port || 80), opts.host ?? url.hostname, () => resolve());
    });
    node.log.info('listening', { url: node.url, shards: self.shards, router: self.router });
    void node.load().catch((err) => {
      node.notReadyReason = `failed to load: ${(err as Error).message}`;
      node.log.error('load failed', { err });
    });
    return node;
  }

  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Resolves when ready; rejects if loading failed. */
  async whenReady(timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.ready) {
      if (this.notReadyReason.startsWith('failed')) throw new Error(this.notReadyReason);
      if (Date.now() > until) throw new Error(`node ${this.opts.nodeId} not ready after ${timeoutMs} ms: ${this.notReadyReason}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async load(): Promise<void> {
    const { config, nodeId } = this.opts;
    const self = config.nodes.find((n) => n.id === nodeId)!;
    if (config.threads) FaissIndex.setThreads(config.threads);
    const manifest = await readIndexManifest(config.index);
    this.host = await ShardHost.open(config.index, self.shards, { verify: config.verify, versionLeaseMs: config.versionLeaseMs });
    this.log.info('shards loaded', { versions: this.host.versions() });
    if (self.router) {
      this.notReadyReason = 'loading the encoder';
      this.encoder = await loadEncoder(config.model ?? manifest.model.path, {
        threads: config.threads,
        offThread: true,
        providers: self.providers ?? config.encoder.providers,
        batching: config.encoder.batching,
        batchSize: config.encoder.batchSize ?? config.batching.maxBatchSize,
        log: (m) => this.log.warn(m),
      });
      this.log.info('encoder loaded', { provider: this.encoder.provider, batching: this.encoder.batching });
      const replicas = shardReplicas(config);
      const httpClients = new Map<string, HttpShardClient>();
      const sets = manifest.shards.map((_, s) => {
        const holders = replicas.get(s) ?? [];
        if (holders.length === 0) throw new Error(`no node of the cluster config holds shard ${s} of ${config.index}`);
        const clients = holders.map((id): ShardClient => {
          if (id === nodeId) return new LocalShardClient(id, this.host!);
          let c = httpClients.get(id);
          if (!c) httpClients.set(id, (c = new HttpShardClient(id, config.nodes.find((n) => n.id === id)!.url, this.key!)));
          return c;
        });
        return new ReplicaSet(s, clients, {
          hedgeMs: config.hedgeMs,
          cooldownMs: config.cooldownMs,
          onFailure: (n, err) => this.shardReports.replicaFailed(s, n, err),
          onHedge: (n) => this.metrics.hedges.inc({ node: n }),
        });
      });
      this.clients = [...httpClients.values()];
      this.router = new Router({
        encoder: this.encoder,
        shards: sets,
        index: { version: manifest.version, shardVersions: manifest.shards.map((s) => s.version) },
        batching: config.batching,
        hooks: {
          onBatch: (b) => this.metrics.batchSize.observe(b.size),
          onShed: () => this.metrics.shed.inc(),
          onExpired: (n) => this.metrics.expired.inc(n),
          onStage: (stage, ms) => this.metrics.stageMs.observe({ stage }, ms),
          onShardError: (shard, err, stage) => this.shardReports.shardError(shard, err, stage),
        },
      });
    }
    this.ready = true;
    this.log.info('ready');
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    // Counted before the body is read: a drain that began while a body was still arriving (or
    // its signature being checked) must answer it, not reset its connection.
    this.open++;
    try {
      if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok', node: this.opts.nodeId, ready: this.ready });
      if (req.method === 'GET' && path === '/readyz') {
        return this.ready && !this.draining
          ? json(res, 200, { ready: true, node: this.opts.nodeId, shards: this.host?.versions() ?? {} })
          : json(res, 503, { ready: false, node: this.opts.nodeId, reason: this.draining ? 'shutting down' : this.notReadyReason });
      }
      if (req.method === 'GET' && path === '/metrics') {
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': CONTENT_TYPE });
        return void res.end(text);
      }
      if (req.method === 'POST' && path === '/v1/batch') return await this.batch(req, res);
      if (req.method === 'POST' && path === '/v1/admin/swap') return await this.swap(req, res);
      json(res, 404, { error: { code: 'not-found', message: `no route ${req.method} ${path}` } });
    } catch (err) {
      this.log.error('request failed', { path, err });
      if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: (err as Error).message } });
      else res.destroy();
    } finally {
      this.open--;
      if (this.open === 0) this.idle?.();
    }
  }

  /** Reads the body up to `limit` bytes; null when it is larger (the caller answers 413). */
  private readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > limit) {
        req.resume();
        return resolve(null);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          req.removeAllListeners('data');
          req.resume();
          resolve(null);
        } else chunks.push(c);
      });
      req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private async authorize(req: http.IncomingMessage, body: Uint8Array): Promise<string | undefined> {
    const verdict = await verifySignature(this.key!, { timestamp: header(req, TIMESTAMP_HEADER), signature: header(req, SIGNATURE_HEADER) }, body, { windowMs: this.opts.config.signatureWindowMs });
    return verdict.ok ? undefined : verdict.reason;
  }

  private async batch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const t0 = performance.now();
    const requestId = header(req, 'x-request-id') ?? randomUUID();
    // Shedding must cost less than serving: a saturated router refuses before reading,
    // verifying or decoding anything (the answer reveals only that it is busy).
    if (this.router?.saturated && req.headers[SHARD_TRAFFIC_HEADER] !== 'shard') {
      req.resume();
      this.metrics.shed.inc();
      const retryAfterMs = Math.ceil(this.router.expectedWaitMs);
      return this.fail(res, 'search', { v: 1, type: 'error', code: 'overloaded', message: 'the pool is overloaded; retry later', retryAfterMs });
    }
    const body = await this.readBody(req, DEFAULT_LIMITS.maxFrameBytes);
    if (body === null) return this.fail(res, 'batch', { v: 1, type: 'error', code: 'too-large', message: `frame larger than ${DEFAULT_LIMITS.maxFrameBytes} bytes` });
    const denied = await this.authorize(req, body);
    if (denied) return this.fail(res, 'batch', { v: 1, type: 'error', code: 'unauthorized', message: denied });
    let frame: Frame;
    try {
      frame = decodeFrame(body, { expect: ['search', 'shard-search', 'evidence'] });
    } catch (err) {
      return this.fail(res, 'batch', errorFrame(err));
    }
    if (!this.ready || this.draining) {
      return this.fail(res, frame.type, { v: 1, type: 'error', code: 'not-ready', message: this.draining ? 'node is shutting down' : `node not ready: ${this.notReadyReason}`, batchId: batchIdOf(frame) });
    }
    try {
      let reply: Frame;
      if (frame.type === 'search') {
        if (!this.router) return this.fail(res, frame.type, { v: 1, type: 'error', code: 'bad-frame', message: `node ${this.opts.nodeId} is not a router`, batchId: frame.batchId });
        reply = await this.router.handle(frame);
        this.shardReports.answered(reply);
        const shed = reply.results.filter((r) => r.error?.code === 'overloaded').length;
        if (shed === reply.results.length) {
          return this.fail(res, frame.type, { v: 1, type: 'error', code: 'overloaded', message: 'the pool is overloaded; retry later', batchId: frame.batchId, retryAfterMs: 100 });
        }
      } else if (frame.type === 'shard-search') {
        if (frame.deadline < Date.now()) return this.fail(res, frame.type, { v: 1, type: 'error', code: 'deadline', message: 'deadline passed before the shard search started', batchId: frame.batchId });
        reply = await this.host!.search(frame);
      } else {
        reply = await this.host!.evidence(frame as Extract<Frame, { type: 'evidence' }>);
      }
      this.send(res, 200, reply);
      this.metrics.requests.inc({ type: frame.type, status: 200 });
      this.metrics.requestMs.observe({ type: frame.type }, performance.now() - t0);
      if (this.log.enabled('debug')) this.log.debug('frame answered', { requestId, type: frame.type, ms: performance.now() - t0 });
    } catch (err) {
      this.log.warn('frame failed', { requestId, type: frame.type, err });
      this.fail(res, frame.type, errorFrame(err, batchIdOf(frame)));
    }
  }

  private async swap(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await this.readBody(req, 64 * 1024);
    if (body === null) return json(res, 413, { error: { code: 'too-large', message: 'body larger than 64 KiB' } });
    const denied = await this.authorize(req, body);
    if (denied) return json(res, 401, { error: { code: 'unauthorized', message: denied } });
    let request: { shard?: unknown; dir?: unknown };
    try {
      request = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return json(res, 400, { error: { code: 'bad-request', message: 'body is not JSON' } });
    }
    if (!Number.isInteger(request.shard) || typeof request.dir !== 'string') {
      return json(res, 400, { error: { code: 'bad-request', message: 'expected {"shard": <int>, "dir": "<shard directory>"}' } });
    }
    if (!this.host) return json(res, 503, { error: { code: 'not-ready', message: this.notReadyReason } });
    try {
      const swapped = await this.host.swap(request.shard as number, request.dir, { verify: this.opts.config.verify });
      this.log.info('shard swapped', { shard: request.shard, ...swapped });
      json(res, 200, { shard: request.shard, ...swapped });
    } catch (err) {
      json(res, err instanceof ProtocolError ? 404 : 400, { error: { code: 'swap-failed', message: (err as Error).message } });
    }
  }

  private send(res: http.ServerResponse, status: number, frame: Frame, headers: Record<string, string> = {}): void {
    const bytes = encodeFrame(frame);
    res.writeHead(status, { 'content-type': 'application/msgpack', 'content-length': String(bytes.byteLength), ...headers });
    res.end(bytes);
  }

  private fail(res: http.ServerResponse, type: string, frame: ErrorFrame): void {
    const status = STATUS[frame.code] ?? 500;
    const headers: Record<string, string> = frame.retryAfterMs !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(frame.retryAfterMs / 1000))) } : {};
    this.send(res, status, frame, headers);
    this.metrics.requests.inc({ type, status });
  }

  /** Graceful shutdown: not ready, no new connections, queued and in-flight work answered, then closed. */
  async close(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await this.router?.drain();
    if (this.open > 0) {
      // A client that never finishes its upload must not hold the shutdown forever.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_TIMEOUT_MS).unref()))]);
      clearTimeout(timer);
      if (this.open > 0) this.log.warn('drain timed out; closing open connections', { open: this.open, timeoutMs: DRAIN_TIMEOUT_MS });
    }
    this.server.closeAllConnections();
    await closed;
    for (const c of this.clients) c.close();
    await this.host?.close();
    await this.encoder?.dispose();
    this.shardReports.flush();
    this.log.info('stopped');
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function batchIdOf(frame: Frame): string | undefined {
  return 'batchId' in frame ? (frame.batchId as string) : undefined;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
