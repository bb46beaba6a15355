// `phrase train` end to end on two small SQuAD dev articles (8: Sky (United Kingdom), trained on;
// 13: 1973 oil crisis, validation) with the real use-lite token model: the first run encodes them
// into a feature cache that the second run reuses.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SQUAD_DEV, requireShared } from '../../../../test/fixtures.ts';
import { InputError, readSquadQa } from '../../corpus/index.ts';
import { NotATokenModelError } from '../../encoders/index.ts';
import { loadPhraseEncoder } from '../model/index.ts';
import { goldParagraphReader } from '../reader/index.ts';
import { exactMatch, f1Score } from '../text/index.ts';
import { answerTokens, ArticleRangeError, FILTER_THRESHOLDS, phraseTrain, PhraseTrainError, type PhraseTrainOptions, type PhraseTrainResult } from './index.ts';

const TOKEN_MODEL = join(REPO_ROOT, 'models', 'use-lite-tokens');
const SENTENCE_MODEL = join(REPO_ROOT, 'models', 'use-lite');
const SQUAD = join(SQUAD_DEV, 'dev-v1.1.json');

let dir: string;
let cache: string;
const logs: string[] = [];
const io = { log: (m: string) => logs.push(m), progress: false };
const base = (out: string): PhraseTrainOptions => ({
  squad: SQUAD,
  articles: '8,13',
  validationArticles: 1,
  model: TOKEN_MODEL,
  out: join(dir, out),
  cache,
  dim: 16,
  epochs: 3,
  patience: 3,
  batch: 16,
  lr: 3e-3,
  seed: 7,
  threads: 1,
  // One training article is 22 paragraphs: small steps, many of them.
  filterBatch: 2,
  filterEpochs: 30,
});

let first: PhraseTrainResult;
let firstLog: string;

beforeAll(async () => {
  requireShared(SQUAD);
  dir = mkdtempSync(join(tmpdir(), 'phrase-train-'));
  cache = join(dir, 'cache');
  first = await phraseTrain(base('first'), io);
  firstLog = logs.join('\n');
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('phrase train on two SQuAD articles', () => {
  it('splits by article, maps the answers, and lowers the training loss from the random start', () => {
    expect(first.questions).toEqual({ train: 108, trainDropped: 0, validation: 106 });
    expect(first.answers.answers).toBe(324);
    expect(first.answers.mapped + first.answers.droppedUnmapped + first.answers.droppedTooLong).toBe(324);
    expect(first.history).toHaveLength(4);
    expect(first.history[0]).toMatchObject(first.baseline);
    expect(first.trainingLoss.best).toBeLessThan(first.trainingLoss.random);
    expect(first.history[3].loss).toBeLessThan(first.history[1].loss);
    expect(first.cache.paragraphs).toEqual({ reused: 0, encoded: 46 });
    expect(first.onnxCalls).toBeGreaterThan(0);
    expect(firstLog).toMatch(/articles 8,13: 46 paragraphs, 214 questions; training articles 8 \(108 questions\), validation articles 13 \(106 questions\)/);
    expect(firstLog).toMatch(/random heads EM 0\.\d{4}, F1 0\.\d{4}/);
    expect(firstLog).toMatch(/epoch 3\/3: loss \d+\.\d{4}, validation EM 0\.\d{4}, F1 0\.\d{4} \(\d+\.\ds\)/);
  });

  it('trains the phrase filter: at 0.3 it keeps far more of the gold starts than of the phrase starts', () => {
    const f = first.filter!;
    expect(f.counts.paragraphs).toBeGreaterThan(0);
    expect(f.counts.goldStarts).toBeGreaterThan(100);
    expect(f.positiveWeights.start).toBeCloseTo((f.counts.startCandidates - f.counts.goldStarts) / f.counts.goldStarts, 6);
    expect(f.bestEpoch).toBeGreaterThan(0);
    expect(f.history[f.bestEpoch].validationLoss).toBeLessThan(f.history[0].validationLoss);
    expect(f.validation.questions).toBeGreaterThan(90);
    expect(f.thresholds.map((t) => t.threshold)).toEqual(FILTER_THRESHOLDS);
    const at = (x: number) => f.thresholds.find((t) => t.threshold === x)!;
    // Fewer starts kept as the threshold rises; the gold ones far more often than the rest.
    for (let i = 1; i < f.thresholds.length; i++) expect(f.thresholds[i].kept).toBeLessThanOrEqual(f.thresholds[i - 1].kept);
    expect(at(0.3).startRecall).toBeGreaterThan(0.8);
    expect(at(0.3).startRecall - at(0.3).kept).toBeGreaterThan(0.15);
    expect(at(0.5).startRecall - at(0.5).kept).toBeGreaterThan(0.2);
    expect(at(0.3).questionRecall).toBeGreaterThanOrEqual(at(0.3).startRecall);
    expect(firstLog).toMatch(/phrase filter: \d+ training paragraphs, \d+ gold starts of \d+ canStart tokens \(weighted \d+\.\d\)/);
    expect(firstLog).toMatch(/start likelihood ≥ 0\.3: keeps \d+\.\d% of the canStart tokens; gold starts kept \d+\.\d%, questions with a gold start kept \d+\.\d%/);
  });

  it('writes a model that loadPhraseEncoder loads and that reads the validation article as training measured it', async () => {
    const out = join(dir, 'first');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.id).toBe('use-lite-tokens-phrase16');
    expect(manifest.phrase).toMatchObject({ dimension: 16, heads: { file: 'phrase-heads.f32', inputDimension: 512 }, maxPhraseTokens: 20, queryMaxTokens: 64 });
    expect(readFileSync(join(out, 'phrase-heads.f32')).length).toBe(4 * 512 * 16 * 4);
    const t = manifest.training;
    expect(t.inputs).toMatchObject({ articles: '8,13', trainArticles: '8', validationArticles: '13', paragraphs: 46 });
    expect(t.inputs.squad.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(t.questions).toEqual(first.questions);
    expect(t.epochs).toHaveLength(4);
    expect(t.bestEpoch).toBe(first.bestEpoch);
    expect(t.validation.trained).toEqual(first.validation);
    expect(t.peakRssMb).toBeGreaterThan(0);
    expect(manifest.phrase.filter).toMatchObject({ file: 'phrase-filter.f32', inputDimension: 512 });
    expect(manifest.phrase.filter.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(out, 'phrase-filter.f32')).length).toBe(2 * 513 * 4);
    expect(t.filter.validation.thresholds).toHaveLength(FILTER_THRESHOLDS.length);
    expect(t.filter.bestEpoch).toBe(first.filter!.bestEpoch);

    // Raw text in, through the written heads (the training scales folded in): the same figures,
    // up to near-ties that the cache's float16 features may flip.
    const enc = await loadPhraseEncoder(out, { threads: 1, log: () => {} });
    try {
      expect(enc.dimension).toBe(16);
      const qa = (await readSquadQa(SQUAD)).filter((q) => q.article === 13);
      const paragraphs = [...new Set(qa.map((q) => q.context))];
      const phrases = new Map((await enc.encodePassages(paragraphs)).map((p, i) => [paragraphs[i], p]));
      const queries = await enc.encodeQueries(qa.map((q) => q.question));
      let em = 0;
      let f1 = 0;
      qa.forEach((q, k) => {
        const [best] = goldParagraphReader(phrases.get(q.context)!, queries[k], { maxPhraseTokens: enc.maxPhraseTokens });
        const text = q.context.slice(best.charStart, best.charEnd);
        em += exactMatch(text, q.answers.map((a) => a.text));
        f1 += f1Score(text, q.answers.map((a) => a.text));
      });
      expect(Math.abs(em / qa.length - first.validation.em)).toBeLessThanOrEqual(0.02);
      expect(Math.abs(f1 / qa.length - first.validation.f1)).toBeLessThanOrEqual(0.02);

      // The filter (its scale folded in) on raw text: the kept share and gold-start recall of the record.
      const golds = new Map<string, Set<number>>(paragraphs.map((c) => [c, new Set()]));
      for (const q of qa)
        for (const a of q.answers) {
          const r = answerTokens(q.context, phrases.get(q.context)!.boundaries, a.charStart, a.charStart + a.text.length, 20);
          if (!('dropped' in r)) golds.get(q.context)!.add(r.start);
        }
      const want = first.filter!.thresholds.find((x) => x.threshold === 0.3)!;
      let candidates = 0;
      let kept = 0;
      let gold = 0;
      let goldKept = 0;
      for (const [c, p] of phrases) {
        expect(p.filter).toHaveLength(p.tokens);
        for (let i = 0; i < p.tokens; i++) if (p.boundaries.canStart[i]) [candidates, kept] = [candidates + 1, kept + (p.filter![i] >= 0.3 ? 1 : 0)];
        for (const g of golds.get(c)!) [gold, goldKept] = [gold + 1, goldKept + (p.filter![g] >= 0.3 ? 1 : 0)];
      }
      expect(Math.abs(kept / candidates - want.kept)).toBeLessThanOrEqual(0.01);
      expect(Math.abs(goldKept / gold - want.startRecall)).toBeLessThanOrEqual(0.02);
    } finally {
      await enc.dispose();
    }
  });

  it('reuses the feature cache on a second run: no ONNX call, the same heads bit for bit', async () => {
    logs.length = 0;
    const second = await phraseTrain(base('second'), io);
    expect(logs.join('\n')).toContain('reused for every paragraph and question');
    expect(second.onnxCalls).toBe(0);
    expect(second.cache.paragraphs).toEqual({ reused: 46, encoded: 0 });
    expect(second.cache.questions.encoded).toBe(0);
    const a = readFileSync(join(dir, 'first', 'phrase-heads.f32'));
    const b = readFileSync(join(dir, 'second', 'phrase-heads.f32'));
    expect(b.equals(a)).toBe(true);
    expect(readFileSync(join(dir, 'second', 'phrase-filter.f32')).equals(readFileSync(join(dir, 'first', 'phrase-filter.f32')))).toBe(true);
    expect(second.filter!.thresholds).toEqual(first.filter!.thresholds);
    expect(second.history.map((h) => [h.loss, h.em, h.f1])).toEqual(first.history.map((h) => [h.loss, h.em, h.f1]));
    expect(JSON.parse(readFileSync(join(dir, 'second', 'manifest.json'), 'utf8')).training.featureCache.reused).toBe(true);
  });
});

describe('phrase train errors', () => {
  const noLeftovers = (out: string) => {
    expect(existsSync(join(dir, out))).toBe(false);
    expect(existsSync(join(dir, `${out}.partial`))).toBe(false);
  };

  it('refuses an existing --out without --force, and replaces it with --force', async () => {
    const out = join(dir, 'existing');
    mkdirSync(out);
    writeFileSync(join(out, 'keep'), 'x');
    await expect(phraseTrain({ ...base('existing'), epochs: 0 }, io)).rejects.toThrow(PhraseTrainError);
    await expect(phraseTrain({ ...base('existing'), epochs: 0 }, io)).rejects.toThrow(/output directory already exists: .*existing \(choose another --out or pass --force/);
    expect(existsSync(join(out, 'keep'))).toBe(true);
    // Without a filter (--filter-epochs 0): heads only, a manifest without phrase.filter.
    const r = await phraseTrain({ ...base('existing'), epochs: 0, filterEpochs: 0, force: true }, io);
    expect(existsSync(join(out, 'keep'))).toBe(false);
    expect(existsSync(join(out, 'phrase-heads.f32'))).toBe(true);
    expect(existsSync(join(out, 'phrase-filter.f32'))).toBe(false);
    expect(r.filter).toBeUndefined();
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.phrase.filter).toBeUndefined();
    expect(manifest.training.filter).toBeUndefined();
  });

  it('refuses bad --articles: backwards, past the file, or nothing left to train on', async () => {
    await expect(phraseTrain({ ...base('bad1'), articles: '13-8' }, io)).rejects.toThrow(/--articles: the range 13-8 ends before it starts/);
    await expect(phraseTrain({ ...base('bad2'), articles: '40-60' }, io)).rejects.toThrow(/--articles 40-60: .*dev-v1\.1\.json has 48 articles \(0-47\); there is no article 48-60/);
    await expect(phraseTrain({ ...base('bad3'), articles: '8' }, io)).rejects.toThrow(ArticleRangeError);
    await expect(phraseTrain({ ...base('bad3'), articles: '8' }, io)).rejects.toThrow(/--validation-articles 1 leaves no training article of the 1 given/);
    for (const o of ['bad1', 'bad2', 'bad3']) noLeftovers(o);
  });

  it('refuses a model without token output, before reading anything', async () => {
    const err = await phraseTrain({ ...base('sentence'), model: SENTENCE_MODEL }, io).catch((e) => e);
    expect(err).toBeInstanceOf(NotATokenModelError);
    expect(err.message).toMatch(/is kind "sentence", not "tokens"/);
    noLeftovers('sentence');
  });

  it('refuses a SQuAD file whose answer_start does not point at the answer, naming the field', async () => {
    const file = join(dir, 'bad-squad.json');
    const context = 'The oil crisis began in October 1973.';
    const qas = [
      { id: 'a', question: 'When did it begin?', answers: [{ text: 'October 1973', answer_start: context.indexOf('October') }] },
      { id: 'b', question: 'What began?', answers: [{ text: 'oil crisis', answer_start: 3 }] },
    ];
    writeFileSync(file, JSON.stringify({ version: '1.1', data: [{ title: 'T', paragraphs: [{ context, qas }] }] }));
    const err = await phraseTrain({ ...base('bad-squad'), squad: file, articles: '0', validationArticles: 0 }, io).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('data[0].paragraphs[0].qas[1].answers[0].answer_start');
    noLeftovers('bad-squad');
  });

  it('names the option at fault when called with bad values', async () => {
    await expect(phraseTrain({ ...base('bad-dim'), dim: 0 }, io)).rejects.toThrow(/phrase train: dim: /);
  });
});
