// The edgesearch MCP server: three tools over an EdgeSearchClient. Runtime-neutral (Web APIs
// only): the edge worker serves it at /mcp, and the stdio entry (stdio/) runs it in Node.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';
import { API_VERSION, type CitationOptions, type EdgeSearchClient, type SearchRequest } from '../index.js';
import { apiToolError, conversationResult, searchResult } from './results.js';
import { answerInput, conversationSearchInput, conversationSearchOutput, searchInput, searchOutput } from './schemas.js';

export interface EdgeSearchMcpOptions {
  /** Hits when the model does not say how many (default 5: each hit is a whole passage in its context). */
  defaultK?: number;
  /** How passages are cut in the text the model reads (structuredContent keeps them whole). */
  citation?: CitationOptions;
  /** The name and version the server announces (default `edgesearch`, the API version). */
  name?: string;
  version?: string;
  /**
   * The JSON Schema validator the server uses (default: the SDK's, ajv). In Workers pass
   * `new CfWorkerJsonSchemaValidator()` (module @modelcontextprotocol/sdk/validation/cfworker):
   * ajv compiles schemas into code at run time, which workerd forbids.
   */
  jsonSchemaValidator?: jsonSchemaValidator;
}

/** The names of the tools, as clients list them. */
export const TOOL_NAMES = ['search', 'answer', 'conversation_search'] as const;

const INSTRUCTIONS =
  'edgesearch searches a document collection. Use search for passages about a question, answer for short answers with their evidence (phrase indexes), and conversation_search for follow-up questions that depend on earlier ones (pass back the conversation id it returns). Each hit is a numbered source: cite it as [n].';

/** Runs an API call and turns its failure into a tool error. */
async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    return apiToolError(err);
  }
}

/** An MCP server whose tools search through `client` (each call is one API request, two for a new conversation). */
export function createMcpServer(client: EdgeSearchClient, opts: EdgeSearchMcpOptions = {}): McpServer {
  const defaultK = opts.defaultK ?? 5;
  const citation = opts.citation ?? {};
  const server = new McpServer(
    { name: opts.name ?? 'edgesearch', version: opts.version ?? API_VERSION },
    { instructions: INSTRUCTIONS, ...(opts.jsonSchemaValidator ? { jsonSchemaValidator: opts.jsonSchemaValidator } : {}) },
  );

  server.registerTool(
    'search',
    {
      title: 'Search documents',
      description: 'Search the document collection: the best passages for a question or keywords, each a numbered source with its title, document id and score. Cite them as [n].',
      inputSchema: searchInput(defaultK),
      outputSchema: searchOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        const req: SearchRequest = { query: args.query, k: args.k ?? defaultK };
        if (args.mode) req.mode = args.mode;
        if (args.unit) req.params = { unit: args.unit };
        if (args.rerank) req.rerank = { method: 'colbert' };
        if (args.context) req.context = args.context;
        return searchResult(await client.search(req), citation);
      }),
  );

  server.registerTool(
    'answer',
    {
      title: 'Answer a question',
      description: 'Short answers to a question (phrase search): each is a phrase inside its evidence passage, with the document it comes from. Cite them as [n]. Needs an index built with phrases.',
      inputSchema: answerInput(defaultK),
      outputSchema: searchOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        const res = await client.answer({ query: args.query, k: args.k ?? defaultK, ...(args.unit ? { unit: args.unit } : {}) });
        return searchResult(res, citation);
      }),
  );

  server.registerTool(
    'conversation_search',
    {
      title: 'Search within a conversation',
      description:
        'Search with the conversation so far: the edge keeps the turns, and each search is read with the ones before it, so follow-ups may refer back ("what about its side effects?"). Without `conversation` a new conversation starts; the result names its id and the turn: pass the id to continue it.',
      inputSchema: conversationSearchInput(defaultK),
      outputSchema: conversationSearchOutput,
      // Stores a turn: not read-only, and not idempotent (the same call twice is two turns).
      annotations: { readOnlyHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args) =>
      guarded(async () => {
        const id = args.conversation ?? (await client.conversations.create()).id;
        const res = await client.conversations.search(id, {
          query: args.query,
          k: args.k ?? defaultK,
          ...(args.mode ? { mode: args.mode } : {}),
          ...(args.record ? { record: args.record } : {}),
        });
        return conversationResult(res, citation);
      }),
  );

  return server;
}
