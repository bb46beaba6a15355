// Hits as text a language model can cite: a numbered source per hit with its title, document id
// and score, the answer span (phrase mode) and the evidence passage. The MCP server, the AI SDK
// tool and chatbot prompts share it, so a citation reads the same wherever it comes from.
import type { Hit, SearchResponse } from './types.js';

export interface CitationOptions {
  /** Characters of a passage kept (default 1200); longer ones are cut at a word, around the span when there is one. */
  maxPassageChars?: number;
}

/** The passage, cut to `max` characters around the span (phrase hits) or from its start. */
export function citedPassage(hit: Hit, max = 1200): string {
  const text = hit.text;
  if (text.length <= max) return text;
  const center = hit.span ? Math.floor((hit.span.start + hit.span.end) / 2) : 0;
  let start = Math.max(0, Math.min(text.length - max, center - Math.floor(max / 2)));
  let end = start + max;
  // Cut at word boundaries, and say that something was cut.
  if (start > 0) start = text.indexOf(' ', start) + 1 || start;
  if (end < text.length) end = text.lastIndexOf(' ', end) > start ? text.lastIndexOf(' ', end) : end;
  return `${start > 0 ? '… ' : ''}${text.slice(start, end)}${end < text.length ? ' …' : ''}`;
}

/** One hit as a numbered source: `[n] title (doc id, score)`, the answer when there is one, the passage. */
export function citeHit(hit: Hit, n: number, opts: CitationOptions = {}): string {
  const lines = [`[${n}] ${hit.title || '(untitled)'} (doc ${hit.docId}, score ${hit.score.toFixed(4)})`];
  if (hit.span) lines.push(`Answer: ${hit.span.text}`);
  lines.push(citedPassage(hit, opts.maxPassageChars));
  return lines.join('\n');
}

/** A response's hits as numbered sources, or a line saying there were none. */
export function citeHits(res: Pick<SearchResponse, 'hits' | 'query'>, opts: CitationOptions = {}): string {
  if (res.hits.length === 0) return `No passages found for "${res.query}".`;
  return res.hits.map((hit, i) => citeHit(hit, i + 1, opts)).join('\n\n');
}
