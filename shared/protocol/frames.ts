// Frame schemas (zod) and the frame types inferred from them: the schemas are the one
// definition of every field. They are built from ProtocolLimits, which set bounds only.
// A frame type is added in one place, `buildSchemas().frames`: FRAME_TYPES, the Frame union,
// the decoder's union schema and FrameOf<T> all follow from that table.
import { z } from 'zod';
import { DEFAULT_LIMITS, type ProtocolLimits } from './limits.ts';
import { BRANCH_INPUT, Branch, ConversationContext, MAX_HYBRID_DEPTH, MAX_RERANK_DEPTH, MAX_WINDOW_FACTOR, Mode, QueryParams, RerankMethod, RerankParams } from './params.ts';
import { bytesToVector, halfBytesToVector } from './vectors.ts';

export const PROTOCOL_VERSION = 1 as const;

export const ERROR_CODES = [
  'bad-frame',
  'too-large',
  'limit',
  'unauthorized',
  'overloaded',
  'deadline',
  'not-ready',
  'unknown-shard',
  'internal',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Longest error message a frame carries; errorFrame() truncates to it. */
export const MAX_ERROR_MESSAGE = 4096;

// ---------------------------------------------------------------------------------------------
// Schemas

/**
 * Largest k a shard sub-query may carry: the router asks each shard for more than the final k
 * (hybrid branches go to `depth`, dense windows to k × windowFactor).
 */
export function maxShardK(limits: ProtocolLimits): number {
  return Math.max(limits.maxK * MAX_WINDOW_FACTOR, MAX_HYBRID_DEPTH, MAX_RERANK_DEPTH);
}

/**
 * Sub-queries a shard-search frame may carry: a hybrid query fans out into a dense and a
 * bm25 sub-query, so twice the batch size.
 */
export function maxShardQueries(limits: ProtocolLimits): number {
  return limits.maxQueries * 2;
}

const Id = z.string().min(1).max(128);
const Version = z.string().min(1).max(256);
const DocId = z.string().min(1).max(1024);
const Ordinal = z.number().int().min(0);
const ShardNo = z.number().int().min(0);
const NonNegative = z.number().min(0);
// z.number() rejects NaN and ±Infinity (zod v4), so every score is finite.
const Score = z.number();

// Marks issues that come from a configured limit, so the codec answers 'limit', not
// 'bad-frame'. Custom issues carry it in params; zod's own too_big issues are recognised by
// their path (see isLimitIssue).
const LIMIT = { limit: true } as const;

function vectorSchema(maxDim: number) {
  // Accepts the wire form (bytes) and the in-memory form (Float32Array), so one schema
  // validates both received and about-to-be-sent frames; the output is always a Float32Array.
  return z
    .custom<Uint8Array | Float32Array>((v) => v instanceof Uint8Array || v instanceof Float32Array, {
      error: 'expected a float32 vector (msgpack bin of little-endian float32)',
    })
    .transform((v, ctx): Float32Array => {
      if (v instanceof Uint8Array && v.byteLength % 4 !== 0) {
        ctx.addIssue({ code: 'custom', message: `byte length ${v.byteLength} is not a multiple of 4` });
        return z.NEVER;
      }
      // Checked before decoding so an oversized vector is never copied.
      const dim = v instanceof Float32Array ? v.length : v.byteLength / 4;
      if (dim > maxDim) {
        ctx.addIssue({ code: 'custom', message: `must have at most ${maxDim} dimensions, got ${dim}`, params: LIMIT });
        return z.NEVER;
      }
      if (dim === 0) {
        ctx.addIssue({ code: 'custom', message: 'must have at least 1 dimension' });
        return z.NEVER;
      }
      const vec = v instanceof Float32Array ? v : bytesToVector(v);
      for (let i = 0; i < vec.length; i++) {
        if (!Number.isFinite(vec[i])) {
          ctx.addIssue({ code: 'custom', message: `component ${i} is ${vec[i]}, not a finite number` });
          return z.NEVER;
        }
      }
      return vec;
    });
}

/** One query's token vectors as the frames carry them, decoded: rows × dim, row-major. */
export interface QueryTokens {
  readonly rows: number;
  readonly dim: number;
  readonly data: Float32Array;
  /** How the sender put the floats on the wire, when it said (decoded data is float32 either way). */
  readonly dtype?: 'f32' | 'f16';
}

function tokensSchema(limits: ProtocolLimits) {
  // Wire form: {dim, data: bytes, dtype?: 'f32' | 'f16'}; in memory (about to be sent) data may be a
  // Float32Array. The output is always {rows, dim, data: Float32Array}.
  return z
    .strictObject({
      dim: z.number().int().min(1).max(limits.maxVectorDim),
      dtype: z.enum(['f32', 'f16']).optional(),
      data: z.custom<Uint8Array | Float32Array>((v) => v instanceof Uint8Array || v instanceof Float32Array, {
        error: 'expected token vectors (msgpack bin of little-endian float32, or float16 with dtype "f16")',
      }),
      rows: z.number().int().min(0).optional(),
    })
    .transform((t, ctx): QueryTokens => {
      const width = t.data instanceof Float32Array ? 1 : t.dtype === 'f16' ? 2 : 4;
      const count = t.data instanceof Float32Array ? t.data.length : t.data.byteLength / width;
      if (!Number.isInteger(count) || count % t.dim !== 0) {
        ctx.addIssue({ code: 'custom', path: ['data'], message: `${t.data instanceof Float32Array ? t.data.length + ' floats' : t.data.byteLength + ' bytes'} are not whole ${t.dim}-d ${t.dtype ?? 'f32'} vectors` });
        return z.NEVER;
      }
      const rows = count / t.dim;
      // Checked before decoding so an oversized query is never copied.
      if (rows > limits.maxQueryTokens) {
        ctx.addIssue({ code: 'custom', path: ['data'], message: `must hold at most ${limits.maxQueryTokens} token vectors, got ${rows}`, params: LIMIT });
        return z.NEVER;
      }
      if (t.rows !== undefined && t.rows !== rows) {
        ctx.addIssue({ code: 'custom', path: ['rows'], message: `says ${t.rows} rows, data holds ${rows}` });
        return z.NEVER;
      }
      const data = t.data instanceof Float32Array ? t.data : width === 2 ? halfBytesToVector(t.data) : bytesToVector(t.data);
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i])) {
          ctx.addIssue({ code: 'custom', path: ['data'], message: `component ${i} is ${data[i]}, not a finite number` });
          return z.NEVER;
        }
      }
      return { rows, dim: t.dim, data, ...(t.dtype ? { dtype: t.dtype } : {}) };
    });
}

/** Rejects repeated ids in a list: replies are matched to queries by id. */
function uniqueIds<L extends 'queries' | 'results'>(list: L) {
  return <F extends Record<L, { id: string }[]>>(frame: F, ctx: z.RefinementCtx<F>) => {
    const seen = new Set<string>();
    frame[list].forEach((item, i) => {
      if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [list, i, 'id'], message: `duplicate id ${JSON.stringify(item.id)}` });
      else seen.add(item.id);
    });
  };
}

function buildSchemas(limits: ProtocolLimits) {
  const Text = z.string().min(1).max(limits.maxQueryChars);
  const Vector = vectorSchema(limits.maxVectorDim);
  const Tokens = tokensSchema(limits);
  /** A phrase query's start and end vectors (DensePhrases), when the caller encoded them. */
  const PhraseVectors = z.strictObject({ start: Vector, end: Vector }).superRefine((p, ctx) => {
    if (p.start.length !== p.end.length) ctx.addIssue({ code: 'custom', path: ['end'], message: `has ${p.end.length} floats, start has ${p.start.length}` });
  });
  /** A phrase or sentence hit: its [start, end) in the passage text (UTF-16 offsets) and its text. */
  const Span = z.strictObject({ start: z.number().int().min(0), end: z.number().int().min(0), text: z.string() });

  const WireQuerySchema = z
    .strictObject({
      id: Id,
      mode: Mode,
      k: z.number().int().min(1).max(limits.maxK),
      text: Text.optional(),
      vector: Vector.optional(),
      /** The query's token vectors (colbert, rerank), when the caller encoded them. */
      tokens: Tokens.optional(),
      phrase: PhraseVectors.optional(),
      params: QueryParams.optional(),
      rerank: RerankParams.optional(),
      /** The conversation's previous turns, oldest first: the query is formed from them and `text` (params.policy). */
      context: ConversationContext.optional(),
    })
    .superRefine((q, ctx) => {
      if (q.mode === 'conversational' && q.params?.policy !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['params', 'policy'], message: 'mode "conversational" forms its query with its trained encoder; policy is for the other modes' });
      }
      if ((q.mode === 'bm25' || q.mode === 'hybrid' || q.mode === 'conversational' || q.context !== undefined) && q.text === undefined) {
        ctx.addIssue({ code: 'custom', path: ['text'], message: q.context !== undefined ? 'required with context' : `required for mode "${q.mode}"` });
      } else if (q.mode === 'dense' && q.text === undefined && q.vector === undefined) {
        ctx.addIssue({ code: 'custom', message: 'needs text or vector' });
      } else if ((q.mode === 'colbert' || q.rerank !== undefined) && q.text === undefined && q.tokens === undefined) {
        ctx.addIssue({ code: 'custom', message: `needs text or tokens (${q.mode === 'colbert' ? 'mode "colbert"' : 'rerank'})` });
      } else if (q.mode === 'phrase' && q.text === undefined && q.phrase === undefined) {
        ctx.addIssue({ code: 'custom', message: 'needs text or phrase vectors (mode "phrase")' });
      }
    });

  const ShardQuerySchema = z
    .strictObject({
      id: Id,
      mode: Branch,
      k: z.number().int().min(1).max(maxShardK(limits)),
      vector: Vector.optional(),
      text: Text.optional(),
      tokens: Tokens.optional(),
      phrase: PhraseVectors.optional(),
      params: QueryParams.optional(),
    })
    .superRefine((q, ctx) => {
      const input = BRANCH_INPUT[q.mode];
      if (q[input] === undefined) ctx.addIssue({ code: 'custom', path: [input], message: `required for mode "${q.mode}"` });
    });

  const BranchScoreSchema = z.strictObject({ score: Score, rank: z.number().int().min(1) });
  const WireHitSchema = z.strictObject({
    docId: DocId,
    score: Score,
    shard: ShardNo,
    title: z.string(),
    text: z.string(),
    /** Phrase search: the phrase (or sentence) within `text`. */
    span: Span.optional(),
    /** Per-branch scores and ranks: hybrid's dense and bm25; a re-ranked query's first stage and re-ranker. */
    branches: z
      .strictObject({ dense: BranchScoreSchema.optional(), bm25: BranchScoreSchema.optional(), first: BranchScoreSchema.optional(), rerank: BranchScoreSchema.optional() })
      .optional(),
  });
  const WireResultSchema = z.strictObject({
    id: Id,
    hits: z.array(WireHitSchema).max(limits.maxK),
    /** Present when some shards did not answer; the hits come from the others. */
    partial: z.strictObject({ missingShards: z.array(ShardNo).max(65536) }).optional(),
    /** Present when this query failed while the rest of the batch succeeded. */
    error: z.strictObject({ code: ErrorCode, message: z.string().max(MAX_ERROR_MESSAGE) }).optional(),
  });
  const TimingsSchema = z.strictObject({
    queueMs: NonNegative,
    encodeMs: NonNegative,
    searchMs: NonNegative,
    /** Merging the shards' hits (and hybrid fusion); evidence fetching is not included. */
    mergeMs: NonNegative,
    /** Fetching the hits' evidence passages from the shard hosts. Absent from routers that do not report it. */
    evidenceMs: NonNegative.optional(),
    totalMs: NonNegative,
  });
  const ShardHitSchema = z.strictObject({ ordinal: Ordinal, score: Score, span: Span.optional(), group: z.string().optional() });
  const ShardResultSchema = z.strictObject({ id: Id, hits: z.array(ShardHitSchema).max(maxShardK(limits)) });
  const PassageSchema = z.strictObject({ ordinal: Ordinal, docId: DocId, title: z.string(), text: z.string() });

  const v = z.literal(PROTOCOL_VERSION);
  const Deadline = NonNegative;
  // A day at most: a promise is short by design (a swap waits it out).
  const VersionLeaseMs = NonNegative.max(86_400_000);

  const search = z
    .strictObject({
      v,
      type: z.literal('search'),
      batchId: Id,
      /** Unix epoch milliseconds after which the caller no longer wants the answer. */
      deadline: Deadline,
      queries: z.array(WireQuerySchema).min(1).max(limits.maxQueries),
    })
    .superRefine(uniqueIds('queries'));

  const result = z
    .strictObject({
      v,
      type: z.literal('result'),
      batchId: Id,
      indexVersion: Version,
      /**
       * For how many ms, counted from when the frame was sent, the pool promises to keep serving
       * `indexVersion` (the least promise of the shards that answered). Absent: no promise.
       */
      versionLeaseMs: VersionLeaseMs.optional(),
      results: z.array(WireResultSchema).max(limits.maxQueries),
      timings: TimingsSchema,
    })
    .superRefine(uniqueIds('results'));

  const shardSearch = z
    .strictObject({
      v,
      type: z.literal('shard-search'),
      batchId: Id,
      /** Unix epoch milliseconds after which the caller no longer wants the answer. */
      deadline: Deadline,
      shard: ShardNo,
      queries: z.array(ShardQuerySchema).min(1).max(maxShardQueries(limits)),
    })
    .superRefine(uniqueIds('queries'));

  const shardResult = z
    .strictObject({
      v,
      type: z.literal('shard-result'),
      batchId: Id,
      shard: ShardNo,
      version: Version,
      /**
       * The version of the index (index.json) that shard version was published in: routers
       * answer a batch from one index version while every shard has a replica on it (rollouts).
       */
      indexVersion: Version.optional(),
      /** For how many ms this host promises to keep serving `version` (see ShardSlot). */
      leaseMs: VersionLeaseMs.optional(),
      results: z.array(ShardResultSchema).max(maxShardQueries(limits)),
    })
    .superRefine(uniqueIds('results'));

  // Re-scoring given passages of one shard (a re-ranking second stage), as evidence is fetched:
  // after the merge, from the shard that holds each passage.
  const ShardScoreQuerySchema = z.strictObject({
    id: Id,
    method: RerankMethod,
    tokens: Tokens,
    ordinals: z.array(Ordinal).min(1).max(MAX_RERANK_DEPTH),
  });
  const shardScore = z
    .strictObject({
      v,
      type: z.literal('shard-score'),
      batchId: Id,
      /** Unix epoch milliseconds after which the caller no longer wants the answer. */
      deadline: Deadline,
      shard: ShardNo,
      /** The shard version the ordinals name (the one the search ran on); see `evidence`. */
      version: Version.optional(),
      queries: z.array(ShardScoreQuerySchema).min(1).max(limits.maxQueries),
    })
    .superRefine(uniqueIds('queries'));
  const shardScoreResult = z
    .strictObject({
      v,
      type: z.literal('shard-score-result'),
      batchId: Id,
      shard: ShardNo,
      version: Version,
      results: z.array(z.strictObject({ id: Id, scores: z.array(Score).max(MAX_RERANK_DEPTH) })).max(limits.maxQueries),
    })
    .superRefine(uniqueIds('results'));

  const evidence = z.strictObject({
    v,
    type: z.literal('evidence'),
    batchId: Id,
    shard: ShardNo,
    /**
     * The shard version the ordinals name (the one the search ran on). A host serving another
     * version answers with its own version and no passages: there the ordinals name other
     * documents, or none (a swap mid-rollout), and the caller asks another replica.
     */
    version: Version.optional(),
    ordinals: z.array(Ordinal).min(1).max(limits.maxOrdinals),
  });

  const evidenceResult = z.strictObject({
    v,
    type: z.literal('evidence-result'),
    batchId: Id,
    shard: ShardNo,
    version: Version,
    passages: z.array(PassageSchema).max(limits.maxOrdinals),
  });

  // Version promises alone, for caches that hold answers of a version: cheap by design (no
  // encoder, no batch, no admission queue), so a busy pool still renews them in time.
  const lease = z.strictObject({
    v,
    type: z.literal('lease'),
    batchId: Id,
    /** Unix epoch milliseconds after which the caller no longer wants the answer. */
    deadline: Deadline,
  });

  const leaseResult = z.strictObject({
    v,
    type: z.literal('lease-result'),
    batchId: Id,
    /** The index version served now, named as a result frame names it. */
    indexVersion: Version,
    /** As in a result frame, counted from when the lease frame was sent; 0: no promise. */
    versionLeaseMs: VersionLeaseMs,
  });

  const shardLease = z.strictObject({
    v,
    type: z.literal('shard-lease'),
    batchId: Id,
    /** Unix epoch milliseconds after which the caller no longer wants the answer. */
    deadline: Deadline,
    shard: ShardNo,
  });

  const shardLeaseResult = z.strictObject({
    v,
    type: z.literal('shard-lease-result'),
    batchId: Id,
    shard: ShardNo,
    /** The version this host serves now, and for how many ms it promises to keep serving it. */
    version: Version,
    /** The index version it was published in, as in `shard-result`. */
    indexVersion: Version.optional(),
    leaseMs: VersionLeaseMs,
  });

  const error = z.strictObject({
    v,
    type: z.literal('error'),
    code: ErrorCode,
    message: z.string().max(MAX_ERROR_MESSAGE),
    batchId: Id.optional(),
    queryId: Id.optional(),
    retryAfterMs: NonNegative.optional(),
  });

  return {
    frames: {
      search,
      result,
      'shard-search': shardSearch,
      'shard-result': shardResult,
      'shard-score': shardScore,
      'shard-score-result': shardScoreResult,
      evidence,
      'evidence-result': evidenceResult,
      lease,
      'lease-result': leaseResult,
      'shard-lease': shardLease,
      'shard-lease-result': shardLeaseResult,
      error,
    },
    // The parts of frames that other code names; exported below as types only.
    parts: {
      WireQuery: WireQuerySchema,
      ShardQuery: ShardQuerySchema,
      BranchScore: BranchScoreSchema,
      WireHit: WireHitSchema,
      WireResult: WireResultSchema,
      Timings: TimingsSchema,
      ShardHit: ShardHitSchema,
      ShardScoreQuery: ShardScoreQuerySchema,
      ShardResult: ShardResultSchema,
      Passage: PassageSchema,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Types: all inferred from the schemas above (their output, i.e. what a decoded frame holds),
// so a field cannot exist in a type and not on the wire or the other way round. The limits
// only change bounds, never shapes, so one build's types serve every limit set.

type Built = ReturnType<typeof buildSchemas>;
export type FrameType = keyof Built['frames'];
type FrameOutput<T extends FrameType> = z.output<Built['frames'][T]>;
type PartOutput<P extends keyof Built['parts']> = z.output<Built['parts'][P]>;

/** One query of an edge → router batch. `text`, `vector` or both; bm25 and hybrid need text. */
export type WireQuery = PartOutput<'WireQuery'>;
/** A hit's score and 1-based rank in one branch of a hybrid search. */
export type BranchScore = PartOutput<'BranchScore'>;
export type WireHit = PartOutput<'WireHit'>;
export type WireResult = PartOutput<'WireResult'>;
export type Timings = PartOutput<'Timings'>;
export type ShardMode = Branch;
/** One sub-query sent to a shard host: dense needs a vector, bm25 needs text. */
export type ShardQuery = PartOutput<'ShardQuery'>;
export type ShardHit = PartOutput<'ShardHit'>;
/** One query of a shard-score frame: re-score these ordinals of the shard with these tokens. */
export type ShardScoreQuery = PartOutput<'ShardScoreQuery'>;
export type ShardResult = PartOutput<'ShardResult'>;
export type Passage = PartOutput<'Passage'>;

export type SearchFrame = FrameOutput<'search'>;
export type ResultFrame = FrameOutput<'result'>;
export type ShardSearchFrame = FrameOutput<'shard-search'>;
export type ShardResultFrame = FrameOutput<'shard-result'>;
export type ShardScoreFrame = FrameOutput<'shard-score'>;
export type ShardScoreResultFrame = FrameOutput<'shard-score-result'>;
export type EvidenceFrame = FrameOutput<'evidence'>;
export type EvidenceResultFrame = FrameOutput<'evidence-result'>;
export type LeaseFrame = FrameOutput<'lease'>;
export type LeaseResultFrame = FrameOutput<'lease-result'>;
export type ShardLeaseFrame = FrameOutput<'shard-lease'>;
export type ShardLeaseResultFrame = FrameOutput<'shard-lease-result'>;
export type ErrorFrame = FrameOutput<'error'>;

export type Frame = { [T in FrameType]: FrameOutput<T> }[FrameType];

export type FrameOf<T extends FrameType> = Extract<Frame, { type: T }>;

/** One schema per frame type; input is the decoded msgpack value, output the typed frame. */
export type FrameSchemas = { readonly [T in FrameType]: z.ZodType<FrameOf<T>> };

// Building schemas is far more expensive than using them, and receivers use one or two
// limit sets for their lifetime, so they are cached per distinct limits (a small bound keeps
// a caller that varies limits per call from growing the cache without end).
const cache = new Map<string, { schemas: FrameSchemas; union: z.ZodType<Frame> }>();
const CACHE_SIZE = 16;

function cached(limits: ProtocolLimits) {
  const key = [limits.maxFrameBytes, limits.maxQueries, limits.maxQueryChars, limits.maxK, limits.maxVectorDim, limits.maxQueryTokens, limits.maxOrdinals].join(',');
  let entry = cache.get(key);
  if (!entry) {
    const built = buildSchemas(limits).frames;
    const schemas: FrameSchemas = built;
    const members = Object.values(built) as unknown as [Built['frames'][FrameType], ...Built['frames'][FrameType][]];
    const union: z.ZodType<Frame> = z.discriminatedUnion('type', members);
    entry = { schemas, union };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, entry);
  }
  return entry;
}

/** The schema of every frame (a union discriminated by `type`) under the given limits. */
export function frameSchema(limits: ProtocolLimits): z.ZodType<Frame> {
  return cached(limits).union;
}

/** The schema of each frame type under the given limits. */
export function frameSchemas(limits: ProtocolLimits): FrameSchemas {
  return cached(limits).schemas;
}

/** Every frame type, in the order of the schema table (the default limits' build, kept anyway). */
export const FRAME_TYPES: readonly FrameType[] = Object.freeze(Object.keys(frameSchemas(DEFAULT_LIMITS)) as FrameType[]);

const LIMITED_LISTS = new Set(['queries', 'results', 'ordinals', 'passages']);

/**
 * Whether a zod issue reports a configured limit being exceeded (→ 'limit') rather than a
 * malformed frame (→ 'bad-frame').
 */
export function isLimitIssue(issue: z.core.$ZodIssue): boolean {
  if (issue.code === 'custom') return (issue.params as { limit?: unknown } | undefined)?.limit === true;
  if (issue.code !== 'too_big') return false;
  const [list, index, field] = issue.path;
  if (issue.path.length === 1) return LIMITED_LISTS.has(list as string);
  if (issue.path.length !== 3 || typeof index !== 'number') return false;
  if (list === 'queries') return field === 'k' || field === 'text';
  if (list === 'results') return field === 'hits';
  return false;
}
