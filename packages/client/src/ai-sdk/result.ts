// What the AI SDK tools return: the hits as plain JSON (what an app shows or stores) and the same
// hits as numbered, citable text (citeHits: what the model reads and cites as [n]).
import { citeHits, type CitationOptions, type ConversationSearchResponse, type Mode, type SearchResponse, type Span } from '../index.js';

export interface EdgeSearchToolHit {
  /** The number the hit is cited by: `[n]` in `citations`. */
  n: number;
  rank: number;
  docId: string;
  title: string;
  /** The evidence passage, whole. */
  text: string;
  score: number;
  /** Mode phrase: the answer inside `text`. */
  span?: Span;
}

export interface EdgeSearchToolResult {
  /** The query as searched (normalized). */
  query: string;
  mode: Mode;
  indexVersion: string;
  hits: EdgeSearchToolHit[];
  /** The hits as numbered sources (`[1] title (doc id, score)`, answer, passage), or a line saying there were none. */
  citations: string;
  /** A stored conversation's id and this search's turn in it. */
  conversation?: string;
  turn?: number;
}

export function toolResult(res: SearchResponse | ConversationSearchResponse, citation: CitationOptions = {}): EdgeSearchToolResult {
  const out: EdgeSearchToolResult = {
    query: res.query,
    mode: res.mode,
    indexVersion: res.indexVersion,
    hits: res.hits.map((h, i) => ({ n: i + 1, rank: h.rank, docId: h.docId, title: h.title, text: h.text, score: h.score, ...(h.span ? { span: h.span } : {}) })),
    citations: citeHits(res, citation),
  };
  if ('conversation' in res) Object.assign(out, { conversation: res.conversation, turn: res.turn });
  return out;
}
