// POST /mcp: the edgesearch MCP server (search, answer, conversation_search) over Streamable
// HTTP, stateless: every request gets a server and a transport of its own, answered as JSON, so
// any isolate can serve any request. The route's guards authenticate the caller and take one
// rate-limit token per request; the tools then call this edge's own API in-process, as the caller
// (its Authorization and CF-Connecting-IP), so each search a tool makes is keyed, rate-limited,
// cached and stored exactly as the same call made directly.
import { createClient } from '@edgesearch/client';
import { createMcpServer } from '@edgesearch/client/mcp';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import type { Context, ExecutionContext } from 'hono';
import type { EdgeBindings } from '../api/guards.ts';

/** The largest /mcp body: a tools/call carries one search (a few KiB) or a small batch of them. */
export const MCP_MAX_BODY_BYTES = 64 * 1024;

/** The part of the Hono app the tools call: its fetch. */
interface InProcessApp {
  fetch(request: Request, env?: EdgeBindings['Bindings'], executionCtx?: ExecutionContext): Response | Promise<Response>;
}

/** The request's execution context (waitUntil for cache writes), when it has one (workerd always does). */
function executionContext(c: Context<EdgeBindings>): ExecutionContext | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

/**
 * A fetch that hands each request to `app` in this isolate, with the caller's credentials and
 * address in place of whatever the client set: the API sees the caller, not the MCP server.
 */
function callerFetch(c: Context<EdgeBindings>, app: InProcessApp): typeof fetch {
  const authorization = c.req.header('authorization');
  const ip = c.req.header('cf-connecting-ip');
  const cf = (c.req.raw as Request & { cf?: unknown }).cf;
  const ctx = executionContext(c);
  return async (input, init) => {
    const request = new Request(input, init);
    const headers = new Headers(request.headers);
    for (const [name, value] of [['authorization', authorization], ['cf-connecting-ip', ip]] as const) {
      if (value === undefined) headers.delete(name);
      else headers.set(name, value);
    }
    // `cf` (the caller's continent, for endpoint preference) is a workerd extension of RequestInit.
    return app.fetch(new Request(request, { headers, ...(cf ? { cf } : {}) } as RequestInit), c.env, ctx);
  };
}

/** Answers one MCP request (JSON-RPC message or batch) with a fresh server. */
export async function serveMcp(c: Context<EdgeBindings>, app: InProcessApp): Promise<Response> {
  // The origin is only the base of the URLs the client builds: the requests never leave the isolate.
  // No retries: a 429 goes back to the agent as a tool error naming Retry-After, not a wait here.
  const client = createClient({ endpoint: new URL(c.req.url).origin, fetch: callerFetch(c, app), retry: false });
  // ajv, the SDK's default validator, generates code, which workerd forbids.
  const server = createMcpServer(client, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize: MCP_MAX_BODY_BYTES });
  await server.connect(transport);
  try {
    return await transport.handleRequest(c.req.raw);
  } finally {
    await server.close();
  }
}

/** GET and DELETE /mcp: a stateless server has no stream to open and no session to end (MCP: 405). */
export function mcpMethodNotAllowed(): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; send JSON-RPC messages with POST.' }, id: null }), {
    status: 405,
    headers: { allow: 'POST', 'content-type': 'application/json' },
  });
}
