// The desktop-agent configuration of examples/mcp, run as an agent runs it: the command and
// arguments of its mcpServers entry, exactly, with the repository's path, the test stack's
// endpoint and key put in for the placeholders, started from a directory outside the repository
// (agents start servers from theirs) through the MCP SDK's stdio client.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@edgesearch/client';
import { startChatbotStack, type ChatbotStack } from '../../test/chatbot/stack.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const CONFIG = JSON.parse(readFileSync(new URL('./claude_desktop_config.json', import.meta.url), 'utf8')) as {
  mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }>;
};
const PLACEHOLDERS = { repo: '/path/to/edgesearch', endpoint: 'http://127.0.0.1:8787', key: 'YOUR_KEY' };

let stack: ChatbotStack;
let mcp: Client | undefined;

beforeAll(async () => {
  stack = await startChatbotStack();
});
afterAll(async () => {
  await mcp?.close();
  await stack?.stop();
});

describe('examples/mcp/claude_desktop_config.json', () => {
  const entry = CONFIG.mcpServers.edgesearch;

  it('runs `edgesearch mcp` of this repository against the edge `npm start` serves', () => {
    expect(Object.keys(CONFIG.mcpServers)).toEqual(['edgesearch']);
    // node and the checkout's bin, not npx: npx would first install the checkout into its cache
    // and run its install script.
    expect(entry.command).toBe('node');
    expect(entry.args).toEqual([`${PLACEHOLDERS.repo}/bin/edgesearch.js`, 'mcp', '--endpoint', PLACEHOLDERS.endpoint, '--key', PLACEHOLDERS.key]);
    const port = /intEnv\('EDGE_PORT', (\d+)/.exec(readFileSync(`${REPO}/scripts/start.mjs`, 'utf8'))?.[1];
    expect(PLACEHOLDERS.endpoint).toBe(`http://127.0.0.1:${port}`);
  });

  it('started as written (placeholders filled in, from outside the repository), lists the tools and searches', async () => {
    const fill: [string, string][] = [
      [PLACEHOLDERS.repo, REPO],
      [PLACEHOLDERS.endpoint, stack.edge.url],
      [PLACEHOLDERS.key, stack.key.key],
    ];
    const args = entry.args.map((a) => fill.reduce((arg, [placeholder, value]) => arg.replaceAll(placeholder, value), a));
    mcp = new Client({ name: 'desktop-agent', version: '1' });
    await mcp.connect(new StdioClientTransport({ command: entry.command, args, ...(entry.env ? { env: entry.env } : {}), cwd: tmpdir(), stderr: 'ignore' }));
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['answer', 'conversation_search', 'search']);
    const query = 'statins and dementia risk';
    const result = (await mcp.callTool({ name: 'search', arguments: { query, mode: 'bm25', k: 3 } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const direct = await createClient({ endpoint: stack.edge.url, apiKey: stack.key.key }).search({ query, mode: 'bm25', k: 3 });
    const hits = (result.structuredContent as { hits: { docId: string; rank: number }[] }).hits;
    expect(hits.map((h) => [h.rank, h.docId])).toEqual(direct.hits.map((h) => [h.rank, h.docId]));
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    expect(text).toContain(`[1] ${direct.hits[0].title || '(untitled)'} (doc ${direct.hits[0].docId}`);
  });
});
