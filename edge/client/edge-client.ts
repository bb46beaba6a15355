// A typed client of the edge's API for TypeScript users, on Hono's RPC client: request and
// response types come from the routes themselves (EdgeApp), so a change to the API is a type
// error in the caller. Errors come back as EdgeApiError with the API's code and field.
import { hc } from 'hono/client';
import type {
  AdminHealthResponse,
  AdminStatsResponse,
  BatchRequestInput,
  BatchResponse,
  Conversation,
  ConversationSearchRequestInput,
  ConversationSearchResponse,
  HealthResponse,
  SearchRequestInput,
  SearchResponse,
  StoredTurn,
} from '../../shared/api/index.ts';
import type { EdgeApp } from '../api/index.ts';

export class EdgeApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Seconds to wait before retrying (429, 503). */
    readonly retryAfterS?: number,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'EdgeApiError';
  }
}

export interface EdgeClientOptions {
  apiKey?: string;
  fetch?: typeof fetch;
}

async function unwrap<T>(res: Response): Promise<T> {
  if (res.ok) return (await res.json()) as T;
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string; field?: string } } | undefined;
  const retryAfter = res.headers.get('retry-after');
  throw new EdgeApiError(res.status, body?.error?.code ?? 'http_error', body?.error?.message ?? res.statusText, body?.error?.field, retryAfter ? Number(retryAfter) : undefined);
}

export function createEdgeClient(baseUrl: string, opts: EdgeClientOptions = {}) {
  const rpc = hc<EdgeApp>(baseUrl, { headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  return {
    /** The raw Hono client (typed routes), for what the helpers below do not cover. */
    rpc,
    search: async (req: SearchRequestInput): Promise<SearchResponse> => unwrap(await rpc.v1.search.$post({ json: req })),
    searchBatch: async (req: BatchRequestInput): Promise<BatchResponse> => unwrap(await rpc.v1.search.batch.$post({ json: req })),
    /** Health answers 503 with a body when the pool is down; both are returned, not thrown. */
    health: async (): Promise<HealthResponse> => {
      const res = await rpc.v1.health.$get();
      if (res.status === 200 || res.status === 503) return (await res.json()) as HealthResponse;
      return unwrap(res);
    },
    /** Health with every pool router and its state (needs a key with the admin scope). */
    adminHealth: async (): Promise<AdminHealthResponse> => {
      const res = await rpc.v1.admin.health.$get();
      if (res.status === 200 || res.status === 503) return (await res.json()) as AdminHealthResponse;
      return unwrap(res);
    },
    /** This isolate's counters: circuit states, frames, coalesced requests (admin scope). */
    adminStats: async (): Promise<AdminStatsResponse> => unwrap(await rpc.v1.admin.stats.$get()),
    /** Stored conversations: the history is kept at the edge, each turn searched with the turns before it. */
    conversations: {
      create: async (): Promise<Conversation> => unwrap(await rpc.v1.conversations.$post()),
      get: async (id: string): Promise<Conversation> => unwrap(await rpc.v1.conversations[':id'].$get({ param: { id } })),
      search: async (id: string, req: ConversationSearchRequestInput): Promise<ConversationSearchResponse> =>
        unwrap(await rpc.v1.conversations[':id'].search.$post({ param: { id }, json: req })),
      recordResponse: async (id: string, turn: number, response: string): Promise<StoredTurn> =>
        unwrap(await rpc.v1.conversations[':id'].turns[':n'].response.$put({ param: { id, n: String(turn) }, json: { response } })),
      delete: async (id: string): Promise<void> => {
        const res = await rpc.v1.conversations[':id'].$delete({ param: { id } });
        if (res.status !== 204) await unwrap(res);
      },
    },
  };
}
export type EdgeClient = ReturnType<typeof createEdgeClient>;
