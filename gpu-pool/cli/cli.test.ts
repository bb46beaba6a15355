import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { SCIFACT_DIR } from '../../test/fixtures.ts';
import { fixtureIndex } from '../../test/index-fixture.ts';
import { PassageStore } from '../shard/index.ts';

let index: string;
let work: string;
beforeAll(async () => {
  index = await fixtureIndex();
  work = await mkdtemp(join(tmpdir(), 'es-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('edgesearch CLI', () => {
  it('prints help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['index', 'search', 'eval', 'models']) expect(r.stdout).toContain(word);
  });

  it('exits 2 with usage on a bad option value', async () => {
    const r = await runCli(['search', '--index', index, '--k', 'zero', 'q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--k must be an integer');
  });

  it('prints rank, score, doc id, title and evidence for each hit', async () => {
    const store = await PassageStore.open(join(index, 'shard-000'));
    const doc = await store.get(3);
    await store.close();
    const r = await runCli(['search', '--index', index, '--mode', 'bm25', '--k', '3', doc.title]);
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n').find((l) => /^\s+1\. /.test(l))!;
    expect(first).toContain(doc.id);
    expect(first).toContain(doc.title.slice(0, 40));
    expect(r.stdout).toContain(doc.text.replace(/\s+/g, ' ').slice(0, 60));
  });

  it('returns per-branch scores for hybrid hits as JSON', async () => {
    const r = await runCli(['search', '--index', index, '--mode', 'hybrid', '--json', '--dense-weight', '0.5', 'cell differentiation']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.hits).toHaveLength(10);
    expect(out.hits.some((h: { branches: object }) => 'dense' in h.branches && 'bm25' in h.branches)).toBe(true);
  });

  it('evaluates, writes a TREC run and ends with one JSON line', async () => {
    const runFile = join(work, 'run.trec');
    const r = await runCli([
      'eval', '--index', index, '--queries', join(SCIFACT_DIR, 'queries.test.jsonl'), '--qrels', join(SCIFACT_DIR, 'qrels', 'test.tsv'),
      '--mode', 'bm25', '--metrics', 'ndcg@10,recall@100', '--run', runFile, '--json',
    ]);
    expect(r.code).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(last.queries).toBe(300);
    expect(Object.keys(last.metrics)).toEqual(['ndcg@10', 'recall@100']);
    // Only 200 of 5,183 documents are indexed, so most queries find nothing relevant.
    expect(last.metrics['ndcg@10']).toBeGreaterThan(0);
    expect(last.metrics['ndcg@10']).toBeLessThan(0.3);
    const lines = (await readFile(runFile, 'utf8')).trim().split('\n');
    expect(lines[0]).toMatch(/^\S+ Q0 \S+ 1 -?[\d.]+ edgesearch-bm25$/);
  });

  it('reports an unknown index directory clearly', async () => {
    const r = await runCli(['search', '--index', join(work, 'nope'), 'q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/index\.json: cannot read \(ENOENT\)/);
  });
});
