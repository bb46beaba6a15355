// The API's limits and choices that the tool schemas (MCP, AI SDK) offer a language model, so a
// model is refused before a request is sent. They are the OpenAPI document's: the contract test
// (codegen/openapi-contract.test.ts) checks each against it.
import type { Mode, SearchParams } from './types.js';

/** The modes, in the API's order. */
export const MODES = ['dense', 'bm25', 'hybrid', 'colbert', 'phrase', 'conversational'] as const satisfies readonly Mode[];
/** What a phrase-mode hit is (`params.unit`). */
export const UNITS = ['phrase', 'sentence', 'passage', 'document'] as const satisfies readonly NonNullable<SearchParams['unit']>[];
/** The most hits a query may ask for (`k`). */
export const MAX_K = 100;
/** The longest query, in Unicode characters (code points). */
export const MAX_QUERY_CHARS = 1024;
/** A stored conversation's id. */
export const CONVERSATION_ID_PATTERN = /^c_[A-Za-z0-9_-]{32}$/;

/** Each mode in a sentence a language model can choose by (the tool schemas' descriptions). */
export const MODE_HELP: Record<Mode, string> = {
  hybrid: 'hybrid: keywords and meaning fused',
  dense: 'dense: meaning, for paraphrased or vague questions',
  bm25: 'bm25: exact keywords, names, numbers, rare terms',
  colbert: 'colbert: token-level late interaction (an index built with ColBERT only)',
  phrase: 'phrase: short answer phrases with their evidence passages (an index built with phrases only)',
  conversational: 'conversational: the query read with the turns before it (a pool with a conversational encoder only)',
};
