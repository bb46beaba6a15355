// `edgesearch convdr train`: ConvDR's few-shot knowledge distillation on TREC CAsT. The teacher is
// the ad hoc encoder on each turn's manual rewrite; the student is the same frozen encoder on the
// views of the raw conversation (STUDENT_VIEWS: raw, first, concat) followed by a linear adapter
// (identity on the concat view at the start). Five-fold cross-validation by topic reports held-out
// teacher agreement (and, with an index, rewrite agreement) for the student and the fixed
// policies; a final adapter trained on all topics is written as a model directory. With qrels and a
// dense index (ConvDR's multi-task variant) the loss adds a ranking term (rank-loss.ts,
// ranking-data.ts); the inner validation still selects by teacher agreement.
import { resolve } from 'node:path';
import { z } from 'zod';
import { STUDENT_VIEWS, type Policy, type StudentView } from '../../conversation/index.ts';
import { DerivedModelExistsError, loadEncoder, loadManifest, type Encoder } from '../../encoders/index.ts';
import { checksumFile } from '../../shard/index.ts';
import { agreementJson, formatSummary, rankingAgreement, REWRITE_AGREEMENT_DEPTH, summarize, type AgreementSummary, type RankingSource, type TurnFigure } from '../agreement/index.ts';
import { innerSplit, readConversations, topicFolds, turnsOf, type CastTurn } from '../cast/index.ts';
import { applyAdapter, initialAdapter, normalizeRows, viewFeatures, encodeDistinct, writeConversationalModel, type Adapter } from '../model/index.ts';
import { readQrels } from '../../eval/index.ts';
import type { DocumentSource } from './document-vectors.ts';
import { agreements, fitAdapter, mean, pickRows, rankingLoss, type FitOptions, type KdData } from './fit.ts';
import { meanRankLoss, type RankRow } from './rank-loss.ts';
import { DEFAULT_RANK_NEGATIVES, rankingData, type RankingDataSummary } from './ranking-data.ts';

export class ConvdrTrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConvdrTrainError';
  }
}

export const DEFAULT_WEIGHT_DECAYS = [1e-2, 3e-2, 1e-1];

export const ConvdrTrainOptions = z.object({
  topics: z.string().min(1),
  rewrites: z.string().min(1).optional(),
  /** Turns without a rewrite are context only (e.g. CAsT-19's training topics with the sample rewrites). */
  partialRewrites: z.boolean().default(false),
  model: z.string().min(1),
  out: z.string().min(1),
  folds: z.number().int().min(2).default(5),
  epochs: z.number().int().min(1).max(10000).default(100),
  patience: z.number().int().min(1).default(10),
  lr: z.number().positive().default(3e-4),
  batch: z.number().int().min(1).default(32),
  /** Weight decay candidates (pull toward the initial adapter), chosen on an inner validation split of each fold's training topics. */
  weightDecays: z.array(z.number().min(0)).min(1).default(DEFAULT_WEIGHT_DECAYS),
  /**
   * Starting points of the adapter (and what weight decay pulls toward), chosen on the inner
   * validation split with the weight decay: 'mean' (identity/3 on each view: the mean of the view
   * vectors) or a view's identity ('concat': the encoder on the concatenated conversation).
   */
  inits: z.array(z.enum(['mean', 'raw', 'first', 'concat'])).min(1).default(['mean', 'concat']),
  /** Share of the training topics held out as the inner validation split. */
  innerValidation: z.number().gt(0).lt(1).default(0.2),
  seed: z.number().int().min(0).default(1),
  threads: z.number().int().min(1).optional(),
  force: z.boolean().default(false),
  id: z.string().min(1).optional(),
  /** TREC qrels (`<topic>_<turn> 0 <docid> <grade>`) of the documents of the index in `io.documents`: adds ConvDR's ranking loss. */
  qrels: z.string().min(1).optional(),
  /** Weight of the ranking loss (default 1 with qrels; 0 measures it without training on it). */
  rankWeight: z.number().min(0).optional(),
  /** Hard negatives per turn: the teacher's top dense hits not judged relevant. */
  rankNegatives: z.number().int().min(1).default(DEFAULT_RANK_NEGATIVES),
  /** Divides the ranking scores (cosines) before the softmax. */
  rankTemperature: z.number().positive().default(0.05),
});
export type ConvdrTrainOptions = z.input<typeof ConvdrTrainOptions>;

/** A cross-validation fold's choices and figures. */
export interface FoldReport {
  fold: number;
  topics: string[];
  turns: number;
  init: string;
  weightDecay: number;
  epochs: number;
  innerValidation: number;
}

export interface ConvdrTrainResult {
  out: string;
  modelId: string;
  turns: number;
  topics: number;
  folds: FoldReport[];
  teacherAgreement: AgreementSummary;
  rewriteAgreement?: { dense: AgreementSummary; bm25?: AgreementSummary };
  final: { init: string; weightDecay: number; epochs: number; innerValidation: number };
  /** Whether and how the ranking loss was used (the training record's `rankingLoss`). */
  rankingLoss: RankingLossRecord;
  seconds: number;
}

/** The ranking loss as used: not asked for, asked for but nothing to rank, or used (or measured with weight 0). */
export type RankingLossRecord =
  | { used: false; reason: string }
  | ({
      used: boolean;
      reason?: string;
      loss: string;
      qrels: string;
      index: string;
      weight: number;
      temperature: number;
      negatives: string;
      documentVector: string;
      selection: string;
      /** Mean CE over the ranked turns of all topics: the final adapter's start and the final adapter. */
      trainingLoss: { start: number; final: number };
      /** Cross-validation, over the ranked turns: mean CE, and MRR@100 of the relevant documents on the index. */
      heldOut: { loss: { start: number; student: number }; mrr: { teacher: number; start: number; student: number } };
    } & RankingDataSummary);

/** The policies compared with the student: the fixed ones the student reads. */
const POLICIES = ['raw', 'concat', 'first'] as const satisfies readonly Policy[];
const SYSTEMS = [...POLICIES, 'student'];
const VIEWS: readonly StudentView[] = STUDENT_VIEWS;
const initOf = (init: string, d: number): Adapter => initialAdapter(VIEWS.length, d, init === 'mean' ? 'mean' : VIEWS.indexOf(init as StudentView));

const dot = (a: Float32Array, i: number, b: Float32Array, j: number, d: number) => {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[i * d + k] * b[j * d + k];
  return s;
};

interface Encoded {
  turns: CastTurn[];
  /** n × views·d. */
  x: Float32Array;
  /** n × d, the teacher's vectors of the rewrites. */
  t: Float32Array;
  d: number;
  /** Per turn, its ranking data (with qrels that match the index). */
  rank?: (RankRow | undefined)[];
}

function subset(e: Encoded, rows: readonly number[]): KdData {
  return { x: pickRows(e.x, VIEWS.length * e.d, rows), t: pickRows(e.t, e.d, rows), rows: rows.length, ...(e.rank ? { rank: rows.map((r) => e.rank![r]) } : {}) };
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** MRR@k of the first relevant document in each ranking (0 when none is in the top k). */
function mrr(rankings: readonly string[][], relevant: readonly Set<string>[]): number {
  return mean(rankings.map((docs, i) => {
    const at = docs.findIndex((doc) => relevant[i].has(doc));
    return at < 0 ? 0 : 1 / (at + 1);
  }));
}

/** Choose the starting point, weight decay and epochs on an inner split of `topics`, then refit on all of them. */
function trainOn(e: Encoded, topics: readonly string[], o: z.output<typeof ConvdrTrainOptions>, log: (m: string) => void, label: string): { adapter: Adapter; init: string; weightDecay: number; epochs: number; innerValidation: number } {
  const rowsOf = (ts: readonly string[]) => {
    const set = new Set(ts);
    return e.turns.flatMap((t, i) => (set.has(t.topic) ? [i] : []));
  };
  const split = innerSplit(topics, o.innerValidation, o.seed + 6);
  const innerTrain = subset(e, rowsOf(split.train));
  const innerVal = subset(e, rowsOf(split.validation));
  // The ranking term (when e.rank is set) only enters the training loss: validation is teacher agreement.
  const fit = (init: Adapter, weightDecay: number, epochs: number, validation?: KdData, data = innerTrain) =>
    fitAdapter(init, data, validation, { lr: o.lr, weightDecay, epochs, patience: o.patience, batch: o.batch, seed: o.seed, rankWeight: e.rank ? (o.rankWeight ?? 1) : 0, rankTemperature: o.rankTemperature } satisfies FitOptions);
  let best = { init: o.inits[0], weightDecay: o.weightDecays[0], epochs: 0, innerValidation: -Infinity };
  const tried: string[] = [];
  for (const init of o.inits) {
    const start = initOf(init, e.d);
    const untrained = mean(agreements(start, innerVal));
    const scores: string[] = [];
    for (const wd of o.weightDecays) {
      const r = fit(start, wd, o.epochs, innerVal);
      scores.push(`${wd}: ${r.validation.toFixed(4)} @${r.epoch}`);
      if (r.validation > best.innerValidation) best = { init, weightDecay: wd, epochs: r.epoch, innerValidation: r.validation };
    }
    tried.push(`init ${init} (untrained ${untrained.toFixed(4)}) by weight decay ${scores.join(', ')}`);
  }
  log(`${label}: inner validation (${split.validation.length} of ${topics.length} topics, ${innerVal.rows} turns): ${tried.join('; ')}; chose init ${best.init}, weight decay ${best.weightDecay}, ${best.epochs} epochs`);
  const all = subset(e, rowsOf(topics));
  const start = initOf(best.init, e.d);
  const adapter = best.epochs === 0 ? start : fit(start, best.weightDecay, best.epochs, undefined, all).adapter;
  return { adapter, ...best };
}

/** Reads, encodes, cross-validates, trains the final adapter and writes the model directory. */
export async function convdrTrain(options: ConvdrTrainOptions, io: { log?: (m: string) => void; rankings?: RankingSource; documents?: DocumentSource } = {}): Promise<ConvdrTrainResult> {
  const o = ConvdrTrainOptions.parse(options);
  if (o.qrels && !io.documents) throw new ConvdrTrainError(`--qrels ${o.qrels} needs --index DIR: the ranking loss scores the documents of a dense index built with --model`);
  if (o.rankWeight !== undefined && !o.qrels) throw new ConvdrTrainError('--rank-weight needs --qrels (and --index): without judgments there is no ranking loss');
  const log = io.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const started = performance.now();
  const topics = await readConversations(o.topics, o.rewrites, { partial: o.partialRewrites });
  const turns = turnsOf(topics).filter((t) => t.rewrite !== undefined);
  const topicIds = [...new Set(turns.map((t) => t.topic))];
  if (topicIds.length < o.folds) throw new ConvdrTrainError(`${o.folds} folds need at least ${o.folds} topics with rewrites; ${o.topics} has ${topicIds.length}`);
  const loaded = loadManifest(o.model);
  if (loaded.manifest.conversational) throw new ConvdrTrainError(`${loaded.manifestPath}: model ${loaded.manifest.id} is already a conversational model; --model must be the ad hoc encoder whose index the student will search (e.g. models/use-lite)`);
  if (io.rankings && io.rankings.model.manifestHash !== loaded.hash)
    throw new ConvdrTrainError(`--index was built with ${io.rankings.model.id} (manifest ${io.rankings.model.manifestHash.slice(0, 12)}), but --model is ${loaded.manifest.id} (manifest ${loaded.hash.slice(0, 12)}): the teacher's vectors would not be the index's`);
  if (io.documents && io.documents.model.manifestHash !== loaded.hash)
    throw new ConvdrTrainError(`--index was built with ${io.documents.model.id} (manifest ${io.documents.model.manifestHash.slice(0, 12)}), but --model is ${loaded.manifest.id} (manifest ${loaded.hash.slice(0, 12)}): the teacher's vectors would not be the index's`);
  const qrels = o.qrels ? await readQrels(o.qrels) : undefined;
  const encoder: Encoder = await loadEncoder(loaded, { threads: o.threads, log });
  try {
    log(`convdr train: ${topics.length} topics, ${turns.length} turns with rewrites; teacher ${encoder.modelId} (manifest ${encoder.manifestHash.slice(0, 12)}); views ${VIEWS.join(', ')}`);
    // Every encoding once: the epochs then only multiply matrices.
    let t0 = performance.now();
    const d = encoder.dimension;
    const x = await viewFeatures(encoder, turns.map((t) => ({ text: t.raw, context: t.context })), VIEWS);
    const t = await encodeDistinct(encoder, turns.map((u) => u.rewrite!));
    log(`encoded ${turns.length} turns × ${VIEWS.length} views and ${turns.length} rewrites in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    const e: Encoded = { turns, x, t, d };

    // ConvDR's ranking loss, when the qrels judge documents of the index.
    let ranking: { summary: RankingDataSummary; relevant: Set<string>[]; rows: number[] } | undefined;
    let rankingNote: string | undefined;
    if (qrels && io.documents) {
      t0 = performance.now();
      const data = await rankingData(turns.map((u) => u.id), t, d, qrels, io.documents, o.rankNegatives);
      const s = data.summary;
      if (s.turns === 0) {
        rankingNote =
          s.judgedTurns === 0
            ? `no training turn of ${o.topics} is judged in ${o.qrels}`
            : s.relevantInIndex === 0
              ? `none of the ${s.relevantDocuments} documents judged relevant in ${o.qrels} (for ${s.judgedTurns} judged turns) is in the index ${io.documents.name}: the qrels do not match its corpus`
              : `no judged turn has a negative in the index ${io.documents.name}`;
        log(`warning: ${rankingNote}; training with knowledge distillation only`);
      } else {
        e.rank = data.rank;
        const rows = data.rank.flatMap((r, i) => (r ? [i] : []));
        ranking = { summary: s, rows, relevant: turns.map((u) => new Set([...(qrels.get(u.id) ?? [])].filter(([, g]) => g > 0).map(([doc]) => doc))) };
        log(
          `ranking loss: ${s.turns} of ${turns.length} turns have a relevant document in ${io.documents.name} (${s.relevantInIndex} of ${s.relevantDocuments} judged relevant documents there; ${s.positives} positives, ${s.meanNegatives.toFixed(1)} hard negatives per turn on average) in ${((performance.now() - t0) / 1000).toFixed(1)}s; weight ${o.rankWeight ?? 1}, temperature ${o.rankTemperature}${(o.rankWeight ?? 1) === 0 ? ' (weight 0: measured, not trained on)' : ''}`,
        );
      }
    }

    // Cross-validation by topic.
    const folds = topicFolds(topicIds, o.folds, o.seed);
    const student = new Float32Array(turns.length * d);
    // The untrained start each fold chose (what training adds is student − start).
    const start = new Float32Array(turns.length * d);
    const foldOf = new Int32Array(turns.length);
    const reports: FoldReport[] = [];
    t0 = performance.now();
    for (let f = 0; f < folds.length; f++) {
      const held = new Set(folds[f]);
      const trainTopics = topicIds.filter((id) => !held.has(id));
      const fit = trainOn(e, trainTopics, o, log, `fold ${f + 1}/${folds.length}`);
      const rows = turns.flatMap((u, i) => (held.has(u.topic) ? [i] : []));
      const out = normalizeRows(applyAdapter(fit.adapter, pickRows(x, VIEWS.length * d, rows), rows.length), d);
      const startOut = normalizeRows(applyAdapter(initOf(fit.init, d), pickRows(x, VIEWS.length * d, rows), rows.length), d);
      rows.forEach((r, i) => {
        start.set(startOut.subarray(i * d, (i + 1) * d), r * d);
        student.set(out.subarray(i * d, (i + 1) * d), r * d);
        foldOf[r] = f;
      });
      const held1 = rows.map((r) => dot(student, r, t, r, d));
      const base = (v: number) => mean(rows.map((r) => dot(x, r * VIEWS.length + v, t, r, d)));
      log(
        `fold ${f + 1}/${folds.length}: held out topics ${folds[f].join(',')} (${rows.length} turns): teacher agreement ${POLICIES.map((p) => `${p} ${base(VIEWS.indexOf(p)).toFixed(4)}`).join(', ')}, student ${mean(held1).toFixed(4)}`,
      );
      reports.push({ fold: f + 1, topics: folds[f], turns: rows.length, init: fit.init, weightDecay: fit.weightDecay, epochs: fit.epochs, innerValidation: Math.round(fit.innerValidation * 1e4) / 1e4 });
    }
    const teacherRows: TurnFigure[] = turns.map((u, r) => ({
      id: u.id,
      depth: u.depth,
      fold: foldOf[r],
      values: { ...Object.fromEntries(POLICIES.map((p) => [p, dot(x, r * VIEWS.length + VIEWS.indexOf(p), t, r, d)])), student: dot(student, r, t, r, d), start: dot(start, r, t, r, d) },
    }));
    const teacherAgreement = summarize(teacherRows, [...SYSTEMS, 'start']);
    log(`cross-validation done in ${((performance.now() - t0) / 1000).toFixed(1)}s (start: the untrained adapter each fold started from)\n${formatSummary('teacher agr.', teacherAgreement, [...SYSTEMS, 'start'])}`);

    // Held-out ranking figures on the ranked turns: CE, and MRR@100 of the relevant documents.
    let heldOut: Extract<RankingLossRecord, { loss: string }>['heldOut'] | undefined;
    if (ranking && io.documents) {
      const { rows, relevant } = ranking;
      const pick = (m: Float32Array) => pickRows(m, d, rows);
      const rel = rows.map((r) => relevant[r]);
      const ranks = async (m: Float32Array) => mrr(await io.documents!.search(pick(m), rows.length, 100), rel);
      heldOut = {
        loss: { start: round4(meanRankLoss(start, e.rank!, d, o.rankTemperature)), student: round4(meanRankLoss(student, e.rank!, d, o.rankTemperature)) },
        mrr: { teacher: round4(await ranks(t)), start: round4(await ranks(start)), student: round4(await ranks(student)) },
      };
      log(`held-out ranking (${rows.length} turns): loss start ${heldOut.loss.start.toFixed(4)}, student ${heldOut.loss.student.toFixed(4)}; MRR@100 teacher ${heldOut.mrr.teacher.toFixed(4)}, start ${heldOut.mrr.start.toFixed(4)}, student ${heldOut.mrr.student.toFixed(4)}`);
    }

    let rewriteAgreement: ConvdrTrainResult['rewriteAgreement'];
    if (io.rankings) rewriteAgreement = await rewriteAgreementOf(io.rankings, e, student, foldOf, log);

    // The final adapter, on every topic.
    const final = trainOn(e, topicIds, o, log, 'final model');
    let rankingRecord: RankingLossRecord;
    if (ranking && io.documents && heldOut) {
      const all = subset(e, turns.map((_, i) => i));
      const weight = o.rankWeight ?? 1;
      rankingRecord = {
        used: weight > 0,
        ...(weight > 0 ? {} : { reason: '--rank-weight 0: measured, not trained on' }),
        loss: `+ rankWeight · mean over the turn's relevant documents of the softmax cross-entropy of (s·e / temperature) over [that relevant document, the hard negatives], s the normalised student vector (turns with ranking data; others add 0)`,
        qrels: resolve(o.qrels!),
        index: resolve(io.documents.name),
        weight,
        temperature: o.rankTemperature,
        negatives: `the top ${o.rankNegatives} dense hits of the teacher's rewrite vector not judged relevant`,
        documentVector: "the document's window with the highest inner product with the turn's teacher vector",
        selection: 'the inner validation split still selects the start, weight decay and epochs by teacher agreement',
        ...ranking.summary,
        meanNegatives: round4(ranking.summary.meanNegatives),
        trainingLoss: { start: round4(rankingLoss(initOf(final.init, d), all, o.rankTemperature)), final: round4(rankingLoss(final.adapter, all, o.rankTemperature)) },
        heldOut,
      };
      log(`ranking loss on the training turns: start ${rankingRecord.trainingLoss.start.toFixed(4)}, final ${rankingRecord.trainingLoss.final.toFixed(4)}`);
    } else rankingRecord = { used: false, reason: rankingNote ? `${rankingNote}: knowledge distillation only` : 'no --qrels given: knowledge distillation only' };
    const id = o.id ?? `${encoder.modelId}-convdr`;
    const [topicsSum, rewritesSum] = await Promise.all([checksumFile(o.topics), o.rewrites ? checksumFile(o.rewrites) : undefined]);
    const seconds = (performance.now() - started) / 1000;
    const training = {
      method: 'convdr-kd',
      command: 'edgesearch convdr train',
      data: { topics: { path: resolve(o.topics), ...topicsSum }, ...(o.rewrites && rewritesSum ? { rewrites: { path: resolve(o.rewrites), ...rewritesSum } } : {}), partialRewrites: o.partialRewrites, topicCount: topicIds.length, turns: turns.length },
      loss: `mean over turns of ||x·W + b − teacher||²${rankingRecord.used ? ' + rankWeight · CE (see rankingLoss)' : ''} + weightDecay·||W − W0||² (W0: the initial adapter)`,
      hyperParameters: { inits: o.inits, lr: o.lr, epochs: o.epochs, patience: o.patience, batch: o.batch, weightDecays: o.weightDecays, innerValidation: o.innerValidation, seed: o.seed, optimizer: 'adam' },
      folds: { k: o.folds, seed: o.seed, folds: reports },
      final: { init: final.init, weightDecay: final.weightDecay, epochs: final.epochs, innerValidation: Math.round(final.innerValidation * 1e4) / 1e4 },
      teacherAgreement: agreementJson(teacherAgreement),
      ...(rewriteAgreement ? { rewriteAgreement: rewriteAgreementJson(rewriteAgreement) } : {}),
      rankingLoss: rankingRecord,
      seconds: Math.round(seconds),
    };
    try {
      await writeConversationalModel({
        base: loaded,
        teacher: { id: encoder.modelId, manifestHash: encoder.manifestHash },
        out: o.out,
        force: o.force,
        id,
        description: `ConvDR student of ${encoder.modelId}: the encoder on the views ${VIEWS.join(', ')} of the conversation, a linear adapter (${VIEWS.length * d} → ${d}, starting from ${final.init === 'mean' ? 'the mean of the views' : `the identity on ${final.init}`}) distilled toward ${encoder.modelId} on manual rewrites by \`edgesearch convdr train\` (see "training"); searches ${encoder.modelId}'s dense indexes.`,
        views: VIEWS,
        adapter: final.adapter,
        training,
      });
    } catch (err) {
      if (err instanceof DerivedModelExistsError) throw new ConvdrTrainError(err.message);
      throw err;
    }
    log(`wrote ${o.out} (model ${id}; final adapter: init ${final.init}, weight decay ${final.weightDecay}, ${final.epochs} epochs) in ${seconds.toFixed(1)}s`);
    return { out: o.out, modelId: id, turns: turns.length, topics: topicIds.length, folds: reports, teacherAgreement, ...(rewriteAgreement ? { rewriteAgreement } : {}), final: training.final, rankingLoss: rankingRecord, seconds };
  } finally {
    await encoder.dispose();
  }
}

export function rewriteAgreementJson(r: NonNullable<ConvdrTrainResult['rewriteAgreement']>): Record<string, unknown> {
  return { ...agreementJson(r.dense), ...(r.bm25 ? { bm25: agreementJson(r.bm25) } : {}), depth: REWRITE_AGREEMENT_DEPTH };
}

/** Held-out rewrite agreement: dense (policies and student, from the cached vectors) and BM25 (policies). */
async function rewriteAgreementOf(rankings: RankingSource, e: Encoded, student: Float32Array, foldOf: Int32Array, log: (m: string) => void): Promise<NonNullable<ConvdrTrainResult['rewriteAgreement']>> {
  const { turns, d } = e;
  const n = turns.length;
  const k = REWRITE_AGREEMENT_DEPTH;
  const t0 = performance.now();
  const reference = await rankings.dense(e.t, n, k);
  const dense: Record<string, number[]> = {};
  for (const p of POLICIES) {
    const v = VIEWS.indexOf(p);
    const q = new Float32Array(n * d);
    for (let r = 0; r < n; r++) q.set(e.x.subarray((r * VIEWS.length + v) * d, (r * VIEWS.length + v + 1) * d), r * d);
    dense[p] = rankingAgreement(reference, await rankings.dense(q, n, k), k);
  }
  dense.student = rankingAgreement(reference, await rankings.dense(student, n, k), k);
  const rows = (values: Record<string, number[]>) => turns.map((u, r): TurnFigure => ({ id: u.id, depth: u.depth, fold: foldOf[r], values: Object.fromEntries(Object.entries(values).map(([s, v]) => [s, v[r]])) }));
  const result: NonNullable<ConvdrTrainResult['rewriteAgreement']> = { dense: summarize(rows(dense), SYSTEMS) };
  log(formatSummary('rewrite dense', result.dense, SYSTEMS));
  if (rankings.bm25) {
    const ref = await rankings.bm25(turns.map((u) => ({ text: u.rewrite! })), k);
    const bm25: Record<string, number[]> = {};
    for (const p of POLICIES) bm25[p] = rankingAgreement(ref, await rankings.bm25(turns.map((u) => ({ text: u.raw, context: u.context, policy: p })), k), k);
    result.bm25 = summarize(rows(bm25), POLICIES);
    log(formatSummary('rewrite BM25', result.bm25, POLICIES));
  }
  log(`rewrite agreement (nDCG@${k} against the rewrite's top-${k}) in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  return result;
}
