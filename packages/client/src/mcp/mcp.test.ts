// The MCP server through the SDK's own client, on both transports, against a real local stack (a
// pool node on the SciFact fixture behind the edge in workerd, and a phrase index behind a second
// edge): over stdio (`edgesearch mcp`, the repository CLI, as a desktop agent starts it) and over
// Streamable HTTP at the edge's own /mcp. The tools answer what the API answers for the same
// request, API errors and bad arguments are tool errors, and /mcp is keyed and rate-limited as
// the API is (its tools' calls included).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type EdgeSearchClient } from '@edgesearch/client';
import { startChatbotStack, type ChatbotStack } from '../../../../test/chatbot/stack.ts';
import { CLI, runNode, type CliResult } from '../../../../test/cli.ts';
import { REPO_ROOT } from '../../../../test/fixtures.ts';
import { expectRuntimeNeutral } from '../../../../test/runtime-neutral.ts';
import { MODES, UNITS } from './index.js';

const PACKAGE_BIN = join(REPO_ROOT, 'packages', 'client', 'src', 'mcp', 'cli.ts');
const QUERY = 'statins and dementia risk';
const PHRASE_QUERY = 'alpha beta';

type Transport = 'stdio' | 'http';
type ToolResult = CallToolResult & { structuredContent?: Record<string, any> };

let stack: ChatbotStack;
const clients: Client[] = [];

/** An MCP client of the edge at `url`: `edgesearch mcp` on stdio (flags, or env), or the edge's /mcp. */
async function connect(transport: Transport, url: string, key: string, opts: { viaEnv?: boolean } = {}): Promise<Client> {
  const client = new Client({ name: 'mcp-test', version: '1' });
  if (transport === 'stdio') {
    const args = opts.viaEnv ? [CLI, 'mcp'] : [CLI, 'mcp', '--endpoint', url, '--key', key];
    const env: Record<string, string> = opts.viaEnv ? { EDGESEARCH_ENDPOINT: url, EDGESEARCH_API_KEY: key } : {};
    await client.connect(new StdioClientTransport({ command: process.execPath, args, env, cwd: REPO_ROOT, stderr: 'ignore' }));
  } else {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  }
  clients.push(client);
  return client;
}

const text = (r: ToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as ToolResult;
/** The hits as the tools' structuredContent carries them. */
const toolHits = (hits: { rank: number; docId: string; title: string; text: string; score: number; span?: unknown }[]) =>
  hits.map((h) => ({ rank: h.rank, docId: h.docId, title: h.title, text: h.text, score: h.score, ...(h.span ? { span: h.span } : {}) }));

beforeAll(async () => {
  stack = await startChatbotStack({ phrase: true });
}, 300_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await stack?.stop();
});

describe.each<Transport>(['stdio', 'http'])('the MCP server over %s', (transport) => {
  let mcp: Client;
  let phrase: Client;
  let api: EdgeSearchClient;

  beforeAll(async () => {
    // The phrase edge's server takes its settings from the environment (stdio), the other from flags.
    [mcp, phrase] = await Promise.all([connect(transport, stack.edge.url, stack.key.key), connect(transport, stack.phrase!.edge.url, stack.key.key, { viaEnv: true })]);
    // Listing the tools makes the client check each result's structuredContent against its outputSchema.
    await Promise.all([mcp.listTools(), phrase.listTools()]);
    api = createClient({ endpoint: stack.edge.url, apiKey: stack.key.key });
  }, 120_000);

  it('lists search, answer and conversation_search with their input and output schemas', async () => {
    const { tools } = await mcp.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['answer', 'conversation_search', 'search']);
    const search = byName.search.inputSchema as any;
    expect(search.required).toEqual(['query']);
    expect(search.additionalProperties).toBe(false);
    expect(search.properties.mode.enum).toEqual([...MODES]);
    expect(search.properties.k).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(search.properties.unit.enum).toEqual([...UNITS]);
    expect(Object.keys(search.properties).sort()).toEqual(['context', 'k', 'mode', 'query', 'rerank', 'unit']);
    expect(Object.keys((byName.answer.inputSchema as any).properties).sort()).toEqual(['k', 'query', 'unit']);
    const conv = byName.conversation_search.inputSchema as any;
    expect(Object.keys(conv.properties).sort()).toEqual(['conversation', 'k', 'mode', 'query', 'record']);
    expect(conv.properties.conversation.pattern).toBe('^c_[A-Za-z0-9_-]{32}$');
    expect(conv.properties.record.enum).toEqual(['top']);
    for (const t of tools) expect((t.outputSchema as any).required, t.name).toEqual(expect.arrayContaining(['query', 'mode', 'indexVersion', 'hits']));
    expect((byName.conversation_search.outputSchema as any).required).toEqual(expect.arrayContaining(['conversation', 'turn']));
    expect(byName.search.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.conversation_search.annotations).toMatchObject({ readOnlyHint: false });
  });

  it('search: the hits the API answers for the same request, as citable text and structuredContent, through the API (its cache)', async () => {
    for (const mode of ['bm25', 'dense', 'hybrid'] as const) {
      const query = `${QUERY} (${transport} ${mode})`; // not asked before: the tool's call fills the cache
      const result = await call(mcp, 'search', { query, mode, k: 4 });
      expect(result.isError, text(result)).toBeFalsy();
      const direct = await api.search({ query, mode, k: 4 });
      // The tool's search was an API request like this one: this one is answered from its cache entry.
      expect(direct.cached, mode).toBe(true);
      expect(result.structuredContent).toEqual({ query: direct.query, mode, indexVersion: direct.indexVersion, hits: toolHits(direct.hits) });
      expect(direct.hits).toHaveLength(4);
      const cited = text(result);
      direct.hits.forEach((h, i) => expect(cited).toContain(`[${i + 1}] ${h.title || '(untitled)'} (doc ${h.docId}, score ${h.score.toFixed(4)})`));
    }
    // Defaults: mode hybrid (the API's), k 5 (the server's).
    const defaults = await call(mcp, 'search', { query: QUERY });
    expect(defaults.structuredContent).toMatchObject({ mode: 'hybrid' });
    expect(defaults.structuredContent!.hits).toHaveLength(5);
  });

  it('answer: phrase answers whose span is text.slice(start, end) of the evidence passage, as the API answers them', async () => {
    const phraseApi = createClient({ endpoint: stack.phrase!.edge.url, apiKey: stack.key.key });
    for (const unit of [undefined, 'sentence'] as const) {
      const result = await call(phrase, 'answer', { query: PHRASE_QUERY, k: 3, ...(unit ? { unit } : {}) });
      expect(result.isError, text(result)).toBeFalsy();
      const out = result.structuredContent!;
      expect(out.mode).toBe('phrase');
      expect(out.hits.length).toBeGreaterThanOrEqual(1);
      for (const h of out.hits) {
        expect(h.span, h.docId).toBeDefined();
        expect(h.span.text).toBe(h.text.slice(h.span.start, h.span.end));
        expect(h.span.end).toBeGreaterThan(h.span.start);
        expect(text(result)).toContain(`Answer: ${h.span.text}`);
      }
      const direct = await phraseApi.answer({ query: PHRASE_QUERY, k: 3, ...(unit ? { unit } : {}) });
      expect(out.hits).toEqual(toolHits(direct.hits));
    }
  });

  it('conversation_search: starts a conversation and names it; the id continues it as turn 2; the edge stored both turns', async () => {
    const first = await call(mcp, 'conversation_search', { query: `${QUERY} ${transport}`, mode: 'bm25', k: 3 });
    expect(first.isError, text(first)).toBeFalsy();
    const id = first.structuredContent!.conversation as string;
    expect(id).toMatch(/^c_[A-Za-z0-9_-]{32}$/);
    expect(first.structuredContent!.turn).toBe(1);
    expect(text(first)).toContain(`Conversation ${id}, turn 1`);
    const second = await call(mcp, 'conversation_search', { query: 'what about cognitive decline?', conversation: id, mode: 'bm25', k: 2, record: 'top' });
    expect(second.isError, text(second)).toBeFalsy();
    expect(second.structuredContent).toMatchObject({ conversation: id, turn: 2, mode: 'bm25' });
    expect(second.structuredContent!.hits).toHaveLength(2);
    expect(text(second)).toContain(`Conversation ${id}, turn 2`);
    // Stored under the caller's key: the same key reads it back.
    const stored = await api.conversations.get(id);
    expect(stored.turns.map((t) => [t.turn, t.query])).toEqual([
      [1, `${QUERY} ${transport}`],
      [2, 'what about cognitive decline?'],
    ]);
    expect(stored.turns[0].response).toBeUndefined();
    // record: "top" stored the best passage (cut to the conversation's limits) as turn 2's response.
    expect(stored.turns[1].response!.length).toBeGreaterThan(0);
    expect(second.structuredContent!.hits[0].text.startsWith(stored.turns[1].response!)).toBe(true);
  });

  it('bad arguments are tool errors saying what is wrong, not protocol errors', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['search', { query: 'x', k: 0 }, /k/],
      ['search', { query: 'x', k: 101 }, /k/],
      ['search', { query: 'x', mode: 'sparse' }, /mode/],
      ['search', { query: 'x', nprobe: 3 }, /nprobe/],
      ['search', { query: '   ' }, /query/],
      ['search', {}, /query/],
      ['answer', { query: 'x', unit: 'paragraph' }, /unit/],
      ['conversation_search', { query: 'x', conversation: 'not-an-id' }, /conversation/],
      ['conversation_search', { query: 'x', record: 'all' }, /record/],
    ];
    for (const [name, args, field] of cases) {
      const result = await call(mcp, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(text(result)).toMatch(/Input validation error: Invalid arguments for tool/);
      expect(text(result), `${name} ${JSON.stringify(args)}`).toMatch(field);
      expect(result.structuredContent).toBeUndefined();
    }
  });

  it('API errors are tool errors naming the status, code, field and message', async () => {
    // The SciFact index holds dense + bm25: the API refuses colbert and phrase with a 400 naming the mode.
    const colbert = await call(mcp, 'search', { query: QUERY, mode: 'colbert' });
    expect(colbert.isError).toBe(true);
    expect(text(colbert)).toMatch(/^edgesearch API error 400 bad_request, field mode: mode: index \S+ cannot answer mode "colbert"/);
    const answer = await call(mcp, 'answer', { query: QUERY });
    expect(answer.isError).toBe(true);
    expect(text(answer)).toMatch(/400 bad_request, field mode: .*cannot answer mode "phrase"/);
    // A query longer than the API's 1,024 characters (JSON Schema cannot count them as the API does).
    const long = await call(mcp, 'search', { query: '😀'.repeat(1025) });
    expect(text(long)).toBe('edgesearch API error 400 bad_request, field query: query: must be at most 1024 characters');
    // A conversation that does not exist (or is another key's).
    const missing = await call(mcp, 'conversation_search', { query: 'x', conversation: `c_${'A'.repeat(32)}` });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toMatch(/^edgesearch API error 404 not_found: /);
  });
});

describe('invalid keys', () => {
  it('over stdio: the server starts, and each tool call is a tool error naming 401 unauthorized', async () => {
    const mcp = await connect('stdio', stack.edge.url, 'es_not_a_key');
    const result = await call(mcp, 'search', { query: QUERY });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^edgesearch API error 401 unauthorized: /);
  });

  it('over /mcp: the HTTP answer is the API’s 401, and the SDK client cannot connect', async () => {
    const refused = new Client({ name: 'mcp-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${stack.edge.url}/mcp`), { requestInit: { headers: { authorization: 'Bearer es_not_a_key' } } });
    await expect(refused.connect(transport)).rejects.toMatchObject({ code: 401, message: expect.stringContaining('unauthorized') });
    const res = await mcpPost(null, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  });
});

/** A raw JSON-RPC POST to the edge's /mcp, as a Streamable HTTP client sends it. */
function mcpPost(key: string | null, message: unknown, init: { body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${stack.edge.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(key ? { authorization: `Bearer ${key}` } : {}), ...init.headers },
    body: init.body ?? JSON.stringify(message),
  });
}

describe('the /mcp endpoint', () => {
  it('takes a rate-limit token per request, and each API call of a tool takes its own as the caller: then 429', async () => {
    // The tight key's bucket holds 2 tokens and refills one every 100 s.
    const list = await mcpPost(stack.tightKey.key, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(list.status).toBe(200);
    expect((await list.json()).result.tools).toHaveLength(3);
    // The second token admits this request; the search the tool makes finds the bucket empty.
    const searched = await mcpPost(stack.tightKey.key, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search', arguments: { query: QUERY } } });
    expect(searched.status).toBe(200);
    const { result } = await searched.json();
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/^edgesearch API error 429 rate_limited: .*\(retry after \d+ s\)$/);
    const refused = await mcpPost(stack.tightKey.key, { jsonrpc: '2.0', id: 3, method: 'tools/list' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await refused.json()).error.code).toBe('rate_limited');
    const client = new Client({ name: 'mcp-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${stack.edge.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${stack.tightKey.key}` } } });
    await expect(client.connect(transport)).rejects.toMatchObject({ code: 429 });
  });

  it('answers browsers on the CORS allow-list: the preflight admits the MCP headers, answers carry the origin', async () => {
    const origin = 'https://agent.example';
    const preflight = await fetch(`${stack.edge.url}/mcp`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,mcp-protocol-version' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-headers')?.split(',')).toEqual(expect.arrayContaining(['authorization', 'content-type', 'mcp-protocol-version']));
    const res = await mcpPost(stack.key.key, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-expose-headers')).toContain('retry-after');
    await res.arrayBuffer();
  });

  it('is stateless: POST only (GET and DELETE answer 405), JSON answers, no session id; bodies over 64 KiB are refused', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${stack.edge.url}/mcp`, { method, headers: { accept: 'text/event-stream', authorization: `Bearer ${stack.key.key}` } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      await res.arrayBuffer();
    }
    const init = await mcpPost(stack.key.key, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toMatch(/^application\/json/);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    expect(init.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await init.json()).result.serverInfo.name).toBe('edgesearch');
    const big = await mcpPost(stack.key.key, null, { body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search', arguments: { query: 'x'.repeat(70_000) } } }) });
    expect(big.status).toBe(413);
    await big.arrayBuffer();
  });
});

describe('the stdio commands', () => {
  /** Runs `node args` with stdin `input` (then closed), without the EDGESEARCH_ settings of this environment. */
  function run(args: string[], input: string, env: Record<string, string> = {}): Promise<CliResult> {
    const { EDGESEARCH_ENDPOINT: _endpoint, EDGESEARCH_API_KEY: _key, ...base } = process.env;
    return runNode(args, { env: { ...base, ...env }, stdin: input });
  }

  it('without an endpoint exit with status 2, saying how to give one, and write nothing to stdout', async () => {
    for (const args of [[CLI, 'mcp', '--key', 'k'], ['--import', 'tsx', PACKAGE_BIN, '--key', 'k']]) {
      const { code, stdout, stderr } = await run(args, '');
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/no endpoint: pass --endpoint URL .* or set EDGESEARCH_ENDPOINT/);
    }
  });

  it('write only JSON-RPC messages to stdout, log to stderr, and exit 0 when stdin ends', async () => {
    const messages = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ];
    const input = messages.map((m) => `${JSON.stringify(m)}\n`).join('');
    for (const [args, env] of [
      [['--import', 'tsx', PACKAGE_BIN], { EDGESEARCH_ENDPOINT: 'http://127.0.0.1:9' }],
      [[CLI, 'mcp', '--endpoint', 'http://127.0.0.1:9'], {}],
    ] as const) {
      const { code, stdout, stderr } = await run([...args], input, env);
      expect(code, stderr).toBe(0);
      const lines = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.jsonrpc, l.id])).toEqual([
        ['2.0', 1],
        ['2.0', 2],
      ]);
      expect(lines[1].result.tools.map((t: { name: string }) => t.name).sort()).toEqual(['answer', 'conversation_search', 'search']);
      expect(stderr).toContain('edgesearch MCP server on stdio, searching http://127.0.0.1:9 without an API key');
    }
  });
});

describe('the server module', () => {
  it('is runtime-neutral (the edge worker bundles it); the stdio entry is not imported by it', () => {
    const neutral = ['index.ts', 'server.ts', 'schemas.ts', 'results.ts'];
    const sdk = ['@modelcontextprotocol/sdk/server/mcp.js', '@modelcontextprotocol/sdk/types.js', '@modelcontextprotocol/sdk/validation'];
    for (const file of neutral) {
      const code = readFileSync(join(REPO_ROOT, 'packages', 'client', 'src', 'mcp', file), 'utf8');
      expectRuntimeNeutral(file, code, (spec) => (spec.startsWith('./') && !spec.includes('stdio')) || spec === '../index.js' || spec === 'zod/v4' || sdk.includes(spec));
    }
  });
});
