import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorCode, ErrorFrame, Frame, FrameClass, SignedRequest } from '../../../shared/protocol/index.ts';
import {
  ANSWER_SIGNATURE_HEADER,
  DEFAULT_LIMITS,
  FRAME_CLASSES,
  FRAME_CLASS_HEADER,
  SHEDDABLE_CLASSES,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  checkSignatureHeaders,
  decodeFrame,
  encodeFrame,
  errorFrame,
  frameClassOf,
  importSigningKey,
  signAnswer,
  verifySignature,
} from '../../../shared/protocol/index.ts';
import { nodeConfig, shardReplicas, type ClusterConfig } from '../cluster/config.ts';
import { loadEncoder, loadTokenEncoder, type Encoder, type TokenEncoder } from '../../engine/encoders/index.ts';
import { loadPhraseEncoder, type PhraseEncoder } from '../../engine/phrase/model/index.ts';
import type { ConversationalEncoder } from '../../engine/conversation/index.ts';
import { loadConversationalEncoder } from '../../engine/convdr/index.ts';
import { checkConversationalModel } from '../../engine/search/index.ts';
import { FaissIndex } from '../../engine/index/index.ts';
import { createLogger, rateLimited, type Logger, type RateLimitedLogger } from '../logging/index.ts';
import { CONTENT_TYPE } from '../metrics/index.ts';
import { HttpShardClient, LocalShardClient, ReplicaSet, Router, type ShardClient } from '../router/index.ts';
import { ADMIN_SWAP_PATH } from '../pool-client/index.ts';
import { ShardHost } from '../shard-host/index.ts';
import { indexMethods, readIndexManifest } from '../../engine/shard/index.ts';
import { AdminSwap } from './admin-swap.ts';
import { BodyBudget, readBody } from './body-budget.ts';
import { clientGone, header, requestIdOf } from './incoming.ts';
import { operatorAccess } from './peer-access.ts';
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
  /**
   * A second HMAC key accepted on requests, never used to sign its own (a key rotation: see
   * infra/README.md); answers are signed with the key that signed the request. Default: the
   * variable named as the signing key's with `_ACCEPTED` appended. None: only the signing key.
   */
  acceptedKey?: string;
  /** The admin key (hot swaps); default: the environment variable `adminKeyEnv` names. None: admin requests refused. */
  adminKey?: string;
  /** Bearer token for /metrics and /readyz detail; default: the variable `metricsTokenEnv` names. None: loopback only. */
  metricsToken?: string;
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
  private tokenEncoder?: TokenEncoder;
  private phraseEncoder?: PhraseEncoder;
  private conversationalEncoder?: ConversationalEncoder;
  private clients: HttpShardClient[] = [];
  private key?: CryptoKey;
  /** Keys a request may be signed with: the signing key first, then the accepted one (rotations). */
  private requestKeys: CryptoKey[] = [];
  /** Which of them signed each verified request: its answer is signed with the same. */
  private readonly answerKeys = new WeakMap<SignedRequest, CryptoKey>();
  private admin?: AdminSwap;
  private operator: (req: http.IncomingMessage) => boolean;
  private readonly budget: BodyBudget;
  /** Shards loaded and the router up: frames are answered (a shard taken out of service later makes answers partial). */
  private ready = false;
  private notReadyReason = 'loading shards';
  private draining = false;
  /** Requests being read or answered: a drain waits for them, from their first byte on. */
  private open = 0;
  private idle?: () => void;
  readonly log: Logger;
  private readonly shardReports: ShardErrorReporter;
  /** Warnings a peer can cause at will (bad signatures): one line per peer and reason per window. */
  private readonly limitedLog: RateLimitedLogger;

  private constructor(private readonly opts: PoolNodeOptions) {
    this.log = opts.logger ?? createLogger({ name: 'pool', base: { node: opts.nodeId } });
    this.limitedLog = rateLimited(this.log);
    this.metrics = createPoolMetrics(() => this.router?.queueDepth ?? 0);
    this.shardReports = shardErrorReporter(this.metrics, this.log);
    const limits = opts.config.http;
    this.budget = new BodyBudget(limits.bodyBudgetBytes);
    this.operator = operatorAccess(opts.metricsToken ?? process.env[opts.config.metricsTokenEnv]);
    this.server = http.createServer(
      {
        headersTimeout: limits.headersTimeoutS * 1000,
        requestTimeout: limits.requestTimeoutS * 1000,
        keepAliveTimeout: limits.keepAliveTimeoutS * 1000,
        // Node checks the two timeouts above this often (default 30 s, longer than the defaults).
        connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutS * 500),
      },
      (req, res) => void this.route(req, res),
    );
    this.server.maxConnections = limits.maxConnections;
  }

  static async start(opts: PoolNodeOptions): Promise<PoolNode> {
    const self = nodeConfig(opts.config, opts.nodeId);
    const secret = opts.signingKey ?? process.env[opts.config.signingKeyEnv];
    if (!secret) throw new Error(`no signing key: set ${opts.config.signingKeyEnv} (the HMAC key shared by edges and pool nodes)`);
    const node = new PoolNode(opts);
    node.key = await importSigningKey(secret);
    const accepted = opts.acceptedKey ?? process.env[`${opts.config.signingKeyEnv}_ACCEPTED`];
    node.requestKeys = [node.key, ...(accepted && accepted !== secret ? [await importSigningKey(accepted)] : [])];
    const adminSecret = opts.adminKey ?? process.env[opts.config.adminKeyEnv];
    if (adminSecret && adminSecret === accepted) throw new Error(`${opts.config.adminKeyEnv} must differ from ${opts.config.signingKeyEnv}_ACCEPTED: edges hold the signing keys and must not be pool admins`);
    if (adminSecret && adminSecret === secret) throw new Error(`${opts.config.adminKeyEnv} must differ from ${opts.config.signingKeyEnv}: edges hold the signing key and must not be pool admins`);
    node.admin = new AdminSwap({
      nodeId: opts.nodeId,
      key: adminSecret ? await importSigningKey(adminSecret) : undefined,
      windowMs: opts.config.signatureWindowMs,
      verify: opts.config.verify,
      budget: node.budget,
      host: () => node.host,
      log: node.log,
      limitedLog: node.limitedLog,
    });
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

  /** Serving, and every shard it holds in service (what /readyz answers). */
  get isReady(): boolean {
    return this.ready && !this.draining && this.outOfService().length === 0;
  }

  private outOfService(): string[] {
    return Object.entries(this.host?.failed() ?? {}).map(([s, why]) => `shard ${s}: ${why}`);
  }

  private readinessReason(): string {
    if (this.draining) return 'shutting down';
    if (!this.ready) return this.notReadyReason;
    return `out of service: ${this.outOfService().join('; ')}`;
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
    const self = nodeConfig(config, nodeId);
    if (config.threads) FaissIndex.setThreads(config.threads);
    const manifest = await readIndexManifest(config.index);
    this.host = await ShardHost.open(config.index, self.shards, {
      verify: config.verify,
      versionLeaseMs: config.versionLeaseMs,
      // parseClusterConfig always sets it; a host left without one takes the same default.
      swapRoot: config.indexRoot,
      reverifyIntervalMs: config.reverifyIntervalS * 1000,
      onShardFailed: (shard, detail) => this.log.error('shard taken out of service: its files changed on disk', { shard, detail }),
    });
    this.log.info('shards loaded', { versions: this.host.versions() });
    if (self.router) {
      this.notReadyReason = 'loading the encoder';
      const methods = indexMethods(manifest);
      const encoderOptions = {
        threads: config.threads,
        offThread: true,
        providers: self.providers ?? config.encoder.providers,
        batching: config.encoder.batching,
        batchSize: config.encoder.batchSize ?? config.batching.maxBatchSize,
        log: (m: string) => this.log.warn(m),
      };
      // Only the encoders the index's methods need: a ColBERT index has no sentence vectors.
      if (methods.includes('dense')) {
        this.encoder = await loadEncoder(config.model ?? manifest.model.path, encoderOptions);
        this.log.info('encoder loaded', { provider: this.encoder.provider, batching: this.encoder.batching });
      }
      if (methods.includes('colbert')) {
        this.tokenEncoder = await loadTokenEncoder(config.model ?? manifest.model.path, encoderOptions);
        this.log.info('token encoder loaded', { provider: this.tokenEncoder.provider, batching: this.tokenEncoder.batching });
      }
      if (methods.includes('phrase')) {
        this.phraseEncoder = await loadPhraseEncoder(config.model ?? manifest.model.path, encoderOptions);
        this.log.info('phrase encoder loaded', { provider: this.phraseEncoder.tokens.provider, batching: this.phraseEncoder.tokens.batching });
      }
      if (config.conversationalModel) {
        if (!methods.includes('dense')) throw new Error(`conversationalModel ${config.conversationalModel}: index ${config.index} has no dense vectors for mode conversational to search`);
        this.conversationalEncoder = await loadConversationalEncoder(config.conversationalModel, encoderOptions);
        checkConversationalModel(this.conversationalEncoder, manifest.model, config.index);
        this.log.info('conversational encoder loaded', { model: this.conversationalEncoder.modelId });
      }
      const replicas = shardReplicas(config);
      const httpClients = new Map<string, HttpShardClient>();
      const sets = manifest.shards.map((_, s) => {
        const holders = replicas.get(s) ?? [];
        if (holders.length === 0) throw new Error(`no node of the cluster config holds shard ${s} of ${config.index}`);
        const clients = holders.map((id): ShardClient => {
          if (id === nodeId) return new LocalShardClient(id, this.host!);
          let c = httpClients.get(id);
          if (!c) httpClients.set(id, (c = new HttpShardClient(id, nodeConfig(config, id).url, this.key!)));
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
        tokenEncoder: this.tokenEncoder,
        phraseEncoder: this.phraseEncoder,
        conversationalEncoder: this.conversationalEncoder,
        methods,
        shards: sets,
        index: { version: manifest.version, shardVersions: manifest.shards.map((s) => s.version), fusion: manifest.fusion },
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
    const requestId = requestIdOf(req);
    try {
      if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok', ready: this.isReady });
      if (req.method === 'GET' && path === '/readyz') {
        // The status code is for every prober; what the node holds and why it is not ready is for operators.
        const ready = this.isReady;
        const detail = this.operator(req) ? (ready ? { node: this.opts.nodeId, shards: this.host?.versions() ?? {} } : { node: this.opts.nodeId, reason: this.readinessReason() }) : {};
        return json(res, ready ? 200 : 503, { ready, ...detail });
      }
      if (req.method === 'GET' && path === '/metrics') {
        if (!this.operator(req)) return json(res, 403, { error: { code: 'forbidden', message: 'metrics are for operators (a bearer token, or loopback)' } });
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': CONTENT_TYPE });
        return void res.end(text);
      }
      if (req.method === 'POST' && path === '/v1/batch') return await this.batch(req, res, requestId);
      if (req.method === 'POST' && path === ADMIN_SWAP_PATH) {
        const answer = await this.admin!.handle(req, requestId);
        if (answer.status >= 400 && !req.complete) res.setHeader('connection', 'close');
        return json(res, answer.status, answer.body);
      }
      json(res, 404, { error: { code: 'not-found', message: `no route ${req.method} ${path}` } });
    } catch (err) {
      if (clientGone(req, err)) this.log.debug('client went away', { requestId, path, err: (err as Error).message });
      else this.log.error('request failed', { requestId, path, err });
      if (!res.headersSent && !res.destroyed) json(res, 500, { error: { code: 'internal', message: `internal error (request id ${requestId})`, requestId } });
      else res.destroy();
    } finally {
      this.open--;
      if (this.open === 0) this.idle?.();
    }
  }

  private async batch(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<void> {
    const t0 = performance.now();
    const signed = { timestamp: header(req, TIMESTAMP_HEADER), signature: header(req, SIGNATURE_HEADER) };
    // Refused before a byte of the body is read: no signature headers, or a stale timestamp.
    const early = checkSignatureHeaders(signed, { windowMs: this.opts.config.signatureWindowMs });
    if (!early.ok) return this.unauthorized(req, res, early.reason);
    // From here on answers are signed, bound to the request's timestamp and signature.
    const bound = signed as SignedRequest;
    // The class the request claims (searches without the header): what may be shed unread.
    const claimed = frameClassOf(header(req, FRAME_CLASS_HEADER));
    if (claimed === undefined) {
      req.resume();
      res.setHeader('connection', 'close');
      return this.fail(res, 'batch', bound, { v: 1, type: 'error', code: 'bad-frame', message: `unknown ${FRAME_CLASS_HEADER} header (one of ${Object.keys(FRAME_CLASSES).join(', ')}, or none for a search)` });
    }
    // Shedding must cost less than serving: a saturated router refuses a search before reading,
    // verifying or decoding anything (the answer reveals only that it is busy). Leases and
    // shard traffic are never shed: they are cheap, or carry work admitted elsewhere.
    if (this.router?.saturated && SHEDDABLE_CLASSES.has(claimed)) {
      req.resume();
      this.metrics.shed.inc();
      const retryAfterMs = Math.ceil(this.router.expectedWaitMs);
      return this.fail(res, 'search', bound, { v: 1, type: 'error', code: 'overloaded', message: 'the pool is overloaded; retry later', retryAfterMs });
    }
    const read = await readBody(req, DEFAULT_LIMITS.maxFrameBytes, this.budget);
    if (!read.ok) {
      // Not read at all: the connection closes after the answer. (Discarding the body as it
      // arrives would still churn through its bytes, and a flood of them balloons the heap.)
      res.setHeader('connection', 'close');
      if (read.refused === 'too-large') return this.fail(res, 'batch', bound, { v: 1, type: 'error', code: 'too-large', message: `frame larger than ${DEFAULT_LIMITS.maxFrameBytes} bytes` });
      this.metrics.shed.inc();
      return this.fail(res, 'batch', bound, { v: 1, type: 'error', code: 'overloaded', message: 'too many request bodies in flight; retry later', retryAfterMs: 100 });
    }
    try {
      await this.answerBatch(req, res, requestId, bound, claimed, read.body, t0);
    } finally {
      read.release();
    }
  }

  private async answerBatch(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, bound: SignedRequest, claimed: FrameClass, body: Uint8Array, t0: number): Promise<void> {
    let verdict = await verifySignature(this.key!, bound, body, { windowMs: this.opts.config.signatureWindowMs });
    // During a rotation a request may come signed with the accepted key; its answer is signed with it too.
    for (const key of this.requestKeys.slice(1)) {
      if (verdict.ok) break;
      verdict = await verifySignature(key, bound, body, { windowMs: this.opts.config.signatureWindowMs });
      if (verdict.ok) this.answerKeys.set(bound, key);
    }
    if (!verdict.ok) return this.unauthorized(req, res, verdict.reason);
    let frame: Frame;
    try {
      // Only frames of the class the header claimed: a search sent as a lease would skip shedding.
      frame = decodeFrame(body, { expect: FRAME_CLASSES[claimed] });
    } catch (err) {
      return this.fail(res, 'batch', bound, errorFrame(err));
    }
    if (!this.ready || this.draining) {
      return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'not-ready', message: this.draining ? 'node is shutting down' : 'node not ready (loading, or failed to load: see its log)', batchId: batchIdOf(frame) });
    }
    try {
      let reply: Frame;
      if (frame.type === 'search') {
        if (!this.router) return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'bad-frame', message: `node ${this.opts.nodeId} is not a router`, batchId: frame.batchId });
        reply = await this.router.handle(frame);
        this.shardReports.answered(reply);
        const shed = reply.results.filter((r) => r.error?.code === 'overloaded').length;
        if (shed === reply.results.length) {
          return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'overloaded', message: 'the pool is overloaded; retry later', batchId: frame.batchId, retryAfterMs: 100 });
        }
      } else if (frame.type === 'lease') {
        if (!this.router) return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'bad-frame', message: `node ${this.opts.nodeId} is not a router`, batchId: frame.batchId });
        if (frame.deadline < Date.now()) return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'deadline', message: 'deadline passed before the lease was asked', batchId: frame.batchId });
        reply = await this.router.lease(frame);
      } else if (frame.type === 'shard-lease') {
        if (frame.deadline < Date.now()) return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'deadline', message: 'deadline passed before the shard lease was asked', batchId: frame.batchId });
        reply = this.host!.lease(frame);
      } else if (frame.type === 'shard-search') {
        if (frame.deadline < Date.now()) return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'deadline', message: 'deadline passed before the shard search started', batchId: frame.batchId });
        reply = await this.host!.search(frame);
      } else if (frame.type === 'shard-score') {
        if (frame.deadline < Date.now()) return this.fail(res, frame.type, bound, { v: 1, type: 'error', code: 'deadline', message: 'deadline passed before the re-scoring started', batchId: frame.batchId });
        reply = await this.host!.score(frame);
      } else {
        reply = await this.host!.evidence(frame);
      }
      await this.send(res, 200, bound, reply);
      this.metrics.requests.inc({ type: frame.type, status: 200 });
      this.metrics.requestMs.observe({ type: frame.type }, performance.now() - t0);
      if (this.log.enabled('debug')) this.log.debug('frame answered', { requestId, type: frame.type, ms: performance.now() - t0 });
    } catch (err) {
      this.log.warn('frame failed', { requestId, type: frame.type, err });
      this.fail(res, frame.type, bound, errorFrame(err, batchIdOf(frame)));
    }
  }

  /** Answers a frame, signed for the request it answers. */
  private async send(res: http.ServerResponse, status: number, request: SignedRequest, frame: Frame, headers: Record<string, string> = {}): Promise<void> {
    const bytes = encodeFrame(frame);
    const signature = await signAnswer(this.answerKeys.get(request) ?? this.key!, request, bytes);
    res.writeHead(status, { 'content-type': 'application/msgpack', 'content-length': String(bytes.byteLength), [ANSWER_SIGNATURE_HEADER]: signature, ...headers });
    res.end(bytes);
  }

  private async fail(res: http.ServerResponse, type: string, request: SignedRequest, frame: ErrorFrame): Promise<void> {
    const status = STATUS[frame.code] ?? 500;
    const headers: Record<string, string> = frame.retryAfterMs !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(frame.retryAfterMs / 1000))) } : {};
    await this.send(res, status, request, frame, headers);
    this.metrics.requests.inc({ type, status });
  }

  /**
   * A request whose signature failed: the caller learns only that (the reason is logged, once per
   * peer and reason per window), the answer is not signed, and the connection closes.
   */
  private unauthorized(req: http.IncomingMessage, res: http.ServerResponse, reason: string): void {
    const remote = req.socket.remoteAddress;
    this.limitedLog.warn(`${remote}/${reason}`, 'request signature refused', { remote, reason });
    this.metrics.requests.inc({ type: 'batch', status: 401 });
    const bytes = encodeFrame({ v: 1, type: 'error', code: 'unauthorized', message: 'unauthorized' });
    res.writeHead(401, { 'content-type': 'application/msgpack', 'content-length': String(bytes.byteLength), ...(req.complete ? {} : { connection: 'close' }) });
    res.end(bytes);
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
    await this.tokenEncoder?.dispose();
    await this.phraseEncoder?.dispose();
    await this.conversationalEncoder?.dispose();
    this.shardReports.flush();
    this.limitedLog.flush();
    this.log.info('stopped');
  }
}

function batchIdOf(frame: Frame): string | undefined {
  return 'batchId' in frame ? (frame.batchId as string) : undefined;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}
