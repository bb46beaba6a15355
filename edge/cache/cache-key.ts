// Cache and coalescing keys. The request key covers everything that changes the answer (the
// normalized query, mode, k, parameters with their keys sorted (the query formation policy
// among them), the re-ranking stage, and a digest of the conversation context the query is
// formed from); the cache key adds the index version, so entries of an older index are never
// looked up again.
import type { ConversationTurn, Mode, QueryParams, RerankParams } from '../../shared/protocol/index.ts';
import { sha256Hex } from '../digest/index.ts';

export interface KeyedQuery {
  query: string;
  mode: Mode;
  k: number;
  params?: QueryParams;
  /** As validated: depth and fuse filled in with their defaults, so an omitted default keys as the stated one. */
  rerank?: RerankParams;
  /** The previous turns, oldest first; absent or empty: none (the same answer, the same key). */
  context?: ConversationTurn[];
}

/** JSON with object keys sorted at every level: equal parameters, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The re-ranking stage as it decides the answer: method, depth and fusion, and the fusion weight
 * only when there is a fusion (without one the ranking is the re-ranker's alone, whatever the
 * weight says). Absent: no field, so keys of queries without re-ranking are as they always were.
 */
function rerankKey(r: RerankParams | undefined): Record<string, unknown> | undefined {
  if (!r) return undefined;
  return { m: r.method, d: r.depth, f: r.fuse, ...(r.fuse ? { w: r.weight } : {}) };
}

/**
 * The digest of a conversation context: SHA-256 over each turn's query and response (absent and
 * empty responses told apart), in order. Equal only for the same turns with the same words.
 */
export function contextDigest(context: readonly ConversationTurn[]): Promise<string> {
  return sha256Hex(canonicalJson(context.map((t) => (t.response === undefined ? [t.query] : [t.query, t.response]))));
}

/**
 * Identifies a query independent of the index version (for coalescing). A query without context
 * keys as it always did; one with context adds the context's digest, so an answer formed from one
 * conversation is never served to another.
 */
export async function requestKey(q: KeyedQuery): Promise<string> {
  const c = q.context && q.context.length > 0 ? await contextDigest(q.context) : undefined;
  return sha256Hex(canonicalJson({ q: q.query, m: q.mode, k: q.k, p: q.params ?? {}, r: rerankKey(q.rerank), c }));
}

/** The Cache API key (a GET URL) of a request key on an index version. */
export function cacheUrl(requestKeyHex: string, indexVersion: string): string {
  return `https://cache.edgesearch.invalid/v1/search/${encodeURIComponent(indexVersion)}/${requestKeyHex}`;
}
