// `edgesearch convdr train` and `edgesearch eval --conversations` on the command line: a small
// conversational collection the test writes (corpus, topics, rewrites, qrels), a model trained and
// loaded, the measures reported, and bad input refused with what was wrong.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { USE_LITE_MODEL } from '../../test/index-fixture.ts';
import { STUDENT_VIEWS } from '../engine/conversation/index.ts';
import { loadConversationalEncoder, readConversations, turnsOf } from '../engine/convdr/index.ts';
import { applyAdapter, encodeDistinct, initialAdapter, normalizeRows, viewFeatures } from '../engine/convdr/model/index.ts';
import { fitAdapter, pickRows, rankingData, rankingLoss, searcherDocuments } from '../engine/convdr/train/index.ts';
import { loadEncoder, loadManifest } from '../engine/encoders/index.ts';
import { readQrels } from '../engine/eval/index.ts';
import { Searcher } from '../engine/search/index.ts';

let work: string;
const TOPICS: { topic: string; docs: string[]; turns: [string, string][] }[] = [
  { topic: '1', docs: ['Throat cancer is cancer of the pharynx or larynx.', 'Throat cancer is treated with radiation, surgery and chemotherapy.'], turns: [['What is throat cancer?', 'What is throat cancer?'], ['Is it treatable?', 'Is throat cancer treatable?'], ['How is it treated?', 'How is throat cancer treated?']] },
  { topic: '2', docs: ['Honey bees live in colonies with a queen.', 'Bees make honey from the nectar of flowers.'], turns: [['Tell me about honey bees.', 'Tell me about honey bees.'], ['How do they make honey?', 'How do honey bees make honey?'], ['Where do they live?', 'Where do honey bees live?']] },
  { topic: '3', docs: ['The Eiffel Tower is a wrought-iron tower in Paris.', 'The Eiffel Tower was built for the 1889 World Fair.'], turns: [['What is the Eiffel Tower?', 'What is the Eiffel Tower?'], ['When was it built?', 'When was the Eiffel Tower built?'], ['Why was it built?', 'Why was the Eiffel Tower built?']] },
  { topic: '4', docs: ['Photosynthesis turns light into chemical energy in plants.', 'Chlorophyll absorbs light for photosynthesis.'], turns: [['What is photosynthesis?', 'What is photosynthesis?'], ['Which pigment does it use?', 'Which pigment does photosynthesis use?'], ['Where does it happen?', 'Where does photosynthesis happen?']] },
  { topic: '5', docs: ['The Nile is the longest river in Africa.', 'The Nile flows north into the Mediterranean Sea.'], turns: [['Tell me about the Nile.', 'Tell me about the Nile.'], ['How long is it?', 'How long is the Nile?'], ['Where does it flow?', 'Where does the Nile flow?']] },
  { topic: '6', docs: ['Jazz originated in New Orleans in the early twentieth century.', 'Louis Armstrong was an influential jazz trumpeter.'], turns: [['Where did jazz come from?', 'Where did jazz come from?'], ['Who were its famous players?', 'Who were the famous jazz players?'], ['When did it start?', 'When did jazz start?']] },
];

let topicsFile: string;
let rewritesFile: string;
let qrelsFile: string;
let index: string;
const model = () => join(work, 'convdr');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-convdr-cli-'));
  const docs = TOPICS.flatMap((t) => t.docs.map((text, i) => ({ _id: `d${t.topic}-${i}`, title: '', text })));
  await writeFile(join(work, 'corpus.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  topicsFile = join(work, 'topics.json');
  await writeFile(topicsFile, JSON.stringify(TOPICS.map((t) => ({ number: Number(t.topic), turn: t.turns.map(([raw], i) => ({ number: i + 1, raw_utterance: raw })) }))));
  rewritesFile = join(work, 'rewrites.tsv');
  await writeFile(rewritesFile, TOPICS.flatMap((t) => t.turns.map(([, rw], i) => `${t.topic}_${i + 1}\t${rw}`)).join('\n') + '\n');
  qrelsFile = join(work, 'qrels.txt');
  await writeFile(qrelsFile, TOPICS.flatMap((t) => t.turns.map((_, i) => `${t.topic}_${i + 1} Q0 d${t.topic}-${i === 0 ? 0 : 1} 2`)).join('\n') + '\n');
  index = join(work, 'index');
  const built = await runCli(['index', 'build', '--corpus', join(work, 'corpus.jsonl'), '--format', 'beir', '--model', USE_LITE_MODEL, '--out', index, '--bm25', '--threads', '1']);
  expect(built.code, built.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const train = (...args: string[]) => runCli(['convdr', 'train', '--topics', topicsFile, '--rewrites', rewritesFile, '--model', USE_LITE_MODEL, '--threads', '1', ...args]);

describe('edgesearch convdr train', () => {
  it('cross-validates by topic, reports teacher and rewrite agreement in one JSON line, and writes a loadable model', async () => {
    const r = await train('--out', model(), '--folds', '2', '--epochs', '3', '--weight-decay', '0.01', '--index', index, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/convdr train: 6 topics, 18 turns with rewrites; teacher use-lite/);
    expect(r.stderr).toMatch(/fold 1\/2: held out topics [\d,]+ \(9 turns\): teacher agreement raw 0\.\d{4}, concat 0\.\d{4}, first 0\.\d{4}, student 0\.\d{4}/);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    for (const s of ['raw', 'concat', 'first', 'student']) {
      expect(out.teacherAgreement[s]).toBeGreaterThan(0);
      expect(out.teacherAgreement[s]).toBeLessThanOrEqual(1);
      expect(out.rewriteAgreement[s]).toBeGreaterThanOrEqual(0);
    }
    expect(out.teacherAgreement.byDepth['1'].raw).toBeCloseTo(1, 4);
    expect(Object.keys(out.teacherAgreement.byDepth)).toEqual(['1', '2', '3+']);
    expect(out.teacherAgreement.perFold).toHaveLength(2);
    expect(out.rewriteAgreement.bm25).toMatchObject({ raw: expect.any(Number), concat: expect.any(Number), first: expect.any(Number) });
    expect(out.folds.map((f: { topics: string[] }) => f.topics.length)).toEqual([3, 3]);

    const manifest = JSON.parse(readFileSync(join(model(), 'manifest.json'), 'utf8'));
    expect(manifest.conversational).toMatchObject({ views: ['raw', 'first', 'concat'], dimension: 512, adapter: { file: 'convdr-adapter.f32', inputDimension: 1536 }, teacher: { id: 'use-lite' } });
    expect(manifest.training.data.topics.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.training.folds.k).toBe(2);
    expect(manifest.training.rankingLoss).toEqual({ used: false, reason: 'no --qrels given: knowledge distillation only' });
    expect(out.rankingLoss).toEqual(manifest.training.rankingLoss);
    const student = await loadConversationalEncoder(model(), { threads: 1, log: () => {} });
    try {
      const v = await student.encodeConversations([{ text: 'Is it treatable?', context: [{ query: 'What is throat cancer?' }] }]);
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    } finally {
      await student.dispose();
    }
  }, 180_000);

  it('the ranking loss, on the written corpus and qrels at fixed epochs: a lower ranking loss than KD alone on the training turns and on held-out topics, whose relevant documents rank no worse', async () => {
    const searcher = await Searcher.open(index, { threads: 1 });
    const encoder = await loadEncoder(loadManifest(USE_LITE_MODEL), { threads: 1, log: () => {} });
    try {
      const turns = turnsOf(await readConversations(topicsFile, rewritesFile));
      const d = encoder.dimension;
      const F = STUDENT_VIEWS.length * d;
      const x = await viewFeatures(encoder, turns.map((u) => ({ text: u.raw, context: u.context })), STUDENT_VIEWS);
      const t = await encodeDistinct(encoder, turns.map((u) => u.rewrite!));
      const docs = searcherDocuments(searcher);
      const { rank, summary } = await rankingData(turns.map((u) => u.id), t, d, await readQrels(qrelsFile), docs);
      // 12 documents, one relevant per turn: the 11 others are every turn's negatives.
      expect(summary).toMatchObject({ judgedTurns: 18, relevantDocuments: 12, relevantInIndex: 12, turns: 18, positives: 18, meanNegatives: 11 });
      const rowsOf = (topics: string[]) => turns.flatMap((u, i) => (topics.includes(u.topic) ? [i] : []));
      const data = (rows: number[]) => ({ x: pickRows(x, F, rows), t: pickRows(t, d, rows), rows: rows.length, rank: rows.map((r) => rank[r]) });
      const train = data(rowsOf(['1', '2', '3', '4']));
      const heldRows = rowsOf(['5', '6']);
      const opts = { lr: 1e-4, weightDecay: 0.01, epochs: 10, patience: 10, batch: 32, seed: 1, rankTemperature: 0.05 };
      const init = initialAdapter(STUDENT_VIEWS.length, d, 'mean');
      const kd = fitAdapter(init, train, undefined, opts).adapter;
      const both = fitAdapter(init, train, undefined, { ...opts, rankWeight: 1 }).adapter;
      const mrr = async (adapter: typeof init) => {
        const q = normalizeRows(applyAdapter(adapter, pickRows(x, F, heldRows), heldRows.length), d);
        const hits = await docs.search(q, heldRows.length, 12);
        const rel = await readQrels(qrelsFile);
        return hits.map((h, i) => 1 / (h.findIndex((doc) => rel.get(turns[heldRows[i]].id)!.has(doc)) + 1));
      };
      const held = data(heldRows);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      // The training turns: the ranking term is what lowers their ranking loss (KD alone barely moves it).
      expect(rankingLoss(both, train, 0.05)).toBeLessThan(rankingLoss(kd, train, 0.05) - 0.2);
      // Held-out topics: a lower ranking loss, and their relevant documents ranked no worse.
      expect(rankingLoss(both, held, 0.05)).toBeLessThan(rankingLoss(kd, held, 0.05));
      expect(mean(await mrr(both))).toBeGreaterThanOrEqual(mean(await mrr(kd)));
    } finally {
      await encoder.dispose();
      await searcher.close();
    }
  }, 120_000);

  it('with --qrels and --index trains with the ranking loss and records how, in the manifest and the JSON line', async () => {
    const out = join(work, 'convdr-rank');
    const r = await train('--out', out, '--folds', '2', '--epochs', '3', '--weight-decay', '0.01', '--index', index, '--qrels', qrelsFile, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ranking loss: 18 of 18 turns have a relevant document in .*index \(12 of 12 judged relevant documents there; 18 positives, 11\.0 hard negatives per turn on average\) .*; weight 1, temperature 0\.05/);
    expect(r.stderr).toMatch(/held-out ranking \(18 turns\): loss start \d\.\d{4}, student \d\.\d{4}; MRR@100 teacher \d\.\d{4}, start \d\.\d{4}, student \d\.\d{4}/);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(json.rankingLoss).toMatchObject({ used: true, weight: 1, temperature: 0.05, judgedTurns: 18, relevantDocuments: 12, relevantInIndex: 12, turns: 18, positives: 18, meanNegatives: 11 });
    expect(json.rankingLoss.negatives).toMatch(/top 20 dense hits of the teacher's rewrite vector not judged relevant/);
    expect(json.rankingLoss.selection).toMatch(/teacher agreement/);
    for (const v of [json.rankingLoss.trainingLoss.start, json.rankingLoss.trainingLoss.final, json.rankingLoss.heldOut.loss.student]) expect(v).toBeGreaterThan(0);
    expect(json.rankingLoss.heldOut.mrr.teacher).toBeGreaterThan(0.5);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.training.rankingLoss).toEqual(json.rankingLoss);
    expect(manifest.training.loss).toMatch(/\+ rankWeight · CE/);
  }, 180_000);

  it('qrels that match nothing in the index: a warning and knowledge distillation only; --qrels needs --index', async () => {
    const other = join(work, 'nomatch-qrels.txt');
    await writeFile(other, '1_1 Q0 MARCO_1 2\n1_2 Q0 CAR_abc 1\n2_1 Q0 MARCO_2 0\n');
    const out = join(work, 'convdr-nomatch');
    const r = await train('--out', out, '--folds', '2', '--epochs', '2', '--weight-decay', '0.01', '--index', index, '--qrels', other, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: none of the 2 documents judged relevant in .*nomatch-qrels\.txt \(for 3 judged turns\) is in the index .*index: the qrels do not match its corpus; training with knowledge distillation only/);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(json.rankingLoss).toEqual({ used: false, reason: expect.stringMatching(/the qrels do not match its corpus: knowledge distillation only$/) });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.training.rankingLoss).toEqual(json.rankingLoss);
    expect(manifest.training.loss).not.toMatch(/rankWeight/);
    const noIndex = await train('--out', join(work, 'never'), '--qrels', qrelsFile);
    expect(noIndex.code).toBe(1);
    expect(noIndex.stderr).toMatch(/--qrels .*qrels\.txt needs --index DIR/);
    const noQrels = await train('--out', join(work, 'never'), '--rank-weight', '2');
    expect(noQrels.code).toBe(1);
    expect(noQrels.stderr).toMatch(/--rank-weight needs --qrels/);
    expect(existsSync(join(work, 'never'))).toBe(false);
  }, 180_000);

  it('refuses topics and rewrites that do not match (file, topic, turn), and an existing --out without --force', async () => {
    const bad = join(work, 'bad-rewrites.tsv');
    await writeFile(bad, `${readFileSync(rewritesFile, 'utf8')}2_9\tnothing\n`);
    const r = await runCli(['convdr', 'train', '--topics', topicsFile, '--rewrites', bad, '--model', USE_LITE_MODEL, '--out', join(work, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-rewrites\.tsv: line 19: topic 2 turn 9: .*topics\.json has no such turn \(topic 2 has turns 1, 2, 3\)/);
    expect(existsSync(join(work, 'never'))).toBe(false);
    const again = await train('--out', model(), '--folds', '2', '--epochs', '1');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/output directory already exists: .*convdr \(pass --force to replace it\)/);
  }, 120_000);
});

describe('edgesearch eval --conversations', () => {
  it('scores every policy and the student: nDCG@3, MRR, recall@100, teacher and rewrite agreement, per-system run files', async () => {
    const runs = join(work, 'runs');
    const r = await runCli(['eval', '--index', index, '--conversations', topicsFile, '--rewrites', rewritesFile, '--qrels', qrelsFile, '--model', model(), '--run', runs, '--threads', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(Object.keys(out.systems)).toEqual(['raw', 'concat', 'first', 'student']);
    for (const s of Object.values(out.systems) as { metrics: Record<string, number>; judgedTurns: number }[]) {
      expect(Object.keys(s.metrics)).toEqual(['ndcg@3', 'mrr@100', 'recall@100']);
      expect(s.judgedTurns).toBe(18);
      expect(s.metrics['recall@100']).toBe(1);
    }
    // The first turn has no context: every policy searches the same text.
    expect(out.teacherAgreement.byDepth['1'].concat).toBeCloseTo(1, 4);
    expect(out.rewriteAgreement.dense).toMatchObject({ raw: expect.any(Number), student: expect.any(Number) });
    expect(out.qrelsNote).toBeUndefined();
    const run = readFileSync(join(runs, 'student.trec'), 'utf8').trim().split('\n');
    expect(run[0]).toMatch(/^\d_\d Q0 d\d-\d 1 \S+ edgesearch-student$/);
    expect(new Set(run.map((l) => l.split(' ')[0])).size).toBe(18);
    expect(r.stderr).toMatch(/note: the student was trained on .*topics\.json: its figures here are not held-out/);
  }, 120_000);

  it('says when the qrels do not match the corpus, and scores BM25 policies by rewrite agreement', async () => {
    const other = join(work, 'other-qrels.txt');
    await writeFile(other, '1_1 Q0 MARCO_1 2\n1_2 Q0 CAR_abc 1\n');
    const r = await runCli(['eval', '--index', index, '--conversations', topicsFile, '--rewrites', rewritesFile, '--qrels', other, '--mode', 'bm25', '--policy', 'first', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.qrelsNote).toMatch(/the qrels do not match this index's corpus/);
    expect(Object.keys(out.systems)).toEqual(['bm25-first']);
    expect(out.rewriteAgreement.bm25['bm25-first']).toBeGreaterThan(0);
    expect(out.teacherAgreement).toBeUndefined();
  }, 60_000);

  it('refuses an unknown policy, mismatched rewrites and mode conversational without a model', async () => {
    const policy = await runCli(['eval', '--index', index, '--conversations', topicsFile, '--policy', 'last']);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toMatch(/--policy must be raw, concat, concat\+responses, first or window:N/);
    const missing = join(work, 'missing-rewrites.tsv');
    await writeFile(missing, readFileSync(rewritesFile, 'utf8').split('\n').filter((l) => !l.startsWith('3_2')).join('\n'));
    const mismatch = await runCli(['eval', '--index', index, '--conversations', topicsFile, '--rewrites', missing]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/topics\.json: topic 3 turn 2 has no rewrite in .*missing-rewrites\.tsv/);
    const noModel = await runCli(['eval', '--index', index, '--conversations', topicsFile, '--mode', 'conversational']);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/--mode conversational needs the conversational model/);
  }, 60_000);
});
