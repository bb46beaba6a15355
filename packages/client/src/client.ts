// The edgesearch client: one method per API operation, over the platform's fetch (Node 18+,
// Workers, browsers). Error answers become EdgeSearchError; 429 and 503 are retried as the
// API's Retry-After says (retry.ts).
import { EdgeSearchConnectionError, EdgeSearchError } from './errors.js';
import { OPERATIONS, type OperationId } from './operations.js';
import { retryDelayMs, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from './retry.js';
import type {
  AdminHealth,
  AdminStats,
  BatchRequest,
  BatchResponse,
  Conversation,
  ConversationSearchRequest,
  ConversationSearchResponse,
  ErrorCode,
  Health,
  SearchParams,
  SearchRequest,
  SearchResponse,
  StoredTurn,
} from './types.js';

export interface ClientOptions {
  /** The edge's base URL, e.g. `https://search.example.com` (a path prefix is kept). */
  endpoint: string;
  /** An API key, sent as `Authorization: Bearer <key>` (omit in public mode). */
  apiKey?: string;
  /** Retries of 429 and 503 answers (default: 2 retries, 200 ms base, 10 s at most); false: none. */
  retry?: RetryOptions | false;
  /** Milliseconds an attempt may take before it is aborted (default 30 s; 0: no limit). */
  timeoutMs?: number;
  /** The fetch to use (default: the global one), e.g. a service binding's in a worker. */
  fetch?: typeof fetch;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

export interface CallOptions {
  /** Aborts the call, retries and waits between them included. */
  signal?: AbortSignal;
}

/** A phrase-mode search: answer phrases, each with its evidence passage and span. */
export interface AnswerRequest {
  query: string;
  k?: number;
  /** phrase (default), sentence, passage or document: what a hit is. */
  unit?: NonNullable<SearchParams['unit']>;
  params?: Omit<SearchParams, 'unit'>;
  cache?: boolean;
  context?: SearchRequest['context'];
}

interface Call {
  id: OperationId;
  path?: Record<string, string | number>;
  body?: unknown;
  /** Statuses that are answers, not errors (health's 503). */
  okStatuses?: readonly number[];
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

function isErrorBody(x: unknown): x is { error: { code: ErrorCode; message: string; field?: string } } {
  const e = (x as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof e?.code === 'string' && typeof e.message === 'string';
}

/** Retry-After as seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

export class EdgeSearchClient {
  readonly endpoint: string;
  private readonly apiKey?: string;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(opts: ClientOptions) {
    const url = URL.canParse(opts.endpoint) ? new URL(opts.endpoint) : undefined;
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
      throw new TypeError(`endpoint must be an absolute http(s) URL such as https://search.example.com, not ${JSON.stringify(opts.endpoint)}`);
    }
    this.endpoint = url.href.replace(/\/+$/, '');
    if (opts.apiKey !== undefined) this.apiKey = opts.apiKey;
    this.policy = retryPolicy(opts.retry);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Bound: a detached `fetch` throws "Illegal invocation" in browsers and workerd.
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = { ...opts.headers };
  }

  /** Top-k hits for one query (mode hybrid unless set). */
  search(req: SearchRequest, opts: CallOptions = {}): Promise<SearchResponse> {
    return this.call({ id: 'search', body: req, ...opts });
  }

  /** Several queries in one request; each result is a response or that query's error. */
  searchBatch(req: BatchRequest | SearchRequest[], opts: CallOptions = {}): Promise<BatchResponse> {
    return this.call({ id: 'searchBatch', body: Array.isArray(req) ? { queries: req } : req, ...opts });
  }

  /** Phrase answers (mode phrase): each hit's `span` is the answer inside its evidence passage `text`. */
  answer(req: AnswerRequest, opts: CallOptions = {}): Promise<SearchResponse> {
    const { unit, params, ...rest } = req;
    const merged = unit === undefined ? params : { ...params, unit };
    return this.search({ ...rest, mode: 'phrase', ...(merged ? { params: merged } : {}) }, opts);
  }

  /** Edge and pool status; a pool that is down is an answer (`pool: "down"`), not an error. */
  health(opts: CallOptions = {}): Promise<Health> {
    return this.call({ id: 'health', okStatuses: [503], ...opts });
  }

  /** Health with every pool router (a key with the admin scope). */
  adminHealth(opts: CallOptions = {}): Promise<AdminHealth> {
    return this.call({ id: 'adminHealth', okStatuses: [503], ...opts });
  }

  /** This edge isolate's counters (a key with the admin scope). */
  adminStats(opts: CallOptions = {}): Promise<AdminStats> {
    return this.call({ id: 'adminStats', ...opts });
  }

  /** Stored conversations: the edge keeps the turns and searches each with the turns before it. */
  readonly conversations = {
    create: (opts: CallOptions = {}): Promise<Conversation> => this.call({ id: 'createConversation', ...opts }),
    get: (id: string, opts: CallOptions = {}): Promise<Conversation> => this.call({ id: 'getConversation', path: { id }, ...opts }),
    search: (id: string, req: ConversationSearchRequest, opts: CallOptions = {}): Promise<ConversationSearchResponse> =>
      this.call({ id: 'conversationSearch', path: { id }, body: req, ...opts }),
    /** Records what was answered to turn `turn`, read by later turns under policy concat+responses. */
    recordResponse: (id: string, turn: number, response: string, opts: CallOptions = {}): Promise<StoredTurn> =>
      this.call({ id: 'recordResponse', path: { id, n: turn }, body: { response }, ...opts }),
    delete: async (id: string, opts: CallOptions = {}): Promise<void> => {
      await this.call({ id: 'deleteConversation', path: { id }, ...opts });
    },
  };

  private url(id: OperationId, path: Record<string, string | number> = {}): string {
    const template: string = OPERATIONS[id].path;
    return (
      this.endpoint +
      template.replace(/\{(\w+)\}/g, (_, name: string) => {
        const value = path[name];
        if (value === undefined || String(value) === '') throw new TypeError(`${id}: the path parameter ${name} is missing`);
        return encodeURIComponent(String(value));
      })
    );
  }

  private async call<T>(call: Call): Promise<T> {
    const { method } = OPERATIONS[call.id];
    const url = this.url(call.id, call.path);
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    for (let attempt = 1; ; attempt++) {
      const res = await this.send(call, url, { method, headers, ...(body !== undefined ? { body } : {}) });
      if (res.ok || call.okStatuses?.includes(res.status)) {
        if (res.status === 204) return undefined as T;
        return (await res.json()) as T;
      }
      const error = await this.errorOf(call.id, res);
      const delay = error.retryable && error.retryAfterS !== undefined ? retryDelayMs(this.policy, attempt, error.retryAfterS) : undefined;
      if (delay === undefined) throw error;
      try {
        await sleep(delay, call.signal);
      } catch (reason) {
        throw new EdgeSearchConnectionError(call.id, 'aborted while waiting to retry', { cause: reason });
      }
    }
  }

  private async send(call: Call, url: string, init: RequestInit): Promise<Response> {
    const signals = [call.signal, this.timeoutMs > 0 ? AbortSignal.timeout(this.timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    try {
      return await this.fetchImpl(url, { ...init, ...(signal ? { signal } : {}) });
    } catch (cause) {
      const why = signal?.aborted ? (call.signal?.aborted ? 'aborted' : `no answer within ${this.timeoutMs} ms`) : `${init.method} ${url} failed: ${(cause as Error)?.message ?? String(cause)}`;
      throw new EdgeSearchConnectionError(call.id, why, { cause });
    }
  }

  private async errorOf(id: OperationId, res: Response): Promise<EdgeSearchError> {
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const retryAfterS = parseRetryAfter(res.headers.get('retry-after'));
    const requestId = res.headers.get('x-request-id') ?? undefined;
    if (isErrorBody(parsed)) return new EdgeSearchError(id, res.status, parsed.error.code, parsed.error.message, parsed.error.field, retryAfterS, requestId);
    return new EdgeSearchError(id, res.status, 'http_error', text.slice(0, 200) || res.statusText || `HTTP ${res.status}`, undefined, retryAfterS, requestId);
  }
}

/** A client of the edgesearch API at `endpoint`. */
export function createClient(opts: ClientOptions): EdgeSearchClient {
  return new EdgeSearchClient(opts);
}
