// One search through the edge: cache lookup on the index version the pool has promised (a
// lapsed promise renewed first, by one lease call the isolate shares), else one pool call
// shared by identical concurrent misses and packed with other queries by the micro-batcher;
// fresh complete answers go into the cache.
import { ApiError, type Hit, type SearchRequest, type SearchResponse } from '../../shared/api/index.ts';
import type { ErrorCode, WireResult } from '../../shared/protocol/index.ts';
import { requestKey, type CachedAnswer, type Coalescer, type ResultCache, type VersionLease } from '../cache/index.ts';
import { fullJitterBackoffMs, type BatchQuery, type BatchedResult, type LeaseAnswer, type MicroBatcher } from '../pool/index.ts';

/** Past the deadline the pool itself was given, so the pool's own deadline error wins. */
const DEADLINE_GRACE_MS = 250;

export interface SearchServiceOptions {
  batcher: MicroBatcher;
  cache: ResultCache;
  lease: VersionLease;
  coalescer: Coalescer<PoolAnswer>;
  /**
   * Renews the version promise with a lease frame (LeaseClient). Absent (MAX_VERSION_LEASE_MS
   * 0: no promise is believed), cached answers are served only under a search answer's promise.
   */
  leases?: { ask(deadline: number, region?: string): Promise<LeaseAnswer> };
  deadlineMs: number;
  retryBaseMs: number;
}

export interface SearchContext {
  region?: string;
  /** Keeps the isolate alive for work after the response (cache writes). */
  waitUntil(promise: Promise<unknown>): void;
  /** performance.now() when the request arrived. */
  startedAt: number;
}

/** A pool answer for one query. */
export interface PoolAnswer extends CachedAnswer {
  partial?: { missingShards: number[] };
  /** Requests to pool routers behind this answer, over every frame and retry. */
  poolAttempts: number;
}

export class SearchService {
  constructor(private readonly opts: SearchServiceOptions) {}

  async search(req: SearchRequest, ctx: SearchContext): Promise<SearchResponse> {
    const key = await requestKey(req);
    const hit = req.cache ? await this.cached(key, ctx) : undefined;
    if (hit) return this.response(req, hit, ctx);
    // Pool time is this request's own wait, over every attempt and retry (a coalesced request
    // waited only part of the shared call).
    const askedAt = performance.now();
    const answer = await this.ownTimer(this.fromPool(key, req, ctx));
    return this.response(req, answer, ctx, { poolMs: performance.now() - askedAt, poolAttempts: answer.poolAttempts });
  }

  /**
   * A cached answer this request may be given: one of the version the pool's promise holds for
   * now (a hit renews the promise in the background once half is spent), or, once the promise
   * has lapsed, one of the last version the pool named, if a renewal (one per isolate, however
   * many hits wait for it) has the pool promise that very version again. A version changed, or
   * a renewal failed or too slow: no answer, and the request asks the pool as a miss would.
   */
  private async cached(key: string, ctx: SearchContext): Promise<CachedAnswer | undefined> {
    const { lease, cache, leases } = this.opts;
    const promised = lease.current();
    if (promised !== undefined) {
      const hit = await cache.get(key, promised);
      if (hit && leases) {
        const refresh = lease.refreshIfDue(() => this.renewLease(ctx));
        if (refresh) ctx.waitUntil(refresh);
      }
      return hit;
    }
    const last = lease.lastSeen;
    if (last === undefined || !leases) return undefined;
    const held = await cache.get(key, last);
    if (!held) return undefined;
    const renewal = lease.renewNow(() => this.renewLease(ctx));
    ctx.waitUntil(renewal);
    await this.waitAtMost(renewal, this.renewalMs);
    return lease.current() === last ? held : undefined;
  }

  /**
   * How long a renewal may take: a quarter of the deadline, so a request that waited for one in
   * vain still has most of its time for the pool.
   */
  private get renewalMs(): number {
    return this.opts.deadlineMs / 4;
  }

  /** Asks the pool for its version promise alone (a lease frame: no queue, no batch). */
  private async renewLease(ctx: SearchContext): Promise<void> {
    const answer = await this.opts.leases!.ask(Date.now() + this.renewalMs, ctx.region);
    this.opts.lease.renew(answer.indexVersion, answer.versionUntil);
  }

  /**
   * Waits for `promise` (which never rejects) at most `ms`, under a timer of this request's
   * own: the renewal may belong to another request, and workerd cancels a request that waits
   * only on another's I/O.
   */
  private waitAtMost(promise: Promise<void>, ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    return Promise.race([promise, elapsed]).finally(() => clearTimeout(timer));
  }

  /**
   * The pool's answer, shared by identical concurrent requests, and cached when complete. A
   * request with `cache: false` neither shares nor is cached: a load test that sends one body
   * over and over measures the pool, not the coalescing table.
   */
  private fromPool(key: string, req: SearchRequest, ctx: SearchContext): Promise<PoolAnswer> {
    // The leader's answer goes into the cache; the coalescing entry stays until the write is
    // done, and the isolate stays up for it (waitUntil).
    const store = (answer: PoolAnswer): Promise<unknown> => {
      if (answer.partial || !req.cache) return Promise.resolve();
      const write = this.opts.cache.put(key, { indexVersion: answer.indexVersion, hits: answer.hits });
      ctx.waitUntil(write);
      return write;
    };
    if (!req.cache) return this.ask(req, ctx);
    return this.opts.coalescer.run(key, () => this.ask(req, ctx), store).promise;
  }

  /**
   * Waits for `promise` under a timer of this request's own. The pool call a request waits for
   * may belong to another request (a shared batch, a coalesced miss); workerd cancels a request
   * as hung when nothing of its own is pending, and the timer is also its deadline.
   */
  private ownTimer<T>(promise: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ApiError('deadline_exceeded', `no answer within the ${this.opts.deadlineMs} ms deadline`)), this.opts.deadlineMs + DEADLINE_GRACE_MS);
    });
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  }

  /** `pool`: the pool's time and attempts for a fresh answer; a cached one has none. */
  private response(req: SearchRequest, answer: CachedAnswer & Pick<PoolAnswer, 'partial'>, ctx: SearchContext, pool?: { poolMs: number; poolAttempts: number }): SearchResponse {
    const cached = pool === undefined;
    return {
      query: req.query,
      mode: req.mode,
      k: req.k,
      indexVersion: answer.indexVersion,
      cached,
      ...(answer.partial ? { partial: answer.partial } : {}),
      hits: answer.hits,
      timings: { edgeMs: round(performance.now() - ctx.startedAt), ...(cached ? {} : { poolMs: round(pool.poolMs), poolAttempts: pool.poolAttempts }) },
    };
  }

  /** Asks the pool; a query the pool shed alone (overload) is asked again while time is left. */
  private async ask(req: SearchRequest, ctx: SearchContext): Promise<PoolAnswer> {
    const deadline = Date.now() + this.opts.deadlineMs;
    let attempts = 0;
    for (let attempt = 0; ; attempt++) {
      const got: BatchedResult = await this.opts.batcher.submit(wireQuery(req), deadline, ctx.region);
      attempts += got.attempts;
      const { result } = got;
      // A partial answer names the versions of the shards that answered, not those the
      // missing ones serve: it proves nothing about what the pool serves now.
      if (!result.partial && !result.error) this.opts.lease.renew(got.indexVersion, got.versionUntil);
      if (!result.error) return toAnswer(result, got.indexVersion, attempts);
      const backoff = fullJitterBackoffMs(attempt, this.opts.retryBaseMs);
      if (result.error.code !== 'overloaded' || Date.now() + backoff >= deadline) throw queryError(result.error, req);
      await new Promise((r) => setTimeout(r, backoff));
    }
  }
}

/** The query as the pool's frame carries it: every field of the request that changes the answer. */
export function wireQuery(req: SearchRequest): BatchQuery {
  return {
    mode: req.mode,
    k: req.k,
    text: req.query,
    ...(req.params ? { params: req.params } : {}),
    ...(req.rerank ? { rerank: req.rerank } : {}),
    // The previous turns the pool forms the query from (none: the key and the frame of a plain query).
    ...(req.context && req.context.length > 0 ? { context: req.context } : {}),
  };
}

function toAnswer(result: WireResult, indexVersion: string, poolAttempts: number): PoolAnswer {
  return {
    indexVersion,
    hits: result.hits.map((h, i) => ({ rank: i + 1, docId: h.docId, score: h.score, title: h.title, text: h.text, shard: h.shard, ...(h.span ? { span: h.span } : {}), ...(h.branches ? { branches: h.branches } : {}) })),
    ...(result.partial ? { partial: result.partial } : {}),
    poolAttempts,
  };
}

/**
 * A query the pool answered with an error of its own (the rest of its frame was answered: the
 * router is sound, and its circuit counts the frame a success).
 */
function queryError(error: { code: ErrorCode; message: string }, req: SearchRequest): ApiError {
  switch (error.code) {
    case 'bad-frame': {
      // The query asks what the index cannot do (mode colbert, or a rerank, on an index without a
      // token store): the request's fault, the same on every router and every retry. A 400 with
      // the pool's words, which name the index and what it holds; never cached (it throws).
      const field = unservableField(error.message, req);
      return new ApiError('bad_request', `${field}: ${error.message}`, field);
    }
    case 'overloaded':
      return new ApiError('pool_unavailable', `the pool is overloaded: ${error.message}`, undefined, 1);
    case 'deadline':
      return new ApiError('deadline_exceeded', `the pool did not answer in time: ${error.message}`);
    case 'not-ready':
      return new ApiError('pool_unavailable', `the pool is not ready: ${error.message}`, undefined, 1);
    default:
      return new ApiError('bad_gateway', `the pool could not answer this query (${error.code}): ${error.message}`);
  }
}

/** The request field the pool's refusal is about: the re-ranking when it names it, else the mode. */
function unservableField(message: string, req: SearchRequest): 'mode' | 'rerank' {
  return req.rerank && /\bre-?rank/i.test(message) && !message.includes(`mode "${req.mode}"`) ? 'rerank' : 'mode';
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
