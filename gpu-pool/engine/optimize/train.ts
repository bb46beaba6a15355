// The optimization loop of target-embedding optimization: per epoch, quantize the float targets
// with the index's trained quantizers, mine each training query's negatives among its nearest
// neighbours in that quantized space, take Adam steps on the contrastive loss computed on the
// quantized targets (straight-through to the floats), and keep the targets of the epoch with
// the best validation nDCG@10. Memory: a few copies of the target matrix plus one mini-batch of
// candidates; never queries × negatives.
import { evaluate, type Qrels, type Run } from '../eval/index.ts';
import { FaissIndex } from '../index/index.ts';
import { localStepper, shared, type StepBuffers, type StepItem } from './batch-step.ts';
import { DEFAULT_TEMPERATURE } from './contrastive.ts';
import { openStepPool } from './step-pool.ts';

export interface TrainingData {
  /** Float targets, n × d row-major. Not modified. */
  targets: Float32Array;
  d: number;
  /** Target row → document ordinal (a document may own several rows: windows). */
  targetDoc: Uint32Array;
  /** Query vectors, m × d. */
  queries: Float32Array;
  /** Per query: its relevant document ordinals. */
  relevant: readonly (readonly number[])[];
}

export interface EpochReport {
  epoch: number;
  /** Mean training loss over the epoch's queries (NaN for the report before training). */
  loss: number;
  /** nDCG@10 of the validation queries on the quantized targets after the epoch. */
  validNdcg10: number;
  /**
   * The same over the validation queries with a relevant document that some training query also
   * has (whose targets training moves), and over the others: optimization should help the first
   * without hurting the second (NaN when a group is empty).
   */
  validSeen: number;
  validUnseen: number;
  seconds: number;
}

export interface TrainOptions {
  /** Query indices trained on, and held out for validation (disjoint). */
  train: readonly number[];
  validation: readonly number[];
  epochs: number;
  lr: number;
  /**
   * Negatives per query, mined each epoch in the quantized space: from the query's nearest
   * neighbours, and a share (`positiveShare`) from its relevant documents' nearest neighbours.
   */
  negatives: number;
  /** Share of the negatives taken from the neighbours of the query's positives (default 0.25). */
  positiveShare?: number;
  temperature?: number;
  /** Queries per Adam step (default 32). */
  batchSize?: number;
  /**
   * Float targets → their quantized reconstructions (FaissIndex.quantize). Validation always
   * runs on them when given (it is what the published index will compute). Absent: everything
   * runs on the floats.
   */
  quantize?: (targets: Float32Array) => Promise<Float32Array>;
  /**
   * With `quantize`: compute the loss and mine negatives on the quantized targets, gradients
   * passed straight through to the floats (default true). false: plain float training, for
   * comparison.
   */
  straightThrough?: boolean;
  /** Rows allowed to move (1) or frozen (0); all move when absent (incremental optimization). */
  trainable?: Uint8Array;
  /** Weight of the pull of every moved target back to its start (default 0: none; see StepBuffers.anchor). */
  anchor?: number;
  /** Keep every target at its starting norm (default true; see StepBuffers.norms). */
  keepNorms?: boolean;
  /** Worker threads for the Adam steps (default 1: in this thread); results do not depend on it. */
  threads?: number;
  /** Epochs without a better validation nDCG@10 before stopping (default 2). */
  patience?: number;
  onEpoch?: (report: EpochReport) => void;
  /** Training queries done in the current epoch. */
  onProgress?: (done: number, total: number) => void;
}

export interface TrainResult {
  /** The targets of the best epoch (the input unchanged when no epoch beat the start). */
  targets: Float32Array;
  /** Epoch 0 is the state before training. */
  history: EpochReport[];
  bestEpoch: number;
  /** How many validation queries fall in each group of EpochReport.validSeen / validUnseen. */
  validationGroups: { seen: number; unseen: number };
}

export async function optimizeTargets(data: TrainingData, opts: TrainOptions): Promise<TrainResult> {
  const { d, targetDoc, queries, relevant } = data;
  const n = data.targets.length / d;
  if (!Number.isInteger(n) || targetDoc.length !== n) throw new RangeError(`targets hold ${data.targets.length / d} rows of ${d}, targetDoc ${targetDoc.length}`);
  if (relevant.length * d !== queries.length) throw new RangeError(`${queries.length / d} query vectors but ${relevant.length} relevance lists`);
  const validSet = new Set(opts.validation);
  const overlap = opts.train.filter((q) => validSet.has(q));
  if (overlap.length > 0) throw new RangeError(`${overlap.length} queries are both trained on and validated on (e.g. ${overlap.slice(0, 3).join(', ')})`);
  const temperature = opts.temperature ?? DEFAULT_TEMPERATURE;
  const batchSize = opts.batchSize ?? 32;
  const patience = opts.patience ?? 2;
  const rowsOfDoc = groupRows(targetDoc);

  // Mining skips the positives' rows, so it asks for that many more neighbours.
  const positiveRows = maxRows(rowsOfDoc, relevant, opts.train);
  const mineK = opts.negatives + positiveRows;
  const trainedDocs = new Set(opts.train.flatMap((q) => relevant[q]));
  const seenQueries = opts.validation.filter((q) => isSeen(relevant[q], trainedDocs)).length;
  const validationGroups = { seen: seenQueries, unseen: opts.validation.length - seenQueries };
  const fromPositives = Math.round(opts.negatives * (opts.positiveShare ?? 0.25));
  // A positive document is represented by its first row (its title and opening window).
  const firstRows = [...new Set(opts.train.flatMap((q) => relevant[q].map((doc) => rowsOfDoc.get(doc)?.[0] ?? -1)).filter((r) => r >= 0))];
  if (opts.trainable && opts.trainable.length !== n) throw new RangeError(`trainable has ${opts.trainable.length} entries for ${n} targets`);
  const targets = shared(data.targets);
  const straightThrough = opts.straightThrough ?? true;
  // The targets the loss sees and a search over them (mined for the next epoch), and the ones
  // validation sees: the same quantized space with straight-through training.
  const spacesOf = async (t: Float32Array): Promise<Spaces> => {
    const quantized = opts.quantize ? await opts.quantize(t) : undefined;
    const train = await openSpace(quantized && straightThrough ? quantized : t.slice(), d);
    const valid = quantized && !straightThrough ? await openSpace(quantized, d) : train;
    return { train, valid };
  };
  let spaces = await spacesOf(targets);
  try {
    const validate = (space: Space) => validationNdcg(space, targetDoc, queries, relevant, opts.validation, trainedDocs);
    const history: EpochReport[] = [{ epoch: 0, loss: NaN, ...(await validate(spaces.valid)), seconds: 0 }];
    opts.onEpoch?.(history[0]);
    let best = { epoch: 0, ndcg: history[0].validNdcg10, targets: data.targets };
    // Shared memory, so that step threads read and write the same matrices.
    const buffers: StepBuffers = {
      params: targets,
      grad: shared(new Float32Array(targets.length)),
      m: shared(new Float32Array(targets.length)),
      v: shared(new Float32Array(targets.length)),
      queries: shared(queries),
      trainable: opts.trainable ? shared(opts.trainable) : undefined,
      norms: (opts.keepNorms ?? true) ? shared(rowNorms(targets, d)) : undefined,
      moving: shared(new Uint8Array(n)),
      origin: opts.anchor ? shared(data.targets) : undefined,
      anchor: opts.anchor,
      d,
    };
    const stepOptions = { lr: opts.lr, temperature };
    const threads = opts.threads ?? 1;
    const stepper = threads > 1 ? await openStepPool(buffers, stepOptions, threads) : localStepper(buffers, stepOptions);
    try {
      for (let epoch = 1; epoch <= opts.epochs; epoch++) {
        const t0 = performance.now();
        // Negatives come from the current quantized space, refreshed every epoch.
        const space = spaces.train;
        await stepper.setSpace(space.vectors);
        const mined = await nearest(space, queryRows(queries, d, opts.train), mineK);
        const k = mined.labels.length / opts.train.length;
        const nearPositives = fromPositives > 0 ? await positiveNeighbours(space, firstRows, fromPositives + positiveRows) : new Map<number, Int32Array>();
        const order = shuffled(opts.train.length, epoch);
        let lossSum = 0;
        for (let start = 0; start < order.length; start += batchSize) {
          const batch = order.slice(start, start + batchSize);
          const items: StepItem[] = [];
          for (const i of batch) {
            const q = opts.train[i];
            const positives = relevant[q].flatMap((doc) => rowsOfDoc.get(doc) ?? []);
            if (positives.length === 0) continue;
            const nearQuery = mined.labels.subarray(i * k, (i + 1) * k);
            const nearRelevant = relevant[q].map((doc) => nearPositives.get(rowsOfDoc.get(doc)?.[0] ?? -1)).filter((l) => l !== undefined);
            const negatives = pickNegatives(new Set(relevant[q]), targetDoc, nearQuery, nearRelevant, opts.negatives, fromPositives);
            items.push({ query: q, rows: Int32Array.from([...positives, ...negatives]), positives: positives.length });
          }
          for (const loss of await stepper.step(items, 1 / batch.length)) lossSum += loss;
          opts.onProgress?.(Math.min(start + batchSize, order.length), order.length);
        }
        const next = await spacesOf(targets);
        disposeSpaces(spaces);
        spaces = next;
        const report = { epoch, loss: lossSum / opts.train.length, ...(await validate(spaces.valid)), seconds: (performance.now() - t0) / 1000 };
        history.push(report);
        opts.onEpoch?.(report);
        // Without a validation split there is nothing to select on: the last epoch is kept.
        if (opts.validation.length === 0 || report.validNdcg10 > best.ndcg) best = { epoch, ndcg: report.validNdcg10, targets: targets.slice() };
        else if (epoch - best.epoch >= patience) break;
      }
    } finally {
      await stepper.close();
    }
    return { targets: best.targets === data.targets ? data.targets.slice() : best.targets, history, bestEpoch: best.epoch, validationGroups };
  } finally {
    disposeSpaces(spaces);
  }
}

function rowNorms(m: Float32Array, d: number): Float32Array {
  const out = new Float32Array(m.length / d);
  for (let r = 0; r < out.length; r++) {
    let sq = 0;
    for (let i = r * d; i < (r + 1) * d; i++) sq += m[i] * m[i];
    out[r] = Math.sqrt(sq);
  }
  return out;
}

/** Document ordinal → its target rows. */
function groupRows(targetDoc: Uint32Array): Map<number, number[]> {
  const out = new Map<number, number[]>();
  targetDoc.forEach((doc, row) => {
    const rows = out.get(doc);
    if (rows) rows.push(row);
    else out.set(doc, [row]);
  });
  return out;
}

/** The most target rows any training query's relevant documents own (so mining can skip them all). */
function maxRows(rowsOfDoc: Map<number, number[]>, relevant: readonly (readonly number[])[], train: readonly number[]): number {
  let most = 0;
  for (const q of train) most = Math.max(most, relevant[q].reduce((s, doc) => s + (rowsOfDoc.get(doc)?.length ?? 0), 0));
  return most;
}

/** The forward targets (quantized, or the floats) and an exact inner-product search over them. */
interface Space {
  vectors: Float32Array;
  index: FaissIndex;
}

interface Spaces {
  train: Space;
  valid: Space;
}

function disposeSpaces(s: Spaces): void {
  s.train.index.dispose();
  if (s.valid !== s.train) s.valid.index.dispose();
}

async function openSpace(vectors: Float32Array, d: number): Promise<Space> {
  const index = FaissIndex.create(d, 'Flat', 'ip');
  await index.add(vectors);
  return { vectors, index };
}

function nearest(space: Space, queries: Float32Array, k: number) {
  return space.index.search(queries, Math.min(k, space.index.ntotal));
}

/**
 * Up to `count` negatives for one query: most from its own nearest neighbours, `fromPositives`
 * from its relevant documents' neighbours (round robin over them), then its own again if those
 * ran short. Rows of relevant documents are never negatives.
 */
function pickNegatives(rel: ReadonlySet<number>, targetDoc: Uint32Array, nearQuery: BigInt64Array, nearRelevant: Int32Array[], count: number, fromPositives: number): Set<number> {
  const negatives = new Set<number>();
  const take = (row: number, cap: number) => {
    if (negatives.size < cap && row >= 0 && !rel.has(targetDoc[row])) negatives.add(row);
  };
  for (const row of nearQuery) take(Number(row), count - fromPositives);
  for (let j = 0; nearRelevant.some((l) => j < l.length) && negatives.size < count; j++) for (const l of nearRelevant) if (j < l.length) take(l[j], count);
  for (const row of nearQuery) take(Number(row), count);
  return negatives;
}

/** Row → its nearest rows in the space (itself first, usually), for the listed rows. */
async function positiveNeighbours(space: Space, rows: number[], k: number): Promise<Map<number, Int32Array>> {
  const d = space.index.dimension;
  const res = await nearest(space, queryRows(space.vectors, d, rows), k);
  const kk = res.labels.length / Math.max(1, rows.length);
  return new Map(rows.map((row, i) => [row, Int32Array.from(res.labels.subarray(i * kk, (i + 1) * kk), Number)]));
}

/** The vectors of the listed queries, one after another. */
function queryRows(queries: Float32Array, d: number, list: readonly number[]): Float32Array {
  const out = new Float32Array(list.length * d);
  list.forEach((q, i) => out.set(queries.subarray(q * d, (q + 1) * d), i * d));
  return out;
}

/** A query is about trained-on documents when one of its relevant documents is some training query's. */
function isSeen(relevant: readonly number[], trainedDocs: ReadonlySet<number>): boolean {
  return relevant.some((doc) => trainedDocs.has(doc));
}

/** nDCG@10 at the document level (a document scores its best row), binary relevance: all, and split by whether a relevant document was trained on. */
async function validationNdcg(
  space: Space,
  targetDoc: Uint32Array,
  queries: Float32Array,
  relevant: readonly (readonly number[])[],
  validation: readonly number[],
  trainedDocs: ReadonlySet<number>,
): Promise<Pick<EpochReport, 'validNdcg10' | 'validSeen' | 'validUnseen'>> {
  if (validation.length === 0) return { validNdcg10: NaN, validSeen: NaN, validUnseen: NaN };
  const res = await nearest(space, queryRows(queries, space.index.dimension, validation), 100);
  const k = res.labels.length / validation.length;
  const run: Run = new Map();
  const all: Qrels = new Map();
  const seen: Qrels = new Map();
  const unseen: Qrels = new Map();
  validation.forEach((q, i) => {
    const docs = new Map<number, number>();
    for (let j = 0; j < k; j++) {
      const row = Number(res.labels[i * k + j]);
      if (row < 0) continue;
      const doc = targetDoc[row];
      if (!docs.has(doc)) docs.set(doc, res.distances[i * k + j]);
    }
    run.set(String(q), [...docs].map(([doc, score]) => ({ docId: String(doc), score })));
    const judged = new Map(relevant[q].map((doc) => [String(doc), 1]));
    all.set(String(q), judged);
    (isSeen(relevant[q], trainedDocs) ? seen : unseen).set(String(q), judged);
  });
  const ndcg = (qrels: Qrels) => (qrels.size === 0 ? NaN : evaluate(run, qrels, ['ndcg@10']).mean['ndcg@10']);
  return { validNdcg10: ndcg(all), validSeen: ndcg(seen), validUnseen: ndcg(unseen) };
}

/** A permutation of 0..n-1, the same for the same epoch (deterministic runs). */
function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let a = (seed * 2654435761) >>> 0;
  for (let i = n - 1; i > 0; i--) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const j = a % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
