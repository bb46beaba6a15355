// Limits of the public API, and the request body limits derived from them. The body limits
// follow from the per-query limits so that a body can never be refused for its size when every
// query in it is valid: the consumer sizes queries, not bytes.
import { MAX_CONTEXT_TURNS, MAX_RESPONSE_CHARS } from '../protocol/index.ts';

/**
 * Longest query text, in Unicode characters (code points, as JSON Schema's maxLength counts
 * them: "😀" is one, not two UTF-16 code units). Checked on the text as sent and again after
 * normalization (NFC may lengthen a few scripts' text). At most 2,048 UTF-16 code units, well
 * within the wire protocol's limit (maxQueryChars, 4,096 code units).
 */
export const MAX_QUERY_CHARS = 1024;
/** Largest k a public request may ask for. */
export const MAX_K = 100;
/** Queries per /v1/search/batch unless MAX_BATCH_QUERIES says otherwise. */
export const DEFAULT_MAX_BATCH_QUERIES = 32;

/**
 * The most bytes one character of a query can take in a JSON body: an astral character
 * written as an escaped surrogate pair (`\ud83d\ude00`, 12 bytes), as serializers that escape
 * all non-ASCII (Python's json.dumps by default) write it. Raw UTF-8 takes at most 4, a control
 * character escaped as `\u0001` 6, so every spelling fits.
 */
export const MAX_JSON_BYTES_PER_CHAR = 12;
/**
 * Room per query for everything but the query text: the other fields (mode, k, cache, all nine
 * params and rerank with long number spellings) and indentation. A compact maximal spelling takes
 * ~360 bytes, pretty-printed ~480 (validation.test.ts checks the longest fits).
 */
export const QUERY_FIELDS_BYTES = 1024;
/** Room for the envelope around the queries (`{"queries": [...]}`, whitespace). */
export const ENVELOPE_BYTES = 1024;

// A query's `context` (previous turns) is bounded by the wire protocol's limits, each a 413
// naming it when exceeded: MAX_CONTEXT_TURNS (32) turns, each response at most
// MAX_RESPONSE_CHARS (4,096) characters; each turn's query is a query (MAX_QUERY_CHARS, a 400
// like the query's own).
export { MAX_CONTEXT_TURNS, MAX_RESPONSE_CHARS };
/**
 * The stateless context's own limit: the characters (code points) of all its turns' queries
 * and responses together. It bounds the body of a search, and of a batch (each of whose queries
 * may carry a context), to what a worker can parse comfortably; 32 turns at their longest would
 * be 160 K characters a query, 5 M a batch. More is a 413 naming this limit. A stored
 * conversation's limits (CONVERSATION_MAX_BYTES) cannot exceed it, so its history always fits.
 */
export const MAX_CONTEXT_CHARS = 16384;
/**
 * Room per context turn for everything but its text: `{"query": "", "response": ""},` with
 * pretty-printing indentation (~70 bytes at 4-space indentation inside a batch).
 */
export const CONTEXT_TURN_FIELDS_BYTES = 128;
/** Bytes the longest valid context can take in a JSON body. */
export const MAX_CONTEXT_JSON_BYTES = MAX_CONTEXT_CHARS * MAX_JSON_BYTES_PER_CHAR + MAX_CONTEXT_TURNS * CONTEXT_TURN_FIELDS_BYTES;

/** Bytes one valid query can take in a JSON body, with its other fields and its context. */
export const MAX_QUERY_JSON_BYTES = MAX_QUERY_CHARS * MAX_JSON_BYTES_PER_CHAR + QUERY_FIELDS_BYTES + MAX_CONTEXT_JSON_BYTES;

/**
 * Body limit of POST /v1/search (and of every other /v1 route: a conversation turn is a search
 * without context, a recorded response at most MAX_RESPONSE_CHARS): one valid query.
 */
export function searchBodyLimit(): number {
  return MAX_QUERY_JSON_BYTES + ENVELOPE_BYTES;
}

/** Body limit of POST /v1/search/batch: `maxQueries` valid queries. */
export function batchBodyLimit(maxQueries: number): number {
  return maxQueries * MAX_QUERY_JSON_BYTES + ENVELOPE_BYTES;
}
