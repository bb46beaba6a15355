import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { checksumFile } from './checksum.ts';

export const SHARD_FORMAT_VERSION = 1;
export const SHARD_MANIFEST_FILE = 'manifest.json';
export const INDEX_MANIFEST_FILE = 'index.json';

/** What a shard can hold, one part per method (bm25's postings beside any of the others). */
export const ShardMethod = z.enum(['dense', 'bm25', 'colbert', 'phrase']);
export type ShardMethod = z.infer<typeof ShardMethod>;

const fileEntry = z.object({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
/** A listed file (or shard directory) lives in its directory itself: no separators, no `.`/`..`, nothing hidden. */
const fileName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'a file name in the shard directory (letters, digits, . _ -; no path separators)');

export const ModelRef = z.object({
  id: z.string(),
  manifestHash: z.string(),
  dimension: z.number().int().positive(),
  /** Where the model was at build time; search uses it unless told otherwise. */
  path: z.string(),
});
export type ModelRef = z.infer<typeof ModelRef>;

export const ShardManifest = z.object({
  format: z.literal('edgesearch-shard'),
  formatVersion: z.literal(SHARD_FORMAT_VERSION),
  shard: z.number().int().nonnegative(),
  shardCount: z.number().int().positive(),
  /** What the shard holds: dense (faiss + id map), bm25 (postings), colbert (compressed token store), phrase (phrase store). */
  methods: z.array(ShardMethod).min(1),
  model: ModelRef,
  factoryKey: z.string(),
  metric: z.enum(['ip', 'l2']),
  counts: z.object({ docs: z.number().int().nonnegative(), vectors: z.number().int().nonnegative() }),
  files: z.record(fileName, fileEntry),
  version: z.string(),
  /** Vector ids from here on were added by `index add` since the last build or optimization. */
  addedFrom: z.number().int().nonnegative().optional(),
});
export type ShardManifest = z.infer<typeof ShardManifest>;

/** JSON has no NaN: a metric that was not computed (no validation split, no loss before training) is null. */
const nullableNumber = z.number().nullable();

export const OptimizationRecord = z.object({
  source: z.object({ dir: z.string(), version: z.string() }),
  queries: z.object({ path: z.string(), sha256: z.string(), count: z.number().int(), train: z.number().int(), validation: z.number().int() }),
  qrels: z.object({ path: z.string(), sha256: z.string(), used: z.number().int(), unknownDocs: z.number().int(), unknownQueries: z.number().int() }),
  params: z.record(z.string(), z.unknown()),
  /** nDCG@10 of the validation queries on the quantized index, before and after (null without a validation split). */
  validation: z.object({
    metric: z.string(),
    before: nullableNumber,
    after: nullableNumber,
    /** Validation queries with a relevant document that training queries also have, and the others. */
    seenBefore: nullableNumber,
    seenAfter: nullableNumber,
    unseenBefore: nullableNumber,
    unseenAfter: nullableNumber,
    bestEpoch: z.number().int(),
    /** How many validation queries each group holds, and whether the second scored lower after (absent in records written before these were kept). */
    seenQueries: z.number().int().optional(),
    unseenQueries: z.number().int().optional(),
    unseenWorse: z.boolean().optional(),
  }),
  epochs: z.array(z.object({ epoch: z.number().int(), loss: nullableNumber, validNdcg10: nullableNumber, validSeen: nullableNumber, validUnseen: nullableNumber, seconds: z.number() })),
  changedRows: z.number().int(),
  seconds: z.number(),
  /** Peak resident memory of the optimizing process. */
  peakRssMb: z.number(),
});
export type OptimizationRecord = z.infer<typeof OptimizationRecord>;

/** The fusion `hybrid` uses on an index unless a query sets its own (written by `index tune`). */
export const FusionChoice = z.object({
  method: z.enum(['rrf', 'minmax', 'zscore']),
  /** RRF's constant (rrf only). */
  rrfK: z.number().min(0).optional(),
  weights: z.object({ dense: z.number().min(0), bm25: z.number().min(0) }),
});
export type FusionChoice = z.infer<typeof FusionChoice>;

/** How `index tune` chose it: the queries, the candidates and their validation figures. */
export const FusionRecord = FusionChoice.extend({
  tuning: z.object({
    queries: z.object({ path: z.string(), sha256: z.string(), count: z.number().int(), judged: z.number().int() }),
    qrels: z.object({ path: z.string(), sha256: z.string() }),
    metric: z.string(),
    depth: z.number().int(),
    folds: z.number().int(),
    candidates: z.number().int(),
    /** The chosen fusion's metric on every tuning query. */
    chosen: z.number(),
    /** Cross-validated: per fold, the best candidate on the other folds, scored on that fold. */
    crossValidated: z.number(),
    /** The same queries with references: each branch alone, and RRF k 60 at equal weights (the untuned default). */
    references: z.record(z.string(), z.number()),
    /** Each fold's choice and its held-out figure. */
    perFold: z.array(z.object({ queries: z.number().int(), choice: z.string(), heldOut: z.number() })),
    seconds: z.number(),
  }),
});
export type FusionRecord = z.infer<typeof FusionRecord>;

export const IndexManifest = z.object({
  format: z.literal('edgesearch-index'),
  formatVersion: z.literal(SHARD_FORMAT_VERSION),
  version: z.string(),
  createdAt: z.string(),
  model: ModelRef,
  factoryKey: z.string(),
  metric: z.enum(['ip', 'l2']),
  counts: z.object({ docs: z.number().int().nonnegative(), vectors: z.number().int().nonnegative() }),
  shards: z.array(z.object({ dir: fileName, version: z.string(), docs: z.number().int(), vectors: z.number().int() })),
  bm25: z.boolean(),
  /** What every shard holds (as in their manifests); absent in indexes written before colbert: dense, and bm25 when `bm25`. */
  methods: z.array(ShardMethod).min(1).optional(),
  build: z.record(z.string(), z.unknown()),
  /** Set on versions written by `index optimize`: what produced them, for audit and comparison. */
  optimization: OptimizationRecord.optional(),
  /** Set by `index tune`: hybrid's default fusion on this index, and how it was chosen. */
  fusion: FusionRecord.optional(),
  /**
   * The versions this one descends from through add, delete and optimize, oldest first (absent
   * on a fresh build). A pool swaps a shard only forward along it, never back to an older version.
   */
  lineage: z.array(z.string()).optional(),
});
export type IndexManifest = z.infer<typeof IndexManifest>;

/** What an index's shards hold, for indexes written before `methods` was recorded too. */
export function indexMethods(manifest: Pick<IndexManifest, 'methods' | 'bm25'>): ShardMethod[] {
  return manifest.methods ?? (manifest.bm25 ? ['dense', 'bm25'] : ['dense']);
}

export class ManifestError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ManifestError';
  }
}

/** Content version: a digest of every file's checksum, so equal contents give equal versions. */
export function contentVersion(files: Record<string, { sha256: string }>): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(files).sort()) hash.update(`${name}\0${files[name].sha256}\n`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * An index version: the content version of its shards' versions and, when the index has a
 * default fusion, of that choice too (hybrid answers depend on it; the tuning record does not).
 */
export function indexVersionOf(shards: readonly { dir: string; version: string }[], fusion?: FusionChoice): string {
  const parts: Record<string, { sha256: string }> = Object.fromEntries(shards.map((e) => [e.dir, { sha256: e.version }]));
  if (fusion) {
    const choice = { method: fusion.method, rrfK: fusion.rrfK ?? null, weights: { dense: fusion.weights.dense, bm25: fusion.weights.bm25 } };
    parts['\0fusion'] = { sha256: createHash('sha256').update(JSON.stringify(choice)).digest('hex') };
  }
  return contentVersion(parts);
}

export async function checksumFiles(dir: string, names: string[]): Promise<Record<string, z.infer<typeof fileEntry>>> {
  const files: Record<string, z.infer<typeof fileEntry>> = {};
  for (const name of [...names].sort()) files[name] = await checksumFile(join(dir, name));
  return files;
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new ManifestError(`cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ManifestError(`not valid JSON: ${(err as Error).message}`, path);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(`field ${issue.path.join('.') || '(root)'}: ${issue.message}`, path);
  }
  return parsed.data;
}

export const readShardManifest = (dir: string) => readJson(join(dir, SHARD_MANIFEST_FILE), ShardManifest);
export const readIndexManifest = (dir: string) => readJson(join(dir, INDEX_MANIFEST_FILE), IndexManifest);

/** Recomputes every listed file's checksum; a truncated or corrupted file is named in the error. */
export async function verifyShardFiles(dir: string, manifest: ShardManifest, opts: { signal?: AbortSignal } = {}): Promise<void> {
  for (const [name, expected] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    let actual;
    try {
      actual = await checksumFile(path, opts);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new ManifestError(`listed file is missing (${(err as NodeJS.ErrnoException).code})`, path);
    }
    if (actual.bytes !== expected.bytes) {
      throw new ManifestError(`size ${actual.bytes} bytes, manifest says ${expected.bytes} (truncated or replaced)`, path);
    }
    if (actual.sha256 !== expected.sha256) {
      throw new ManifestError(`checksum mismatch (sha256 ${actual.sha256.slice(0, 12)}…, manifest ${expected.sha256.slice(0, 12)}…): file is corrupted`, path);
    }
  }
}
