// Sends one signed msgpack search frame to the pool and returns its result frame, retrying on
// another endpoint after a connection error, a 5xx, an overload answer or an unreadable reply,
// with jittered exponential backoff, for as long as the frame's deadline allows.
import type { ResultFrame, SearchFrame } from '../../shared/protocol/index.ts';
import { decodeFrame, encodeFrame, signatureHeaders } from '../../shared/protocol/index.ts';
import { ApiError } from '../../shared/api/index.ts';
import { fullJitterBackoffMs } from './backoff.ts';
import type { EndpointPicker, TrackedEndpoint } from './endpoint-picker.ts';

export interface TransportOptions {
  key: CryptoKey;
  retryBaseMs: number;
  /** Injected for tests; default global fetch. */
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Delivered {
  frame: ResultFrame;
  endpoint: string;
  attempts: number;
  /** Date.now() when the answered attempt left (the pool's version promise counts from it). */
  sentAt: number;
}

/** Why one attempt failed, and whether another endpoint may do better. */
interface AttemptFailure {
  retry: boolean;
  /** Counts against the endpoint's circuit breaker (overload does not: the node is alive). */
  breaker: boolean;
  status?: number;
  retryAfterMs?: number;
  /** The deadline passed before this attempt could start, or while it waited for an answer. */
  expired?: boolean;
  message: string;
}

export class PoolTransport {
  private readonly fetch: typeof fetch;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly picker: EndpointPicker,
    private readonly opts: TransportOptions,
  ) {
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async send(frame: SearchFrame, region?: string): Promise<Delivered> {
    if (this.picker.endpoints.length === 0) throw new ApiError('pool_unavailable', 'no pool endpoints are configured (POOL_ENDPOINTS)');
    const body = encodeFrame(frame);
    const tried = new Set<TrackedEndpoint>();
    let last: AttemptFailure | undefined;
    for (let attempt = 1; ; attempt++) {
      let endpoint = this.picker.pick(tried, region);
      if (!endpoint) {
        // Every endpoint had its turn: go round again (after the backoff below) while time is left.
        tried.clear();
        endpoint = this.picker.pick(tried, region)!;
      }
      tried.add(endpoint);
      const outcome = await this.attempt(endpoint, body, frame.deadline);
      if ('frame' in outcome) {
        endpoint.breaker.success();
        return { frame: outcome.frame, endpoint: endpoint.url, attempts: attempt, sentAt: outcome.sentAt };
      }
      // Running out of time says less than the failure that used the time up (an overloaded
      // pool whose last retry straddles the deadline is still an overloaded pool).
      const cutOff = outcome.expired && last !== undefined;
      if (outcome.breaker) endpoint.breaker.failure();
      else if (!cutOff) endpoint.breaker.success();
      if (cutOff) break;
      last = outcome;
      if (!outcome.retry) break;
      const backoff = Math.max(outcome.retryAfterMs ?? 0, fullJitterBackoffMs(attempt - 1, this.opts.retryBaseMs, this.random));
      if (Date.now() + backoff >= frame.deadline) break;
      if (backoff > 0) await this.sleep(backoff);
    }
    throw failureToError(last!, frame.deadline);
  }

  private async attempt(endpoint: TrackedEndpoint, body: Uint8Array, deadline: number): Promise<{ frame: ResultFrame; sentAt: number } | AttemptFailure> {
    const sentAt = Date.now();
    const remaining = deadline - sentAt;
    if (remaining <= 0) return { retry: false, breaker: false, expired: true, message: 'the deadline passed before the pool was asked' };
    let res: Response;
    try {
      res = await this.fetch(new URL('/v1/batch', endpoint.url).href, {
        method: 'POST',
        headers: { 'content-type': 'application/msgpack', ...(await signatureHeaders(this.opts.key, body)) },
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(remaining),
      });
    } catch (err) {
      const timeout = (err as Error).name === 'TimeoutError' || Date.now() >= deadline;
      if (timeout) return { retry: false, breaker: true, expired: true, message: `${endpoint.url}: no answer before the deadline` };
      return { retry: true, breaker: true, message: `${endpoint.url}: ${(err as Error).message}` };
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      return { retry: true, breaker: true, status: res.status, message: `${endpoint.url}: connection lost while reading the answer: ${(err as Error).message}` };
    }
    let reply;
    try {
      reply = decodeFrame(bytes);
    } catch (err) {
      return { retry: true, breaker: true, status: res.status, message: `${endpoint.url} answered HTTP ${res.status} with an unreadable body: ${(err as Error).message}` };
    }
    if (reply.type === 'result') return { frame: reply, sentAt };
    if (reply.type !== 'error') return { retry: true, breaker: true, status: res.status, message: `${endpoint.url} answered a ${reply.type} frame to a search` };
    const message = `${endpoint.url}: ${reply.code}: ${reply.message}`;
    switch (reply.code) {
      case 'overloaded':
        return { retry: true, breaker: false, status: res.status, retryAfterMs: reply.retryAfterMs, message };
      case 'not-ready':
      case 'internal':
        return { retry: true, breaker: true, status: res.status, message };
      case 'deadline':
        return { retry: false, breaker: false, status: res.status, message };
      default:
        // bad-frame, limit, too-large, unauthorized: the edge sent something another node
        // would refuse too (or holds the wrong key).
        return { retry: false, breaker: false, status: res.status, message };
    }
  }
}

function failureToError(f: AttemptFailure, deadline: number): ApiError {
  if (f.status === 429) return new ApiError('pool_unavailable', `the pool is overloaded: ${f.message}`, undefined, Math.max(1, Math.ceil((f.retryAfterMs ?? 1000) / 1000)));
  if (f.expired || f.status === 504 || (f.status === undefined && Date.now() >= deadline)) {
    return new ApiError('deadline_exceeded', `the pool did not answer in time (${f.message})`);
  }
  if (f.status !== undefined && f.status >= 400 && f.status < 500) return new ApiError('bad_gateway', `the pool refused the edge's request: ${f.message}`);
  return new ApiError('pool_unavailable', `no pool endpoint answered: ${f.message}`, undefined, 1);
}
