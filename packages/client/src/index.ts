// @edgesearch/client: the edgesearch API from Node, Workers and browsers.
export { EdgeSearchClient, createClient, type AnswerRequest, type CallOptions, type ClientOptions } from './client.js';
export { EdgeSearchConnectionError, EdgeSearchError } from './errors.js';
export { OPERATIONS, RETRYABLE_STATUSES, type OperationId } from './operations.js';
export type { RetryOptions } from './retry.js';
export { citeHit, citeHits, citedPassage, type CitationOptions } from './citation.js';
export { API_VERSION } from './version.js';
export { CONVERSATION_ID_PATTERN, MAX_K, MAX_QUERY_CHARS, MODE_HELP, MODES, UNITS } from './limits.js';
export type * from './types.js';
