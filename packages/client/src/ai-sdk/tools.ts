// edgesearch as Vercel AI SDK tools: `search` (passages, in the mode the model or the app chooses)
// and `answer` (phrase mode: short answers with their evidence). The model reads the hits as
// numbered sources to cite as [n]; the app gets them as JSON (result.ts).
import { tool, type Tool } from 'ai';
import type { CitationOptions, Mode, SearchParams, SearchRequest } from '../index.js';
import { clientOf, defined, type ClientSource } from '../options.js';
import { toolResult, type EdgeSearchToolResult } from './result.js';
import { answerInputSchema, searchInputSchema, type AnswerToolInput, type SearchToolInput } from './schema.js';

/** The client to search with; or give `endpoint` (and `apiKey`) and the tool makes one. */
export type ToolClientOptions = ClientSource;

interface CommonToolOptions extends ToolClientOptions {
  /** Hits when the model does not say (default 5: each is a passage in the model's context). */
  k?: number;
  /** The most hits the model may ask for (default 20). */
  maxK?: number;
  /** false: bypass the edge's cache. */
  cache?: boolean;
  /** The tool's description for the model (default: one saying what it finds and to cite [n]). */
  description?: string;
  /** What the model reads: `citations` (default: the numbered sources text) or `json` (the whole result). */
  modelOutput?: 'citations' | 'json';
  /** How passages are cut in `citations`. */
  citation?: CitationOptions;
}

export interface SearchToolOptions extends CommonToolOptions {
  /** The mode when the model does not choose one (default hybrid). */
  mode?: Mode;
  /** The modes the model may choose among (default hybrid, dense, bm25: what every index serves); one or none: no choice. */
  modes?: readonly Mode[];
  /** The mode's parameters, sent with every call. */
  params?: SearchParams;
  rerank?: SearchRequest['rerank'];
  /** A conversation stored at the edge: every call is its next turn, searched with the turns before it. */
  conversationId?: string;
  /** In a conversation, `'top'` stores the best passage as the turn's response. */
  record?: 'top';
}

export interface AnswerToolOptions extends CommonToolOptions {
  /** What an answer is: phrase (default), sentence, passage or document. */
  unit?: NonNullable<SearchParams['unit']>;
  params?: Omit<SearchParams, 'unit'>;
}

const DEFAULT_K = 5;
const DEFAULT_MAX_K = 20;
const DEFAULT_MODES: readonly Mode[] = ['hybrid', 'dense', 'bm25'];

const SEARCH_DESCRIPTION =
  'Search the document collection for passages relevant to a question or keywords. ' +
  'Returns numbered sources with their titles and passages; cite what you use as [n]. ' +
  'Ask follow-up questions as self-contained queries.';

const ANSWER_DESCRIPTION =
  'Find short answers to a factual question in the document collection: each answer is a phrase ' +
  'with the passage it comes from, as numbered sources; cite what you use as [n].';

/** A tool `{query, k?, mode?}` that searches and returns the hits (EdgeSearchToolResult). */
export function edgesearchTool(opts: SearchToolOptions): Tool<SearchToolInput, EdgeSearchToolResult> {
  const client = clientOf(opts, 'edgesearchTool');
  const k = opts.k ?? DEFAULT_K;
  const maxK = opts.maxK ?? DEFAULT_MAX_K;
  const modes = opts.modes ?? DEFAULT_MODES;
  if (opts.record !== undefined && opts.conversationId === undefined) throw new TypeError('edgesearchTool: `record` needs a `conversationId`');
  return tool<SearchToolInput, EdgeSearchToolResult>({
    description: opts.description ?? SEARCH_DESCRIPTION,
    inputSchema: searchInputSchema({ modes, defaultMode: opts.mode ?? 'hybrid', maxK, defaultK: k }),
    execute: async (input, { abortSignal }) => {
      const mode = input.mode ?? opts.mode;
      const req: SearchRequest = { query: input.query, k: input.k ?? k, ...defined({ mode, params: opts.params, rerank: opts.rerank, cache: opts.cache }) };
      const call = abortSignal ? { signal: abortSignal } : {};
      const res = opts.conversationId === undefined ? await client.search(req, call) : await client.conversations.search(opts.conversationId, { ...req, ...defined({ record: opts.record }) }, call);
      return toolResult(res, opts.citation);
    },
    toModelOutput: modelOutput(opts.modelOutput),
  });
}

/** A tool `{query, k?}` that asks for phrase answers (an index built with --method phrase). */
export function edgesearchAnswerTool(opts: AnswerToolOptions): Tool<AnswerToolInput, EdgeSearchToolResult> {
  const client = clientOf(opts, 'edgesearchAnswerTool');
  const k = opts.k ?? DEFAULT_K;
  return tool<AnswerToolInput, EdgeSearchToolResult>({
    description: opts.description ?? ANSWER_DESCRIPTION,
    inputSchema: answerInputSchema({ maxK: opts.maxK ?? DEFAULT_MAX_K, defaultK: k }),
    execute: async (input, { abortSignal }) => {
      const res = await client.answer({ query: input.query, k: input.k ?? k, ...defined({ unit: opts.unit, params: opts.params, cache: opts.cache }) }, abortSignal ? { signal: abortSignal } : {});
      return toolResult(res, opts.citation);
    },
    toModelOutput: modelOutput(opts.modelOutput),
  });
}

function modelOutput(kind: CommonToolOptions['modelOutput'] = 'citations') {
  if (kind !== 'citations' && kind !== 'json') throw new TypeError(`modelOutput must be "citations" or "json", not ${JSON.stringify(kind)}`);
  return ({ output }: { output: EdgeSearchToolResult }) =>
    kind === 'citations' ? { type: 'text' as const, value: output.citations } : { type: 'json' as const, value: JSON.parse(JSON.stringify(output)) };
}
