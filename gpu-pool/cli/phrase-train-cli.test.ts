// `edgesearch phrase train` on the command line: a small run that writes a model, and bad inputs
// refused with what was wrong, a non-zero exit and nothing written.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { DENSEPHRASES_SAMPLE, SQUAD_DEV } from '../../test/fixtures.ts';
import { USE_LITE_MODEL, USE_LITE_TOKENS_MODEL } from '../../test/index-fixture.ts';
import { randomPhraseModel } from '../../test/phrase-index-fixture.ts';
import { loadPhraseEncoder } from '../engine/phrase/model/index.ts';

const SQUAD = join(SQUAD_DEV, 'dev-v1.1.json');
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-phrase-train-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const train = (out: string, ...args: string[]) => runCli(['phrase', 'train', '--squad', SQUAD, '--model', USE_LITE_TOKENS_MODEL, '--out', join(work, out), '--threads', '1', ...args]);

describe('edgesearch phrase train', () => {
  it('trains on two articles and writes a phrase model, reporting each epoch', async () => {
    const r = await train('model', '--articles', '19-20', '--validation-articles', '1', '--dim', '8', '--epochs', '1', '--id', 'tiny-phrase');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/articles 19-20: \d+ paragraphs, \d+ questions; training articles 19 \(\d+ questions\), validation articles 20/);
    expect(r.stderr).toMatch(/epoch 1\/1: loss \d+\.\d{4}, validation EM 0\.\d{4}, F1 0\.\d{4}/);
    const manifest = JSON.parse(readFileSync(join(work, 'model', 'manifest.json'), 'utf8'));
    expect(manifest.id).toBe('tiny-phrase');
    expect(manifest.phrase).toMatchObject({ dimension: 8, maxPhraseTokens: 20 });
    expect(existsSync(join(work, 'model.cache'))).toBe(true);
  }, 120_000);

  it('answers the three densephrases-sample questions through the CLI: a phrase, its evidence passage and exact span each', async () => {
    const sample = DENSEPHRASES_SAMPLE;
    const index = join(work, 'sample-index');
    const built = await runCli(['index', 'build', '--corpus', join(sample, 'articles.json'), '--format', 'densephrases', '--model', join(work, 'model'), '--method', 'phrase', '--out', index, '--threads', '1']);
    expect(built.code, built.stderr).toBe(0);
    const { data } = JSON.parse(readFileSync(join(sample, 'questions.json'), 'utf8')) as { data: { question: string }[] };
    expect(data).toHaveLength(3);
    const contexts = new Set<string>(JSON.parse(readFileSync(join(sample, 'articles.json'), 'utf8')).data.flatMap((a: { paragraphs: { context: string }[] }) => a.paragraphs.map((p) => p.context)));
    for (const { question } of data) {
      const r = await runCli(['search', question, '--index', index, '--mode', 'phrase', '--k', '3', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const { hits } = JSON.parse(r.stdout) as { hits: { text: string; title: string; span: { start: number; end: number; text: string } }[] };
      expect(hits).toHaveLength(3);
      for (const h of hits) {
        expect(contexts.has(h.text)).toBe(true);
        expect(h.text.slice(h.span.start, h.span.end)).toBe(h.span.text);
        expect(h.span.text.trim()).toBe(h.span.text);
        expect(h.span.text.length).toBeGreaterThan(0);
      }
      expect(new Set(hits.map((h) => h.span.text)).size).toBe(3);
    }
  }, 120_000);

  it('builds with --filter-threshold: fewer phrase starts, the threshold recorded, no start below it returned', async () => {
    const sample = DENSEPHRASES_SAMPLE;
    const index = join(work, 'filtered-index');
    const model = join(work, 'model');
    const built = await runCli(['index', 'build', '--corpus', join(sample, 'articles.json'), '--format', 'densephrases', '--limit', '30', '--model', model, '--method', 'phrase', '--filter-threshold', '0.3', '--out', index, '--threads', '1']);
    expect(built.code, built.stderr).toBe(0);
    const m = /phrase index: (\d+) phrase starts \(start likelihood ≥ 0\.3\) of (\d+) tokens a phrase may start at/.exec(built.stderr);
    expect(m, built.stderr).not.toBeNull();
    const [indexed, candidates] = [Number(m![1]), Number(m![2])];
    expect(indexed).toBeGreaterThan(0);
    expect(indexed).toBeLessThan(candidates);
    expect(built.stderr).toMatch(new RegExp(`phrase store: ${indexed} phrases indexed \\(filter threshold 0\\.3\\) of ${candidates} tokens .*, \\d+\\.\\d bytes per phrase; start index \\d+ bytes`));
    const meta = JSON.parse(readFileSync(join(index, 'shard-000', 'phrase.json'), 'utf8'));
    expect(meta).toMatchObject({ startable: indexed, filterThreshold: 0.3 });
    expect(JSON.parse(readFileSync(join(index, 'index.json'), 'utf8')).build).toMatchObject({ method: 'phrase', filterThreshold: 0.3 });

    const { data } = JSON.parse(readFileSync(join(sample, 'questions.json'), 'utf8')) as { data: { question: string }[] };
    const hits: { text: string; span: { start: number; end: number } }[] = [];
    // Independent processes: run side by side.
    for (const r of await Promise.all(data.map(({ question }) => runCli(['search', question, '--index', index, '--mode', 'phrase', '--k', '10', '--json'])))) {
      expect(r.code, r.stderr).toBe(0);
      hits.push(...JSON.parse(r.stdout).hits);
    }
    expect(hits.length).toBeGreaterThan(10);
    // Every phrase returned starts at a token the filter kept (scores as the model gives them, up to batching's last bits).
    const enc = await loadPhraseEncoder(model, { threads: 1, log: () => {} });
    try {
      const texts = [...new Set(hits.map((h) => h.text))];
      const phrases = new Map((await enc.encodePassages(texts)).map((p, i) => [texts[i], p]));
      for (const h of hits) {
        const p = phrases.get(h.text)!;
        const t = p.boundaries.charStart.findIndex((c, i) => c === h.span.start && p.boundaries.canStart[i] === 1);
        expect(t).toBeGreaterThanOrEqual(0);
        expect(p.filter![t]).toBeGreaterThanOrEqual(0.3 - 1e-4);
      }
    } finally {
      await enc.dispose();
    }
  }, 120_000);

  it('refuses --filter-threshold out of range, outside --method phrase or with a model without a filter, and --slice with --method phrase', async () => {
    const corpus = join(DENSEPHRASES_SAMPLE, 'articles.json');
    const noFilter = await randomPhraseModel(join(work, 'no-filter-model'), 8, 3);
    const build = (out: string, ...args: string[]) => runCli(['index', 'build', '--corpus', corpus, '--format', 'densephrases', '--limit', '5', '--out', join(work, out), '--threads', '1', ...args]);
    const model = join(work, 'model');
    const cases = [
      ['r1', ['--method', 'phrase', '--model', model, '--filter-threshold', '1.5'], /--filter-threshold must be a start likelihood between 0 and 1, got 1\.5/],
      ['r2', ['--method', 'phrase', '--model', model, '--filter-threshold', '-0.1'], /--filter-threshold must be a start likelihood between 0 and 1, got -0\.1/],
      ['r3', ['--method', 'dense', '--model', USE_LITE_MODEL, '--filter-threshold', '0.3'], /--filter-threshold applies to --method phrase only, not dense/],
      ['r4', ['--method', 'phrase', '--model', noFilter, '--filter-threshold', '0.3'], /--filter-threshold 0\.3: model random-phrase .* has no phrase filter \(manifest phrase\.filter\)/],
      ['r5', ['--method', 'phrase', '--model', model, '--slice', '0/2'], /--slice is not supported with --method phrase yet \(slices and `index merge` carry dense window vectors only, not phrase stores\)/],
    ] as const;
    const results = await Promise.all(cases.map(([out, args]) => build(out, ...args)));
    cases.forEach(([out, args, message], k) => {
      expect(results[k].code, args.join(' ')).not.toBe(0);
      expect(results[k].stderr, args.join(' ')).toMatch(message);
      expect(existsSync(join(work, out))).toBe(false);
      expect(existsSync(join(work, `${out}.partial`))).toBe(false);
    });
  }, 120_000);

  it('refuses bad --articles, an existing --out and a sentence model, exiting non-zero and writing nothing', async () => {
    const cases = [
      ['a', ['--articles', '3-1'], /--articles: the range 3-1 ends before it starts/],
      ['b', ['--articles', '0-99'], /has 48 articles \(0-47\); there is no article 48-99/],
      ['c', ['--articles', '0-1', '--model', USE_LITE_MODEL], /not a late-interaction token model/],
      ['d', ['--articles', '0-1', '--dim', '0'], /--dim must be an integer >= 1, got "0"/],
    ] as const;
    // Independent processes: run side by side.
    const [again, ...results] = await Promise.all([train('model', '--articles', '19-20'), ...cases.map(([out, args]) => train(out, ...args))]);
    cases.forEach(([out, args, message], k) => {
      expect(results[k].code, args.join(' ')).not.toBe(0);
      expect(results[k].stderr, args.join(' ')).toMatch(message);
      expect(existsSync(join(work, out))).toBe(false);
      expect(existsSync(join(work, `${out}.partial`))).toBe(false);
    });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/output directory already exists: .*model \(choose another --out or pass --force/);
  }, 120_000);
});
