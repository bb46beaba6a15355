import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../../../test/cli.ts';
import { SCIFACT_DIR } from '../../../test/fixtures.ts';
import { STATIC128_MODEL, USE_LITE_MODEL, fixtureIndex } from '../../../test/index-fixture.ts';
import { Searcher } from '../search/index.ts';
import { readIndexManifest, readShardManifest } from '../shard/index.ts';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-build-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const build = (args: string[], model = STATIC128_MODEL) => runCli(['index', 'build', '--model', model, '--threads', '1', ...args]);

/** Nothing that could be mistaken for an index may remain after a failed build. */
async function expectNothingPublished(out: string) {
  await expect(stat(out)).rejects.toThrow();
  const leftovers = (await readdir(work)).filter((n) => n.includes('staging'));
  expect(leftovers).toEqual([]);
}

async function corpusFile(name: string, content: string | Buffer): Promise<string> {
  const path = join(work, name);
  await writeFile(path, content);
  return path;
}

describe('index build: bad input', () => {
  it('rejects an unknown factory key before encoding anything', async () => {
    const out = join(work, 'bad-factory');
    const r = await build(['--corpus', SCIFACT_DIR, '--limit', '20', '--factory', 'IVF10,Bogus77', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*(factory|Bogus77)/i);
    await expectNothingPublished(out);
  });

  it('rejects an empty corpus', async () => {
    const out = join(work, 'empty');
    const r = await build(['--corpus', await corpusFile('empty.jsonl', ''), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/empty corpus/);
    await expectNothingPublished(out);
  });

  it('names the file and line of a malformed JSONL record', async () => {
    const path = await corpusFile('bad.jsonl', '{"_id":"a","title":"t","text":"ok"}\n{"_id":"b","title":"t","text":"broken\n');
    const out = join(work, 'bad-json');
    const r = await build(['--corpus', path, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:2`);
    await expectNothingPublished(out);
  });

  it('names the file and line of non-UTF-8 text', async () => {
    const good = Buffer.from('{"_id":"a","title":"t","text":"fine"}\n{"_id":"b","title":"t","text":"x');
    const path = await corpusFile('latin1.jsonl', Buffer.concat([good, Buffer.from([0xe9, 0xff]), Buffer.from('"}\n')]));
    const out = join(work, 'bad-utf8');
    const r = await build(['--corpus', path, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:2`);
    expect(r.stderr).toMatch(/UTF-8/i);
    await expectNothingPublished(out);
  });

  it('names a missing model file', async () => {
    const modelDir = join(work, 'model-missing');
    await mkdir(modelDir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(STATIC128_MODEL, 'manifest.json'), 'utf8'));
    const shared = join(STATIC128_MODEL, manifest.modelDir);
    await writeFile(join(modelDir, 'manifest.json'), JSON.stringify({ ...manifest, modelDir: shared, onnx: 'nope.onnx' }));
    const out = join(work, 'no-model');
    const r = await runCli(['index', 'build', '--model', modelDir, '--corpus', SCIFACT_DIR, '--limit', '5', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.onnx');
    await expectNothingPublished(out);
  });
});

describe('index build: crash safety', () => {
  it('resumes after SIGKILL and produces the same index as an uninterrupted build', async () => {
    // use-lite, whose batched vectors depend on batch composition: resuming must rebuild the same batches.
    const args = ['--corpus', SCIFACT_DIR, '--limit', '100', '--shards', '2', '--bm25', '--checkpoint-docs', '10'];
    const out = join(work, 'killed');
    const { child, done } = startCli(['index', 'build', '--model', USE_LITE_MODEL, '--threads', '1', ...args, '--out', out]);
    // Kill once a few checkpoints exist but before encoding finishes.
    const checkpoint = join(`${out}.partial`, 'checkpoint.json');
    for (;;) {
      const text = await readFile(checkpoint, 'utf8').catch(() => '');
      if (text && JSON.parse(text).docsDone >= 30) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const state = JSON.parse(await readFile(checkpoint, 'utf8'));
    expect(state.complete).toBe(false);
    await expect(stat(join(out, 'index.json'))).rejects.toThrow();

    const resumed = await build([...args, '--out', out], USE_LITE_MODEL);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming after \d+ documents/);
    const clean = await build([...args, '--out', join(work, 'clean')], USE_LITE_MODEL);
    expect(clean.code).toBe(0);
    const [a, b] = [await readIndexManifest(out), await readIndexManifest(join(work, 'clean'))];
    expect(a.counts).toEqual(b.counts);
    expect(a.shards).toEqual(b.shards);
    expect(a.version).toBe(b.version);
    await expect(stat(`${out}.partial`)).rejects.toThrow();
  });

  it('merges slices into an index equal to a single build', async () => {
    const args = ['--corpus', SCIFACT_DIR, '--limit', '120', '--shards', '2', '--bm25'];
    for (const i of [0, 1, 2]) expect((await build([...args, '--slice', `${i}/3`, '--out', join(work, `slice${i}`)])).code).toBe(0);
    const incomplete = await runCli(['index', 'merge', join(work, 'slice0'), join(work, 'slice2'), '--out', join(work, 'merged-bad')]);
    expect(incomplete.code).toBe(1);
    expect(incomplete.stderr).toContain('slices 1/3 are missing');
    const merged = await runCli(['index', 'merge', join(work, 'slice2'), join(work, 'slice0'), join(work, 'slice1'), '--out', join(work, 'merged')]);
    expect(merged.code).toBe(0);
    const single = await build([...args, '--out', join(work, 'single')]);
    expect(single.code).toBe(0);
    const [m, s] = [await readIndexManifest(join(work, 'merged')), await readIndexManifest(join(work, 'single'))];
    expect(m.counts).toEqual(s.counts);
    // Same documents in the same shards: passages and postings are byte-identical...
    for (const shard of ['shard-000', 'shard-001']) {
      const [a, b] = [await readShardManifest(join(work, 'merged', shard)), await readShardManifest(join(work, 'single', shard))];
      for (const file of ['passages.bin', 'passages.idx', 'vector-docs.u32', 'bm25.docs']) expect(a.files[file]).toEqual(b.files[file]);
    }
    // ...and vectors, batched differently per slice, agree to float rounding: the same rankings.
    const [x, y] = [await Searcher.open(join(work, 'merged')), await Searcher.open(join(work, 'single'))];
    const queries = ['stem cells', 'influenza vaccine efficacy', 'obesity and diabetes risk'].map((text, i) => ({ id: String(i), text, k: 10 }));
    const [rx, ry] = [await x.searchHits('dense', queries), await y.searchHits('dense', queries)];
    rx.forEach((hits, i) => {
      expect(hits.map((h) => h.docId)).toEqual(ry[i].map((h) => h.docId));
      hits.forEach((h, j) => expect(Math.abs(h.score - ry[i][j].score)).toBeLessThan(1e-5));
    });
    await x.close();
    await y.close();
  });
});

describe('index load: damaged files', () => {
  async function copyIndex(name: string): Promise<string> {
    const dst = join(work, name);
    await cp(await fixtureIndex(), dst, { recursive: true });
    return dst;
  }

  it('refuses a truncated faiss file, naming it', async () => {
    const dir = await copyIndex('truncated');
    const file = join(dir, 'shard-000', 'index.faiss');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length >> 1));
    const r = await runCli(['search', '--index', dir, '--mode', 'bm25', 'cancer']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/truncated/);
  });

  it('refuses a corrupted passage store by checksum', async () => {
    const dir = await copyIndex('corrupted');
    const file = join(dir, 'shard-001', 'passages.bin');
    const bytes = await readFile(file);
    bytes[100] ^= 0xff;
    await writeFile(file, bytes);
    const r = await runCli(['search', '--index', dir, '--mode', 'bm25', 'cancer']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/passages\.bin: checksum mismatch/);
  });

  it('refuses a model whose dimension differs from the index', async () => {
    const r = await runCli(['search', '--index', await fixtureIndex(), '--model', USE_LITE_MODEL, 'cancer']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dimension mismatch: .*512.*128/);
  });
});
