// `colbert train` end to end on a slice of SciFact's training data (300 passages, the training
// queries whose positives are among them), with the real use-lite token model: the first run
// encodes the slice into a feature cache that the other tests reuse.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SCIFACT_DIR, requireShared } from '../../../../test/fixtures.ts';
import { InputError, readCorpus, readQueries } from '../../corpus/index.ts';
import { loadTokenEncoder, NotATokenModelError, tokenMatrix } from '../../encoders/index.ts';
import { readJudgments } from '../../eval/index.ts';
import { matmul } from '../../index/index.ts';
import { colbertTrain, ColbertTrainError, type ColbertTrainOptions, type ColbertTrainResult } from './index.ts';

const TOKEN_MODEL = join(REPO_ROOT, 'models', 'use-lite-tokens');
const SENTENCE_MODEL = join(REPO_ROOT, 'models', 'use-lite');

let dir: string;
let slice: { corpus: string; queries: string; qrels: string };
let cache: string;
const logs: string[] = [];
const io = { log: (m: string) => logs.push(m), progress: false };

/** The first `nQueries` training queries (train split only), their positives, and other passages up to `nDocs`. */
async function writeSlice(nQueries: number, nDocs: number, name = 'slice') {
  const qrels: { qid: string; docId: string }[] = [];
  const chosen = new Set<string>();
  for await (const j of readJudgments(join(SCIFACT_DIR, 'qrels', 'train.tsv'))) {
    if (j.relevance <= 0) continue;
    if (!chosen.has(j.qid) && chosen.size >= nQueries) continue;
    chosen.add(j.qid);
    qrels.push(j);
  }
  const positives = new Set(qrels.map((j) => j.docId));
  const docs: string[] = [];
  let others = nDocs - positives.size;
  for await (const d of readCorpus(SCIFACT_DIR)) {
    if (positives.has(d.id) || others-- > 0) docs.push(JSON.stringify({ _id: d.id, title: d.title, text: d.text }));
  }
  const queries: string[] = [];
  for await (const q of readQueries(join(SCIFACT_DIR, 'queries.train.jsonl'))) if (chosen.has(q.id)) queries.push(JSON.stringify({ _id: q.id, text: q.text }));
  const root = join(dir, name);
  const corpus = join(root, 'beir');
  mkdirSync(corpus, { recursive: true });
  writeFileSync(join(corpus, 'corpus.jsonl'), `${docs.join('\n')}\n`);
  writeFileSync(join(root, 'queries.jsonl'), `${queries.join('\n')}\n`);
  writeFileSync(join(root, 'qrels.tsv'), `query-id\tcorpus-id\tscore\n${qrels.map((j) => `${j.qid}\t${j.docId}\t1`).join('\n')}\n`);
  return { corpus, queries: join(root, 'queries.jsonl'), qrels: join(root, 'qrels.tsv') };
}

const base = (out: string): ColbertTrainOptions => ({
  ...slice,
  model: TOKEN_MODEL,
  out: join(dir, out),
  cache,
  dim: 32,
  epochs: 4,
  patience: 4,
  lr: 0.003,
  batch: 8,
  negatives: 8,
  validFraction: 0.3,
  init: 'random',
  seed: 7,
  threads: 1,
});

let first: ColbertTrainResult;

beforeAll(async () => {
  requireShared(SCIFACT_DIR);
  dir = mkdtempSync(join(tmpdir(), 'colbert-train-'));
  cache = join(dir, 'cache');
  slice = await writeSlice(50, 240);
  first = await colbertTrain(base('first'), io);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('colbert train on a SciFact slice', () => {
  it('lowers the loss and beats the random starting point on the validation queries', () => {
    const { history, bestEpoch, baselines } = first;
    expect(history[0].validNdcg10).toBe(baselines.random);
    expect(history.length).toBe(5);
    expect(history.at(-1)!.loss).toBeLessThan(history[1].loss);
    expect(bestEpoch).toBeGreaterThan(0);
    expect(first.validNdcg10).toBeGreaterThan(baselines.random + 0.05);
    // Baselines and figures are in the log and in the record.
    expect(logs.join('\n')).toMatch(/identity 512-d 0\.\d{4}, random 32-d 0\.\d{4}, principal directions 32-d 0\.\d{4}/);
    expect(logs.join('\n')).toMatch(/epoch 4\/4: loss \d\.\d{4}, validation nDCG@10 0\.\d{4}/);
    const training = first.manifest.training as Record<string, any>;
    expect(training.validation.trained).toBe(first.validNdcg10);
    expect(training.epochs).toHaveLength(5);
    expect(training.inputs.qrels.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(training.featureCache.reused).toBe(false);
  });

  it('writes a model that loadTokenEncoder loads, whose project() uses the written W', async () => {
    const out = join(dir, 'first');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.modelDir).toBeUndefined();
    expect(manifest.lateInteraction).toMatchObject({ dimension: 32, projection: { file: 'projection.f32', inputDimension: 512 } });
    const bytes = readFileSync(join(out, 'projection.f32'));
    expect(bytes.length).toBe(512 * 32 * 4);
    const W = new Float32Array(512 * 32);
    for (let i = 0; i < W.length; i++) W[i] = bytes.readFloatLE(i * 4);
    const enc = await loadTokenEncoder(out, { threads: 1, log: () => {} });
    try {
      expect(enc.dimension).toBe(32);
      expect(enc.featureDimension).toBe(512);
      expect(Array.from(enc.projection!)).toEqual(Array.from(W));
      const features = (await enc.queryFeatures(['aspirin lowers the risk of heart attacks']))[0];
      const projected = enc.project(features);
      const want = matmul(features.data, W, features.rows, 32, 512);
      for (let r = 0; r < features.rows; r++) {
        const row = want.subarray(r * 32, (r + 1) * 32);
        const n = Math.hypot(...row);
        for (let k = 0; k < 32; k++) expect(projected.data[r * 32 + k]).toBeCloseTo(row[k] / n, 5);
      }
      // A feature matrix of ones projects to the normalised column sums of W.
      const ones = enc.project(tokenMatrix(1, 512, new Float32Array(512).fill(1)));
      const sums = Array.from({ length: 32 }, (_, k) => W.reduce((s, _w, i) => (i % 32 === k ? s + W[i] : s), 0));
      const norm = Math.hypot(...sums);
      sums.forEach((s, k) => expect(ones.data[k]).toBeCloseTo(s / norm, 5));
    } finally {
      await enc.dispose();
    }
  });

  it('reuses the feature cache on a second run and gives the same W bit for bit', async () => {
    logs.length = 0;
    const second = await colbertTrain(base('second'), io);
    expect(logs.join('\n')).toContain('reused for every passage and query');
    expect(second.cache.passages.encoded).toBe(0);
    expect(second.cache.queries.encoded).toBe(0);
    expect((second.manifest.training as Record<string, any>).featureCache.reused).toBe(true);
    const a = readFileSync(join(dir, 'first', 'projection.f32'));
    const b = readFileSync(join(dir, 'second', 'projection.f32'));
    expect(b.equals(a)).toBe(true);
    expect(second.history.map((h) => h.validNdcg10)).toEqual(first.history.map((h) => h.validNdcg10));
  });

  it('refuses an existing --out without --force and replaces it with --force', async () => {
    const out = join(dir, 'existing');
    mkdirSync(out);
    writeFileSync(join(out, 'keep'), 'x');
    await expect(colbertTrain({ ...base('existing'), epochs: 0 }, io)).rejects.toThrow(/already exists.*--force/);
    expect(existsSync(join(out, 'keep'))).toBe(true);
    expect(existsSync(`${out}.partial`)).toBe(false);
    await colbertTrain({ ...base('existing'), epochs: 0, force: true }, io);
    expect(existsSync(join(out, 'keep'))).toBe(false);
    expect(existsSync(join(out, 'projection.f32'))).toBe(true);
  });
});

describe('colbert train with dense negatives', () => {
  it('joins the dense model’s top passages to the BM25 pool, caching its vectors', async () => {
    const small = await writeSlice(8, 30, 'dense');
    const perQuery = () => Number(/negatives from .*, (\d+\.\d) per query/.exec(logs.join('\n'))![1]);
    const opts: ColbertTrainOptions = { ...base('dense-out'), ...small, mineDepth: 5, epochs: 1, validFraction: 0 };
    logs.length = 0;
    await colbertTrain({ ...opts, out: join(dir, 'bm25-only') }, io);
    const bm25Only = perQuery();
    logs.length = 0;
    const r = await colbertTrain({ ...opts, denseModel: SENTENCE_MODEL }, io);
    const training = r.manifest.training as Record<string, any>;
    expect(training.negatives).toBe('BM25 top 5 ∪ dense top 5 (use-lite, exact inner product)');
    expect(logs.join('\n')).toMatch(/dense vectors of 30 passages: 0 from the cache, 30 encoded/);
    // The dense top 5 added passages BM25's top 5 did not have.
    expect(perQuery()).toBeGreaterThan(bm25Only);
    logs.length = 0;
    await colbertTrain({ ...opts, denseModel: SENTENCE_MODEL, force: true }, io);
    expect(logs.join('\n')).toMatch(/dense vectors of 30 passages: 30 from the cache, 0 encoded/);
  });
});

describe('colbert train errors', () => {
  function colbertFiles(triples: string) {
    const d = join(dir, `colbert-${Math.random().toString(36).slice(2)}`);
    mkdirSync(d);
    writeFileSync(join(d, 'collection.tsv'), '0\taspirin reduces the risk of heart attacks\n1\tvitamin d and bone density\n2\tthe moon orbits the earth\n');
    writeFileSync(join(d, 'queries.tsv'), '10\tdoes aspirin prevent heart attacks\n11\tvitamin d bones\n');
    writeFileSync(join(d, 'triples.tsv'), triples);
    return { collection: join(d, 'collection.tsv'), queries: join(d, 'queries.tsv'), triples: join(d, 'triples.tsv') };
  }
  const triplesRun = (files: ReturnType<typeof colbertFiles>, out: string): ColbertTrainOptions => ({ ...files, model: TOKEN_MODEL, out: join(dir, out), cache, epochs: 1, dim: 16, validFraction: 0, threads: 1 });

  it('names the triples file and line of an unknown id, and leaves nothing behind', async () => {
    const files = colbertFiles('10\t0\t2\n11\t1\t99\n');
    const err = await colbertTrain(triplesRun(files, 'bad-id'), io).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(`${files.triples}:2`);
    expect(err.message).toContain('"99"');
    const unknownQuery = colbertFiles('12\t0\t2\n');
    await expect(colbertTrain(triplesRun(unknownQuery, 'bad-q'), io)).rejects.toThrow(`${unknownQuery.triples}:1`);
    for (const o of ['bad-id', 'bad-q']) {
      expect(existsSync(join(dir, o))).toBe(false);
      expect(existsSync(join(dir, `${o}.partial`))).toBe(false);
    }
  });

  it('trains from ColBERT triples', async () => {
    const files = colbertFiles('10\t0\t2\n10\t0\t1\n11\t1\t2\n');
    const r = await colbertTrain(triplesRun(files, 'triples-ok'), io);
    expect(r.history).toHaveLength(2);
    expect((r.manifest.training as Record<string, any>).negatives).toBe('the triples');
    expect(existsSync(join(dir, 'triples-ok', 'manifest.json'))).toBe(true);
  });

  it('says so when no training pair is left, removing a stale .partial', async () => {
    // Every negative of query 10 is also one of its positives.
    const files = colbertFiles('10\t0\t1\n10\t1\t0\n');
    const out = join(dir, 'no-pairs');
    mkdirSync(`${out}.partial`);
    writeFileSync(join(`${out}.partial`, 'junk'), 'x');
    const err = await colbertTrain(triplesRun(files, 'no-pairs'), io).catch((e) => e);
    expect(err).toBeInstanceOf(ColbertTrainError);
    expect(err.message).toContain('no training pairs left');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('refuses a sentence model with the encoder’s message (the CLI test checks the exit code)', async () => {
    await expect(colbertTrain({ ...base('sentence'), model: SENTENCE_MODEL }, io)).rejects.toBeInstanceOf(NotATokenModelError);
    expect(existsSync(join(dir, 'sentence'))).toBe(false);
    expect(existsSync(join(dir, 'sentence.partial'))).toBe(false);
  });
});
