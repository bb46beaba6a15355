// The training loop of `colbert train`, on features already in memory: Adam on W over epochs of
// seeded mini-batches (one positive and `negatives` sampled negatives per query), validation after
// every epoch (nDCG@10 of re-ranking each held-out query's candidates by MaxSim), early stopping
// with patience, and the W of the best epoch kept. No I/O here; colbert-train.ts does that.
import { evaluate, type Qrels, type Run } from '../../eval/index.ts';
import { matmul, maxSim } from '../../index/index.ts';
import { Adam } from '../../optimize/index.ts';
import { FeatureStore, normalizeRows, type FeatureSet } from './features.ts';
import { seededRandom, shuffle } from './init.ts';
import { LossScratch, maxSimLossAndGradient, type LossItem } from './maxsim-loss.ts';

/** A training query: feature item of its text, its positives and its pool of negatives (doc feature items). */
export interface TrainExample {
  query: number;
  positives: readonly number[];
  negatives: readonly number[];
}

/** A held-out query: its candidates (doc feature items, e.g. BM25's top 100) and its relevant document ids. */
export interface ValidationQuery {
  id: string;
  query: number;
  candidates: readonly number[];
  relevant: readonly string[];
}

export interface ProjectionData {
  /** Token features, L2-normalised per row (see features.ts). */
  queries: FeatureSet;
  docs: FeatureSet;
  /** Document id of each doc feature item (for nDCG). */
  docIds: readonly string[];
  train: readonly TrainExample[];
  validation: readonly ValidationQuery[];
}

export interface EpochReport {
  epoch: number;
  /** Mean training loss over the epoch's queries (NaN for epoch 0, the starting point). */
  loss: number;
  validNdcg10: number;
  seconds: number;
}

export interface ProjectionTrainOptions {
  dim: number;
  /** F × dim starting point (not modified). */
  init: Float32Array;
  epochs: number;
  lr: number;
  /** Queries per Adam step. */
  batchSize: number;
  /** Negatives sampled per query per epoch from its pool (all of a smaller pool). */
  negatives: number;
  /** Scores are divided by it before the softmax. */
  temperature: number;
  seed: number;
  /** Epochs without a better validation nDCG@10 before stopping. */
  patience: number;
  /** validationNdcg(data, init, dim) when the caller has measured it already (it is not measured again). */
  startNdcg?: number;
  onEpoch?: (report: EpochReport) => void;
  /** Training queries done in the current epoch. */
  onProgress?: (done: number, total: number) => void;
}

export interface ProjectionTrainResult {
  /** W of the best epoch (a copy of init when no epoch beat it), F × dim. */
  W: Float32Array;
  /** Epoch 0 is the starting point. */
  history: EpochReport[];
  bestEpoch: number;
}

/** Rows of projected documents per sgemm call while validating (32k × 512 floats = 64 MiB gathered). */
const PROJECT_ROWS = 32_768;

/** The listed items of `features` projected by W (F × dim) and L2-normalised per row, as a new set (item order kept). */
export function projectItems(features: FeatureSet, items: readonly number[], W: Float32Array, dim: number): { store: FeatureStore; index: Map<number, number> } {
  const F = features.dim;
  const store = new FeatureStore(dim);
  const index = new Map<number, number>();
  let buf = new Float32Array(0);
  let pending: number[] = [];
  const pendingSet = new Set<number>();
  let rows = 0;
  const flush = () => {
    if (pending.length === 0) return;
    const out = rows > 0 ? matmul(buf.subarray(0, rows * F), W, rows, dim, F) : new Float32Array(0);
    normalizeRows(out, rows, dim);
    let r = 0;
    for (const i of pending) {
      const n = features.rows(i);
      index.set(i, store.add(out.subarray(r * dim, (r + n) * dim), n));
      r += n;
    }
    pending = [];
    pendingSet.clear();
    rows = 0;
  };
  for (const i of items) {
    if (index.has(i) || pendingSet.has(i)) continue;
    const n = features.rows(i);
    if (rows > 0 && rows + n > PROJECT_ROWS) flush();
    if (buf.length < (rows + n) * F) {
      const next = new Float32Array(Math.max((rows + n) * F, PROJECT_ROWS * F));
      next.set(buf.subarray(0, rows * F));
      buf = next;
    }
    buf.set(features.view(i), rows * F);
    rows += n;
    pending.push(i);
    pendingSet.add(i);
  }
  flush();
  return { store, index };
}

/**
 * nDCG@10 of the validation queries when each one's candidates are re-ranked by MaxSim under W
 * (undefined: the identity, i.e. the normalised features themselves). NaN without validation queries.
 */
export function validationNdcg(data: ProjectionData, W: Float32Array | undefined, dim: number): number {
  if (data.validation.length === 0) return NaN;
  const F = data.docs.dim;
  let docs: FeatureSet;
  let docItem: (i: number) => number;
  if (W) {
    const all = [...new Set(data.validation.flatMap((v) => v.candidates))];
    const projected = projectItems(data.docs, all, W, dim);
    docs = projected.store;
    docItem = (i) => projected.index.get(i)!;
  } else {
    if (dim !== F) throw new RangeError(`the identity keeps ${F} dimensions, not ${dim}`);
    docs = data.docs;
    docItem = (i) => i;
  }
  const run: Run = new Map();
  const qrels: Qrels = new Map();
  let gathered = new Float32Array(0);
  for (const v of data.validation) {
    qrels.set(v.id, new Map(v.relevant.map((id) => [id, 1])));
    const nq = data.queries.rows(v.query);
    let q = data.queries.view(v.query);
    if (W && nq > 0) {
      q = matmul(q, W, nq, dim, F);
      normalizeRows(q, nq, dim);
    }
    const offsets = new Uint32Array(v.candidates.length + 1);
    v.candidates.forEach((c, j) => (offsets[j + 1] = offsets[j] + docs.rows(docItem(c))));
    const T = offsets[v.candidates.length];
    if (gathered.length < T * dim) gathered = new Float32Array(T * dim);
    v.candidates.forEach((c, j) => gathered.set(docs.view(docItem(c)), offsets[j] * dim));
    const scores = nq > 0 ? maxSim(q.subarray(0, nq * dim), dim, gathered.subarray(0, T * dim), offsets) : new Float32Array(v.candidates.length);
    run.set(
      v.id,
      v.candidates.map((c, j) => ({ docId: data.docIds[c], score: scores[j] })),
    );
  }
  return evaluate(run, qrels, ['ndcg@10']).mean['ndcg@10'];
}

/** `k` distinct entries of `pool` (all of them when it is smaller), drawn from `rnd`. */
function sample(pool: readonly number[], k: number, rnd: () => number): number[] {
  if (pool.length <= k) return [...pool];
  const a = [...pool];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rnd() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

/** Loss items of one batch: for each example, one positive and up to `negatives` negatives sampled with `rnd`. */
function batchItems(data: ProjectionData, examples: readonly TrainExample[], negatives: number, rnd: () => number): LossItem[] {
  return examples.map((ex) => {
    const pos = ex.positives[Math.floor(rnd() * ex.positives.length)];
    const docs = [pos, ...sample(ex.negatives, negatives, rnd)].map((d) => ({ data: data.docs.view(d), rows: data.docs.rows(d) }));
    return { query: data.queries.view(ex.query), queryRows: data.queries.rows(ex.query), docs };
  });
}

/** Mean loss of the examples at W, each against all of its pool (no sampling): a deterministic figure for tests and logs. */
export function meanLoss(data: ProjectionData, W: Float32Array, dim: number, temperature: number): number {
  const F = data.docs.dim;
  const scratch = new LossScratch();
  let sum = 0;
  for (const ex of data.train) {
    const docs = [ex.positives[0], ...ex.negatives].map((d) => ({ data: data.docs.view(d), rows: data.docs.rows(d) }));
    sum += maxSimLossAndGradient(W, F, dim, [{ query: data.queries.view(ex.query), queryRows: data.queries.rows(ex.query), docs }], { temperature, scale: 0, scratch }).loss;
  }
  return data.train.length ? sum / data.train.length : NaN;
}

export function trainProjection(data: ProjectionData, opts: ProjectionTrainOptions): ProjectionTrainResult {
  const F = data.docs.dim;
  const { dim } = opts;
  if (opts.init.length !== F * dim) throw new RangeError(`init holds ${opts.init.length} floats, not ${F} × ${dim}`);
  if (data.queries.dim !== F) throw new RangeError(`query features are ${data.queries.dim}-d, document features ${F}-d`);
  if (data.train.length === 0) throw new RangeError('no training queries');
  const W = opts.init.slice();
  const rnd = seededRandom(opts.seed);
  const adam = new Adam(W.length, { lr: opts.lr });
  const scratch = new LossScratch();
  const history: EpochReport[] = [{ epoch: 0, loss: NaN, validNdcg10: opts.startNdcg ?? validationNdcg(data, W, dim), seconds: 0 }];
  opts.onEpoch?.(history[0]);
  let best = { epoch: 0, ndcg: history[0].validNdcg10, W: W.slice() };
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    const order = shuffle(data.train.length, rnd);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += opts.batchSize) {
      const batch = order.slice(start, start + opts.batchSize).map((i) => data.train[i]);
      const items = batchItems(data, batch, opts.negatives, rnd);
      const { loss, grad } = maxSimLossAndGradient(W, F, dim, items, { temperature: opts.temperature, scale: 1 / batch.length, scratch });
      lossSum += loss;
      adam.step(W, grad);
      opts.onProgress?.(Math.min(start + opts.batchSize, order.length), order.length);
    }
    const report: EpochReport = { epoch, loss: lossSum / order.length, validNdcg10: validationNdcg(data, W, dim), seconds: (performance.now() - t0) / 1000 };
    history.push(report);
    opts.onEpoch?.(report);
    // Without validation queries there is nothing to select on: the last epoch is kept.
    if (data.validation.length === 0 || report.validNdcg10 > best.ndcg) best = { epoch, ndcg: report.validNdcg10, W: W.slice() };
    else if (epoch - best.epoch >= opts.patience) break;
  }
  return { W: best.W, history, bestEpoch: best.epoch };
}
