// The tools' input schemas: only what a language model should choose (the query, how many
// passages, and for search the mode among those the app allows). zod/v4 is in zod 3.25+ and 4.
import { z } from 'zod/v4';
import { MAX_QUERY_CHARS, MODE_HELP, type Mode } from '../index.js';

export interface SearchToolInput {
  query: string;
  k?: number;
  mode?: Mode;
}

export type AnswerToolInput = Omit<SearchToolInput, 'mode'>;

const query = () =>
  z
    .string()
    .min(1)
    .max(MAX_QUERY_CHARS)
    .regex(/\S/, 'must not be blank')
    .describe('What to search for: a self-contained question or keywords, in the words the documents would use.');

const k = (maxK: number, defaultK: number) => z.number().int().min(1).max(maxK).optional().describe(`How many passages to return (1 to ${maxK}; default ${defaultK}).`);

/** `{query, k?, mode?}`; mode is left out when the app allows only one. */
export function searchInputSchema(opts: { modes: readonly Mode[]; defaultMode: Mode; maxK: number; defaultK: number }): z.ZodType<SearchToolInput> {
  const base = { query: query(), k: k(opts.maxK, opts.defaultK) };
  if (opts.modes.length < 2) return z.object(base);
  const help = opts.modes.map((m) => MODE_HELP[m]).join('; ');
  const mode = z
    .enum(opts.modes as [Mode, ...Mode[]])
    .optional()
    .describe(`How to match (default ${opts.defaultMode}): ${help}.`);
  return z.object({ ...base, mode });
}

/** `{query, k?}`. */
export function answerInputSchema(opts: { maxK: number; defaultK: number }): z.ZodType<AnswerToolInput> {
  return z.object({ query: query(), k: k(opts.maxK, opts.defaultK) });
}
