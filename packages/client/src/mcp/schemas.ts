// The MCP tools' input and output schemas. Inputs are what an agent should choose, in the API's
// own terms and limits (the edge still validates every request: what JSON Schema cannot say, such
// as a query's length in characters, comes back as the API's 400 naming the field). Outputs are
// the hits as JSON, declared so that clients can check structuredContent.
// zod/v4 is in zod 3.25+ and 4, the peer range of this package.
import { z } from 'zod/v4';
import { CONVERSATION_ID_PATTERN, MAX_K, MAX_QUERY_CHARS, MODE_HELP, MODES, UNITS } from '../index.js';

export { MODES, UNITS };

const query = () =>
  z
    .string()
    .min(1)
    .regex(/\S/, 'must not be blank')
    .describe(`What to search for: a self-contained question or keywords, in the words the documents would use (at most ${MAX_QUERY_CHARS} characters).`);

const k = (defaultK: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(MAX_K)
    .optional()
    .describe(`How many hits to return (1 to ${MAX_K}; default ${defaultK}). Each hit is a whole passage in your context: ask for few.`);

const mode = () =>
  z
    .enum(MODES)
    .optional()
    .describe(`How to match (default hybrid): ${MODES.map((m) => MODE_HELP[m]).join('; ')}. A mode the index cannot answer is an error naming it.`);

const unit = () =>
  z
    .enum(UNITS)
    .optional()
    .describe('What an answer is: phrase (the default: a short span), sentence (the sentence around it), passage or document (the best passages or documents, without a span).');

const contextTurn = z.strictObject({
  query: z.string().min(1).describe('What was asked in that turn.'),
  response: z.string().optional().describe('What was answered to it.'),
});

export function searchInput(defaultK: number) {
  return z.strictObject({
    query: query(),
    mode: mode(),
    k: k(defaultK),
    unit: unit().describe('Mode phrase only: phrase (the default), sentence, passage or document: what a hit is.'),
    rerank: z
      .boolean()
      .optional()
      .describe('true: re-score the best candidates with ColBERT late interaction (an index built with ColBERT only).'),
    context: z
      .array(contextTurn)
      .max(32)
      .optional()
      .describe('The conversation before this query, oldest first, when you keep the history yourself (else use conversation_search): the query is read with these turns.'),
  });
}

export function answerInput(defaultK: number) {
  return z.strictObject({ query: query(), k: k(defaultK), unit: unit() });
}

export function conversationSearchInput(defaultK: number) {
  return z.strictObject({
    query: query().describe('The next question of the conversation; it is read with the turns before it, so a follow-up may say "it" or "they".'),
    conversation: z
      .string()
      .regex(CONVERSATION_ID_PATTERN, 'must be a conversation id returned by an earlier conversation_search (c_ and 32 characters)')
      .optional()
      .describe('The id an earlier conversation_search returned, to continue that conversation; omit it to start a new one.'),
    mode: mode(),
    k: k(defaultK),
    record: z
      .enum(['top'])
      .optional()
      .describe('"top": store the best passage as this turn\'s response, so later turns can read it.'),
  });
}

export type SearchToolInput = z.infer<ReturnType<typeof searchInput>>;
export type AnswerToolInput = z.infer<ReturnType<typeof answerInput>>;
export type ConversationSearchToolInput = z.infer<ReturnType<typeof conversationSearchInput>>;

const span = z
  .object({ start: z.number().int().min(0), end: z.number().int().min(0), text: z.string() })
  .describe('The answer inside `text`: text.slice(start, end) (UTF-16 offsets).');

export const toolHit = z.object({
  rank: z.number().int().min(1).describe('1 for the best hit; the hit is cited as [rank].'),
  docId: z.string(),
  title: z.string(),
  text: z.string().describe('The evidence passage, whole.'),
  score: z.number(),
  span: span.optional(),
});

export const searchOutput = z.object({
  query: z.string().describe('The query as searched (normalized).'),
  mode: z.enum(MODES),
  indexVersion: z.string().describe('The index version the hits were computed on.'),
  partial: z
    .object({ missingShards: z.array(z.number().int()) })
    .optional()
    .describe('Present when some shards did not answer: the hits may be incomplete.'),
  hits: z.array(toolHit),
});

export const conversationSearchOutput = searchOutput.extend({
  conversation: z.string().describe('The conversation id: pass it to continue the conversation.'),
  turn: z.number().int().min(1).describe('The number this search was stored as (1 for the first).'),
});

export type ToolHit = z.infer<typeof toolHit>;
export type SearchToolOutput = z.infer<typeof searchOutput>;
export type ConversationSearchToolOutput = z.infer<typeof conversationSearchOutput>;
