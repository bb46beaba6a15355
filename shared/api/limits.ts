// Limits of the public API, and the request body limits derived from them. The body limits
// follow from the per-query limits so that a body can never be refused for its size when every
// query in it is valid: the consumer sizes queries, not bytes.

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

/** Bytes one valid query can take in a JSON body, with its other fields. */
export const MAX_QUERY_JSON_BYTES = MAX_QUERY_CHARS * MAX_JSON_BYTES_PER_CHAR + QUERY_FIELDS_BYTES;

/** Body limit of POST /v1/search (and of every other /v1 route): one valid query. */
export function searchBodyLimit(): number {
  return MAX_QUERY_JSON_BYTES + ENVELOPE_BYTES;
}

/** Body limit of POST /v1/search/batch: `maxQueries` valid queries. */
export function batchBodyLimit(maxQueries: number): number {
  return maxQueries * MAX_QUERY_JSON_BYTES + ENVELOPE_BYTES;
}
