// `edgesearch phrase tune-query`: DensePhrases' query-side fine-tuning. From open-QA pairs (a
// question and its answer strings, no positions) it trains only the query heads against a fixed
// phrase index: the phrases search reads for each question are its pool (pools.ts), those whose
// text is an answer its positives, and the loss of query-heads.ts is minimised with Adam. The
// phrase side (start / end heads, the index) is untouched, so the written model is a drop-in
// replacement for the index's model that the pool can hot-load.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadManifest, writeDerivedModel } from '../../encoders/index.ts';
import { cutQuery, encodePhraseHeads, meanFeatures, queryVectors } from '../model/index.ts';
import { Adam } from '../../optimize/index.ts';
import { seededRandom } from '../../colbert/train/index.ts';
import { createProgress } from '../../progress/index.ts';
import { Searcher, type SearchHit } from '../../search/index.ts';
import { exactMatch, splitSentences } from '../text/index.ts';
import { DEFAULT_PHRASE_READ_DEPTH } from '../../methods/phrase/index.ts';
import { resolveWeights } from '../evidence/index.ts';
import { questionPool } from './pools.ts';
import { matVec, questionLoss, type TuneQuestion } from './query-heads.ts';

export interface TuneQueryQuestion {
  id: string;
  question: string;
  answers: string[];
  /** SQuAD: the paragraph asked on and where its answers start (validation scores the top sentence with it; training never reads it). */
  gold?: { docId: string; starts: number[] };
}

export interface TuneQueryOptions {
  /** A phrase index built with --method phrase --bm25 (its model is the one tuned, unless `model`). */
  index: string;
  model?: string;
  train: TuneQueryQuestion[];
  validation: TuneQueryQuestion[];
  out: string;
  /** Record of where the questions came from (file, articles). */
  source: Record<string, unknown>;
  epochs?: number;
  patience?: number;
  lr?: number;
  batch?: number;
  /** Read every training question's pool again at the start of each epoch after the first, with the query heads as they are then. */
  refreshPools?: boolean;
  /** Phrases per question taken from what search reads (plus every answer phrase there). */
  pool?: number;
  depth?: number;
  seed?: number;
  force?: boolean;
  id?: string;
  threads?: number;
  log?: (m: string) => void;
  progress?: boolean;
}

/** Validation by phrase search: EM@1, phrase-exact recall@10, and (SQuAD) the top phrase's sentence holding an answer start of the gold paragraph. */
export interface ValidationScore {
  em: number;
  recall: number;
  sentence: number;
}

/** What the tuning is for: recall@10 plus sentence@1 (the issue's two figures), EM@1 breaking ties. */
function betterValidation(a: ValidationScore, b: ValidationScore): boolean {
  const sa = a.recall + a.sentence;
  const sb = b.recall + b.sentence;
  return sa > sb || (sa === sb && a.em > b.em);
}

/** One validation question's scores from its phrase search hits (unit phrase, best first). */
function scoreValidation(hits: readonly SearchHit[], q: TuneQueryQuestion): ValidationScore {
  const phrases = hits.map((h) => h.span?.text ?? '');
  const em = phrases.length > 0 ? exactMatch(phrases[0], q.answers) : 0;
  const recall = phrases.slice(0, 10).some((p) => exactMatch(p, q.answers) === 1) ? 1 : 0;
  let sentence = 0;
  const top = hits[0];
  if (top?.span && q.gold && top.docId === q.gold.docId) {
    // Phrase search's sentence of a phrase: the one it starts in (the unit sentence's ranking keeps the top phrase's).
    const s = splitSentences(top.text).find((x) => x.start <= top.span!.start && top.span!.start < x.end);
    if (s && q.gold.starts.some((c) => s.start <= c && c < s.end)) sentence = 1;
  }
  return { em, recall, sentence };
}

export interface TuneQueryResult {
  before: ValidationScore;
  best: ValidationScore & { epoch: number };
  epochs: ({ epoch: number; loss: number; seconds: number } & ValidationScore)[];
  questions: { train: number; trainWithAnswer: number; validation: number };
  manifest: Record<string, unknown>;
}

export class TuneQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TuneQueryError';
  }
}

export async function tuneQuery(o: TuneQueryOptions): Promise<TuneQueryResult> {
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const epochs = o.epochs ?? 8;
  const patience = o.patience ?? 2;
  const lr = o.lr ?? 3e-3;
  const batch = o.batch ?? 32;
  const poolSize = o.pool ?? 100;
  const depth = o.depth ?? DEFAULT_PHRASE_READ_DEPTH;
  const t0 = performance.now();
  if (o.train.length === 0) throw new TuneQueryError('no training question');
  const searcher = await Searcher.open(o.index, { model: o.model, threads: o.threads, log });
  try {
    for (const [s, shard] of searcher.index.shards.entries())
      if (!shard.phrases || !shard.bm25 || shard.bm25.docCount === 0) throw new TuneQueryError(`${o.index}: shard ${s} has ${shard.phrases ? 'no BM25 postings' : 'no phrase store'}; tune-query needs an index built with --method phrase --bm25`);
    const encoder = await searcher.phraseEncoder();
    const loaded = loadManifest(encoder.manifestPath!);
    const spec = loaded.manifest.phrase!;
    const heads = encoder.heads;
    const H = heads.inputDimension;
    const d = heads.dimension;
    const weights = resolveWeights('phrase');

    // Question features (the mean token feature the query heads read), and for training the pools,
    // read once with the model as it is.
    const prepare = async (qs: TuneQueryQuestion[], label: string, pools: boolean): Promise<TuneQuestion[]> => {
      const out: TuneQuestion[] = [];
      const progress = createProgress({ label, total: qs.length, unit: 'questions', enabled: o.progress ?? true });
      for (let i = 0; i < qs.length; i += 32) {
        const chunk = qs.slice(i, i + 32);
        const feats = await encoder.tokens.textFeatures(chunk.map((q) => cutQuery(encoder.tokens.tokenizer, q.question, spec.queryMaxTokens)));
        for (const [j, q] of chunk.entries()) {
          const vectors = queryVectors(feats[j], heads);
          const pool = pools ? await questionPool({ shards: searcher.index.shards, question: q.question, answers: q.answers, vectors, weights, depth, size: poolSize }) : [];
          out.push({ m: meanFeatures(feats[j]), pool });
        }
        progress.tick(chunk.length);
      }
      progress.finish();
      return out;
    };
    const trainAll = await prepare(o.train, 'training pools', true);
    const validAll = await prepare(o.validation, 'validation questions', false);
    const train = trainAll.filter((q) => q.pool.some((c) => c.positive));
    log(`${o.train.length} training questions (${train.length} with an answer phrase among what search reads), ${o.validation.length} validation; pools of ${poolSize} + answer phrases, ${depth} BM25 passages per shard`);
    if (train.length === 0) throw new TuneQueryError('no training question has an answer phrase among the passages search reads for it: nothing to learn from');

    // Unit scale (as phrase train): question means ÷ their RMS norm, heads × it, folded back when written.
    let sq = 0;
    for (const q of train) for (let h = 0; h < H; h++) sq += q.m[h] * q.m[h];
    const scale = Math.sqrt(sq / train.length) || 1;
    for (const q of [...trainAll, ...validAll]) for (let h = 0; h < H; h++) q.m[h] /= scale;
    const Qs = Float32Array.from(heads.queryStart, (x) => x * scale);
    const Qe = Float32Array.from(heads.queryEnd, (x) => x * scale);
    const params = { Qs, Qe, d };

    // Validation runs the real phrase search (every passage read again with the current query
    // vectors), not the fixed pools: a pool keeps phrases that search, picking one end per start,
    // would not show.
    const validMeans = validAll.map((q) => q.m);
    const validate = async (): Promise<ValidationScore> => {
      const scores = { em: 0, recall: 0, sentence: 0 };
      for (let i = 0; i < o.validation.length; i += 32) {
        const chunk = o.validation.slice(i, i + 32);
        const queries = chunk.map((q, j) => ({ id: q.id, text: q.question, k: 10, phrase: { start: matVec(validMeans[i + j], Qs, d), end: matVec(validMeans[i + j], Qe, d) } }));
        const results = await searcher.search('phrase', queries);
        chunk.forEach((q, j) => {
          const s = scoreValidation(results[j], q);
          scores.em += s.em;
          scores.recall += s.recall;
          scores.sentence += s.sentence;
        });
      }
      const n = Math.max(1, o.validation.length);
      return { em: scores.em / n, recall: scores.recall / n, sentence: scores.sentence / n };
    };
    const withSentences = o.validation.some((q) => q.gold);
    const describe = (v: ValidationScore) => `EM@1 ${v.em.toFixed(4)}, phrase-exact recall@10 ${v.recall.toFixed(4)}${withSentences ? `, sentence@1 ${v.sentence.toFixed(4)}` : ''}`;
    const before = await validate();
    log(`validation before tuning (${o.validation.length} questions, phrase search): ${describe(before)}`);
    let best = { epoch: 0, ...before, Qs: Qs.slice(), Qe: Qe.slice() };
    const history: TuneQueryResult['epochs'] = [];
    const adamS = new Adam(Qs.length, { lr });
    const adamE = new Adam(Qe.length, { lr });
    const gQs = new Float32Array(Qs.length);
    const gQe = new Float32Array(Qe.length);
    const random = seededRandom(o.seed ?? 1);
    const order = [...train.keys()];
    const trainQuestions = o.train.filter((_, i) => trainAll[i].pool.some((c) => c.positive));
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const te = performance.now();
      if (o.refreshPools && epoch > 1) {
        // DensePhrases re-retrieves with the query encoder being trained: read every pool again.
        const progress = createProgress({ label: `epoch ${epoch} pools`, total: train.length, unit: 'questions', enabled: o.progress ?? true });
        for (const [i, q] of train.entries()) {
          const vectors = { start: matVec(q.m, Qs, d), end: matVec(q.m, Qe, d) };
          q.pool = await questionPool({ shards: searcher.index.shards, question: trainQuestions[i].question, answers: trainQuestions[i].answers, vectors, weights, depth, size: poolSize });
          progress.tick(1);
        }
        progress.finish();
      }
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let loss = 0;
      for (let b = 0; b < order.length; b += batch) {
        const items = order.slice(b, b + batch);
        gQs.fill(0);
        gQe.fill(0);
        for (const i of items) {
          // A re-read pool may have lost its answer phrases: nothing to learn from it this epoch.
          if (train[i].pool.some((c) => c.positive)) loss += questionLoss(train[i], params, weights.dense, { Qs: gQs, Qe: gQe, scale: 1 / items.length });
        }
        adamS.step(Qs, gQs);
        adamE.step(Qe, gQe);
      }
      const v = await validate();
      const report = { epoch, loss: loss / order.length, ...v, seconds: (performance.now() - te) / 1000 };
      history.push(report);
      log(`epoch ${epoch}/${epochs}: loss ${report.loss.toFixed(4)}, validation ${describe(v)} (${report.seconds.toFixed(1)}s)`);
      // Without validation questions (--validation-articles 0) the last epoch is kept.
      if (o.validation.length === 0 || betterValidation(v, best)) best = { epoch, ...v, Qs: Qs.slice(), Qe: Qe.slice() };
      else if (epoch - best.epoch >= patience) break;
    }
    log(
      best.epoch === 0
        ? `no epoch beat the model as it was on validation (${describe(before)}): the query heads are written unchanged`
        : `best epoch ${best.epoch}: validation ${describe(best)} (before: ${describe(before)})`,
    );

    // Unchanged heads are written as they were (scaling there and back would round them).
    const tuned = encodePhraseHeads(best.epoch === 0 ? heads : { ...heads, queryStart: best.Qs.map((x) => x / scale), queryEnd: best.Qe.map((x) => x / scale) });
    const files: Record<string, Uint8Array> = { [spec.heads.file]: tuned };
    // The phrase filter (if any) belongs to the phrase side: carried over unchanged.
    const filterFile = (spec as { filter?: { file: string } }).filter?.file;
    if (filterFile) files[filterFile] = await readFile(join(loaded.modelDir, filterFile));
    const baseId = loaded.manifest.id;
    const manifest = await writeDerivedModel({
      base: loaded,
      out: o.out,
      force: o.force ?? false,
      files,
      manifest: (base) => {
        const phrase = base.phrase as Record<string, unknown> & { heads: Record<string, unknown> };
        return {
          ...base,
          id: o.id ?? `${baseId}-qtuned`,
          phrase: { ...phrase, heads: { ...phrase.heads, sha256: createHash('sha256').update(tuned).digest('hex') } },
          training: {
            ...((base.training as Record<string, unknown>) ?? {}),
            queryTuning: {
              // Searcher accepts this model for indexes built with `from` (the phrase side is the same).
              from: { id: baseId, manifestHash: encoder.manifestHash },
              index: o.index,
              ...o.source,
              questions: { train: o.train.length, trainWithAnswer: train.length, validation: o.validation.length },
              params: { epochs, patience, lr, batch, pool: poolSize, depth, seed: o.seed ?? 1, refreshPools: o.refreshPools ?? false, weights },
              validation: { before, best: { epoch: best.epoch, em: best.em, recall: best.recall, sentence: best.sentence } },
              epochs: history,
              seconds: (performance.now() - t0) / 1000,
            },
          },
        };
      },
    });
    log(`wrote ${o.out} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    return {
      before,
      best: { epoch: best.epoch, em: best.em, recall: best.recall, sentence: best.sentence },
      epochs: history,
      questions: { train: o.train.length, trainWithAnswer: train.length, validation: o.validation.length },
      manifest,
    };
  } finally {
    await searcher.close();
  }
}
