// Size limits a decoder enforces. They bound the memory and CPU one frame can cost the
// receiver; each tier may configure its own (e.g. a pool with more memory), hence a schema
// for user-supplied partial limits.
import { z } from 'zod';

export interface ProtocolLimits {
  /** Encoded frame size in bytes, checked before anything is parsed. */
  readonly maxFrameBytes: number;
  /** Queries in a search frame (and results in a result frame). */
  readonly maxQueries: number;
  /** Length of a query's text, in UTF-16 code units (String#length). */
  readonly maxQueryChars: number;
  /** Hits a query may ask for (and a result may carry). */
  readonly maxK: number;
  /** Dimensions of a query vector. */
  readonly maxVectorDim: number;
  /** Token vectors of one query (late interaction); each has at most maxVectorDim dimensions. */
  readonly maxQueryTokens: number;
  /** Ordinals in one evidence frame (and passages in its answer). */
  readonly maxOrdinals: number;
}

export const DEFAULT_LIMITS: Readonly<ProtocolLimits> = Object.freeze({
  maxFrameBytes: 8 * 1024 * 1024,
  maxQueries: 256,
  maxQueryChars: 4096,
  maxK: 1000,
  maxVectorDim: 4096,
  maxQueryTokens: 512,
  maxOrdinals: 10000,
});

// Upper bounds on configured limits: a misconfiguration should fail at startup, not turn a
// limit into "unlimited".
const bounded = (max: number) => z.number().int().min(1).max(max).optional();

/** Validates user-supplied (partial) limits; unknown keys are rejected. */
export const ProtocolLimitsSchema = z.strictObject({
  maxFrameBytes: bounded(1024 * 1024 * 1024),
  maxQueries: bounded(65536),
  maxQueryChars: bounded(1024 * 1024),
  maxK: bounded(100000),
  maxVectorDim: bounded(65536),
  maxQueryTokens: bounded(65536),
  maxOrdinals: bounded(1000000),
});

/**
 * Merges partial limits over DEFAULT_LIMITS. Throws a RangeError naming the bad key when the
 * input is not valid limits.
 */
export function resolveLimits(partial?: Partial<ProtocolLimits>): ProtocolLimits {
  if (partial === undefined) return DEFAULT_LIMITS;
  const parsed = ProtocolLimitsSchema.safeParse(partial);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : 'limits';
    throw new RangeError(`invalid protocol limits: ${where}: ${issue.message}`);
  }
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(parsed.data)) if (value !== undefined) out[key] = value;
  return Object.freeze(out as unknown as ProtocolLimits);
}
