// `phrase fit-weights`, `phrase tune-query` and `eval --qa --baselines` on the command line, over a
// phrase index of two SQuAD dev articles (random heads: wiring and guarantees, not quality).
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { SQUAD_DEV } from '../../test/fixtures.ts';
import { fixtureIndex } from '../../test/index-fixture.ts';
import { randomPhraseModel } from '../../test/phrase-index-fixture.ts';
import { decodePhraseHeads } from '../engine/phrase/model/index.ts';

let work: string;
let squad: string;
let index: string;
let model: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-phrase-tune-cli-'));
  // Articles 19 and 20 of SQuAD dev as a file of their own (built at test time, never copied into the repo).
  const dev = JSON.parse(await readFile(join(SQUAD_DEV, 'dev-v1.1.json'), 'utf8')) as { data: unknown[]; version: string };
  squad = join(work, 'squad-2.json');
  await writeFile(squad, JSON.stringify({ version: dev.version, data: dev.data.slice(19, 21) }));
  model = await randomPhraseModel(join(work, 'model'), 16, 3);
  index = join(work, 'index');
  const built = await runCli(['index', 'build', '--corpus', squad, '--format', 'squad', '--model', model, '--method', 'phrase', '--bm25', '--out', index, '--threads', '1']);
  expect(built.code, built.stderr).toBe(0);
}, 180_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('edgesearch phrase fit-weights', () => {
  it('fits on training articles: the rank-1 figure never drops below the defaults\'', async () => {
    const r = await runCli(['phrase', 'fit-weights', '--index', index, '--qa', squad, '--articles', '1', '--depth', '5', '--out', join(work, 'fit.json')]);
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(record).toEqual(JSON.parse(readFileSync(join(work, 'fit.json'), 'utf8')));
    expect(record.questions).toBeGreaterThan(50);
    expect(record.after.weights.dense).toBe(1);
    expect(record.after.em).toBeGreaterThanOrEqual(record.before.em);
    expect(Object.keys(record.after.weights).sort()).toEqual(['bm25', 'context', 'dense', 'overlap', 'sentence']);
    expect(r.stderr).toMatch(/\d+ weight settings scored/);
  }, 180_000);

  it('refuses an index without phrases, naming it', async () => {
    const dense = await fixtureIndex({ limit: 20 });
    const r = await runCli(['phrase', 'fit-weights', '--index', dense, '--qa', squad, '--articles', '1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(dense);
    expect(r.stderr).toMatch(/no phrase store/);
  }, 60_000);
});

describe('edgesearch phrase tune-query', () => {
  it('trains only the query heads, records where it started, and the index accepts the model without a warning', async () => {
    const out = join(work, 'tuned');
    const r = await runCli(['phrase', 'tune-query', '--index', index, '--qa', squad, '--articles', '0-1', '--validation-articles', '1', '--epochs', '2', '--depth', '5', '--pool', '20', '--lr', '1e-2', '--out', out, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/validation before tuning \(\d+ questions, phrase search\): EM@1 0\.\d{4}, phrase-exact recall@10 0\.\d{4}, sentence@1 0\.\d{4}/);
    expect(r.stderr).toMatch(/epoch 1\/2: loss \d+\.\d{4}/);
    const base = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
    const tuned = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(tuned.id).toBe(`${base.id}-qtuned`);
    expect(tuned.training.queryTuning).toMatchObject({ articles: '0-1', trainingArticles: [0], validationArticles: [1] });
    const indexManifest = JSON.parse(readFileSync(join(index, 'index.json'), 'utf8'));
    expect(tuned.training.queryTuning.from.manifestHash).toBe(indexManifest.model.manifestHash);
    const read = (dir: string) => decodePhraseHeads(readFileSync(join(dir, 'phrase-heads.f32')), 512, 16, dir);
    const [a, b] = [read(model), read(out)];
    expect(b.start).toEqual(a.start);
    expect(b.end).toEqual(a.end);
    // The query heads move only if some epoch beat the untuned model on validation (by phrase search).
    const best = tuned.training.queryTuning.validation.best;
    if (best.epoch > 0) expect(b.queryStart).not.toEqual(a.queryStart);
    else {
      expect(b.queryStart).toEqual(a.queryStart);
      expect(r.stderr).toMatch(/no epoch beat the model as it was on validation/);
    }
    expect(tuned.training.queryTuning.epochs.length).toBeGreaterThan(0);
    const s = await runCli(['search', 'Who won the game?', '--index', index, '--mode', 'phrase', '--model', out, '--k', '3', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).not.toMatch(/differs from the one the index was built with/);
    expect(JSON.parse(s.stdout).hits).toHaveLength(3);
  }, 180_000);

  it('with --refresh-pools reads the pools again each epoch, and records it', async () => {
    const out = join(work, 'tuned-refresh');
    const r = await runCli(['phrase', 'tune-query', '--index', index, '--qa', squad, '--articles', '0-1', '--validation-articles', '1', '--epochs', '2', '--patience', '2', '--depth', '3', '--pool', '10', '--lr', '1e-2', '--refresh-pools', '--out', out, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    const tuning = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).training.queryTuning;
    expect(tuning.params.refreshPools).toBe(true);
    expect(tuning.epochs).toHaveLength(2);
    for (const e of tuning.epochs) expect(Number.isFinite(e.loss)).toBe(true);
  }, 180_000);

  it('refuses --validation-articles that leave nothing to train on, writing nothing', async () => {
    const r = await runCli(['phrase', 'tune-query', '--index', index, '--qa', squad, '--articles', '0-1', '--validation-articles', '2', '--out', join(work, 'never')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--validation-articles 2 leaves no training article/);
    expect(() => readFileSync(join(work, 'never', 'manifest.json'))).toThrow();
  }, 60_000);
});

describe('edgesearch eval --qa --baselines', () => {
  it('prints the phrase model beside the linear heads and the lexical reader, gold-paragraph EM included', async () => {
    const r = await runCli(['eval', '--index', index, '--qa', squad, '--articles', '1', '--mode', 'phrase', '--baselines', '--depth', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^system\s+em@1\s+f1@1\s+gold-paragraph-em\s+gold-paragraph-f1\s+phrase-recall@10\s+answer-recall@10$/m);
    const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
    for (const system of ['phrase model', 'linear heads', 'lexical reader']) {
      for (const metric of ['em@1', 'f1@1', 'gold-paragraph-em', 'phrase-recall@10']) {
        expect(json.baselines[system][metric]).toBeGreaterThanOrEqual(0);
        expect(json.baselines[system][metric]).toBeLessThanOrEqual(1);
      }
    }
    expect(json.baselines['phrase model']['em@1']).toBe(json.metrics['em@1']);
    // The lexical reader needs no model: on real questions its gold-paragraph EM is far from 0.
    expect(json.baselines['lexical reader']['gold-paragraph-em']).toBeGreaterThan(0.02);
  }, 180_000);

  it('refuses --baselines for units other than phrase', async () => {
    const r = await runCli(['eval', '--index', index, '--qa', squad, '--mode', 'phrase', '--unit', 'sentence', '--baselines']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--baselines compares answer phrases/);
  }, 60_000);
});
