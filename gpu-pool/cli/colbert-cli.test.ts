// Late interaction on the command line: build, eval with --mode colbert and --rerank (with its
// fusion), ColBERT's ranking TSV, and the bad inputs refused with what was wrong.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { SCIFACT_DIR } from '../../test/fixtures.ts';
import { fixtureIndex, USE_LITE_MODEL, USE_LITE_TOKENS_MODEL } from '../../test/index-fixture.ts';

const QUERIES = join(SCIFACT_DIR, 'queries.test.jsonl');
const QRELS = join(SCIFACT_DIR, 'qrels', 'test.tsv');
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-colbert-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('edgesearch with ColBERT', () => {
  it('evaluates mode colbert and BM25 re-ranked by ColBERT (alone and fused), and writes ColBERT\u2019s ranking TSV', async () => {
    const index = await fixtureIndex({ method: 'colbert', limit: 120 });
    const evalJson = async (...args: string[]) => {
      const r = await runCli(['eval', '--index', index, '--queries', QUERIES, '--qrels', QRELS, '--metrics', 'ndcg@10', '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    };
    const colbert = await evalJson('--mode', 'colbert');
    expect(colbert.mode).toBe('colbert');
    expect(colbert.queries).toBe(300);
    const reranked = await evalJson('--mode', 'bm25', '--rerank', 'colbert:50');
    expect(reranked.rerank).toEqual({ method: 'colbert', depth: 50, fuse: false });
    const fused = await evalJson('--mode', 'bm25', '--rerank', 'colbert:50', '--rerank-fuse', '--rerank-weight', '0.3');
    expect(fused.rerank).toEqual({ method: 'colbert', depth: 50, fuse: true, weight: 0.3 });
    for (const r of [colbert, reranked, fused]) expect(r.metrics['ndcg@10']).toBeGreaterThanOrEqual(0);

    const run = join(work, 'ranking.tsv');
    const r = await runCli(['eval', '--index', index, '--queries', QUERIES, '--qrels', QRELS, '--mode', 'colbert', '--metrics', 'ndcg@10', '--run', run, '--run-format', 'colbert']);
    expect(r.code, r.stderr).toBe(0);
    const lines = (await readFile(run, 'utf8')).trim().split('\n');
    expect(lines.length).toBe(300 * 10);
    for (const line of lines.slice(0, 20)) expect(line).toMatch(/^\S+\t\S+\t([1-9]|10)\t-?\d+(\.\d+)?(e-?\d+)?$/);
  }, 300_000);

  it('refuses --method colbert with a model without token outputs, and writes nothing', async () => {
    const out = join(work, 'not-tokens');
    const r = await runCli(['index', 'build', '--corpus', SCIFACT_DIR, '--limit', '5', '--model', USE_LITE_MODEL, '--method', 'colbert', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/use-lite.*(token|lateInteraction)/s);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('refuses to train a projection on a sentence model, exits non-zero and writes nothing', async () => {
    const out = join(work, 'sentence-projection');
    const r = await runCli(['colbert', 'train', '--corpus', SCIFACT_DIR, '--queries', join(SCIFACT_DIR, 'queries.train.jsonl'), '--qrels', join(SCIFACT_DIR, 'qrels', 'train.tsv'), '--model', USE_LITE_MODEL, '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('not a late-interaction token model');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('refuses colbert and rerank on an index without a token store, naming it', async () => {
    const dense = await fixtureIndex();
    for (const args of [['--mode', 'colbert'], ['--mode', 'bm25', '--rerank', 'colbert:100']]) {
      const r = await runCli(['eval', '--index', dense, '--queries', QUERIES, '--qrels', QRELS, '--metrics', 'ndcg@10', ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/shard-000 holds no ColBERT token store .*--method colbert/);
    }
  });

  it('refuses re-ranking options that do not fit, before any work', async () => {
    const index = join(work, 'none');
    for (const [args, message] of [
      [['--rerank', 'colbert:0'], /--rerank depth must be between 1 and 1000, got 0/],
      [['--rerank', 'colbert:5000'], /--rerank depth must be between 1 and 1000, got 5000/],
      [['--rerank', 'splade:10'], /--rerank must look like METHOD\[:DEPTH\] with METHOD one of colbert/],
      [['--rerank-fuse'], /--rerank-fuse and --rerank-weight need --rerank/],
      [['--rerank', 'colbert', '--rerank-weight', '0.5'], /--rerank-weight weighs a fusion: give --rerank-fuse too/],
    ] as const) {
      const r = await runCli(['search', '--index', index, '--mode', 'bm25', ...args, 'q']);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('builds a ColBERT index from the untrained token model through the CLI, resumable and atomic like any build', async () => {
    const out = join(work, 'tokens');
    const r = await runCli(['index', 'build', '--corpus', SCIFACT_DIR, '--limit', '20', '--model', USE_LITE_TOKENS_MODEL, '--method', 'colbert', '--bits', '1', '--centroids', '16', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/token codec: 16 centroids, 1-bit residuals/);
    // 512-d tokens at 1 bit: 64 residual bytes and a 4-byte centroid id.
    expect(r.stderr).toMatch(/token store: 68 bytes per token \(float32 tokens: 2048\)/);
    const manifest = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
    expect(manifest.methods).toEqual(['colbert']);
    expect(manifest.counts.docs).toBe(20);
    expect(existsSync(`${out}.partial`)).toBe(false);
  }, 120_000);
});
