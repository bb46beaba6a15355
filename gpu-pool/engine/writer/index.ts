// The write path: corpus → encoded windows (resumable) → trained, sharded, checksummed index
// published atomically. Slices let several workers encode one corpus; `mergeSlices` joins them.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CORPUS_FORMATS, detectCorpusFormat, type CorpusFormat } from '../corpus/index.ts';
import { loadEncoder, loadTokenEncoder, type Encoder } from '../encoders/index.ts';
import { loadPhraseEncoder, type PhraseEncoder } from '../phrase/model/index.ts';
import { FaissIndex } from '../index/index.ts';
import { createStaging, publishDirectory, removeStaleStaging, type IndexManifest, type ModelRef } from '../shard/index.ts';
import { assembleShards } from './assemble.ts';
import { corpusDocuments, runEncodeStage, type Slice } from './encode-stage.ts';
import { rowsOf } from './row-encoders.ts';
import { VECTORS_FILE, WINDOW_DOCS_FILE, readEncoded, type EncodedVectors } from './encoded-vectors.ts';

export { shardDirName, trainingSample } from './assemble.ts';
export { addDocuments, type AddOptions, type AddResult } from './add-documents.ts';
export { checkNewVersionOut, publishNewVersion, type NewVersionOptions } from './new-version.ts';
export { deleteDocuments, readIdList, type DeleteOptions, type DeleteResult } from './delete-documents.ts';
export type { Slice } from './encode-stage.ts';

export const BuildOptions = z.object({
  corpus: z.string().min(1),
  format: z.enum(CORPUS_FORMATS).optional(),
  model: z.string().min(1),
  /**
   * dense: a vector per window in a faiss index; colbert: every token's vector in a compressed
   * token store; phrase: every token's phrase start and end vectors (DensePhrases), the starts in
   * a faiss index (`factory`).
   */
  method: z.enum(['dense', 'colbert', 'phrase']).default('dense'),
  /** ColBERT: residual bits per dimension (ColBERTv2's 2 by default) and centroid count (default: ColBERTv2's rule). */
  bits: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(2),
  centroids: z.number().int().positive().optional(),
  factory: z.string().min(1).default('Flat'),
  metric: z.enum(['ip', 'l2']).default('ip'),
  out: z.string().min(1),
  shards: z.number().int().min(1).max(4096).default(1),
  bm25: z.boolean().default(false),
  /** Keep the float vectors in each shard (`index optimize` starts from them). */
  keepVectors: z.boolean().default(false),
  slice: z.object({ index: z.number().int().nonnegative(), count: z.number().int().positive() }).refine((s) => s.index < s.count, 'slice index must be below the slice count').optional(),
  groupDocs: z.number().int().positive().default(256),
  trainSize: z.number().int().positive().default(100_000),
  opqIterations: z.number().int().min(1).max(1000).optional(),
  threads: z.number().int().positive().optional(),
  force: z.boolean().default(false),
  /** Index only the first N documents of the corpus (demos, quick trials). */
  limit: z.number().int().positive().optional(),
  /**
   * Phrase only: a canStart token is indexed as a phrase start only when the model's phrase filter
   * gives it a start likelihood ≥ this (0..1); ends stay possible everywhere. Needs a model with a
   * filter (`phrase train` writes one). Recorded in each shard's phrase.json.
   */
  filterThreshold: z.number().optional(),
});
export type BuildOptions = z.input<typeof BuildOptions>;

export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildError';
  }
}

type Log = (message: string) => void;

/** Where a build reports: log lines, and whether to draw progress (off in tests and libraries). */
export interface BuildIo {
  log: Log;
  progress?: boolean;
}
export const stderrIo: BuildIo = { log: (m) => process.stderr.write(`${m}\n`), progress: true };

/** Parses "I/N" as given on the command line. */
export function parseSlice(text: string): Slice {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new BuildError(`--slice must look like I/N (e.g. 0/4), got "${text}"`);
  const slice = { index: Number(m[1]), count: Number(m[2]) };
  if (slice.count < 1 || slice.index >= slice.count) throw new BuildError(`--slice ${text}: need 0 <= I < N`);
  return slice;
}

export function modelRef(encoder: Pick<Encoder, 'modelId' | 'manifestHash' | 'dimension' | 'manifestPath'>): ModelRef {
  return { id: encoder.modelId, manifestHash: encoder.manifestHash, dimension: encoder.dimension, path: encoder.manifestPath };
}

/** Fails before any encoding if faiss cannot make this index (unknown factory key and the like). */
function checkFactory(dimension: number, factory: string, metric: 'ip' | 'l2'): void {
  FaissIndex.create(dimension, factory, metric).dispose();
}

async function countDocuments(corpus: string, format: CorpusFormat, limit?: number): Promise<number> {
  let n = 0;
  // Reading once up front validates every line before hours of encoding, and gives the ETA.
  for await (const _ of corpusDocuments(corpus, format, limit)) n++;
  return n;
}

const SLICE_FILE = 'slice.json';
const SliceManifest = z.object({
  format: z.literal('edgesearch-slice'),
  corpus: z.string(),
  corpusFormat: z.enum(CORPUS_FORMATS),
  limit: z.number().int().optional(),
  slice: z.object({ index: z.number().int(), count: z.number().int() }),
  model: z.object({ id: z.string(), manifestHash: z.string(), dimension: z.number().int(), path: z.string() }),
  windows: z.number().int(),
  options: z.object({ factory: z.string(), metric: z.enum(['ip', 'l2']), shards: z.number().int(), bm25: z.boolean(), trainSize: z.number().int() }),
});

export async function buildIndex(input: BuildOptions, io: BuildIo = stderrIo): Promise<IndexManifest | undefined> {
  const opts = BuildOptions.parse(input);
  const { log } = io;
  const progress = io.progress ?? false;
  const out = resolve(opts.out);
  const corpus = resolve(opts.corpus);
  if (opts.threads) FaissIndex.setThreads(opts.threads);
  // Batched encoding is ~1.5x faster on CPU. A row's vector then depends (in its last bits) on
  // the rows batched with it, but checkpoint groups are fixed, so a resumed build still
  // reproduces the same vectors; slices group differently and agree to ~1e-7.
  const colbert = opts.method === 'colbert';
  const phrase = opts.method === 'phrase';
  if (opts.slice && opts.method !== 'dense') throw new BuildError(`--slice is not supported with --method ${opts.method} yet (slices and \`index merge\` carry dense window vectors only, not ${opts.method === 'phrase' ? 'phrase stores' : 'token stores'}): build the index in one run`);
  if (opts.filterThreshold !== undefined) {
    if (!phrase) throw new BuildError(`--filter-threshold applies to --method phrase only, not ${opts.method}`);
    if (!(opts.filterThreshold >= 0 && opts.filterThreshold <= 1)) throw new BuildError(`--filter-threshold must be a start likelihood between 0 and 1, got ${opts.filterThreshold}`);
  }
  const encoderOptions = { threads: opts.threads, log, batching: 'padded', batchSize: 16 } as const;
  const encoder = colbert
    ? await loadTokenEncoder(opts.model, encoderOptions)
    : phrase
      ? await loadPhraseEncoder(opts.model, encoderOptions)
      : await loadEncoder(opts.model, encoderOptions);
  try {
    if (opts.filterThreshold !== undefined && !(encoder as PhraseEncoder).filter)
      throw new BuildError(
        `--filter-threshold ${opts.filterThreshold}: model ${encoder.modelId} (${encoder.manifestPath}) has no phrase filter (manifest phrase.filter); train one with \`edgesearch phrase train\` (--filter-epochs > 0) or build without --filter-threshold`,
      );
    if (!colbert) checkFactory(encoder.dimension, opts.factory, phrase ? 'ip' : opts.metric);
    const format = opts.format ?? (await detectCorpusFormat(corpus));
    const totalDocs = await countDocuments(corpus, format, opts.limit);
    if (totalDocs === 0) throw new BuildError(`empty corpus: ${corpus} has no documents`);
    await removeStaleStaging(out);

    const workDir = `${out}.partial`;
    const rowEncoder = rowsOf(encoder);
    const checkpoint = await runEncodeStage({ corpus, format, limit: opts.limit, encoder: rowEncoder, workDir, slice: opts.slice, groupDocs: opts.groupDocs, totalDocs, log, progress });
    const encoded = await readEncoded(workDir, rowEncoder.dimension, checkpoint.windowsDone);
    const model = modelRef(encoder);

    const staging = await createStaging(out);
    try {
      if (opts.slice) {
        await writeFile(join(staging, VECTORS_FILE), new Uint8Array(encoded.vectors.buffer, 0, encoded.vectors.byteLength));
        await writeFile(join(staging, WINDOW_DOCS_FILE), new Uint8Array(encoded.windowDocs.buffer, 0, encoded.windowDocs.byteLength));
        const manifest: z.infer<typeof SliceManifest> = {
          format: 'edgesearch-slice',
          corpus,
          corpusFormat: format,
          limit: opts.limit,
          slice: opts.slice,
          model,
          windows: checkpoint.windowsDone,
          options: { factory: opts.factory, metric: opts.metric, shards: opts.shards, bm25: opts.bm25, trainSize: opts.trainSize },
        };
        await writeFile(join(staging, SLICE_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
        await publishDirectory(staging, out, { replace: opts.force });
        log(`slice ${opts.slice.index}/${opts.slice.count} written to ${out} (${checkpoint.windowsDone} windows); join slices with \`edgesearch index merge\``);
        await rm(workDir, { recursive: true, force: true });
        return undefined;
      }
      const manifest = await assembleShards({
        method: opts.method,
        colbert: { bits: opts.bits, centroids: opts.centroids },
        phrase: phrase
          ? { dimension: encoder.dimension, maxPhraseTokens: (encoder as PhraseEncoder).maxPhraseTokens, filter: (encoder as PhraseEncoder).filter !== undefined, filterThreshold: opts.filterThreshold }
          : undefined,
        corpus,
        format,
        limit: opts.limit,
        encoded,
        model,
        factoryKey: opts.factory,
        metric: opts.metric,
        shards: opts.shards,
        bm25: opts.bm25,
        keepVectors: opts.keepVectors,
        trainSize: opts.trainSize,
        opqIterations: opts.opqIterations,
        staging,
        progress,
        build: {
          corpus,
          format,
          limit: opts.limit,
          ...('window' in encoder
            ? { window: encoder.window }
            : phrase
              ? { method: 'phrase', ...(opts.filterThreshold !== undefined ? { filterThreshold: opts.filterThreshold } : {}) }
              : { method: 'colbert', bits: opts.bits, centroids: opts.centroids }),
          groupDocs: opts.groupDocs,
          trainSize: opts.trainSize,
          opqIterations: opts.opqIterations,
        },
        log,
      });
      await publishDirectory(staging, out, { replace: opts.force });
      await rm(workDir, { recursive: true, force: true });
      log(`index ${manifest.version} published at ${out}: ${manifest.counts.docs} docs, ${manifest.counts.vectors} ${opts.method === 'dense' ? 'vectors' : 'tokens'}, ${opts.shards} shard(s)`);
      return manifest;
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw err;
    }
  } finally {
    await encoder.dispose();
  }
}

export interface MergeOptions {
  slices: string[];
  out: string;
  force?: boolean;
  factory?: string;
  shards?: number;
  bm25?: boolean;
  keepVectors?: boolean;
  opqIterations?: number;
}

/** Joins slices (each from `index build --slice I/N`) into one index, identical to an unsliced build. */
export async function mergeSlices(opts: MergeOptions, io: BuildIo = stderrIo): Promise<IndexManifest> {
  const { log } = io;
  const progress = io.progress ?? false;
  if (opts.slices.length === 0) throw new BuildError('index merge needs at least one slice directory');
  const slices: { dir: string; manifest: z.infer<typeof SliceManifest> }[] = [];
  for (const dir of opts.slices) {
    const path = join(resolve(dir), SLICE_FILE);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new BuildError(`${path}: not a slice (${(err as Error).message})`);
    }
    const parsed = SliceManifest.safeParse(json);
    if (!parsed.success) throw new BuildError(`${path}: field ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
    slices.push({ dir: resolve(dir), manifest: parsed.data });
  }
  const first = slices[0].manifest;
  for (const { dir, manifest } of slices) {
    for (const [what, a, b] of [
      ['corpus', manifest.corpus, first.corpus],
      ['model', manifest.model.manifestHash, first.model.manifestHash],
      ['slice count', manifest.slice.count, first.slice.count],
      ['limit', manifest.limit, first.limit],
    ] as const) {
      if (a !== b) throw new BuildError(`${dir}: ${what} differs from ${slices[0].dir} (${a} vs ${b})`);
    }
  }
  const seen = new Set(slices.map((s) => s.manifest.slice.index));
  if (seen.size !== slices.length) throw new BuildError('the same slice is given twice');
  if (seen.size !== first.slice.count) {
    const missing = [...Array(first.slice.count).keys()].filter((i) => !seen.has(i));
    throw new BuildError(`slices ${missing.map((i) => `${i}/${first.slice.count}`).join(', ')} are missing`);
  }

  const d = first.model.dimension;
  const parts: EncodedVectors[] = [];
  for (const { dir, manifest } of slices) parts.push(await readEncoded(dir, d, manifest.windows));
  const total = parts.reduce((n, p) => n + p.windowDocs.length, 0);
  // Put windows back in corpus order so the result equals an unsliced build.
  const order: [number, number, number][] = [];
  parts.forEach((p, pi) => p.windowDocs.forEach((g, r) => order.push([g, pi, r])));
  order.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const vectors = new Float32Array(total * d);
  const windowDocs = new Uint32Array(total);
  order.forEach(([g, pi, r], i) => {
    vectors.set(parts[pi].vectors.subarray(r * d, (r + 1) * d), i * d);
    windowDocs[i] = g;
  });

  const out = resolve(opts.out);
  await removeStaleStaging(out);
  const staging = await createStaging(out);
  try {
    const manifest = await assembleShards({
      corpus: first.corpus,
      format: first.corpusFormat,
      limit: first.limit,
      encoded: { dimension: d, vectors, windowDocs },
      model: first.model,
      factoryKey: opts.factory ?? first.options.factory,
      metric: first.options.metric,
      shards: opts.shards ?? first.options.shards,
      bm25: opts.bm25 ?? first.options.bm25,
      keepVectors: opts.keepVectors,
      trainSize: first.options.trainSize,
      opqIterations: opts.opqIterations,
      staging,
      progress,
      build: { corpus: first.corpus, format: first.corpusFormat, mergedSlices: first.slice.count, opqIterations: opts.opqIterations },
      log,
    });
    await publishDirectory(staging, out, { replace: opts.force });
    log(`index ${manifest.version} published at ${out} from ${slices.length} slices`);
    return manifest;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}
