import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { SCIFACT_DIR, scifactTestQueries } from '../../test/fixtures.ts';
import { fixtureIndex } from '../../test/index-fixture.ts';
import { compareDocIds } from '../engine/methods/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { PassageStore } from '../engine/shard/index.ts';

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

  it('shows encode, search and evidence time separately', async () => {
    const text = await runCli(['search', '--index', index, '--mode', 'hybrid', 'cell differentiation']);
    expect(text.code).toBe(0);
    const m = /\(hybrid, index \S+, ([\d.]+) ms: encode ([\d.]+) ms, search ([\d.]+) ms, evidence ([\d.]+) ms\)/.exec(text.stdout);
    expect(m, text.stdout.split('\n')[0]).not.toBeNull();
    const [total, encode, search, evidence] = m!.slice(1).map(Number);
    // Printed to 0.1 ms: the stages add up to the total within rounding.
    expect(encode + search + evidence).toBeLessThanOrEqual(total + 0.15);

    // Unrounded in JSON: every stage ran for hybrid; BM25 has no encoder, so no encode time.
    const hybrid = JSON.parse((await runCli(['search', '--index', index, '--mode', 'hybrid', '--json', 'cell differentiation'])).stdout);
    for (const stage of ['encodeMs', 'searchMs', 'evidenceMs']) expect(hybrid.timings[stage], stage).toBeGreaterThan(0);
    const bm25 = JSON.parse((await runCli(['search', '--index', index, '--mode', 'bm25', '--json', 'cell differentiation'])).stdout);
    expect(bm25.timings.encodeMs).toBe(0);
    expect(bm25.timings.searchMs).toBeGreaterThan(0);
  });

  it('prints hybrid ties in the order of the run file (trec_eval: document id descending)', async () => {
    // Reciprocal rank fusion at equal weights ties a document ranked i in one branch and j in the
    // other with one ranked j and i. Find a query whose top 10 has such a tie where shard/ordinal
    // order would differ (RRF asked for: the untuned default sums z-scores, which rarely tie).
    const queries = await scifactTestQueries();
    const searcher = await Searcher.open(index, { log: () => {} });
    let picked: { query: { id: string; text: string }; byPosition: string[] } | undefined;
    try {
      const results = await searcher.searchHits('hybrid', queries.map((q) => ({ id: q.id, text: q.text, k: 10, params: { fusion: 'rrf' as const } })));
      results.some((hits, i) => {
        const tied = hits.filter((h) => hits.filter((o) => o.score === h.score).length > 1);
        const score = tied[0]?.score;
        const group = tied.filter((h) => h.score === score);
        const byPosition = [...group].sort((a, b) => a.shard - b.shard || a.ordinal - b.ordinal).map((h) => h.docId);
        const byId = group.map((h) => h.docId).sort((a, b) => compareDocIds(b, a));
        if (group.length > 1 && byPosition.join() !== byId.join()) picked = { query: queries[i], byPosition };
        return picked !== undefined;
      });
    } finally {
      await searcher.close();
    }
    expect(picked, 'a query with a hybrid tie in its top 10').toBeDefined();
    const { query, byPosition } = picked!;

    const searched = await runCli(['search', '--index', index, '--mode', 'hybrid', '--fusion', 'rrf', '--k', '10', '--json', query.text]);
    expect(searched.code).toBe(0);
    const printed: string[] = JSON.parse(searched.stdout).hits.map((h: { docId: string }) => h.docId);

    const queryFile = join(work, 'tie-query.jsonl');
    await writeFile(queryFile, `${JSON.stringify({ _id: query.id, text: query.text })}\n`);
    const runFile = join(work, 'tie-run.trec');
    const evaluated = await runCli(['eval', '--index', index, '--queries', queryFile, '--qrels', join(SCIFACT_DIR, 'qrels', 'test.tsv'), '--mode', 'hybrid', '--fusion', 'rrf', '--k', '10', '--metrics', 'ndcg@10', '--run', runFile]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const ranked = (await readFile(runFile, 'utf8')).trim().split('\n').map((l) => l.split(' ')).filter((f) => f[0] === query.id);
    expect(ranked.map((f) => Number(f[3]))).toEqual(ranked.map((_, i) => i + 1));

    expect(printed).toEqual(ranked.map((f) => f[2]));
    // The tied documents come out by id, descending, not by where they are stored.
    const tiedPrinted = printed.filter((id) => byPosition.includes(id));
    expect(tiedPrinted).toEqual([...byPosition].sort((a, b) => compareDocIds(b, a)));
    expect(tiedPrinted).not.toEqual(byPosition);
  });

  it('reports an unknown index directory clearly', async () => {
    const r = await runCli(['search', '--index', join(work, 'nope'), 'q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/index\.json: cannot read \(ENOENT\)/);
  });

  it('searches with the turns before the query, formed by --policy, as the engine does', async () => {
    const turns = ['Tell me about vitamin D.', 'What about bone density?'];
    const viaCli = JSON.parse((await runCli(['search', '--index', index, '--mode', 'bm25', '--json', '--turn', turns[0], '--turn', turns[1], '--policy', 'first', 'Is it inherited?'])).stdout);
    const plain = JSON.parse((await runCli(['search', '--index', index, '--mode', 'bm25', '--json', `${turns[0]} Is it inherited?`])).stdout);
    expect(viaCli.hits.map((h: { docId: string }) => h.docId)).toEqual(plain.hits.map((h: { docId: string }) => h.docId));
    const file = join(work, 'context.json');
    await writeFile(file, JSON.stringify(turns.map((query) => ({ query }))));
    const fromFile = JSON.parse((await runCli(['search', '--index', index, '--mode', 'bm25', '--json', '--context', file, '--policy', 'first', 'Is it inherited?'])).stdout);
    expect(fromFile.hits).toEqual(viaCli.hits);
  });

  it('refuses an unknown policy and a malformed context file, naming what is wrong', async () => {
    const bad = await runCli(['search', '--index', index, '--turn', 'a', '--policy', 'everything', 'q']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--policy must be raw, concat, concat\+responses, first or window:N .*got "everything"/);
    const file = join(work, 'bad-context.json');
    await writeFile(file, JSON.stringify([{ query: 'fine' }, { question: 'wrong field' }]));
    const r = await runCli(['search', '--index', index, '--context', file, 'q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--context .*bad-context\.json: field 1\.query: /);
  });
});
