// What the worker and a conversation's Durable Object say to each other (JSON over the stub's
// fetch, `https://conversation.invalid/<op>`). Internal: the public shapes are shared/api's.
import { z } from 'zod';
import { MAX_QUERY_CHARS, MAX_RESPONSE_CHARS } from '../../shared/api/index.ts';

export const Settings = z.strictObject({
  ttlS: z.number().int().min(1),
  maxTurns: z.number().int().min(1),
  maxTurnBytes: z.number().int().min(1),
  maxBytes: z.number().int().min(1),
});

/** Who owns a conversation: `key:<id>` for an API key, `public` for keyless callers in public mode. */
const Owner = z.string().min(1).max(128);
const Token = z.string().min(1).max(64);
const Query = z.string().min(1).max(MAX_QUERY_CHARS * 4);
const Response_ = z.string().max(MAX_RESPONSE_CHARS * 4);

/** How long a turn is reserved (a search's deadline and some), and how long a call may wait for the turn in flight. */
export const Timing = z.strictObject({ leaseMs: z.number().int().min(1).max(600_000), waitMs: z.number().int().min(1).max(600_000) });

export const CreateOp = z.strictObject({ id: z.string().min(1).max(64), owner: Owner, limits: Settings });
/** GET, DELETE: they wait for the turn in flight, so a caller reads its own turns. */
export const ReadOp = z.strictObject({ owner: Owner, limits: Settings, timing: Timing });
export const BeginOp = z.strictObject({ owner: Owner, limits: Settings, timing: Timing, query: Query });
export const CommitOp = z.strictObject({
  owner: Owner,
  limits: Settings,
  token: Token,
  turn: z.number().int().min(1),
  query: Query,
  /** record: "top": the best hit's passage, cut to fit the limits. */
  response: z.string().optional(),
});
export const AbortOp = z.strictObject({ token: Token, limits: Settings });
export const RecordOp = z.strictObject({ owner: Owner, limits: Settings, timing: Timing, turn: z.number().int().min(1), response: Response_ });

export type Op = 'create' | 'get' | 'begin' | 'commit' | 'abort' | 'record' | 'delete';

/** A turn reserved for a search: its number, and the turns before it (the search's context). */
export interface BeginAnswer {
  token: string;
  turn: number;
  context: { query: string; response?: string }[];
}
