import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenMatrix } from '../../encoders/index.ts';
import { maxSim } from '../../index/index.ts';
import { unitRows } from '../../index/test-helpers.ts';
import { trainCodec, type ResidualCodec } from '../codec/index.ts';
import {
  CODES_FILE,
  DOC_OFFSETS_FILE,
  RESIDUALS_FILE,
  STORE_META_FILE,
  TOKEN_STORE_FILES,
  TokenStore,
  TokenStoreError,
  TokenStoreWriter,
} from './index.ts';
import { flatten, sampleTokens, syntheticCorpus, topK, type SyntheticCorpus } from './test-helpers.ts';

const dim = 64;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'colbert-store-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function build(codec: ResidualCodec, passages: TokenMatrix[]): Promise<{ dir: string; files: string[]; store: TokenStore }> {
  const dir = await tempDir();
  const w = new TokenStoreWriter(dir, codec);
  passages.forEach((p, j) => expect(w.add(p)).toBe(j));
  const files = await w.finish();
  return { dir, files, store: await TokenStore.open(dir) };
}

/** Share of the exact float MaxSim top 10 found in the candidates, over all queries. */
function recallAt10(store: TokenStore, corpus: SyntheticCorpus, opts = {}): number {
  const { data, offsets } = flatten(corpus.passages, dim);
  let hits = 0;
  for (const q of corpus.queries) {
    const exact = topK(maxSim(q.data, dim, data, offsets), 10);
    const cands = new Set(store.candidates(q, opts));
    hits += exact.filter((d) => cands.has(d)).length;
  }
  return hits / (10 * corpus.queries.length);
}

describe('token store', () => {
  const clustered = syntheticCorpus({ kind: 'clustered', docs: 600, dim, seed: 21, queries: 30 });
  let codec: ResidualCodec;
  let built: Awaited<ReturnType<typeof build>>;

  beforeAll(async () => {
    const { data } = flatten(clustered.passages, dim);
    codec = await trainCodec(sampleTokens(data, dim, 12_000, 1), dim, { bits: 2, centroids: 512, seed: 2 });
    built = await build(codec, clustered.passages);
  });

  it('writes the files it names, each a valid shard file name, and opens them', async () => {
    expect(built.files).toEqual([...TOKEN_STORE_FILES]);
    expect((await readdir(built.dir)).sort()).toEqual([...TOKEN_STORE_FILES].sort());
    for (const f of TOKEN_STORE_FILES) expect(f).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
    const { store } = built;
    expect(store.docs).toBe(600);
    expect(store.tokens).toBe(clustered.passages.reduce((s, p) => s + p.rows, 0));
    expect(store.dim).toBe(dim);
    expect(store.bytesPerToken).toBe(4 + 16);
    expect(store.tokenCount(3)).toBe(clustered.passages[3].rows);
  });

  it('bytes per token: 4 (centroid id) + dim · bits / 8', async () => {
    const x = unitRows(400, 128, 3);
    for (const [bits, bytes] of [[1, 20], [2, 36], [4, 68]] as const) {
      expect((await trainCodec(x, 128, { bits, centroids: 8 })).bytesPerToken).toBe(bytes);
    }
  });

  it('maxSim equals maxSim over the decoded tokens, and is close to maxSim over the originals', () => {
    const { store } = built;
    const ordinals = Uint32Array.from({ length: 600 }, (_, i) => i);
    const decoded = flatten(Array.from(ordinals, (d) => store.tokensOf(d)), dim);
    const orig = flatten(clustered.passages, dim);
    let worstPerToken = 0;
    let sumAbs = 0;
    for (const q of clustered.queries.slice(0, 10)) {
      const got = store.maxSim(q, ordinals);
      const onDecoded = maxSim(q.data, dim, decoded.data, decoded.offsets);
      const onOriginal = maxSim(q.data, dim, orig.data, orig.offsets);
      for (let j = 0; j < 600; j++) {
        // Same floats, the 1/norm applied after the dot products instead of before: rounding only.
        expect(Math.abs(got[j] - onDecoded[j])).toBeLessThan(1e-5 * q.rows);
        worstPerToken = Math.max(worstPerToken, Math.abs(got[j] - onOriginal[j]) / q.rows);
        sumAbs += Math.abs(got[j] - onOriginal[j]) / q.rows;
      }
    }
    // 2-bit compression, per query token (scores are sums of nq cosines): the MaxSim term moves by
    // 0.013 on average and at most 0.031 (measured).
    expect(sumAbs / (10 * 600)).toBeLessThan(0.02);
    expect(worstPerToken).toBeLessThan(0.05);
  });

  it('candidates hold the exact top 10 on clustered data (defaults: nprobe 4, limit 256)', () => {
    // Measured: 1.000 with the defaults; 0.98 with limit 32.
    expect(recallAt10(built.store, clustered)).toBeGreaterThanOrEqual(0.97);
    expect(recallAt10(built.store, clustered, { nprobe: 1, limit: 32 })).toBeGreaterThanOrEqual(0.9);
    const c = built.store.candidatesScored(clustered.queries[0], { limit: 50 });
    expect(c.ordinals.length).toBe(50);
    for (let j = 1; j < 50; j++) expect(c.scores[j]).toBeLessThanOrEqual(c.scores[j - 1]);
    // PLAID pruning with a threshold below every centroid score changes nothing.
    expect(Array.from(built.store.candidates(clustered.queries[0], { threshold: -2 }))).toEqual(Array.from(built.store.candidates(clustered.queries[0])));
  });

  it('candidates on random (unclustered) tokens: the worst case for centroid scores', async () => {
    // Uniform random 64-d tokens sit far from every centroid (cosine ≈ 0.4 with the nearest of
    // 512), so centroid-only MaxSim ranks them loosely. Queries: 30 tokens, 3 from each of 10
    // passages, whose exact MaxSim then tops the list. Measured recall@10: 0.73 with the
    // defaults (limit 256 of 600), 0.44 with limit 128, 0.91 with 400, 1.0 when the limit covers
    // the corpus (the probed lists then reach every passage).
    const random = syntheticCorpus({ kind: 'random', docs: 600, dim, seed: 31, queries: 10, targets: 10, related: 30 });
    const { data } = flatten(random.passages, dim);
    const rc = await trainCodec(sampleTokens(data, dim, 12_000, 1), dim, { bits: 2, centroids: 512, seed: 2 });
    const { store } = await build(rc, random.passages);
    expect(recallAt10(store, random)).toBeGreaterThanOrEqual(0.6);
    expect(recallAt10(store, random, { limit: 600 })).toBe(1);
  });

  it('delete + add: keeping some ordinals and appending new passages equals a store built from scratch', async () => {
    const keep = [5, 0, 17, 599, 42];
    const extra = syntheticCorpus({ kind: 'clustered', docs: 3, dim, seed: 22, queries: 0 }).passages;
    const dir = await tempDir();
    const w = TokenStoreWriter.fromStore(built.store, dir, { keep });
    expect(w.docs).toBe(5);
    extra.forEach((p, i) => expect(w.add(p)).toBe(5 + i));
    await w.finish();
    const scratch = await build(codec, [...keep.map((d) => clustered.passages[d]), ...extra]);
    for (const f of TOKEN_STORE_FILES) expect((await readFile(join(dir, f))).equals(await readFile(join(scratch.dir, f))), f).toBe(true);
    const store = await TokenStore.open(dir);
    expect(store.tokensOf(1)).toEqual(built.store.tokensOf(0));
    expect(store.tokensOf(3)).toEqual(built.store.tokensOf(599));
    // No keep: a copy.
    const copyDir = await tempDir();
    await TokenStoreWriter.fromStore(built.store, copyDir).finish();
    for (const f of TOKEN_STORE_FILES) expect((await readFile(join(copyDir, f))).equals(await readFile(join(built.dir, f))), f).toBe(true);
    expect(() => TokenStoreWriter.fromStore(built.store, dir, { keep: [600] })).toThrow(/keep\[0\] = 600 is not an ordinal of the source store \(600 passages\)/);
  });

  it('passages with 0 tokens: stored, score 0, never candidates', async () => {
    const empty: TokenMatrix = { rows: 0, dim, data: new Float32Array(0) };
    const passages = [empty, clustered.passages[0], empty, clustered.passages[1], empty];
    const { store } = await build(codec, passages);
    expect(store.docs).toBe(5);
    expect(store.tokenCount(0)).toBe(0);
    expect(store.tokensOf(2)).toEqual({ rows: 0, dim, data: new Float32Array(0) });
    const s = store.maxSim(clustered.queries[0], Uint32Array.from([0, 1, 2, 3, 4]));
    expect([s[0], s[2], s[4]]).toEqual([0, 0, 0]);
    expect(s[1]).not.toBe(0);
    expect(Array.from(store.candidates(clustered.queries[0])).sort()).toEqual([1, 3]);
    const none = await build(codec, []);
    expect(none.store.docs).toBe(0);
    expect(none.store.candidates(clustered.queries[0]).length).toBe(0);
    const onlyEmpty = await build(codec, [empty]);
    expect(onlyEmpty.store.tokens).toBe(0);
    expect(Array.from(onlyEmpty.store.maxSim(clustered.queries[0], Uint32Array.from([0])))).toEqual([0]);
  });

  describe('errors', () => {
    const small = () => build(codec, clustered.passages.slice(0, 4));

    it('a truncated file is named', async () => {
      const { dir } = await small();
      await truncate(join(dir, RESIDUALS_FILE), 10);
      await expect(TokenStore.open(dir)).rejects.toThrow(new RegExp(`${RESIDUALS_FILE}: size 10 bytes, colbert.json implies \\d+ .*: truncated`));
      await rm(join(dir, CODES_FILE));
      await expect(TokenStore.open(dir)).rejects.toThrow(new RegExp(`${CODES_FILE}: cannot read \\(ENOENT\\)`));
    });

    it('sizes that disagree with colbert.json, and a bad colbert.json, are named', async () => {
      const { dir } = await small();
      const meta = JSON.parse(await readFile(join(dir, STORE_META_FILE), 'utf8'));
      await writeFile(join(dir, STORE_META_FILE), JSON.stringify({ ...meta, tokens: meta.tokens + 1 }));
      await expect(TokenStore.open(dir)).rejects.toThrow(new RegExp(`${CODES_FILE}: size \\d+ bytes, colbert.json implies`));
      await writeFile(join(dir, STORE_META_FILE), JSON.stringify({ ...meta, codec: { ...meta.codec, bits: 3 } }));
      await expect(TokenStore.open(dir)).rejects.toThrow(/colbert\.json: field codec\.bits/);
      await writeFile(join(dir, STORE_META_FILE), '{ not json');
      await expect(TokenStore.open(dir)).rejects.toThrow(/colbert\.json: not valid JSON/);
      await writeFile(join(dir, STORE_META_FILE), JSON.stringify(meta));
      const off = new Uint32Array((await readFile(join(dir, DOC_OFFSETS_FILE))).buffer.slice(0));
      [off[1], off[2]] = [off[2], off[1]];
      await writeFile(join(dir, DOC_OFFSETS_FILE), new Uint8Array(off.buffer));
      await expect(TokenStore.open(dir)).rejects.toThrow(new RegExp(`${DOC_OFFSETS_FILE}: offsets decrease at passage 1`));
      await expect(TokenStore.open(dir)).rejects.toBeInstanceOf(TokenStoreError);
    });

    it('bad queries, ordinals, writers and closed stores', async () => {
      const { store } = await small();
      const q128: TokenMatrix = { rows: 2, dim: 128, data: new Float32Array(256) };
      expect(() => store.maxSim(q128, Uint32Array.from([0]))).toThrow(/maxSim: the query has 128-d token vectors, the store holds 64-d ones/);
      expect(() => store.candidates(q128)).toThrow(/candidates: the query has 128-d/);
      expect(() => store.maxSim(clustered.queries[0], Uint32Array.from([4]))).toThrow(/ordinal 4 is out of range \(4 passages\)/);
      expect(() => store.tokensOf(-1)).toThrow(/ordinal -1 is out of range/);
      expect(() => store.candidates(clustered.queries[0], { nprobe: 0 })).toThrow(/nprobe must be an integer ≥ 1/);
      const w = new TokenStoreWriter(await tempDir(), codec);
      expect(() => w.add(q128)).toThrow(/passage 0 has 128-d token vectors, the codec is 64-d/);
      expect(() => w.add({ rows: 3, dim, data: new Float32Array(dim) })).toThrow(/claims 3 rows of 64 but holds 64 floats/);
      await w.finish();
      await expect(w.finish()).rejects.toThrow(/the writer is finished/);
      await store.close();
      expect(() => store.maxSim(clustered.queries[0], Uint32Array.from([0]))).toThrow(/is closed/);
    });
  });
});
