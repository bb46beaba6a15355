// `edgesearch colbert train`: ColBERT's linear projection trained on top of a frozen token encoder.
// Reads the training data (BEIR corpus + queries + qrels with mined negatives, or ColBERT's
// triples + collection + queries), encodes every query and passage it needs once (cached), splits
// the queries by id into training and validation, measures the untrained baselines, trains W with
// Adam on ColBERT's loss, and writes a model directory that loadTokenEncoder loads: the ONNX and
// tokenizer files, projection.f32 and a manifest with the projection and a training record.
// Written into `<out>.partial` and renamed; nothing is left half-written when it fails.
import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { isValidation, type UnknownPolicy } from '../../optimize/index.ts';
import { checksumFile } from '../../shard/index.ts';
import { DerivedModelExistsError, loadEncoder, loadManifest, loadTokenEncoder, manifestHash, writeDerivedModel, type ModelManifest, type TokenEncoder } from '../../encoders/index.ts';
import { epochProgress } from '../../progress/index.ts';
import { stderrIo, type BuildIo } from '../../writer/index.ts';
import { FeatureStore, normalizeRows, roundToHalf } from './features.ts';
import { FeatureCache, fillFeatureCache, textKey } from './feature-cache.ts';
import { principalProjection, randomProjection } from './init.ts';
import { bm25Top, buildBm25, denseTop, judgedFromQrels, judgedFromTriples, readCorpusInMemory, type Corpus, type JudgedQueries } from './inputs.ts';
import { trainProjection, validationNdcg, type EpochReport, type ProjectionData, type TrainExample, type ValidationQuery } from './train-projection.ts';

export const PROJECTION_FILE = 'projection.f32';

export const ColbertTrainOptions = z.object({
  /** Token model: a manifest with output kind "tokens" and a lateInteraction block. */
  model: z.string().min(1),
  out: z.string().min(1),
  /** BEIR input: corpus directory or file, queries, qrels. */
  corpus: z.string().min(1).optional(),
  queries: z.string().min(1),
  qrels: z.string().min(1).optional(),
  /** ColBERT input: triples.tsv (qid, pid+, pid-) and collection.tsv. */
  triples: z.string().min(1).optional(),
  collection: z.string().min(1).optional(),
  dim: z.number().int().min(1).max(65_536).default(128),
  epochs: z.number().int().min(0).max(1000).default(20),
  lr: z.number().min(0).max(1).default(0.003),
  batch: z.number().int().min(1).default(32),
  negatives: z.number().int().min(1).default(16),
  /** BEIR input: negatives mined from each query's BM25 (and dense) top this many, positives excluded. */
  mineDepth: z.number().int().min(1).default(100),
  /** A sentence model whose exact search adds its top `mineDepth` to the mined negatives. */
  denseModel: z.string().min(1).optional(),
  temperature: z.number().positive().default(1),
  validFraction: z.number().min(0).max(0.9).default(0.2),
  /** Validation re-ranks each held-out query's BM25 top this many, over the whole corpus. */
  validDepth: z.number().int().min(1).default(100),
  patience: z.number().int().min(1).default(2),
  seed: z.number().int().default(1),
  init: z.enum(['pca', 'random']).default('pca'),
  /** Feature cache directory (default `<out>.cache`). */
  cache: z.string().min(1).optional(),
  unknown: z.enum(['reject', 'skip']).default('reject'),
  /** Model id written to the manifest (default `<base id>-colbert<dim>`). */
  id: z.string().min(1).optional(),
  threads: z.number().int().positive().optional(),
  force: z.boolean().default(false),
});
export type ColbertTrainOptions = z.input<typeof ColbertTrainOptions>;

export class ColbertTrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ColbertTrainError';
  }
}

export interface Baselines {
  /** No projection: MaxSim of the normalised features (featureDimension-d). */
  identity: number;
  /** A seeded random projection to `dim` with orthonormal columns. */
  random: number;
  /** The top principal directions of the token features. */
  pca: number;
}

export interface ColbertTrainResult {
  out: string;
  manifest: Record<string, unknown>;
  history: EpochReport[];
  bestEpoch: number;
  baselines: Baselines;
  /** Validation nDCG@10 of the written projection (NaN without validation queries). */
  validNdcg10: number;
  cache: FeatureCacheReport;
}

export interface FeatureCacheReport {
  dir: string;
  model: string;
  passages: { reused: number; encoded: number };
  queries: { reused: number; encoded: number };
  /** Size of the cache's feature files for this model. */
  bytes: number;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function sha256(path: string): Promise<string> {
  return (await checksumFile(path)).sha256;
}

/**
 * What the token features depend on: the model's manifest without what only shapes the projection
 * (lateInteraction.dimension/projection, id, description, where the files are), and the bytes of
 * its ONNX and tokenizer files.
 */
async function featureKey(encoder: TokenEncoder, onnxPath: string, tokenizerPath: string): Promise<string> {
  const m = encoder.manifest;
  const li = m.lateInteraction!;
  const shape: ModelManifest = { ...m, id: '-', description: undefined, lateInteraction: { ...li, dimension: m.dimension, projection: undefined } };
  return createHash('sha256')
    .update(`features-v1\u0000${manifestHash(shape)}\u0000${await sha256(onnxPath)}\u0000${await sha256(tokenizerPath)}`)
    .digest('hex');
}

/**
 * The token features of `inputs` (item i = inputs[i]), from the cache where it has them, else
 * encoded (in batches, with progress) and appended to it. Rows are L2-normalised and rounded to
 * float16 precision either way, so a run that encodes and a run that reads the cache train on the
 * same numbers.
 */
async function gatherFeatures<T>(opts: {
  cache: FeatureCache;
  dim: number;
  keys: readonly string[];
  inputs: readonly T[];
  encode: (batch: T[]) => Promise<{ rows: number; data: Float32Array }[]>;
  what: string;
  io: BuildIo;
}): Promise<{ store: FeatureStore; /** Distinct texts read from the cache. */ reused: number; /** Distinct texts encoded. */ encoded: number }> {
  const { cache, keys } = opts;
  const { reused, encoded } = await fillFeatureCache({
    cache,
    keys,
    what: opts.what,
    progress: opts.io.progress ?? false,
    encode: async (idx) =>
      (await opts.encode(idx.map((i) => opts.inputs[i]))).map((m) => {
        const data = m.data.slice(0, m.rows * opts.dim);
        normalizeRows(data, m.rows, opts.dim);
        return { data: roundToHalf(data), rows: m.rows };
      }),
  });
  const store = new FeatureStore(opts.dim);
  await cache.read(keys, store);
  return { store, reused, encoded };
}

function projectionBytes(W: Float32Array): Buffer {
  const buf = Buffer.alloc(W.length * 4);
  for (let i = 0; i < W.length; i++) buf.writeFloatLE(W[i], i * 4);
  return buf;
}

/** Everything training needs, read, mined, encoded (or read from the cache) and resolved. */
export interface PreparedTraining {
  data: ProjectionData;
  /** What the record says about the inputs (paths, sha256, counts). */
  inputs: Record<string, unknown>;
  negativeSource: string;
  cacheReport: FeatureCacheReport;
  /** Every feature came from the cache. */
  reusedAll: boolean;
}

type ParsedOptions = z.output<typeof ColbertTrainOptions>;

/**
 * Inputs → features: the corpus and judged queries, the split by query id, BM25 (and dense)
 * mining, validation candidates, and the token features of every query and passage involved.
 */
export async function prepareTraining(opts: ParsedOptions, encoder: TokenEncoder, cacheRoot: string, io: BuildIo): Promise<PreparedTraining> {
  const { log } = io;
  const beir = opts.triples === undefined;
  const F = encoder.featureDimension;
  const loaded = loadManifest(encoder.manifestPath);
  // Inputs.
  const corpusPath = beir ? opts.corpus! : opts.collection!;
  const corpus: Corpus = await readCorpusInMemory(corpusPath, beir ? undefined : 'tsv');
  const judged: JudgedQueries = beir
    ? await judgedFromQrels({ queries: opts.queries, qrels: opts.qrels!, corpus, unknown: opts.unknown as UnknownPolicy })
    : await judgedFromTriples({ triples: opts.triples!, queries: opts.queries, corpus });
  log(`${corpusPath}: ${corpus.ids.length} passages; ${judged.summary}`);
  // Checksums now: the record must describe what was read.
  const inputs: Record<string, unknown> = {
    format: beir ? 'beir' : 'colbert-triples',
    [beir ? 'corpus' : 'collection']: { path: resolve(corpusPath), sha256: await sha256(await corpusFile(corpusPath, beir)), passages: corpus.ids.length },
    queries: { path: resolve(opts.queries), sha256: await sha256(opts.queries) },
    ...(opts.qrels ? { qrels: { path: resolve(opts.qrels), sha256: await sha256(opts.qrels) } } : {}),
    ...(opts.triples ? { triples: { path: resolve(opts.triples), sha256: await sha256(opts.triples) } } : {}),
  };

  // Split by query id, as index optimize does: the same file always splits the same way.
  const trainQ = judged.queries.filter((q) => !isValidation(q.id, opts.validFraction));
  const validQ = judged.queries.filter((q) => isValidation(q.id, opts.validFraction));
  if (opts.validFraction > 0 && validQ.length === 0) log('warning: no query fell into the validation split; the last epoch is kept');

  // Candidates and negatives.
  const t0 = performance.now();
  const bm25 = buildBm25(corpus);
  const validCandidates = bm25Top(bm25, validQ.map((q) => q.text), opts.validDepth);
  let negativeSource: string;
  if (beir) {
    const mined = bm25Top(bm25, trainQ.map((q) => q.text), opts.mineDepth);
    negativeSource = `BM25 top ${opts.mineDepth}`;
    if (opts.denseModel) {
      const dense = await loadEncoder(opts.denseModel, { threads: opts.threads, log: (m) => log(`dense model: ${m}`) });
      try {
        const key = createHash('sha256').update(`dense-v1\u0000${dense.manifestHash}\u0000${await sha256(loadManifest(dense.manifestPath).onnxPath)}`).digest('hex');
        const top = await denseTop({ encoder: dense, corpus, texts: trainQ.map((q) => q.text), depth: opts.mineDepth, cacheDir: cacheRoot, modelKey: key, log, progress: io.progress ?? false });
        top.forEach((docs, i) => (mined[i] = [...new Set([...mined[i], ...docs])]));
        negativeSource += ` ∪ dense top ${opts.mineDepth} (${dense.modelId}, exact inner product)`;
      } finally {
        await dense.dispose();
      }
    }
    trainQ.forEach((q, i) => {
      const pos = new Set(q.positives);
      q.negatives = mined[i].filter((d) => !pos.has(d));
    });
  } else negativeSource = 'the triples';
  const usable = trainQ.filter((q) => q.positives.length > 0 && q.negatives.length > 0);
  if (usable.length === 0)
    throw new ColbertTrainError(
      `no training pairs left: ${judged.queries.length} queries, ${validQ.length} held out for validation, ${trainQ.length - usable.length} of the other ${trainQ.length} without a positive or a negative${trainQ.length === 0 ? ' (lower --valid-fraction)' : ''}`,
    );
  log(`${usable.length} training queries (negatives from ${negativeSource}, ${(usable.reduce((n, q) => n + q.negatives.length, 0) / usable.length).toFixed(1)} per query), ${validQ.length} validation queries (re-ranking their BM25 top ${opts.validDepth}) (${((performance.now() - t0) / 1000).toFixed(1)}s)`);

  // Features: every query, and every passage that is a positive, a negative or a validation candidate.
  const docOrds = [...new Set([...usable.flatMap((q) => [...q.positives, ...q.negatives]), ...validCandidates.flat()])].sort((a, b) => a - b);
  const queryList = [...usable, ...validQ];
  const key = await featureKey(encoder, loaded.onnxPath, loaded.tokenizerPath);
  const passagesCache = await FeatureCache.open(cacheRoot, 'passages', key, F);
  const queriesCache = await FeatureCache.open(cacheRoot, 'queries', key, F);
  for (const [what, c] of [['passages', passagesCache], ['queries', queriesCache]] as const) if (c.reason) log(`feature cache ${c.cache.dir} (${what}): starting afresh: ${c.reason}`);
  const docs = await gatherFeatures({
    cache: passagesCache.cache,
    dim: F,
    keys: docOrds.map((d) => textKey('passage', corpus.titles[d], corpus.texts[d])),
    inputs: docOrds.map((d) => ({ title: corpus.titles[d], text: corpus.texts[d] })),
    encode: (batch) => encoder.documentFeatures(batch),
    what: 'passages',
    io,
  });
  const queries = await gatherFeatures({
    cache: queriesCache.cache,
    dim: F,
    keys: queryList.map((q) => textKey('query', q.text)),
    inputs: queryList.map((q) => q.text),
    encode: (batch) => encoder.queryFeatures(batch),
    what: 'queries',
    io,
  });
  const cacheReport: FeatureCacheReport = {
    dir: passagesCache.cache.dir,
    model: key,
    passages: { reused: docs.reused, encoded: docs.encoded },
    queries: { reused: queries.reused, encoded: queries.encoded },
    bytes: passagesCache.cache.bytes + queriesCache.cache.bytes,
  };
  const reusedAll = docs.encoded === 0 && queries.encoded === 0;
  log(
    `feature cache ${cacheReport.dir}: ${reusedAll ? 'reused for every passage and query (same model and texts)' : `${docs.reused} passages and ${queries.reused} queries from the cache, ${docs.encoded} passages and ${queries.encoded} queries encoded (distinct texts)`}; ${docs.store.totalRows} passage tokens, ${queries.store.totalRows} query tokens, ${(cacheReport.bytes / 2 ** 20).toFixed(0)} MiB on disk`,
  );

  // Empty texts (no token left) cannot be scored: they leave the training and candidate lists.
  const item = new Map(docOrds.map((d, i) => [d, i]));
  const hasTokens = (d: number) => docs.store.rows(item.get(d)!) > 0;
  const train: TrainExample[] = [];
  usable.forEach((q, i) => {
    if (queries.store.rows(i) === 0) return;
    const positives = q.positives.filter(hasTokens).map((d) => item.get(d)!);
    const negatives = q.negatives.filter(hasTokens).map((d) => item.get(d)!);
    if (positives.length > 0 && negatives.length > 0) train.push({ query: i, positives, negatives });
  });
  if (train.length === 0) throw new ColbertTrainError('no training pairs left: every training query or all its positives or negatives encode to no tokens');
  if (train.length < usable.length) log(`${usable.length - train.length} training queries dropped: no tokens left in the query or in all its positives or negatives`);
  const validation: ValidationQuery[] = validQ.map((q, j) => ({
    id: q.id,
    query: usable.length + j,
    candidates: validCandidates[j].filter(hasTokens).map((d) => item.get(d)!),
    relevant: q.positives.map((d) => corpus.ids[d]),
  }));
  const data: ProjectionData = { queries: queries.store, docs: docs.store, docIds: docOrds.map((d) => corpus.ids[d]), train, validation };

  return { data, inputs, negativeSource, cacheReport, reusedAll };
}

export async function colbertTrain(input: ColbertTrainOptions, io: BuildIo = stderrIo): Promise<ColbertTrainResult> {
  const opts = ColbertTrainOptions.parse(input);
  const { log } = io;
  const started = performance.now();
  const beir = opts.triples === undefined;
  if (beir) {
    if (!opts.corpus || !opts.qrels) throw new ColbertTrainError('give --corpus, --queries and --qrels (BEIR), or --triples, --collection and --queries (ColBERT)');
    if (opts.collection) throw new ColbertTrainError('--collection goes with --triples; for BEIR input the passages come from --corpus');
  } else {
    if (!opts.collection) throw new ColbertTrainError('--triples needs --collection (collection.tsv: pid, passage[, title])');
    if (opts.corpus || opts.qrels) throw new ColbertTrainError('--triples takes its passages from --collection and its positives from the triples: leave out --corpus and --qrels');
  }
  if (/(^|[^a-z])test([^a-z]|$)/i.test(basename(opts.queries)) || (opts.qrels && /(^|[^a-z])test([^a-z]|$)/i.test(basename(opts.qrels))))
    log(`warning: ${opts.queries}${opts.qrels ? ` / ${opts.qrels}` : ''} look like test data; train on training queries and keep the test queries for the final measurement`);

  const out = resolve(opts.out);
  if ((await exists(out)) && !opts.force) throw new ColbertTrainError(`output directory already exists: ${out} (choose another --out or pass --force to replace it)`);
  const cacheRoot = resolve(opts.cache ?? `${out}.cache`);

  // Fails with NotATokenModelError before anything is read when the model is a sentence model.
  const encoder = await loadTokenEncoder(opts.model, { threads: opts.threads, log: (m) => log(`model: ${m}`) });
  let written = false;
  try {
    const F = encoder.featureDimension;
    if (opts.dim > F) throw new ColbertTrainError(`--dim ${opts.dim} is more than the model's ${F} token features; a projection can only keep or reduce dimensions`);
    const loaded = loadManifest(encoder.manifestPath);
    log(`model ${encoder.modelId}: ${F}-d token features, projection to ${opts.dim}`);

    const { data, inputs, negativeSource, cacheReport, reusedAll } = await prepareTraining(opts, encoder, cacheRoot, io);
    const train = data.train;
    const validation = data.validation;

    // Baselines on the validation split, and the starting point.
    const tb = performance.now();
    const randomW = randomProjection(F, opts.dim, opts.seed);
    const pcaW = principalProjection(data.docs, uniq(train.flatMap((ex) => [...ex.positives, ...ex.negatives])), opts.dim, { seed: opts.seed });
    const baselines: Baselines = {
      identity: validationNdcg(data, undefined, F),
      random: validationNdcg(data, randomW, opts.dim),
      pca: validationNdcg(data, pcaW, opts.dim),
    };
    const f4 = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(4));
    log(`validation nDCG@10 before training (${validation.length} queries): identity ${F}-d ${f4(baselines.identity)}, random ${opts.dim}-d ${f4(baselines.random)}, principal directions ${opts.dim}-d ${f4(baselines.pca)} (${((performance.now() - tb) / 1000).toFixed(1)}s)`);

    // Training.
    const params = {
      dim: opts.dim,
      epochs: opts.epochs,
      lr: opts.lr,
      batch: opts.batch,
      negatives: opts.negatives,
      mineDepth: beir ? opts.mineDepth : undefined,
      denseModel: opts.denseModel,
      temperature: opts.temperature,
      validFraction: opts.validFraction,
      validDepth: opts.validDepth,
      patience: opts.patience,
      seed: opts.seed,
      init: opts.init,
    };
    const tt = performance.now();
    const result = trainProjection(data, {
      dim: opts.dim,
      init: opts.init === 'pca' ? pcaW : randomW,
      startNdcg: opts.init === 'pca' ? baselines.pca : baselines.random,
      epochs: opts.epochs,
      lr: opts.lr,
      batchSize: opts.batch,
      negatives: opts.negatives,
      temperature: opts.temperature,
      seed: opts.seed,
      patience: opts.patience,
      ...epochProgress({ epochs: opts.epochs, unit: 'queries', enabled: io.progress ?? false, log, line: (r: EpochReport) => `epoch ${r.epoch}/${opts.epochs}: ${r.epoch === 0 ? `start (${opts.init})` : `loss ${r.loss.toFixed(4)}`}, validation nDCG@10 ${f4(r.validNdcg10)} (${r.seconds.toFixed(1)}s)` }),
    });
    const trainSeconds = (performance.now() - tt) / 1000;
    const validNdcg10 = result.history[result.bestEpoch].validNdcg10;
    log(
      `best epoch ${result.bestEpoch}: validation nDCG@10 ${f4(validNdcg10)} (identity ${f4(baselines.identity)}, random ${f4(baselines.random)}, principal directions ${f4(baselines.pca)}); training ${trainSeconds.toFixed(1)}s`,
    );

    // The model directory.
    const finite = (x: number) => (Number.isFinite(x) ? x : null);
    const record = {
      tool: 'edgesearch colbert train',
      base: { id: encoder.modelId, manifestHash: encoder.manifestHash, manifest: encoder.manifestPath },
      inputs: { ...inputs, trainQueries: train.length, validationQueries: validation.length },
      negatives: negativeSource,
      loss: 'softmax cross-entropy over the MaxSim scores of one positive and the sampled negatives, scores divided by the temperature',
      params,
      featureCache: { dir: cacheRoot, reused: reusedAll, passages: cacheReport.passages, queries: cacheReport.queries, bytes: cacheReport.bytes },
      validation: { metric: 'ndcg@10', rerankDepth: opts.validDepth, queries: validation.length, identity: finite(baselines.identity), random: finite(baselines.random), pca: finite(baselines.pca), trained: finite(validNdcg10) },
      epochs: result.history.map((h) => ({ epoch: h.epoch, loss: finite(h.loss), validNdcg10: finite(h.validNdcg10), seconds: h.seconds })),
      bestEpoch: result.bestEpoch,
      trainSeconds,
      seconds: 0,
      peakRssMb: 0,
    };
    const manifest = await writeModelDir({ out, force: opts.force, loaded, encoder, W: result.W, dim: opts.dim, id: opts.id, record, started });
    written = true;
    log(`model written to ${out} (${manifest.id}); ${(record.seconds as number).toFixed(1)}s in all, peak RSS ${record.peakRssMb} MB`);
    return { out, manifest, history: result.history, bestEpoch: result.bestEpoch, baselines, validNdcg10, cache: cacheReport };
  } finally {
    await encoder.dispose();
    if (!written) await rm(`${out}.partial`, { recursive: true, force: true });
  }
}

function uniq(xs: number[]): number[] {
  return [...new Set(xs)];
}

/** The file a corpus path stands for (corpus.jsonl / collection.tsv inside a directory). */
async function corpusFile(path: string, beir: boolean): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  return join(path, beir ? 'corpus.jsonl' : 'collection.tsv');
}

async function writeModelDir(o: {
  out: string;
  force: boolean;
  loaded: ReturnType<typeof loadManifest>;
  encoder: TokenEncoder;
  W: Float32Array;
  dim: number;
  id?: string;
  record: Record<string, unknown>;
  started: number;
}): Promise<Record<string, unknown>> {
  const bytes = projectionBytes(o.W);
  const projectionSha = createHash('sha256').update(bytes).digest('hex');
  const id = o.id ?? `${o.encoder.modelId}-colbert${o.dim}`;
  o.record.seconds = (performance.now() - o.started) / 1000;
  o.record.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  try {
    return await writeDerivedModel({
      base: o.loaded,
      out: o.out,
      force: o.force,
      files: { [PROJECTION_FILE]: bytes },
      manifest: (base) => ({
        ...base,
        id,
        description: `${o.encoder.modelId} with a ${o.encoder.featureDimension} × ${o.dim} late-interaction projection trained by \`edgesearch colbert train\` (see "training"). ${typeof base.description === 'string' ? base.description : ''}`.trim(),
        lateInteraction: {
          ...((base.lateInteraction ?? {}) as Record<string, unknown>),
          dimension: o.dim,
          projection: { file: PROJECTION_FILE, inputDimension: o.encoder.featureDimension, sha256: projectionSha },
        },
        training: o.record,
      }),
    });
  } catch (err) {
    if (err instanceof DerivedModelExistsError) throw new ColbertTrainError(err.message);
    throw err;
  }
}
