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
import { meanFeatures, cutQuery, encodePhraseHeads } from '../model/index.ts';
import { Adam } from '../../optimize/index.ts';
import { seededRandom } from '../../colbert/train/index.ts';
import { createProgress } from '../../progress/index.ts';
import { Searcher } from '../../search/index.ts';
import { DEFAULT_PHRASE_READ_DEPTH } from '../../methods/phrase/index.ts';
import { resolveWeights } from '../evidence/index.ts';
import { questionPool } from './pools.ts';
import { poolMetrics, questionLoss, type TuneQuestion } from './query-heads.ts';

export interface TuneQueryQuestion {
  id: string;
  question: string;
  answers: string[];
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

export interface TuneQueryResult {
  before: { em: number; recall: number };
  best: { epoch: number; em: number; recall: number };
  epochs: { epoch: number; loss: number; em: number; recall: number; seconds: number }[];
  questions: { train: number; trainWithAnswer: number; validation: number; validationWithAnswer: number };
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
  const epochs = o.epochs ?? 10;
  const patience = o.patience ?? 2;
  const lr = o.lr ?? 3e-4;
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

    // Question features and pools, read once with the model as it is.
    const prepare = async (qs: TuneQueryQuestion[], label: string): Promise<TuneQuestion[]> => {
      const out: TuneQuestion[] = [];
      const progress = createProgress({ label, total: qs.length, unit: 'questions', enabled: o.progress ?? true });
      for (let i = 0; i < qs.length; i += 32) {
        const chunk = qs.slice(i, i + 32);
        const feats = await encoder.tokens.textFeatures(chunk.map((q) => cutQuery(encoder.tokens.tokenizer, q.question, spec.queryMaxTokens)));
        const vectors = await encoder.encodeQueries(chunk.map((q) => q.question));
        for (const [j, q] of chunk.entries()) {
          const pool = await questionPool({ shards: searcher.index.shards, question: q.question, answers: q.answers, vectors: vectors[j], weights, depth, size: poolSize });
          out.push({ m: meanFeatures(feats[j]), pool });
        }
        progress.tick(chunk.length);
      }
      progress.finish();
      return out;
    };
    const trainAll = await prepare(o.train, 'training pools');
    const validAll = await prepare(o.validation, 'validation pools');
    const train = trainAll.filter((q) => q.pool.some((c) => c.positive));
    const valid = validAll.filter((q) => q.pool.some((c) => c.positive));
    log(`${o.train.length} training questions (${train.length} with an answer phrase among what search reads), ${o.validation.length} validation (${valid.length}); pools of ${poolSize} + answer phrases, ${depth} BM25 passages per shard`);
    if (train.length === 0) throw new TuneQueryError('no training question has an answer phrase among the passages search reads for it: nothing to learn from');

    // Unit scale (as phrase train): question means ÷ their RMS norm, heads × it, folded back when written.
    let sq = 0;
    for (const q of train) for (let h = 0; h < H; h++) sq += q.m[h] * q.m[h];
    const scale = Math.sqrt(sq / train.length) || 1;
    for (const q of [...trainAll, ...validAll]) for (let h = 0; h < H; h++) q.m[h] /= scale;
    const Qs = Float32Array.from(heads.queryStart, (x) => x * scale);
    const Qe = Float32Array.from(heads.queryEnd, (x) => x * scale);
    const params = { Qs, Qe, d };

    const validate = () => {
      let em = 0;
      let recall = 0;
      // Questions without an answer phrase in reach count as misses: figures over every validation question.
      for (const q of valid) {
        const m = poolMetrics(q, params, weights.dense);
        em += m.em;
        recall += m.recall;
      }
      const n = Math.max(1, o.validation.length);
      return { em: em / n, recall: recall / n };
    };
    const before = validate();
    log(`validation before tuning (${o.validation.length} questions): EM@1 ${before.em.toFixed(4)}, phrase-exact recall@10 ${before.recall.toFixed(4)}`);
    let best = { epoch: 0, ...before, Qs: Qs.slice(), Qe: Qe.slice() };
    const history: TuneQueryResult['epochs'] = [];
    const adamS = new Adam(Qs.length, { lr });
    const adamE = new Adam(Qe.length, { lr });
    const gQs = new Float32Array(Qs.length);
    const gQe = new Float32Array(Qe.length);
    const random = seededRandom(o.seed ?? 1);
    const order = [...train.keys()];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const te = performance.now();
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let loss = 0;
      for (let b = 0; b < order.length; b += batch) {
        const items = order.slice(b, b + batch);
        gQs.fill(0);
        gQe.fill(0);
        for (const i of items) loss += questionLoss(train[i], params, weights.dense, { Qs: gQs, Qe: gQe, scale: 1 / items.length });
        adamS.step(Qs, gQs);
        adamE.step(Qe, gQe);
      }
      const v = validate();
      const report = { epoch, loss: loss / order.length, ...v, seconds: (performance.now() - te) / 1000 };
      history.push(report);
      log(`epoch ${epoch}/${epochs}: loss ${report.loss.toFixed(4)}, validation EM@1 ${v.em.toFixed(4)}, recall@10 ${v.recall.toFixed(4)} (${report.seconds.toFixed(1)}s)`);
      if (v.recall > best.recall || (v.recall === best.recall && v.em > best.em)) best = { epoch, ...v, Qs: Qs.slice(), Qe: Qe.slice() };
      else if (epoch - best.epoch >= patience) break;
    }
    log(`best epoch ${best.epoch}: validation EM@1 ${best.em.toFixed(4)}, recall@10 ${best.recall.toFixed(4)} (before ${before.em.toFixed(4)} / ${before.recall.toFixed(4)})`);

    const tuned = encodePhraseHeads({ ...heads, queryStart: best.Qs.map((x) => x / scale), queryEnd: best.Qe.map((x) => x / scale) });
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
              questions: { train: o.train.length, trainWithAnswer: train.length, validation: o.validation.length, validationWithAnswer: valid.length },
              params: { epochs, patience, lr, batch, pool: poolSize, depth, seed: o.seed ?? 1, weights },
              validation: { before, best: { epoch: best.epoch, em: best.em, recall: best.recall } },
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
      best: { epoch: best.epoch, em: best.em, recall: best.recall },
      epochs: history,
      questions: { train: o.train.length, trainWithAnswer: train.length, validation: o.validation.length, validationWithAnswer: valid.length },
      manifest,
    };
  } finally {
    await searcher.close();
  }
}
