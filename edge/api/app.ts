// The edge's HTTP API (Hono). Routes are chained so their types reach the typed client
// (`hc<EdgeApp>`); every input is validated with the zod schemas of shared/api.
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import {
  ApiError,
  ConversationSearchRequest,
  RecordResponseRequest,
  SearchRequest,
  type AdminHealthResponse,
  type AdminStatsResponse,
  type BatchResponse,
  type Conversation,
  type ConversationSearchResponse,
  type HealthResponse,
  type SearchResponse,
  type StoredTurn,
} from '../../shared/api/index.ts';
import { conversationTurn, type ConversationClient } from '../conversation/index.ts';
import { demoPage } from '../demo/index.ts';
import { mcpMethodNotAllowed, serveMcp } from '../mcp/index.ts';
import { openApiDocument } from '../openapi/index.ts';
import type { EdgeRuntime } from '../runtime/index.ts';
import type { SearchContext } from '../search/index.ts';
import { errorResponse, publicError } from './errors.ts';
import { callerRegion, limitBody, rateLimit, requireScope, withRuntime, type EdgeBindings } from './guards.ts';
import { REQUEST_ID_HEADER, requestHeaders } from './headers.ts';
import { jsonBody } from './json-body.ts';

function searchContext(c: Context<EdgeBindings>, startedAt: number): SearchContext {
  return { region: callerRegion(c), startedAt, waitUntil: (p) => c.executionCtx.waitUntil(p) };
}

/** The stored conversations, or a 500 (logged) when the CONVERSATIONS binding is missing. */
function conversations(c: Context<EdgeBindings>): ConversationClient {
  const client = c.var.runtime.conversations;
  if (!client) throw new Error('the CONVERSATIONS Durable Object binding is missing (wrangler.toml declares it)');
  return client;
}

/** A turn number from the path: a positive integer, else no such turn (404). */
function turnNumber(raw: string): number {
  const n = /^[1-9][0-9]{0,8}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new ApiError('not_found', `no turn ${JSON.stringify(raw)}: turns are numbered from 1`);
  return n;
}

/** Pool health; 503 when no router is ready. The endpoint list is for the admin view only. */
async function health(runtime: EdgeRuntime): Promise<{ body: AdminHealthResponse; status: 200 | 503 }> {
  const endpoints = await runtime.readiness.check();
  const ready = endpoints.filter((e) => e.ready).length;
  const lastSeen = runtime.lease.lastSeen;
  const body: AdminHealthResponse = {
    edge: 'ok',
    pool: ready === 0 ? 'down' : ready === endpoints.length ? 'ok' : 'degraded',
    ...(lastSeen ? { indexVersion: lastSeen } : {}),
    endpoints,
  };
  return { body, status: ready === 0 ? 503 : 200 };
}

export function createApp() {
  const app = new Hono<EdgeBindings>();
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, new ApiError('not_found', `no route for ${c.req.method} ${c.req.path}`)));
  // First, so that every response, errors included, carries the request id and the headers.
  app.use('*', requestHeaders);
  app.use('*', withRuntime);
  // Read per request: the allow-list is configuration, the middleware is built once.
  const allowedOrigin = (origin: string, c: Context) => {
    const allowed = (c as Context<EdgeBindings>).var.runtime.config.corsOrigins;
    return allowed.includes(origin) || allowed.includes('*') ? origin : null;
  };
  app.use(
    '/v1/*',
    cors({
      origin: allowedOrigin,
      allowHeaders: ['authorization', 'content-type'],
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['retry-after', REQUEST_ID_HEADER],
      maxAge: 600,
    }),
  );
  // Browser-based MCP clients, on the same allow-list: they send the protocol's version header.
  app.use(
    '/mcp',
    cors({
      origin: allowedOrigin,
      allowHeaders: ['authorization', 'content-type', 'mcp-protocol-version'],
      allowMethods: ['POST', 'OPTIONS'],
      exposeHeaders: ['retry-after', REQUEST_ID_HEADER],
      maxAge: 600,
    }),
  );
  // The API description is public and carries no credentials: any origin may read it (API
  // explorers hosted elsewhere).
  app.use('/openapi.json', cors({ origin: '*', allowMethods: ['GET', 'OPTIONS'], exposeHeaders: [REQUEST_ID_HEADER], maxAge: 600 }));

  const routes = app
    .get('/', async (c) => {
      const page = await demoPage();
      c.header('content-security-policy', page.csp);
      return c.html(page.html);
    })
    // The server is configuration (PUBLIC_ORIGIN), never the request's Host header: a document
    // cached or shown to others must not point them at a host an attacker named.
    .get('/openapi.json', (c) => {
      const { maxBatchQueries, publicOrigin, publicMode } = c.var.runtime.config;
      return c.json(openApiDocument({ maxBatchQueries, publicMode, ...(publicOrigin ? { origin: publicOrigin } : {}) }));
    })
    .get('/v1/health', async (c) => {
      const { body, status } = await health(c.var.runtime);
      const { endpoints: _, ...pub } = body;
      return c.json(pub satisfies HealthResponse, status);
    })
    // Only the POST routes read a body, so only they limit it (first: before any work).
    .post('/v1/search', limitBody, requireScope('search'), jsonBody(SearchRequest), async (c) => {
      const startedAt = performance.now();
      const req = c.req.valid('json');
      await rateLimit(c, 1);
      const body: SearchResponse = await c.var.runtime.search.search(req, searchContext(c, startedAt));
      return c.json(body, 200);
    })
    .post('/v1/search/batch', limitBody, requireScope('search'), jsonBody((c) => (c as Context<EdgeBindings>).var.runtime.batchRequest), async (c) => {
      const startedAt = performance.now();
      const { queries } = c.req.valid('json');
      await rateLimit(c, queries.length);
      const ctx = searchContext(c, startedAt);
      const settled = await Promise.allSettled(queries.map((q) => c.var.runtime.search.search(q, ctx)));
      const body: BatchResponse = { results: settled.map((s) => (s.status === 'fulfilled' ? s.value : publicError(s.reason, c.var.requestId).body())) };
      return c.json(body, 200);
    })
    // Stored conversations: each call costs a rate-limit token, as a search does.
    .post('/v1/conversations', limitBody, requireScope('search'), async (c) => {
      // Read whatever was sent: an unread body would leave the connection unusable for the
      // client's next request on it (keep-alive), and anything but {} is a mistake to name.
      const sent = (await c.req.text()).trim();
      if (sent !== '' && !/^\{\s*\}$/.test(sent)) throw new ApiError('bad_request', 'POST /v1/conversations takes no fields: send no body, or {}');
      await rateLimit(c, 1);
      const body: Conversation = await conversations(c).create(c.var.principal);
      return c.json(body, 201);
    })
    .get('/v1/conversations/:id', requireScope('search'), async (c) => {
      await rateLimit(c, 1);
      const body: Conversation = await conversations(c).get(c.req.param('id'), c.var.principal);
      return c.json(body, 200);
    })
    .delete('/v1/conversations/:id', requireScope('search'), async (c) => {
      await rateLimit(c, 1);
      await conversations(c).delete(c.req.param('id'), c.var.principal);
      return c.body(null, 204);
    })
    .post('/v1/conversations/:id/search', limitBody, requireScope('search'), jsonBody(ConversationSearchRequest), async (c) => {
      const startedAt = performance.now();
      const req = c.req.valid('json');
      await rateLimit(c, 1);
      const body: ConversationSearchResponse = await conversationTurn(conversations(c), c.var.runtime.search, c.req.param('id'), c.var.principal, req, searchContext(c, startedAt));
      return c.json(body, 200);
    })
    .put('/v1/conversations/:id/turns/:n/response', limitBody, requireScope('search'), jsonBody(RecordResponseRequest), async (c) => {
      const { response } = c.req.valid('json');
      await rateLimit(c, 1);
      const body: StoredTurn = await conversations(c).record(c.req.param('id'), c.var.principal, turnNumber(c.req.param('n')), response);
      return c.json(body, 200);
    })
    .get('/v1/admin/health', requireScope('admin'), async (c) => {
      const { body, status } = await health(c.var.runtime);
      return c.json(body, status);
    })
    .get('/v1/admin/stats', requireScope('admin'), (c) => {
      const { picker, batcher, coalescer, lease } = c.var.runtime;
      const body: AdminStatsResponse = { endpoints: picker.states(), batches: { ...batcher.stats }, coalesced: coalescer.coalesced, indexVersion: lease.lastSeen ?? null };
      return c.json(body, 200);
    })
    // MCP over Streamable HTTP (edge/mcp): a rate-limit token per request, and its tools call this app as the caller.
    .post('/mcp', requireScope('search'), async (c) => {
      await rateLimit(c, 1);
      return serveMcp(c, app);
    })
    .on(['GET', 'DELETE'], '/mcp', mcpMethodNotAllowed);
  return routes;
}

export type EdgeApp = ReturnType<typeof createApp>;
