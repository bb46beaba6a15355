// What the tools return: the hits as numbered sources the model cites as [n] (citeHits, as the
// other integrations write them) and as structuredContent; an API error as a tool error the model
// can read and act on (isError), never a protocol error, which most agents would not show it.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EdgeSearchConnectionError, EdgeSearchError, citeHits, type CitationOptions, type ConversationSearchResponse, type SearchResponse } from '../index.js';
import type { ConversationSearchToolOutput, SearchToolOutput } from './schemas.js';

export function searchOutputOf(res: SearchResponse): SearchToolOutput {
  return {
    query: res.query,
    mode: res.mode,
    indexVersion: res.indexVersion,
    ...(res.partial ? { partial: { missingShards: res.partial.missingShards } } : {}),
    hits: res.hits.map((h) => ({ rank: h.rank, docId: h.docId, title: h.title, text: h.text, score: h.score, ...(h.span ? { span: h.span } : {}) })),
  };
}

function partialNote(res: SearchResponse): string[] {
  return res.partial ? [`Note: shards ${res.partial.missingShards.join(', ')} did not answer; better hits may be missing.`] : [];
}

/** A search's or an answer's result. */
export function searchResult(res: SearchResponse, citation: CitationOptions = {}): CallToolResult {
  const text = [...partialNote(res), citeHits(res, citation)].join('\n\n');
  return { content: [{ type: 'text', text }], structuredContent: searchOutputOf(res) };
}

/** A conversation turn's result: its id and turn first, so the model continues the conversation. */
export function conversationResult(res: ConversationSearchResponse, citation: CitationOptions = {}): CallToolResult {
  const output: ConversationSearchToolOutput = { ...searchOutputOf(res), conversation: res.conversation, turn: res.turn };
  const header = `Conversation ${res.conversation}, turn ${res.turn}. To ask a follow-up in it, call conversation_search with conversation "${res.conversation}".`;
  const text = [header, ...partialNote(res), citeHits(res, citation)].join('\n\n');
  return { content: [{ type: 'text', text }], structuredContent: output };
}

/** The tool error of a failed API call; anything else is rethrown (the SDK reports it as a tool error too). */
export function apiToolError(err: unknown): CallToolResult {
  if (err instanceof EdgeSearchError) {
    const parts = [`edgesearch API error ${err.status} ${err.code}`];
    if (err.field) parts.push(`field ${err.field}`);
    let text = `${parts.join(', ')}: ${err.detail}`;
    if (err.retryAfterS !== undefined) text += ` (retry after ${Math.ceil(err.retryAfterS)} s)`;
    return { content: [{ type: 'text', text }], isError: true };
  }
  if (err instanceof EdgeSearchConnectionError) {
    return { content: [{ type: 'text', text: `edgesearch could not be reached: ${err.message}` }], isError: true };
  }
  throw err;
}
