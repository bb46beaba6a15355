// Sends one signed msgpack search (or lease) frame to the pool and returns its answer, retrying on
// another endpoint after a connection error, a 5xx, an overload answer or an unreadable reply,
// with jittered exponential backoff, only while a retry can still succeed: an endpoint takes
// requests (not every circuit open) and the backoff and a typical answer fit before the deadline.
// When every circuit is open it answers 503 at once, Retry-After saying when one half-opens.
//
// An answer is believed only once its signature shows that a holder of the key answered this
// very request (the signature covers the request's timestamp and signature, and the answer's
// bytes), and it names the batch that was sent. Anything else is a failed attempt that counts
// against the endpoint's circuit: it is logged with the endpoint, never decoded into a result,
// cached or served.
import type { LeaseFrame, LeaseResultFrame, ResultFrame, SearchFrame } from '../../shared/protocol/index.ts';
import { ANSWER_SIGNATURE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, decodeFrame, encodeFrame, frameClassHeader, signatureHeaders, verifyAnswer } from '../../shared/protocol/index.ts';
import { ApiError } from '../../shared/api/index.ts';
import { edgeLog, type RateLimitedLog } from '../log/index.ts';
import { fullJitterBackoffMs } from './backoff.ts';
import type { EndpointPicker, TrackedEndpoint } from './endpoint-picker.ts';

export interface TransportOptions {
  key: CryptoKey;
  retryBaseMs: number;
  /** Where failed attempts are reported (default: the isolate's rate-limited console log). */
  log?: RateLimitedLog;
  /** Injected for tests; default global fetch. */
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The frames an edge sends, and the answer each expects. */
export type EdgeFrame = SearchFrame | LeaseFrame;
export type AnswerTo<F extends EdgeFrame> = F extends LeaseFrame ? LeaseResultFrame : ResultFrame;
const ANSWER_TYPE = { search: 'result', lease: 'lease-result' } as const satisfies Record<EdgeFrame['type'], string>;

export interface Delivered<A = ResultFrame> {
  frame: A;
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
  /** The answer was not authenticated (or named another batch): nothing in it is believed. */
  untrusted?: boolean;
  /** A stable name of the kind of failure, for rate-limiting its log lines. */
  kind: string;
  message: string;
}

export class PoolTransport {
  private readonly fetch: typeof fetch;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: RateLimitedLog;
  /** Typical time of an answered attempt (a moving average), to tell whether a retry can still make the deadline. */
  private answerMs = 0;

  constructor(
    private readonly picker: EndpointPicker,
    private readonly opts: TransportOptions,
  ) {
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.log = opts.log ?? edgeLog;
  }

  async send<F extends EdgeFrame>(frame: F, region?: string): Promise<Delivered<AnswerTo<F>>> {
    if (this.picker.endpoints.length === 0) throw new ApiError('pool_unavailable', 'no pool endpoints are configured (POOL_ENDPOINTS)', undefined, 1);
    // Every circuit open: refuse before any work (encoding, signing).
    if (this.picker.waitMs() > 0) throw allOpen(this.picker.waitMs());
    const body = encodeFrame(frame);
    const tried = new Set<TrackedEndpoint>();
    // Endpoints whose answer could not be authenticated are not asked again for this frame: a
    // wrong key or an impostor answers the same way every time.
    const untrusted = new Set<TrackedEndpoint>();
    let last: AttemptFailure | undefined;
    let attempts = 0;
    for (;;) {
      let endpoint = this.picker.pick(new Set([...tried, ...untrusted]), region);
      if (!endpoint && tried.size > 0) {
        // Every endpoint had its turn: go round again (after the backoff below) while time is left.
        tried.clear();
        endpoint = this.picker.pick(untrusted, region);
      }
      // None takes a request now (every circuit open, or untrusted): answer at once.
      if (!endpoint) break;
      tried.add(endpoint);
      attempts++;
      const outcome = await this.attempt(endpoint, frame.type, frame.batchId, body, frame.deadline);
      if ('frame' in outcome) {
        endpoint.breaker.success();
        // (Lease answers skip the queue: they say nothing of how long a search takes.)
        if (frame.type === 'search') this.answered(Date.now() - outcome.sentAt);
        return { frame: outcome.frame as AnswerTo<F>, endpoint: endpoint.url, attempts, sentAt: outcome.sentAt };
      }
      if (outcome.untrusted) {
        untrusted.add(endpoint);
        this.log.error(`pool ${endpoint.url} untrusted ${outcome.kind}`, `pool answer refused: ${outcome.message}`);
      } else {
        this.log.warn(`pool ${endpoint.url} ${outcome.kind}`, `pool attempt failed: ${outcome.message}`);
      }
      // A node that answered (overloaded, or refusing what any node would) is alive; an attempt
      // that never left says nothing and only hands back a probe it may hold.
      if (outcome.breaker) endpoint.breaker.failure();
      else if (outcome.status !== undefined) endpoint.breaker.success();
      else endpoint.breaker.release();
      // Running out of time says less than the failure that used the time up (an overloaded
      // pool whose last retry straddles the deadline is still an overloaded pool).
      if (outcome.expired && last !== undefined) break;
      last = outcome;
      const backoff = Math.max(outcome.retryAfterMs ?? 0, fullJitterBackoffMs(attempts - 1, this.opts.retryBaseMs, this.random));
      if (!outcome.retry || !this.retryCanSucceed(backoff, untrusted, frame.deadline)) break;
      if (backoff > 0) await this.sleep(backoff);
    }
    if (!last) throw allOpen(this.picker.waitMs(untrusted));
    throw failureToError(last, frame.deadline, this.picker.waitMs(untrusted));
  }

  private answered(ms: number): void {
    this.answerMs = this.answerMs === 0 ? ms : 0.8 * this.answerMs + 0.2 * ms;
  }

  /**
   * A retry is made only while it can still succeed: some endpoint takes a request now (not
   * every circuit open), and the backoff plus a typical answer fits before the deadline.
   */
  private retryCanSucceed(backoffMs: number, untrusted: ReadonlySet<TrackedEndpoint>, deadline: number): boolean {
    if (this.picker.waitMs(untrusted) > 0) return false;
    return Date.now() + backoffMs + this.answerMs < deadline;
  }

  private async attempt(endpoint: TrackedEndpoint, type: EdgeFrame['type'], batchId: string, body: Uint8Array, deadline: number): Promise<{ frame: ResultFrame | LeaseResultFrame; sentAt: number } | AttemptFailure> {
    const sentAt = Date.now();
    const remaining = deadline - sentAt;
    if (remaining <= 0) return { retry: false, breaker: false, expired: true, kind: 'expired', message: 'the deadline passed before the pool was asked' };
    // Each attempt is signed afresh; its answer must be bound to exactly these two headers.
    const signed = await signatureHeaders(this.opts.key, body);
    let res: Response;
    try {
      res = await this.fetch(new URL('/v1/batch', endpoint.url).href, {
        method: 'POST',
        // A lease names its class, so a saturated node answers it instead of shedding it unread.
        headers: { 'content-type': 'application/msgpack', ...frameClassHeader(type), ...signed },
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(remaining),
      });
    } catch (err) {
      const timeout = (err as Error).name === 'TimeoutError' || Date.now() >= deadline;
      if (timeout) return { retry: false, breaker: true, expired: true, kind: 'timeout', message: `${endpoint.url}: no answer before the deadline` };
      return { retry: true, breaker: true, kind: 'unreachable', message: `${endpoint.url}: ${(err as Error).message}` };
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      return { retry: true, breaker: true, status: res.status, kind: 'cut', message: `${endpoint.url}: connection lost while reading the answer: ${(err as Error).message}` };
    }
    const verdict = await verifyAnswer(this.opts.key, { timestamp: signed[TIMESTAMP_HEADER], signature: signed[SIGNATURE_HEADER] }, res.headers.get(ANSWER_SIGNATURE_HEADER), bytes);
    if (!verdict.ok) {
      // Retried elsewhere (another node may hold the key), but never the same node again.
      return { retry: true, breaker: true, untrusted: true, status: res.status, kind: 'unauthenticated', message: `${endpoint.url} answered HTTP ${res.status}, not authenticated: ${verdict.reason}` };
    }
    let reply;
    try {
      reply = decodeFrame(bytes);
    } catch (err) {
      return { retry: true, breaker: true, status: res.status, kind: 'unreadable', message: `${endpoint.url} answered HTTP ${res.status} with an unreadable body: ${(err as Error).message}` };
    }
    if ('batchId' in reply && reply.batchId !== undefined && reply.batchId !== batchId) {
      // Signed by a key holder, yet about another batch: a bug or a mix-up, and not this answer.
      return { retry: true, breaker: true, untrusted: true, status: res.status, kind: 'batch-mismatch', message: `${endpoint.url} answered batch ${JSON.stringify(reply.batchId)} to batch ${JSON.stringify(batchId)}` };
    }
    if (reply.type === ANSWER_TYPE[type]) return { frame: reply as ResultFrame | LeaseResultFrame, sentAt };
    if (reply.type !== 'error') return { retry: true, breaker: true, status: res.status, kind: 'wrong-frame', message: `${endpoint.url} answered a ${reply.type} frame to a ${type}` };
    const message = `${endpoint.url}: ${reply.code}: ${reply.message}`;
    const kind = `error-${reply.code}`;
    switch (reply.code) {
      case 'overloaded':
        return { retry: true, breaker: false, status: res.status, retryAfterMs: reply.retryAfterMs, kind, message };
      case 'not-ready':
      case 'internal':
        return { retry: true, breaker: true, status: res.status, kind, message };
      case 'deadline':
        return { retry: false, breaker: false, status: res.status, kind, message };
      default:
        // bad-frame, limit, too-large, unauthorized: the edge sent something another node
        // would refuse too (or holds the wrong key).
        return { retry: false, breaker: false, status: res.status, kind, message };
    }
  }
}

// These messages carry endpoint URLs and the pool's own words: they are for the edge's log.
// The API answers callers with a generic message (api/errors.ts).
function failureToError(f: AttemptFailure, deadline: number, waitMs: number): ApiError {
  if (f.untrusted) return new ApiError('bad_gateway', `the pool's answer was refused: ${f.message}`);
  if (f.status === 429) return new ApiError('pool_unavailable', `the pool is overloaded: ${f.message}`, undefined, Math.max(1, Math.ceil((f.retryAfterMs ?? 1000) / 1000)));
  if (f.expired || f.status === 504 || (f.status === undefined && Date.now() >= deadline)) {
    return new ApiError('deadline_exceeded', `the pool did not answer in time (${f.message})`);
  }
  if (f.status !== undefined && f.status >= 400 && f.status < 500) return new ApiError('bad_gateway', `the pool refused the edge's request: ${f.message}`);
  return new ApiError('pool_unavailable', `no pool endpoint answered: ${f.message}`, undefined, retryAfterS(waitMs));
}

function allOpen(waitMs: number): ApiError {
  return new ApiError('pool_unavailable', `every pool endpoint's circuit is open (the next may be tried in ${Math.round(waitMs)} ms)`, undefined, retryAfterS(waitMs));
}

/** Retry-After in whole seconds (at least 1) for a wait until an endpoint takes requests again. */
function retryAfterS(waitMs: number): number {
  return Number.isFinite(waitMs) ? Math.max(1, Math.ceil(waitMs / 1000)) : 1;
}
