// `edgesearch index optimize`: the write-path operation around optimizeTargets. Reads an index
// (never modifies it), gathers its targets (stored floats, or reconstructions when only codes
// exist), encodes the training queries once with the index's own query encoder, optimizes, and
// publishes a new index version atomically: staged beside the output, fsynced, renamed. A run
// killed at any point leaves the source serving and at most a staging directory that never loads.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { FaissIndex } from '../index/index.ts';
import { createProgress, type Progress } from '../progress/index.ts';
import { Searcher } from '../search/index.ts';
import {
  FAISS_FILE,
  TARGETS_FILE,
  checksumFile,
  checksumFiles,
  contentVersion,
  linkOrCopy,
  readF32,
  writeF32,
  type IndexManifest,
  type DenseShard,
  denseShard,
  type ShardManifest,
} from '../shard/index.ts';
import { checkNewVersionOut, publishNewVersion, stderrIo, type BuildIo } from '../writer/index.ts';
import { loadTrainingSet, describeTrainingSet, type TrainingSet } from './training-set.ts';
import { optimizeTargets, type EpochReport } from './train.ts';

export const OptimizeOptions = z.object({
  index: z.string().min(1),
  queries: z.string().min(1),
  qrels: z.string().min(1),
  out: z.string().min(1),
  validFraction: z.number().min(0).max(0.5).default(0.1),
  epochs: z.number().int().min(0).max(1000).default(10),
  lr: z.number().min(0).max(1).default(0.001),
  negatives: z.number().int().min(1).max(100_000).default(500),
  /** Pull of every moved target back to its start (½λ‖t − t₀‖²); 0 lets targets drift freely. */
  anchor: z.number().min(0).default(0.003),
  /** Share of the negatives mined from the neighbours of the query's relevant documents. */
  positiveShare: z.number().min(0).max(1).default(0.25),
  temperature: z.number().positive().default(0.05),
  batchSize: z.number().int().min(1).default(32),
  patience: z.number().int().min(1).default(3),
  /** false: the loss sees the float targets (no quantization-awareness); for comparison. */
  quantizationAware: z.boolean().default(true),
  /** Only rows added by `index add` since the last build or optimization move. */
  addedOnly: z.boolean().default(false),
  unknown: z.enum(['skip', 'reject']).default('reject'),
  /** Model directory or manifest (default: the one recorded in the index). */
  model: z.string().optional(),
  threads: z.number().int().positive().optional(),
  force: z.boolean().default(false),
});
export type OptimizeOptions = z.input<typeof OptimizeOptions>;

export class OptimizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OptimizeError';
  }
}


export interface OptimizeResult {
  manifest: IndexManifest;
  history: EpochReport[];
  bestEpoch: number;
  /** Target rows whose stored codes changed. */
  changedRows: number;
  validation: ValidationSummary;
}

/** Validation nDCG@10 of one group of held-out queries, before training and at the kept epoch (null: not measured). */
export interface GroupFigures {
  queries: number;
  before: number | null;
  after: number | null;
}

export interface ValidationSummary {
  bestEpoch: number;
  all: GroupFigures;
  /** Held-out queries with a relevant document that some training query also has. */
  seen: GroupFigures;
  /** The others: queries about documents no training query is about. */
  unseen: GroupFigures;
  /** The second group scored lower after than before (false when it was not measured). */
  unseenWorse: boolean;
  /** What the command prints at the end. */
  lines: string[];
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

// Measured by `npm run bench:optimize` (bench/results/optimize.md): SciFact test queries about
// documents no training query is about, 5 indexes × 3 settings.
const BENCH_NOTE = 'on SciFact, test queries of this kind got worse in 14 of 15 benchmarked configurations (bench/results/optimize.md)';
const BENCH_ROSE_NOTE = 'on SciFact, test queries of this kind got worse in 6 of the 7 benchmarked configurations where this validation figure rose, and in 14 of 15 in all (bench/results/optimize.md)';

/**
 * The before → after of both validation groups and a plain statement of whether queries about
 * documents no training query is about got worse. Optimization exists to help the first group;
 * the second is where it can quietly cost accuracy (the benchmark shows it usually does).
 */
export function summarizeValidation(history: readonly EpochReport[], bestEpoch: number, groups: { seen: number; unseen: number }): ValidationSummary {
  const figures = (pick: (r: EpochReport) => number, queries: number): GroupFigures => ({
    queries,
    before: queries > 0 ? finite(pick(history[0])) : null,
    after: queries > 0 ? finite(pick(history[bestEpoch])) : null,
  });
  const all = figures((r) => r.validNdcg10, groups.seen + groups.unseen);
  const seen = figures((r) => r.validSeen, groups.seen);
  const unseen = figures((r) => r.validUnseen, groups.unseen);
  const measured = (g: GroupFigures): g is { queries: number; before: number; after: number } => g.before !== null && g.after !== null;
  const unseenWorse = measured(unseen) && unseen.after < unseen.before;

  const f4 = (x: number) => x.toFixed(4);
  const change = (g: GroupFigures) => (measured(g) ? `${f4(g.before)} → ${f4(g.after)} (${g.after - g.before >= 0 ? '+' : ''}${f4(g.after - g.before)})` : 'not measured');
  const OTHERS = 'queries about documents no training query is about';
  const lines: string[] = [];
  if (all.queries === 0) {
    lines.push(`summary: no validation split (--valid-fraction 0): nothing was measured, and whether ${OTHERS} got worse is unknown; ${BENCH_NOTE}.`);
  } else {
    lines.push(
      `summary: validation nDCG@10 on the quantized index, before → after (best epoch ${bestEpoch}), ${all.queries} held-out queries:`,
      `  all ${all.queries}: ${change(all)}`,
      `  ${seen.queries} about documents training queries are about: ${change(seen)}`,
      `  ${unseen.queries} about documents no training query is about: ${change(unseen)}`,
    );
    if (!measured(unseen)) lines.push(`No held-out query is about documents no training query is about, so whether such queries got worse is unknown; ${BENCH_NOTE}.`);
    else if (unseenWorse)
      lines.push(
        `WORSE for ${OTHERS}: nDCG@10 ${f4(unseen.before)} → ${f4(unseen.after)} on ${unseen.queries} held-out queries. The new version ranks them lower than the source; serve it where queries are about the trained-on documents, or try a larger --anchor.`,
      );
    else
      lines.push(
        `Not worse for ${OTHERS} on these ${unseen.queries} held-out queries (${unseen.after === unseen.before ? 'unchanged' : 'better'}). A small sample: ${BENCH_ROSE_NOTE}. Check with queries of your own before serving it.`,
      );
  }
  return { bestEpoch, all, seen, unseen, unseenWorse, lines };
}

/** Where each global target row lives, and every shard's targets as one matrix. */
interface Targets {
  vectors: Float32Array;
  /** Global row → global document ordinal. */
  rowDoc: Uint32Array;
  /** First global row of each shard. */
  rowBase: number[];
  /** Global rows allowed to move (all when undefined). */
  trainable?: Uint8Array;
  /** Per shard: whether its floats were stored (else reconstructed from codes). */
  stored: boolean[];
}

async function gatherTargets(shards: DenseShard[], addedOnly: boolean): Promise<Targets> {
  const d = shards[0].index.dimension;
  const total = shards.reduce((n, s) => n + s.index.ntotal, 0);
  const vectors = new Float32Array(total * d);
  const rowDoc = new Uint32Array(total);
  const rowBase: number[] = [];
  const stored: boolean[] = [];
  const trainable = addedOnly ? new Uint8Array(total) : undefined;
  let row = 0;
  let doc = 0;
  for (const shard of shards) {
    const n = shard.index.ntotal;
    rowBase.push(row);
    const hasFloats = TARGETS_FILE in shard.manifest.files;
    stored.push(hasFloats);
    // Stored floats are the encoder's output; reconstructions are what the codes still hold.
    const floats = hasFloats ? await readF32(join(shard.dir, TARGETS_FILE)) : shard.index.reconstructBatch(Array.from({ length: n }, (_, i) => i));
    if (floats.length !== n * d) throw new OptimizeError(`${join(shard.dir, TARGETS_FILE)}: ${floats.length / d} vectors for ${n} in the index`);
    vectors.set(floats, row * d);
    for (let i = 0; i < n; i++) rowDoc[row + i] = doc + shard.vectorDocs[i];
    if (trainable) trainable.fill(1, row + (shard.manifest.addedFrom ?? n), row + n);
    row += n;
    doc += shard.manifest.counts.docs;
  }
  return { vectors, rowDoc, rowBase, trainable, stored };
}

/** Deterministic validation split by query id: the same file always splits the same way. */
export function isValidation(queryId: string, fraction: number): boolean {
  const h = createHash('sha256').update(queryId).digest().readUInt32BE(0);
  return h / 2 ** 32 < fraction;
}

async function sha256(path: string): Promise<string> {
  return (await checksumFile(path)).sha256;
}

function rowChanged(a: Float32Array, b: Float32Array, row: number, d: number): boolean {
  for (let i = row * d; i < (row + 1) * d; i++) if (!Object.is(a[i], b[i])) return true;
  return false;
}

/**
 * Writes one shard of the new version into `dir`. Rows whose targets did not move keep their
 * codes: an unchanged shard is the same bytes, and an IVF shard re-encodes only the moved rows
 * (re-encoding a reconstruction could pick another list). Index types without ids (PQ, HNSW)
 * are re-filled in row order.
 */
async function writeShard(shard: DenseShard, dir: string, before: Float32Array, after: Float32Array, stored: boolean): Promise<{ manifest: ShardManifest; changed: number } | undefined> {
  const d = shard.index.dimension;
  const n = shard.index.ntotal;
  const changed: number[] = [];
  for (let r = 0; r < n; r++) if (rowChanged(before, after, r, d)) changed.push(r);
  if (changed.length === 0 && shard.manifest.addedFrom === undefined) return undefined;

  for (const name of Object.keys(shard.manifest.files)) {
    if (name === FAISS_FILE || name === TARGETS_FILE) continue;
    await linkOrCopy(join(shard.dir, name), join(dir, name));
  }
  if (changed.length === 0) {
    await linkOrCopy(join(shard.dir, FAISS_FILE), join(dir, FAISS_FILE));
    if (stored) await linkOrCopy(join(shard.dir, TARGETS_FILE), join(dir, TARGETS_FILE));
  } else {
    // A fresh read: the serving copy may carry a direct map that reconstruct switched on.
    const index = await FaissIndex.readFile(join(shard.dir, FAISS_FILE));
    try {
      if (index.rowLayout === 'ivf') {
        const ids = BigInt64Array.from(changed, (r) => BigInt(r));
        const rows = new Float32Array(changed.length * d);
        changed.forEach((r, i) => rows.set(after.subarray(r * d, (r + 1) * d), i * d));
        const removed = await index.removeIds(ids);
        if (removed !== changed.length) throw new OptimizeError(`${shard.dir}: removed ${removed} of ${changed.length} re-encoded rows (ids are not 0..${n - 1})`);
        await index.add(rows, ids);
      } else {
        await index.reset();
        await index.add(after);
      }
      await index.writeFile(join(dir, FAISS_FILE));
    } finally {
      index.dispose();
    }
    if (stored) await writeF32(join(dir, TARGETS_FILE), after);
  }
  const files = await checksumFiles(dir, Object.keys(shard.manifest.files));
  // The added vectors have now been optimized: the marker goes.
  const { addedFrom: _, ...rest } = shard.manifest;
  return { manifest: { ...rest, files, version: contentVersion(files) }, changed: changed.length };
}

export async function optimizeIndex(input: OptimizeOptions, io: BuildIo = stderrIo): Promise<OptimizeResult> {
  const opts = OptimizeOptions.parse(input);
  const { log } = io;
  const source = resolve(opts.index);
  const out = resolve(opts.out);
  // Before minutes of training, not after.
  await checkNewVersionOut(source, out, opts.force);
  if (opts.threads) FaissIndex.setThreads(opts.threads);
  const started = performance.now();

  const searcher = await Searcher.open(source, { model: opts.model, threads: opts.threads, log });
  try {
    const { manifest: sourceManifest } = searcher.index;
    const shards = searcher.index.shards.map(denseShard);
    if (shards.length === 0 || shards.every((s) => s.index.ntotal === 0)) throw new OptimizeError(`${source} holds no vectors`);
    const d = sourceManifest.model.dimension;

    // Document ids → global ordinals, from the passage stores.
    const docOrdinal = new Map<string, number>();
    let base = 0;
    for (const shard of shards) {
      const passages = await shard.passages.readAll();
      passages.forEach((p, i) => docOrdinal.set(p.id, base + i));
      base += shard.manifest.counts.docs;
    }
    const set: TrainingSet = await loadTrainingSet({ queries: opts.queries, qrels: opts.qrels, docOrdinal: (id) => docOrdinal.get(id), unknown: opts.unknown });
    log(describeTrainingSet(set, opts.qrels));

    // Checksums of the training data now: the record must describe what was read, not a later edit.
    const [queriesSha, qrelsSha] = [await sha256(opts.queries), await sha256(opts.qrels)];
    const targets = await gatherTargets(shards, opts.addedOnly);
    const trainableRows = targets.trainable ? targets.trainable.reduce((a, b) => a + b, 0) : targets.rowDoc.length;
    if (targets.trainable && trainableRows === 0) throw new OptimizeError(`--added-only: no rows were added to ${source} since it was built or last optimized`);
    log(`targets: ${targets.rowDoc.length} vectors of ${d} (${targets.stored.every(Boolean) ? 'stored floats' : targets.stored.some(Boolean) ? 'stored floats and reconstructions' : 'reconstructed from the codes'}), ${trainableRows} trainable`);

    // The training queries, encoded once with the index's own query encoder.
    const encoder = await searcher.queryEncoder();
    const t0 = performance.now();
    const queryVectors = await encoder.encodeQueries(set.texts);
    log(`encoded ${set.texts.length} queries in ${((performance.now() - t0) / 1000).toFixed(1)}s`);

    const train: number[] = [];
    const validation: number[] = [];
    set.ids.forEach((id, i) => (isValidation(id, opts.validFraction) ? validation : train).push(i));
    if (train.length === 0) throw new OptimizeError(`all ${set.ids.length} queries fell into the validation split; lower --valid-fraction`);
    if (opts.validFraction > 0 && validation.length === 0) log('warning: no query fell into the validation split; every epoch is kept');
    log(`${train.length} training queries, ${validation.length} validation queries`);

    // Each shard quantizes its own rows with its own trained codec.
    const quantize = async (t: Float32Array): Promise<Float32Array> => {
      const q = new Float32Array(t.length);
      for (let s = 0; s < shards.length; s++) {
        const from = targets.rowBase[s] * d;
        const to = from + shards[s].index.ntotal * d;
        q.set(await shards[s].index.quantize(t.subarray(from, to)), from);
      }
      return q;
    };

    // The hyper-parameters, passed to training and recorded as given.
    const { epochs, lr, negatives, positiveShare, anchor, temperature, batchSize, patience } = opts;
    const hyper = { epochs, lr, negatives, positiveShare, anchor, temperature, batchSize, patience };

    // One bar per epoch, opened on its first batch.
    let progress: Progress | undefined;
    let epoch = 1;
    let reported = 0;
    const result = await optimizeTargets(
      { targets: targets.vectors, d, targetDoc: targets.rowDoc, queries: queryVectors, relevant: set.relevant },
      {
        train,
        validation,
        ...hyper,
        trainable: targets.trainable,
        threads: opts.threads ?? availableParallelism(),
        quantize,
        straightThrough: opts.quantizationAware,
        onProgress: (done) => {
          progress ??= createProgress({ label: `epoch ${epoch}/${opts.epochs}`, total: train.length, unit: 'queries', enabled: io.progress ?? false });
          progress.tick(done - reported);
          reported = done;
        },
        onEpoch: (r) => {
          progress?.finish();
          progress = undefined;
          reported = 0;
          epoch = r.epoch + 1;
          const loss = r.epoch === 0 ? 'before training' : `loss ${r.loss.toFixed(4)}`;
          const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(4));
          log(`epoch ${r.epoch}/${opts.epochs}: ${loss}, validation nDCG@10 ${f(r.validNdcg10)} (documents trained on ${f(r.validSeen)}, others ${f(r.validUnseen)}) (${r.seconds.toFixed(1)}s)`);
        },
      },
    );

    const summary = summarizeValidation(result.history, result.bestEpoch, result.validationGroups);
    let changedRows = 0;
    const manifest = await publishNewVersion({
      source: searcher.index,
      out,
      force: opts.force,
      writeShard: async (loaded, dir, s) => {
        const shard = denseShard(loaded);
        const from = targets.rowBase[s] * d;
        const to = from + shard.index.ntotal * d;
        const written = await writeShard(shard, dir, targets.vectors.subarray(from, to), result.targets.subarray(from, to), targets.stored[s]);
        changedRows += written?.changed ?? 0;
        return written?.manifest;
      },
      patch: () => ({
        optimization: {
          source: { dir: source, version: sourceManifest.version },
          queries: { path: resolve(opts.queries), sha256: queriesSha, count: set.ids.length, train: train.length, validation: validation.length },
          qrels: { path: resolve(opts.qrels), sha256: qrelsSha, used: set.report.used, unknownDocs: set.report.unknownDocs.count, unknownQueries: set.report.unknownQueries.count },
          params: {
            ...hyper,
            validFraction: opts.validFraction,
            quantizationAware: opts.quantizationAware,
            update: 'targets',
            addedOnly: opts.addedOnly,
          },
          validation: {
            metric: 'ndcg@10',
            before: summary.all.before,
            after: summary.all.after,
            seenBefore: summary.seen.before,
            seenAfter: summary.seen.after,
            unseenBefore: summary.unseen.before,
            unseenAfter: summary.unseen.after,
            bestEpoch: result.bestEpoch,
            seenQueries: summary.seen.queries,
            unseenQueries: summary.unseen.queries,
            unseenWorse: summary.unseenWorse,
          },
          epochs: result.history.map((h) => ({ epoch: h.epoch, loss: finite(h.loss), validNdcg10: finite(h.validNdcg10), validSeen: finite(h.validSeen), validUnseen: finite(h.validUnseen), seconds: h.seconds })),
          changedRows,
          seconds: (performance.now() - started) / 1000,
          peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        },
      }),
    });
    const record = manifest.optimization!;
    log(`index ${manifest.version} published at ${out}: ${changedRows} of ${targets.rowDoc.length} vectors re-encoded, best epoch ${result.bestEpoch}, ${record.seconds.toFixed(1)}s, peak RSS ${record.peakRssMb} MB`);
    for (const line of summary.lines) log(line);
    return { manifest, history: result.history, bestEpoch: result.bestEpoch, changedRows, validation: summary };
  } finally {
    await searcher.close();
  }
}
