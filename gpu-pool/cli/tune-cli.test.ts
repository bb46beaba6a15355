// `edgesearch index tune` as a user runs it, on a real index of the first 600 SciFact documents:
// tuned on training queries, evaluated on disjoint test queries; the record names only the
// tuning files; the new version links the shards and makes its choice hybrid's default, in
// `search`, `eval` and a pool node alike.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { SCIFACT_DIR } from '../../test/fixtures.ts';
import { fixtureIndex } from '../../test/index-fixture.ts';
import { startSoloNode } from '../../test/pool/harness.ts';
import { Searcher } from '../engine/search/index.ts';
import { checksumFile, readIndexManifest, type FusionRecord, type IndexManifest } from '../engine/shard/index.ts';

const DOCS = 600;
let work: string;
let index: string;
let tuned: string;
let source: IndexManifest;
let record: FusionRecord;
let trainQrels: string;
let testQrels: string;
let trainIds: Set<string>;
let testIds: Set<string>;

/** The qrels lines of `file` whose document is among the index's; header kept. */
async function qrelsWithin(file: string, docs: Set<string>, out: string): Promise<Set<string>> {
  const [header, ...lines] = (await readFile(file, 'utf8')).trim().split('\n');
  const kept = lines.filter((l) => docs.has(l.split('\t')[1]));
  await writeFile(out, `${[header, ...kept].join('\n')}\n`);
  return new Set(kept.map((l) => l.split('\t')[0]));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-tune-'));
  index = await fixtureIndex({ limit: DOCS, shards: 2 });
  source = await readIndexManifest(index);
  const docs = new Set((await readFile(join(SCIFACT_DIR, 'corpus.jsonl'), 'utf8')).split('\n', DOCS).map((l) => (JSON.parse(l) as { _id: string })._id));
  trainQrels = join(work, 'train.tsv');
  testQrels = join(work, 'test.tsv');
  trainIds = await qrelsWithin(join(SCIFACT_DIR, 'qrels', 'train.tsv'), docs, trainQrels);
  testIds = await qrelsWithin(join(SCIFACT_DIR, 'qrels', 'test.tsv'), docs, testQrels);
  tuned = join(work, 'tuned');
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('index tune', () => {
  it('chooses a fusion on the training queries alone and publishes it as a new version with linked shards', async () => {
    expect(trainIds.size).toBeGreaterThanOrEqual(20);
    for (const id of testIds) expect(trainIds.has(id)).toBe(false);
    const r = await runCli(['index', 'tune', '--index', index, '--queries', join(SCIFACT_DIR, 'queries.train.jsonl'), '--qrels', trainQrels, '--out', tuned, '--json', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/tuning hybrid fusion on \d+ judged queries/);
    expect(r.stderr).toMatch(/chosen: .* cross-validated/);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { version: string; fusion: FusionRecord };
    record = out.fusion;
    // The record names the tuning files, and only them: never the evaluation queries.
    expect(record.tuning.queries).toEqual({ path: resolve(join(SCIFACT_DIR, 'queries.train.jsonl')), sha256: (await checksumFile(join(SCIFACT_DIR, 'queries.train.jsonl'))).sha256, count: expect.any(Number), judged: trainIds.size });
    expect(record.tuning.qrels).toEqual({ path: resolve(trainQrels), sha256: (await checksumFile(trainQrels)).sha256 });
    expect(JSON.stringify(record)).not.toContain('test');
    expect(record.tuning.perFold.reduce((n, f) => n + f.queries, 0)).toBe(trainIds.size);
    expect(record.tuning.chosen).toBeGreaterThanOrEqual(Math.max(...Object.values(record.tuning.references)) - 1e-12);
    // With the weak static 128-d model BM25 wins by far: the choice is not the built-in default,
    // so the tests below, which expect the index's default, can tell the two apart.
    expect(record.tuning.references['bm25 only']).toBeGreaterThan(record.tuning.references['dense only']);
    expect([record.method, record.rrfK, record.weights.dense, record.weights.bm25]).not.toEqual(['rrf', 60, 1, 1]);
    // A new version: the choice in index.json, the source in its lineage, the shards linked.
    const m = await readIndexManifest(tuned);
    expect(m.version).toBe(out.version);
    expect(m.version).not.toBe(source.version);
    expect(m.fusion).toEqual(record);
    expect(m.lineage).toEqual([source.version]);
    expect(m.shards).toEqual(source.shards);
    for (const s of m.shards) {
      const [a, b] = await Promise.all([stat(join(index, s.dir, 'passages.bin')), stat(join(tuned, s.dir, 'passages.bin'))]);
      expect(b.ino).toBe(a.ino);
    }
    expect((await readIndexManifest(index)).version).toBe(source.version); // the source untouched
  }, 300_000);

  it('is hybrid’s default on the tuned index (search and eval say so), and a query’s own fusion still wins', async () => {
    const q = 'ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors.';
    const onTuned = await runCli(['search', q, '--index', tuned, '--mode', 'hybrid', '--json', '--threads', '1']);
    expect(onTuned.code, onTuned.stderr).toBe(0);
    const tunedJson = JSON.parse(onTuned.stdout);
    expect(tunedJson.fusion).toEqual({ method: record.method, ...(record.rrfK !== undefined ? { rrfK: record.rrfK } : {}), weights: record.weights, from: 'index' });
    // The same fusion given explicitly on the source index: the same answer.
    const explicit = ['--fusion', record.method, '--dense-weight', String(record.weights.dense), '--bm25-weight', String(record.weights.bm25), ...(record.rrfK !== undefined ? ['--rrf-k', String(record.rrfK)] : [])];
    const onSource = await runCli(['search', q, '--index', index, '--mode', 'hybrid', '--json', '--threads', '1', ...explicit]);
    const sourceJson = JSON.parse(onSource.stdout);
    expect(sourceJson.fusion.from).toBe('query');
    expect(tunedJson.hits.map((h: { docId: string }) => h.docId)).toEqual(sourceJson.hits.map((h: { docId: string }) => h.docId));
    const plain = await runCli(['search', q, '--index', tuned, '--mode', 'hybrid', '--threads', '1', '--fusion', 'rrf']);
    expect(plain.stdout).toContain('hybrid fusion: rrf k 60, dense 1 bm25 1 (set by the query options)');
    const untuned = await runCli(['search', q, '--index', index, '--mode', 'hybrid', '--threads', '1']);
    expect(untuned.stdout).toContain('(the built-in default; `index tune` chooses one from your judged queries)');

    const ev = await runCli(['eval', '--index', tuned, '--mode', 'hybrid', '--queries', join(SCIFACT_DIR, 'queries.test.jsonl'), '--qrels', testQrels, '--json', '--threads', '1']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stderr).toContain("(the index's default, chosen by `index tune`)");
    expect(JSON.parse(ev.stdout.trim().split('\n').pop()!).fusion.from).toBe('index');
  }, 300_000);

  it('is the default of a pool node serving the tuned index', async () => {
    const solo = await startSoloNode(tuned, source.shards.length);
    const searcher = await Searcher.open(tuned, { threads: 1, log: () => {} });
    try {
      const queries = [...testIds].slice(0, 5).map((id) => ({ id, text: id }));
      const texts = new Map((await readFile(join(SCIFACT_DIR, 'queries.test.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { _id: string; text: string }).map((q) => [q._id, q.text]));
      for (const q of queries) q.text = texts.get(q.id)!;
      const pool = await solo.client.search(queries.map((q) => ({ id: q.id, mode: 'hybrid' as const, k: 10, text: q.text })));
      const local = await searcher.searchHits('hybrid', queries.map((q) => ({ ...q, k: 10 })));
      pool.results.forEach((r, i) => expect(r.hits.map((h) => h.docId), r.id).toEqual(local[i].map((h) => h.docId)));
    } finally {
      await searcher.close();
      await solo.close();
    }
  }, 300_000);

  it('moves between machines as any version: its version covers the fusion, push and pull verify it', async () => {
    const store = join(work, 'store');
    const push = await runCli(['index', 'push', '--index', tuned, '--to', `file://${store}`]);
    expect(push.code, push.stderr).toBe(0);
    const m = await readIndexManifest(tuned);
    const pulled = join(work, 'pulled');
    const pull = await runCli(['index', 'pull', '--from', `file://${store}/${m.version}`, '--out', pulled]);
    expect(pull.code, pull.stderr).toBe(0);
    expect((await readIndexManifest(pulled)).fusion).toEqual(record);
    // Another choice under the same shards is refused as a manifest that does not match its version.
    const forged = join(store, m.version, 'index.json');
    await writeFile(forged, JSON.stringify({ ...m, fusion: { ...m.fusion!, weights: { dense: 9, bm25: 1 } } }));
    const again = await runCli(['index', 'pull', '--from', `file://${store}/${m.version}`, '--out', join(work, 'pulled-forged')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/does not match its shards/);
  }, 300_000);

  it('refuses what it cannot tune on: queries without judgements, an index without BM25, an existing --out', async () => {
    const none = join(work, 'none.tsv');
    await writeFile(none, 'query-id\tcorpus-id\tscore\nno-such-query\t123\t1\n');
    const r1 = await runCli(['index', 'tune', '--index', index, '--queries', join(SCIFACT_DIR, 'queries.train.jsonl'), '--qrels', none, '--out', join(work, 'x1')]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/no query of .*queries\.train\.jsonl has a relevant document in .*none\.tsv/);
    const dense = await fixtureIndex({ limit: 50, shards: 1, bm25: false });
    const r2 = await runCli(['index', 'tune', '--index', dense, '--queries', join(SCIFACT_DIR, 'queries.train.jsonl'), '--qrels', trainQrels, '--out', join(work, 'x2')]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/holds dense: hybrid fusion needs dense vectors and BM25/);
    const r3 = await runCli(['index', 'tune', '--index', index, '--queries', join(SCIFACT_DIR, 'queries.train.jsonl'), '--qrels', trainQrels, '--out', tuned]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/output directory already exists/);
    for (const d of ['x1', 'x2']) await expect(stat(join(work, d))).rejects.toThrow();
  }, 300_000);
});
