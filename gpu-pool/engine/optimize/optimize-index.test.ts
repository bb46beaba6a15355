import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCorpus, readQueries } from '../corpus/index.ts';
import { loadEncoder } from '../encoders/index.ts';
import { evaluate, readJudgments, type Qrels, type Run } from '../eval/index.ts';
import { FaissIndex } from '../index/index.ts';
import { closeIndex, denseShard, openIndex, readIndexManifest, TARGETS_FILE } from '../shard/index.ts';
import { SCIFACT_DIR } from '../../../test/fixtures.ts';
import { fixtureIndex, STATIC128_MODEL } from '../../../test/index-fixture.ts';
import { startCli } from '../../../test/cli.ts';
import { isValidation, optimizeIndex, type OptimizeOptions } from './index.ts';

// SciFact's training judgments against an index of its first 200 documents: most name documents
// the index does not have, which is the unknown-id case, and the rest are real training data.
const QUERIES = join(SCIFACT_DIR, 'queries.train.jsonl');
const QRELS = join(SCIFACT_DIR, 'qrels', 'train.tsv');
const quiet = { log: () => {} };

let index: string;
let work: string;
let known: Set<string>;
let expectedUnknown: number;

beforeAll(async () => {
  index = await fixtureIndex({ limit: 200, shards: 2, factory: 'IVF4,PQ16x4np', bm25: false, keepVectors: true });
  work = await mkdtemp(join(tmpdir(), 'es-optimize-'));
  known = new Set<string>();
  for await (const doc of readCorpus(SCIFACT_DIR, 'beir')) {
    known.add(doc.id);
    if (known.size === 200) break;
  }
  expectedUnknown = 0;
  for await (const j of readJudgments(QRELS)) if (j.relevance > 0 && !known.has(j.docId)) expectedUnknown++;
}, 120_000);

const options = (out: string, more: Partial<OptimizeOptions> = {}): OptimizeOptions => ({ index, queries: QUERIES, qrels: QRELS, out: join(work, out), unknown: 'skip', epochs: 3, negatives: 50, validFraction: 0.2, ...more });

async function shardFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const shard of (await readIndexManifest(dir)).shards) {
    for (const name of await readdir(join(dir, shard.dir))) files.set(`${shard.dir}/${name}`, await readFile(join(dir, shard.dir, name)));
  }
  return files;
}

interface GroupScore {
  queries: number;
  ndcg10: number;
}

/**
 * nDCG@10 of the held-out queries, per group, computed here without the optimizer's code: the
 * groups from the qrels (a query is about trained-on documents when a training query shares one
 * of its relevant documents), the vectors as the index stores them (reconstructed from its codes),
 * an exact inner-product search over them, documents scored by their best window.
 */
async function heldOutNdcg(dir: string, validFraction: number): Promise<{ seen: GroupScore; unseen: GroupScore }> {
  const texts = new Map<string, string>();
  for await (const q of readQueries(QUERIES)) texts.set(q.id, q.text);
  const relevant = new Map<string, Set<string>>();
  for await (const j of readJudgments(QRELS)) {
    if (j.relevance <= 0 || !known.has(j.docId) || !texts.has(j.qid)) continue;
    if (!relevant.has(j.qid)) relevant.set(j.qid, new Set());
    relevant.get(j.qid)!.add(j.docId);
  }
  const heldOut = [...relevant.keys()].filter((q) => isValidation(q, validFraction));
  const trainedDocs = new Set([...relevant].filter(([q]) => !isValidation(q, validFraction)).flatMap(([, docs]) => [...docs]));

  const encoder = await loadEncoder(STATIC128_MODEL, { threads: 1, log: () => {} });
  const queries = await encoder.encodeQueries(heldOut.map((q) => texts.get(q)!));
  await encoder.dispose();

  const loaded = await openIndex(dir);
  const rowDoc: string[] = [];
  const parts: Float32Array[] = [];
  try {
    for (const shard of loaded.shards.map(denseShard)) {
      const ids = (await shard.passages.readAll()).map((p) => p.id);
      parts.push(shard.index.reconstructBatch(Array.from({ length: shard.index.ntotal }, (_, i) => i)));
      for (const doc of shard.vectorDocs) rowDoc.push(ids[doc]);
    }
  } finally {
    await closeIndex(loaded);
  }
  const flat = FaissIndex.create(128, 'Flat', 'ip');
  try {
    const vectors = new Float32Array(rowDoc.length * 128);
    let at = 0;
    for (const p of parts) (vectors.set(p, at), (at += p.length));
    await flat.add(vectors);
    const res = await flat.search(queries, 100);
    const run: Run = new Map();
    heldOut.forEach((q, i) => {
      const best = new Map<string, number>();
      for (let j = i * 100; j < (i + 1) * 100; j++) if (res.labels[j] >= 0n && !best.has(rowDoc[Number(res.labels[j])])) best.set(rowDoc[Number(res.labels[j])], res.distances[j]);
      run.set(q, [...best].map(([docId, score]) => ({ docId, score })));
    });
    const group = (seen: boolean): GroupScore => {
      const qrels: Qrels = new Map(heldOut.filter((q) => [...relevant.get(q)!].some((d) => trainedDocs.has(d)) === seen).map((q) => [q, new Map([...relevant.get(q)!].map((d) => [d, 1]))]));
      return { queries: qrels.size, ndcg10: qrels.size ? evaluate(run, qrels, ['ndcg@10']).mean['ndcg@10'] : NaN };
    };
    return { seen: group(true), unseen: group(false) };
  } finally {
    flat.dispose();
  }
}

const f4 = (x: number) => x.toFixed(4);

describe('index optimize', () => {
  it('rejects by default a qrels file naming unknown documents, with the count and examples (file and line)', async () => {
    const err = await optimizeIndex(options('rejected', { unknown: 'reject' }), quiet).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(QRELS);
    expect(message).toMatch(new RegExp(`${expectedUnknown} judgments name documents the index does not have \\(e\\.g\\. line \\d+: query "\\d+" → document "\\d+"`));
    expect(message).toContain('--unknown skip');
    await expect(readdir(join(work, 'rejected'))).rejects.toThrow(/ENOENT/);
  });

  it('with lr 0 writes a new version whose shard files are byte-identical to the source', async () => {
    const before = await shardFiles(index);
    const logs: string[] = [];
    const result = await optimizeIndex(options('lr0', { lr: 0 }), { log: (m) => logs.push(m) });
    expect(result.changedRows).toBe(0);
    // Nothing moved: both groups score the same before and after, and the summary says so.
    for (const g of [result.validation.seen, result.validation.unseen]) expect(g.after).toBe(g.before);
    expect(result.validation.unseenWorse).toBe(false);
    expect(logs.join('\n')).toMatch(/Not worse for queries about documents no training query is about on these \d+ held-out queries \(unchanged\)/);
    const after = await shardFiles(join(work, 'lr0'));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, bytes] of before) expect(after.get(name)!.equals(bytes), name).toBe(true);
    // The record says what was skipped and used.
    const manifest = await readIndexManifest(join(work, 'lr0'));
    expect(manifest.optimization?.qrels.unknownDocs).toBe(expectedUnknown);
    expect(manifest.optimization?.qrels.used).toBeGreaterThan(0);
    expect(manifest.optimization?.params.lr).toBe(0);
    expect(manifest.version).toBe((await readIndexManifest(index)).version);
    expect(await shardFiles(index)).toEqual(before);
  });

  it('moves targets, re-encodes only the moved rows, and publishes a loadable version with its record', async () => {
    const before = await shardFiles(index);
    const out = join(work, 'moved');
    const logs: string[] = [];
    const result = await optimizeIndex(options('moved', { lr: 0.03, epochs: 2, patience: 5 }), { log: (m) => logs.push(m) });
    expect(result.bestEpoch).toBeGreaterThan(0);
    expect(result.changedRows).toBeGreaterThan(0);
    const manifest = await readIndexManifest(out);
    const record = manifest.optimization!;
    expect(record.source.version).toBe((await readIndexManifest(index)).version);
    expect(record.queries.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.validation.after!).toBeGreaterThan(record.validation.before!);
    expect(record.epochs).toHaveLength(3);

    // Verified load; each shard's codes are what its codec makes of its new float targets.
    const loaded = await openIndex(out);
    try {
      let changed = 0;
      for (const shard of loaded.shards.map(denseShard)) {
        const floats = new Float32Array(new Uint8Array(await readFile(join(shard.dir, TARGETS_FILE))).buffer);
        const n = shard.index.ntotal;
        const codes = shard.index.reconstructBatch(Array.from({ length: n }, (_, i) => i));
        const want = await shard.index.quantize(floats);
        expect(Buffer.from(codes.buffer).equals(Buffer.from(want.buffer))).toBe(true);
        const old = new Float32Array(new Uint8Array(before.get(`${basename(shard.dir)}/${TARGETS_FILE}`)!).buffer);
        for (let r = 0; r < n; r++) if (floats.subarray(r * 128, (r + 1) * 128).some((x, i) => x !== old[r * 128 + i])) changed++;
      }
      expect(changed).toBe(result.changedRows);
    } finally {
      await closeIndex(loaded);
    }
    expect(await shardFiles(index)).toEqual(before);

    // The final summary: both groups' before → after agree with an evaluation of the source and
    // the published index done here (the same ranks give the same nDCG; the tolerance is only
    // for summation order), and a group that got worse is called so.
    const [was, now] = [await heldOutNdcg(index, 0.2), await heldOutNdcg(out, 0.2)];
    const summary = result.validation;
    for (const group of ['seen', 'unseen'] as const) {
      expect(summary[group].queries, group).toBeGreaterThan(0);
      expect(summary[group].queries, group).toBe(was[group].queries);
      expect(summary[group].before!, group).toBeCloseTo(was[group].ndcg10, 9);
      expect(summary[group].after!, group).toBeCloseTo(now[group].ndcg10, 9);
    }
    expect(record.validation).toMatchObject({ seenQueries: summary.seen.queries, unseenQueries: summary.unseen.queries, seenBefore: summary.seen.before, unseenAfter: summary.unseen.after, unseenWorse: summary.unseenWorse });
    const printed = logs.slice(logs.findIndex((l) => l.startsWith('summary:'))).join('\n');
    expect(printed).toContain(`${summary.seen.queries} about documents training queries are about: ${f4(was.seen.ndcg10)} → ${f4(now.seen.ndcg10)}`);
    expect(printed).toContain(`${summary.unseen.queries} about documents no training query is about: ${f4(was.unseen.ndcg10)} → ${f4(now.unseen.ndcg10)}`);
    // On this data the queries about untrained documents do lose, the case the summary exists for.
    expect(now.unseen.ndcg10).toBeLessThan(was.unseen.ndcg10);
    expect(summary.unseenWorse).toBe(true);
    expect(printed).toContain(`WORSE for queries about documents no training query is about: nDCG@10 ${f4(was.unseen.ndcg10)} → ${f4(now.unseen.ndcg10)} on ${summary.unseen.queries} held-out queries`);

  });

  it('starts from the reconstructions when the index kept no float vectors', async () => {
    const codesOnly = await fixtureIndex({ limit: 200, shards: 2, factory: 'IVF4,PQ16x4np', bm25: false });
    const out = join(work, 'codes-only');
    const logs: string[] = [];
    const result = await optimizeIndex({ ...options('codes-only', { lr: 0.03, epochs: 1, validFraction: 0 }), index: codesOnly }, { log: (m) => logs.push(m) });
    expect(logs.join('\n')).toMatch(/targets: \d+ vectors of 128 \(reconstructed from the codes\)/);
    expect(logs.at(-1)).toMatch(/^summary: no validation split \(--valid-fraction 0\): nothing was measured/);
    expect(result.changedRows).toBeGreaterThan(0);
    const loaded = await openIndex(out);
    try {
      for (const shard of loaded.shards) expect(Object.keys(shard.manifest.files)).not.toContain(TARGETS_FILE);
      expect(loaded.shards.map(denseShard).reduce((n, s) => n + s.index.ntotal, 0)).toBe((await readIndexManifest(codesOnly)).counts.vectors);
    } finally {
      await closeIndex(loaded);
    }
  });

  it('a killed run leaves the source serving and nothing at --out; the next run cleans up and publishes', async () => {
    const out = join(work, 'killed');
    const args = ['index', 'optimize', '--index', index, '--queries', QUERIES, '--qrels', QRELS, '--out', out, '--unknown', 'skip', '--negatives', '50', '--epochs', '1000', '--patience', '1000', '--lr', '0.0001'];
    const probe = async () => {
      const source = await openIndex(index); // verifies every checksum
      try {
        const shard = denseShard(source.shards[0]).index;
        return await shard.search(shard.reconstruct(0), 5);
      } finally {
        await closeIndex(source);
      }
    };
    const served = await probe();
    const { child, done } = startCli(args);
    let stderr = '';
    await new Promise<void>((resolve) => child.stderr!.on('data', (d) => (stderr += d) && /epoch 2\/1000/.test(stderr) && resolve()));
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);

    expect(await probe()).toEqual(served);

    const rerun = await startCli([...args.slice(0, -6), '--epochs', '1', '--lr', '0.001']).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/epoch 1\/1: loss [\d.]+, validation nDCG@10 [\d.]+/);
    expect(rerun.stderr).toMatch(/summary: validation nDCG@10 on the quantized index, before → after \(best epoch \d\), \d+ held-out queries:\n  all \d+: [\d.]+ → [\d.]+/);
    expect((await readdir(work)).filter((n) => n.includes('staging'))).toEqual([]);
    expect((await readIndexManifest(out)).optimization?.params.epochs).toBe(1);
  }, 60_000);
});
