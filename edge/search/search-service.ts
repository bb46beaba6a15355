// One search through the edge: cache lookup on the current index version, else one pool call
// shared by identical concurrent misses and packed with other queries by the micro-batcher;
// fresh complete answers go into the cache.
import { ApiError, type Hit, type SearchRequest, type SearchResponse } from '../../shared/api/index.ts';
import type { ErrorCode, WireResult } from '../../shared/protocol/index.ts';
import { requestKey, type CachedAnswer, type Coalescer, type ResultCache, type VersionLease } from '../cache/index.ts';
import { fullJitterBackoffMs, type BatchedResult, type MicroBatcher } from '../pool/index.ts';

/** Past the deadline the pool itself was given, so the pool's own deadline error wins. */
const DEADLINE_GRACE_MS = 250;

export interface SearchServiceOptions {
  batcher: MicroBatcher;
  cache: ResultCache;
  lease: VersionLease;
  coalescer: Coalescer<PoolAnswer>;
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
  poolMs: number;
}

export class SearchService {
  constructor(private readonly opts: SearchServiceOptions) {}

  async search(req: SearchRequest, ctx: SearchContext): Promise<SearchResponse> {
    const key = await requestKey(req);
    const version = this.opts.lease.current();
    if (req.cache && version !== undefined) {
      const hit = await this.opts.cache.get(key, version);
      if (hit) {
        // This very query renews the pool's version promise before it ends.
        const refresh = this.opts.lease.refreshIfDue(() => this.fromPool(key, req, ctx));
        if (refresh) ctx.waitUntil(refresh);
        return this.response(req, hit, ctx);
      }
    }
    const answer = await this.ownTimer(this.fromPool(key, req, ctx));
    return this.response(req, answer, ctx, answer.poolMs);
  }

  /**
   * The pool's answer, shared by identical concurrent requests, and cached when complete unless
   * the request bypasses the cache (`cache: false`: a load test does not fill it).
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

  /** `poolMs`: the pool's time for a fresh answer; a cached one has none. */
  private response(req: SearchRequest, answer: CachedAnswer & Pick<PoolAnswer, 'partial'>, ctx: SearchContext, poolMs?: number): SearchResponse {
    const cached = poolMs === undefined;
    return {
      query: req.query,
      mode: req.mode,
      k: req.k,
      indexVersion: answer.indexVersion,
      cached,
      ...(answer.partial ? { partial: answer.partial } : {}),
      hits: answer.hits,
      timings: { edgeMs: round(performance.now() - ctx.startedAt), ...(cached ? {} : { poolMs: round(poolMs) }) },
    };
  }

  /** Asks the pool; a query the pool shed alone (overload) is asked again while time is left. */
  private async ask(req: SearchRequest, ctx: SearchContext): Promise<PoolAnswer> {
    const deadline = Date.now() + this.opts.deadlineMs;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      const got: BatchedResult = await this.opts.batcher.submit({ mode: req.mode, k: req.k, text: req.query, ...(req.params ? { params: req.params } : {}) }, deadline, ctx.region);
      const poolMs = performance.now() - t0;
      const { result } = got;
      // A partial answer names the versions of the shards that answered, not those the
      // missing ones serve: it proves nothing about what the pool serves now.
      if (!result.partial && !result.error) this.opts.lease.renew(got.indexVersion, got.versionUntil);
      if (!result.error) return toAnswer(result, got.indexVersion, poolMs);
      const backoff = fullJitterBackoffMs(attempt, this.opts.retryBaseMs);
      if (result.error.code !== 'overloaded' || Date.now() + backoff >= deadline) throw queryError(result.error);
      await new Promise((r) => setTimeout(r, backoff));
    }
  }
}

function toAnswer(result: WireResult, indexVersion: string, poolMs: number): PoolAnswer {
  return {
    indexVersion,
    hits: result.hits.map((h, i) => ({ rank: i + 1, docId: h.docId, score: h.score, title: h.title, text: h.text, shard: h.shard, ...(h.branches ? { branches: h.branches } : {}) })),
    ...(result.partial ? { partial: result.partial } : {}),
    poolMs,
  };
}

function queryError(error: { code: ErrorCode; message: string }): ApiError {
  switch (error.code) {
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

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
