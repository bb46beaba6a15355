// `edgesearch phrase train`: DensePhrases' phrase heads trained on top of a frozen token encoder.
// Reads the SQuAD questions of the chosen articles, splits them by article into training and
// validation, encodes every paragraph and question once (cached), maps each answer to gold start
// and end tokens, measures random heads, trains with Adam on the phrase-level loss (in-batch
// negatives), keeps the epoch with the best validation F1, then trains the phrase filter (start /
// end likelihood per token, train-filter.ts) on the same features, and writes a model directory
// that loadPhraseEncoder loads: the base model's files, phrase-heads.f32, phrase-filter.f32 and a
// manifest with a phrase block and a training record. Written into `<out>.partial` and renamed; nothing is left
// half-written when it fails.
import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { FeatureCache, FeatureStore, type FeatureSet } from '../../colbert/train/index.ts';
import { readSquadQa } from '../../corpus/index.ts';
import { DerivedModelExistsError, loadManifest, loadTokenEncoder, tokenMatrix, writeDerivedModel, type LoadedManifest, type TokenEncoder } from '../../encoders/index.ts';
import { epochProgress } from '../../progress/index.ts';
import { checksumFile } from '../../shard/index.ts';
import { stderrIo, type BuildIo } from '../../writer/index.ts';
import { cutQuery, encodePhraseFilter, encodePhraseHeads, meanFeatures, tokenBoundaries, type PhraseFilter, type PhraseHeads, type TokenBoundaries } from '../model/index.ts';
import { normalizeAnswer } from '../text/index.ts';
import { answerTokens } from './answer-tokens.ts';
import { divideRows, foldScales, rmsNorm } from './feature-scale.ts';
import { formatArticles, parseArticles, splitArticles } from './articles.ts';
import { headViews } from './span-loss.ts';
import { cachedTextFeatures, featureKey, type CachedFeatures } from './text-features.ts';
import { FILTER_THRESHOLDS, filterFigures, filterLikelihoods, filterViews, foldFilterScale, trainFilter, type FilterData, type FilterEpochReport, type FilterParagraph, type FilterThresholdFigures, type FilterTrainResult } from './train-filter.ts';
import { initialHeads, meanSpanLoss, trainHeads, validate, type EpochReport, type HeadsData, type TrainQuestion, type Validation, type ValidationQuestion } from './train-heads.ts';

export const PHRASE_HEADS_FILE = 'phrase-heads.f32';
export const PHRASE_FILTER_FILE = 'phrase-filter.f32';
/** Query tokens read when the base model has no phrase block (the manifest's default). */
const DEFAULT_QUERY_MAX_TOKENS = 64;

export const PhraseTrainOptions = z.object({
  /** SQuAD v1.1 JSON (e.g. ../shared/data/squad-v1.1-dev/dev-v1.1.json). */
  squad: z.string().min(1),
  /** Inclusive ranges of 0-based articles, e.g. "0-23" or "0-3,7". */
  articles: z.string().min(1),
  /** Token model: a manifest with output kind "tokens" and a lateInteraction block. */
  model: z.string().min(1),
  out: z.string().min(1),
  dim: z.number().int().min(1).max(4096).default(128),
  /** The last this many of the articles are held out for validation and early stopping. */
  validationArticles: z.number().int().min(0).default(4),
  epochs: z.number().int().min(0).max(1000).default(20),
  patience: z.number().int().min(1).default(3),
  lr: z.number().min(0).max(1).default(1e-3),
  batch: z.number().int().min(1).default(32),
  seed: z.number().int().default(1),
  /** Feature cache directory (default `<out>.cache`). */
  cache: z.string().min(1).optional(),
  maxPhraseTokens: z.number().int().min(1).max(128).default(20),
  /** Phrase filter (train-filter.ts): most epochs (0: no filter is trained or written), Adam lr, paragraphs per step. */
  filterEpochs: z.number().int().min(0).max(1000).default(20),
  filterLr: z.number().min(0).max(1).default(1e-2),
  filterBatch: z.number().int().min(1).default(16),
  threads: z.number().int().positive().optional(),
  force: z.boolean().default(false),
  /** Model id written to the manifest (default `<base id>-phrase<dim>`). */
  id: z.string().min(1).optional(),
});
export type PhraseTrainOptions = z.input<typeof PhraseTrainOptions>;

export class PhraseTrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PhraseTrainError';
  }
}

/** What happened to the answers of the training questions. */
export interface AnswerCounts {
  answers: number;
  mapped: number;
  /** Mapped to a phrase whose text differs from the answer's after SQuAD normalisation (e.g. a word cut in two). */
  mappedInexact: number;
  droppedUnmapped: number;
  droppedTooLong: number;
}

export interface PhraseTrainResult {
  out: string;
  manifest: Record<string, unknown>;
  history: EpochReport[];
  bestEpoch: number;
  /** Validation of the random starting heads. */
  baseline: Validation;
  /** Validation of the written heads. */
  validation: Validation;
  /** Mean training loss over fixed batches (meanSpanLoss) at the random start and with the written heads. */
  trainingLoss: { random: number; best: number };
  questions: { train: number; trainDropped: number; validation: number };
  answers: AnswerCounts;
  cache: { dir: string; model: string; paragraphs: CachedFeatures; questions: CachedFeatures };
  /** onnxruntime calls made (0 when every feature came from the cache). */
  onnxCalls: number;
  /** The phrase filter's training and validation figures (absent with filterEpochs 0). */
  filter?: PhraseFilterReport;
}

export interface PhraseFilterReport {
  history: FilterEpochReport[];
  bestEpoch: number;
  positiveWeights: FilterTrainResult['positiveWeights'];
  counts: FilterTrainResult['counts'];
  /** Validation paragraphs, their canStart tokens and gold starts, questions with a gold start. */
  validation: { paragraphs: number; startCandidates: number; goldStarts: number; questions: number };
  /** Per threshold, on the validation articles (empty without validation), with the trained heads' EM / F1 when phrases start only at kept tokens. */
  thresholds: (FilterThresholdFigures & Validation)[];
  trainSeconds: number;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A question cut at `max` tokens, as PhraseEncoder.encodeQueries cuts it. */
function parseOptions(input: PhraseTrainOptions): z.output<typeof PhraseTrainOptions> {
  const r = PhraseTrainOptions.safeParse(input);
  if (!r.success) throw new PhraseTrainError(r.error.issues.map((i) => `phrase train: ${i.path.join('.') || '(options)'}: ${i.message}`).join('\n'));
  return r.data;
}

export async function phraseTrain(input: PhraseTrainOptions, io: BuildIo = stderrIo): Promise<PhraseTrainResult> {
  const opts = parseOptions(input);
  const { log } = io;
  const started = performance.now();
  const articles = parseArticles(opts.articles);
  const out = resolve(opts.out);
  if ((await exists(out)) && !opts.force) throw new PhraseTrainError(`output directory already exists: ${out} (choose another --out or pass --force to replace it)`);
  const cacheRoot = resolve(opts.cache ?? `${out}.cache`);

  // Fails with NotATokenModelError before anything is read when the model has no token output.
  const encoder = await loadTokenEncoder(opts.model, { threads: opts.threads, log: (m) => log(`model: ${m}`) });
  let written = false;
  try {
    const H = encoder.featureDimension;
    const loaded = loadManifest(encoder.manifestPath);
    const queryMaxTokens = Math.min(loaded.manifest.phrase?.queryMaxTokens ?? DEFAULT_QUERY_MAX_TOKENS, loaded.manifest.maxTokens);
    log(`model ${encoder.modelId}: ${H}-d token features, phrase heads to ${opts.dim}-d, phrases of at most ${opts.maxPhraseTokens} tokens`);

    // Questions, split by article.
    const squad = resolve(opts.squad);
    const all = await readSquadQa(squad);
    const available = all.reduce((n, q) => Math.max(n, q.article + 1), 0);
    const split = splitArticles(articles, available, opts.validationArticles, squad);
    const inValidation = new Set(split.validation);
    const chosen = new Set(articles);
    const qas = all.filter((q) => chosen.has(q.article));
    const trainQa = qas.filter((q) => !inValidation.has(q.article));
    const validQa = qas.filter((q) => inValidation.has(q.article));
    // Paragraphs by docId, in file order.
    const paragraphIndex = new Map<string, number>();
    const paragraphTexts: string[] = [];
    for (const q of qas)
      if (!paragraphIndex.has(q.docId)) {
        paragraphIndex.set(q.docId, paragraphTexts.length);
        paragraphTexts.push(q.context);
      }
    log(
      `${squad}: articles ${formatArticles(articles)}: ${paragraphTexts.length} paragraphs, ${qas.length} questions; training articles ${formatArticles(split.train)} (${trainQa.length} questions), validation articles ${formatArticles(split.validation) || 'none'} (${validQa.length} questions)`,
    );
    if (split.validation.length === 0) log('warning: no validation articles; the last epoch is kept');

    // Features: every paragraph (token rows) and every question (its mean feature).
    const key = await featureKey(loaded.manifest, loaded);
    const opened = await Promise.all(['paragraphs', 'questions'].map((name) => FeatureCache.open(cacheRoot, name, key, H + 1)));
    for (const [name, c] of [['paragraphs', opened[0]], ['questions', opened[1]]] as const) if (c.reason) log(`feature cache ${c.cache.dir} (${name}): starting afresh: ${c.reason}`);
    const paragraphs = new FeatureStore(H);
    const paragraphFeatures = await cachedTextFeatures({
      encoder,
      cache: opened[0].cache,
      texts: paragraphTexts,
      what: 'paragraphs',
      io,
      onText: (_i, x, rows) => paragraphs.add(x, rows),
    });
    const queries = new Float32Array(qas.length * H);
    const questionFeatures = await cachedTextFeatures({
      encoder,
      cache: opened[1].cache,
      texts: qas.map((q) => cutQuery(encoder.tokenizer, q.question, queryMaxTokens)),
      what: 'questions',
      io,
      // meanFeatures reads only the features: the mean the phrase encoder takes at query time.
      onText: (i, x, rows) => queries.set(meanFeatures({ ids: new Int32Array(rows), features: tokenMatrix(rows, H, x), offsets: new Int32Array(2 * rows) }), i * H),
    });
    const reusedAll = paragraphFeatures.encoded === 0 && questionFeatures.encoded === 0;
    const cacheBytes = opened[0].cache.bytes + opened[1].cache.bytes;
    log(
      reusedAll
        ? `feature cache ${opened[0].cache.dir}: reused for every paragraph and question (same model and texts)`
        : `feature cache ${opened[0].cache.dir}: paragraphs ${paragraphFeatures.reused} reused, ${paragraphFeatures.encoded} encoded; questions ${questionFeatures.reused} reused, ${questionFeatures.encoded} encoded`,
    );

    // Where phrases may start and end, checked against the cached rows.
    const boundaries: TokenBoundaries[] = paragraphTexts.map((text, p) => {
      const { ids, offsets } = encoder.tokenizer.encodeWithOffsets(text);
      if (ids.length !== paragraphs.rows(p))
        throw new PhraseTrainError(`feature cache ${opened[0].cache.dir}: paragraph ${p} has ${paragraphs.rows(p)} feature rows but ${ids.length} tokens; delete the cache directory`);
      return tokenBoundaries(text, ids, offsets, encoder.tokenizer);
    });

    // Gold tokens of the training answers; validation keeps every question (scored on answer texts).
    const counts: AnswerCounts = { answers: 0, mapped: 0, mappedInexact: 0, droppedUnmapped: 0, droppedTooLong: 0 };
    const qIndex = new Map(qas.map((q, i) => [q, i]));
    const train: TrainQuestion[] = [];
    for (const q of trainQa) {
      const p = paragraphIndex.get(q.docId)!;
      const starts = new Set<number>();
      const ends = new Set<number>();
      for (const a of q.answers) {
        counts.answers++;
        const r = answerTokens(q.context, boundaries[p], a.charStart, a.charStart + a.text.length, opts.maxPhraseTokens);
        if ('dropped' in r) {
          if (r.dropped === 'too-long') counts.droppedTooLong++;
          else counts.droppedUnmapped++;
          continue;
        }
        counts.mapped++;
        const phrase = q.context.slice(boundaries[p].charStart[r.start], boundaries[p].charEnd[r.end]);
        if (normalizeAnswer(phrase) !== normalizeAnswer(a.text)) counts.mappedInexact++;
        starts.add(r.start);
        ends.add(r.end);
      }
      if (starts.size > 0) train.push({ query: qIndex.get(q)!, paragraph: p, starts: [...starts], ends: [...ends] });
    }
    const trainDropped = trainQa.length - train.length;
    log(
      `training answers → phrases: ${counts.mapped} of ${counts.answers} mapped (${counts.mappedInexact} to a phrase that reads differently after SQuAD normalisation), ${counts.droppedUnmapped} dropped with no phrase boundary inside, ${counts.droppedTooLong} dropped as longer than ${opts.maxPhraseTokens} tokens; ${train.length} training questions, ${trainDropped} dropped (no answer left)`,
    );
    if (train.length === 0) throw new PhraseTrainError(`no training question left: none of the ${trainQa.length} questions of articles ${formatArticles(split.train)} has an answer that maps to a phrase`);
    const validation: ValidationQuestion[] = validQa.map((q) => ({ query: qIndex.get(q)!, paragraph: paragraphIndex.get(q.docId)!, answers: q.answers.map((a) => a.text) }));
    // Unit-scale coordinates for training (feature-scale.ts), from the training side only.
    const questionRows: FeatureSet = { dim: H, size: qas.length, rows: () => 1, view: (i) => queries.subarray(i * H, (i + 1) * H) };
    const scales = { paragraphs: rmsNorm(paragraphs, new Set(train.map((t) => t.paragraph))), questions: rmsNorm(questionRows, train.map((t) => t.query)) };
    divideRows(paragraphs, scales.paragraphs);
    divideRows(questionRows, scales.questions);
    log(`training at unit scale: token features ÷ ${scales.paragraphs.toFixed(2)}, question means ÷ ${scales.questions.toFixed(2)} (folded into the heads written)`);
    const data: HeadsData = { H, paragraphs, boundaries, texts: paragraphTexts, queries, train, validation };

    // The random starting point, and training.
    const init = initialHeads(H, opts.dim, opts.seed);
    const baseline = validate(data, init, opts.dim, opts.maxPhraseTokens);
    const f4 = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(4));
    log(`validation before training (${validation.length} questions, gold paragraph, top phrase): random heads EM ${f4(baseline.em)}, F1 ${f4(baseline.f1)}`);
    const tt = performance.now();
    const result = trainHeads(data, {
      dim: opts.dim,
      init,
      start: baseline,
      epochs: opts.epochs,
      lr: opts.lr,
      batchSize: opts.batch,
      seed: opts.seed,
      patience: opts.patience,
      maxPhraseTokens: opts.maxPhraseTokens,
      ...epochProgress({ epochs: opts.epochs, unit: 'questions', enabled: io.progress ?? false, log, line: (r: EpochReport) => `epoch ${r.epoch}/${opts.epochs}: ${r.epoch === 0 ? 'start (random heads)' : `loss ${r.loss.toFixed(4)}`}, validation EM ${f4(r.em)}, F1 ${f4(r.f1)} (${r.seconds.toFixed(1)}s)` }),
    });
    const trainSeconds = (performance.now() - tt) / 1000;
    const best = result.history[result.bestEpoch];
    // Deterministic (fixed batches), unlike the epochs' means, which follow each epoch's shuffle.
    const trainingLoss = { random: meanSpanLoss(data, init, opts.dim, opts.batch), best: meanSpanLoss(data, result.params, opts.dim, opts.batch) };
    log(`training loss over fixed batches: random heads ${trainingLoss.random.toFixed(4)}, best heads ${trainingLoss.best.toFixed(4)}`);
    log(`best epoch ${result.bestEpoch}: validation EM ${f4(best.em)}, F1 ${f4(best.f1)} (random heads EM ${f4(baseline.em)}, F1 ${f4(baseline.f1)}); training ${trainSeconds.toFixed(1)}s`);

    // The phrase filter, after the heads (which it does not touch), on the same unit-scale features.
    let filter: { report: PhraseFilterReport; weights: PhraseFilter } | undefined;
    if (opts.filterEpochs > 0) {
      const byParagraph = (questions: { paragraph: number; starts: readonly number[]; ends: readonly number[] }[], all: Iterable<number>): FilterParagraph[] => {
        const gold = new Map<number, { starts: Set<number>; ends: Set<number> }>();
        for (const p of all) gold.set(p, { starts: new Set(), ends: new Set() });
        for (const q of questions) {
          const g = gold.get(q.paragraph)!;
          for (const t of q.starts) g.starts.add(t);
          for (const t of q.ends) g.ends.add(t);
        }
        return [...gold].sort((a, b) => a[0] - b[0]).map(([paragraph, g]) => ({ paragraph, starts: [...g.starts].sort((a, b) => a - b), ends: [...g.ends].sort((a, b) => a - b) }));
      };
      // Validation answers mapped as the training ones are (too long or without a boundary: no gold token).
      const validGold = validQa.map((q) => {
        const paragraph = paragraphIndex.get(q.docId)!;
        const starts = new Set<number>();
        const ends = new Set<number>();
        for (const a of q.answers) {
          const r = answerTokens(q.context, boundaries[paragraph], a.charStart, a.charStart + a.text.length, opts.maxPhraseTokens);
          if ('dropped' in r) continue;
          starts.add(r.start);
          ends.add(r.end);
        }
        return { paragraph, starts: [...starts], ends: [...ends] };
      });
      const filterData: FilterData = {
        H,
        paragraphs,
        boundaries,
        train: byParagraph(train, new Set(trainQa.map((q) => paragraphIndex.get(q.docId)!))),
        validation: byParagraph(validGold, new Set(validGold.map((q) => q.paragraph))),
        validationQuestions: validGold,
      };
      const ft = performance.now();
      const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);
      const trained = trainFilter(filterData, {
        epochs: opts.filterEpochs,
        lr: opts.filterLr,
        batchSize: opts.filterBatch,
        seed: opts.seed,
        patience: opts.patience,
        onEpoch: (r) => log(`filter epoch ${r.epoch}/${opts.filterEpochs}: ${r.epoch === 0 ? 'start (every token 0.5)' : `loss ${r.loss.toFixed(4)}`}, validation loss ${f4(r.validationLoss)} (${r.seconds.toFixed(1)}s)`),
      });
      const filterSeconds = (performance.now() - ft) / 1000;
      const c = trained.counts;
      log(
        `phrase filter: ${c.paragraphs} training paragraphs, ${c.goldStarts} gold starts of ${c.startCandidates} canStart tokens (weighted ${trained.positiveWeights.start.toFixed(1)}), ${c.goldEnds} gold ends of ${c.endCandidates} canEnd tokens (weighted ${trained.positiveWeights.end.toFixed(1)}); best epoch ${trained.bestEpoch}, ${filterSeconds.toFixed(1)}s`,
      );
      // With each threshold, also the trained heads' validation EM / F1 when the gold-paragraph reader
      // may start phrases only where the filter keeps the token (what the index offers them).
      const likelihoods = new Map(filterData.validation.map((p) => [p.paragraph, filterLikelihoods(filterData, trained.params, p.paragraph).s]));
      const thresholds = (filterData.validation.length > 0 ? filterFigures(filterData, trained.params, FILTER_THRESHOLDS) : []).map((f) => {
        const masked = boundaries.map((b, p) => {
          const s = likelihoods.get(p);
          return s ? { ...b, canStart: b.canStart.map((c, t) => (c && s[t] >= f.threshold ? 1 : 0)) } : b;
        });
        const r = validate({ ...data, boundaries: masked }, result.params, opts.dim, opts.maxPhraseTokens);
        return { ...f, em: r.em, f1: r.f1 };
      });
      const validation = {
        paragraphs: filterData.validation.length,
        startCandidates: filterData.validation.reduce((n, p) => n + boundaries[p.paragraph].canStart.reduce((a, b) => a + b, 0), 0),
        goldStarts: filterData.validation.reduce((n, p) => n + p.starts.length, 0),
        questions: validGold.filter((q) => q.starts.length > 0).length,
      };
      if (thresholds.length > 0)
        log(`phrase filter on the validation articles (${validation.paragraphs} paragraphs, ${validation.startCandidates} canStart tokens, ${validation.goldStarts} gold starts, ${validation.questions} questions with one):`);
      for (const f of thresholds)
        log(
          `  start likelihood ≥ ${f.threshold}: keeps ${pct(f.kept)} of the canStart tokens; gold starts kept ${pct(f.startRecall)}, questions with a gold start kept ${pct(f.questionRecall)}; trained heads on what is kept: EM ${f4(f.em)}, F1 ${f4(f.f1)} (ends: keeps ${pct(f.endKept)}, gold ends ${pct(f.endRecall)})`,
        );
      const raw = foldFilterScale(trained.params, H, scales.paragraphs);
      const v = filterViews(raw, H);
      filter = {
        report: { history: trained.history, bestEpoch: trained.bestEpoch, positiveWeights: trained.positiveWeights, counts: c, validation, thresholds, trainSeconds: filterSeconds },
        weights: { inputDimension: H, start: v.start, startBias: raw[v.startBias], end: v.end, endBias: raw[v.endBias] },
      };
    }

    // The model directory.
    const finite = (x: number) => (Number.isFinite(x) ? x : null);
    const record: Record<string, unknown> = {
      tool: 'edgesearch phrase train',
      base: { id: encoder.modelId, manifestHash: encoder.manifestHash, manifest: encoder.manifestPath, ...(loaded.manifest.training ? { training: loaded.manifest.training } : {}) },
      inputs: {
        squad: { path: squad, sha256: (await checksumFile(squad)).sha256 },
        articles: formatArticles(articles),
        trainArticles: formatArticles(split.train),
        validationArticles: formatArticles(split.validation),
        paragraphs: paragraphTexts.length,
      },
      questions: { train: train.length, trainDropped, validation: validation.length },
      answers: counts,
      objective:
        "DensePhrases' phrase-level loss, encoder frozen: per question, softmax cross-entropy of the start logits start_i · q_start over every token of the batch's paragraphs (in-batch negatives), the same for the ends, halved and summed; several gold answers marginalised",
      params: { dim: opts.dim, epochs: opts.epochs, patience: opts.patience, lr: opts.lr, batch: opts.batch, seed: opts.seed, maxPhraseTokens: opts.maxPhraseTokens, queryMaxTokens, validationArticles: opts.validationArticles },
      featureScales: scales,
      featureCache: { dir: cacheRoot, reused: reusedAll, paragraphs: paragraphFeatures, questions: questionFeatures, bytes: cacheBytes },
      validation: {
        metric: 'SQuAD EM / F1 of the top phrase of the gold paragraph',
        questions: validation.length,
        random: { em: finite(baseline.em), f1: finite(baseline.f1) },
        trained: { em: finite(best.em), f1: finite(best.f1) },
      },
      epochs: result.history.map((h) => ({ epoch: h.epoch, loss: finite(h.loss), em: finite(h.em), f1: finite(h.f1), seconds: h.seconds })),
      bestEpoch: result.bestEpoch,
      trainingLoss,
      trainSeconds,
      ...(filter
        ? {
            filter: {
              objective:
                "DensePhrases' phrase filter, encoder frozen: per token a start and an end logistic score on its feature; positives the gold start (end) tokens of the paragraph's training answers, negatives every other canStart (canEnd) token, positives weighted negatives / positives; loss ½ (start + end) weighted means; the build indexes a canStart token as a start when its start likelihood σ ≥ --filter-threshold",
              params: { epochs: opts.filterEpochs, lr: opts.filterLr, batch: opts.filterBatch, patience: opts.patience, seed: opts.seed },
              positiveWeights: filter.report.positiveWeights,
              training: filter.report.counts,
              epochs: filter.report.history.map((h) => ({ epoch: h.epoch, loss: finite(h.loss), validationLoss: finite(h.validationLoss), seconds: h.seconds })),
              bestEpoch: filter.report.bestEpoch,
              validation: { ...filter.report.validation, thresholds: filter.report.thresholds.map((f) => Object.fromEntries(Object.entries(f).map(([k, x]) => [k, finite(x)]))) },
              trainSeconds: filter.report.trainSeconds,
            },
          }
        : {}),
      seconds: 0,
      peakRssMb: 0,
    };
    const heads: PhraseHeads = { inputDimension: H, dimension: opts.dim, ...headViews(foldScales(result.params, H, opts.dim, scales.paragraphs, scales.questions), H, opts.dim) };
    const manifest = await writeModelDir({ out, force: opts.force, loaded, encoder, heads, filter: filter?.weights, maxPhraseTokens: opts.maxPhraseTokens, queryMaxTokens, id: opts.id, record, started });
    written = true;
    log(`model written to ${out} (${manifest.id}); ${(record.seconds as number).toFixed(1)}s in all, peak RSS ${record.peakRssMb} MB`);
    return {
      out,
      manifest,
      history: result.history,
      bestEpoch: result.bestEpoch,
      baseline,
      validation: { em: best.em, f1: best.f1 },
      trainingLoss,
      questions: { train: train.length, trainDropped, validation: validation.length },
      answers: counts,
      cache: { dir: opened[0].cache.dir, model: key, paragraphs: paragraphFeatures, questions: questionFeatures },
      onnxCalls: encoder.onnxCalls,
      ...(filter ? { filter: filter.report } : {}),
    };
  } finally {
    await encoder.dispose();
    if (!written) await rm(`${out}.partial`, { recursive: true, force: true });
  }
}

async function writeModelDir(o: {
  out: string;
  force: boolean;
  loaded: LoadedManifest;
  encoder: TokenEncoder;
  heads: PhraseHeads;
  filter?: PhraseFilter;
  maxPhraseTokens: number;
  queryMaxTokens: number;
  id?: string;
  record: Record<string, unknown>;
  started: number;
}): Promise<Record<string, unknown>> {
  const bytes = encodePhraseHeads(o.heads);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const id = o.id ?? `${o.encoder.modelId}-phrase${o.heads.dimension}`;
  // A base with a trained late-interaction projection keeps it (writeDerivedModel copies only the model's own files).
  const files: Record<string, Uint8Array> = { [PHRASE_HEADS_FILE]: bytes };
  const filterBytes = o.filter ? encodePhraseFilter(o.filter) : undefined;
  if (filterBytes) files[PHRASE_FILTER_FILE] = filterBytes;
  const projection = o.loaded.manifest.lateInteraction?.projection;
  if (projection && o.loaded.projectionPath) files[projection.file] = await readFile(o.loaded.projectionPath);
  o.record.seconds = (performance.now() - o.started) / 1000;
  o.record.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  try {
    return await writeDerivedModel({
      base: o.loaded,
      out: o.out,
      force: o.force,
      files,
      manifest: (base) => ({
        ...base,
        id,
        description: `${o.encoder.modelId} with ${o.heads.inputDimension} × ${o.heads.dimension} DensePhrases phrase heads${o.filter ? ' and a phrase filter' : ''} trained by \`edgesearch phrase train\` (see "training"). ${typeof base.description === 'string' ? base.description : ''}`.trim(),
        phrase: {
          dimension: o.heads.dimension,
          heads: { file: PHRASE_HEADS_FILE, inputDimension: o.heads.inputDimension, sha256 },
          ...(filterBytes ? { filter: { file: PHRASE_FILTER_FILE, inputDimension: o.heads.inputDimension, sha256: createHash('sha256').update(filterBytes).digest('hex') } } : {}),
          maxPhraseTokens: o.maxPhraseTokens,
          queryMaxTokens: o.queryMaxTokens,
        },
        training: o.record,
      }),
    });
  } catch (err) {
    if (err instanceof DerivedModelExistsError) throw new PhraseTrainError(err.message);
    throw err;
  }
}
