// bench:phrase — DensePhrases-style phrase retrieval on SQuAD v1.1 dev (48 articles, 2,067
// paragraphs): a phrase model trained on articles 0-23, tested on the questions of articles 24-47,
// always searching an index of every paragraph. Index size against the phrase filter's threshold,
// EM / F1 / recall against the linear-heads and lexical-reader baselines, sentence and passage
// retrieval, query-side fine-tuning before / after, latency one query at a time through the
// Searcher. Every build, training and eval runs through the CLI as a child process (wall time and
// peak RSS by GNU time). Writes bench/results/phrase.md.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArticles, readQaQuestions } from '../gpu-pool/cli/eval-qa.ts';
import { FaissIndex } from '../gpu-pool/engine/index/index.ts';
import { DEFAULT_PHRASE_WEIGHTS, LINEAR_HEAD_WEIGHTS, type PhraseWeights } from '../gpu-pool/engine/phrase/evidence/index.ts';
import { PHRASE_META_FILE, PHRASE_START_INDEX_FILE, PHRASE_START_ROWS_FILE, PHRASE_STORE_FILES } from '../gpu-pool/engine/phrase/store/files.ts';
import { Searcher } from '../gpu-pool/engine/search/index.ts';
import { REPO_ROOT, SQUAD_DEV, requireShared } from '../test/fixtures.ts';
import { timedCli } from './child-cli.ts';
import { machineLine } from './machine.ts';
import { writeResultTable } from './result-table.ts';

const SQUAD = join(requireShared(SQUAD_DEV), 'dev-v1.1.json');
const BASE_MODEL = join(REPO_ROOT, 'models', 'use-lite-tokens');
const TRAIN_ARTICLES = '0-23';
const FULL_TEST = '24-47';
const FULL_THRESHOLDS = '0.1,0.2,0.3,0.5';
const TEST_ARTICLES = process.env.BENCH_PHRASE_ARTICLES ?? FULL_TEST;
const TUNE_ARTICLES = process.env.BENCH_PHRASE_TUNE_ARTICLES ?? TRAIN_ARTICLES;
const TUNE_VALIDATION = process.env.BENCH_PHRASE_TUNE_VALIDATION_ARTICLES; // tune-query's --validation-articles (default: its own, 4)
const THRESHOLDS = (process.env.BENCH_PHRASE_THRESHOLDS ?? FULL_THRESHOLDS).split(',').map((s) => s.trim()).filter((s) => s !== '');
for (const t of THRESHOLDS) if (!(Number(t) > 0 && Number(t) <= 1)) throw new Error(`BENCH_PHRASE_THRESHOLDS: "${t}" is not a number in (0, 1]`);
// DensePhrases re-retrieves each epoch; with pools read once, recall@10 does not move (0.4343 -> 0.4339).
// Each refreshed epoch is a phrase search per training question, so fewer epochs than tune-query's default.
const TUNE_REFRESH = process.env.BENCH_PHRASE_TUNE_REFRESH !== '0';
const TUNE_EPOCHS = process.env.BENCH_PHRASE_TUNE_EPOCHS ?? (TUNE_REFRESH ? '3' : '8');
const REEVAL = process.env.BENCH_PHRASE_REEVAL === '1'; // rerun evals and tune-query even when their records match
const LATENCY_QUERIES = 300;
const WARMUP = 10;
const K = 10;
// Plain sentence vectors on the same task, from the issue's probe, and the issue's targets.
const SENTENCE_REFERENCE = { at1: 0.37, at10: 0.682 };
const SENTENCE_TARGET = { at1: 0.4, at10: 0.72 };

const work = resolve(process.env.BENCH_WORK ?? (await mkdtemp(join(tmpdir(), 'es-bench-phrase-'))));
await mkdir(join(work, 'records'), { recursive: true });
parseArticles(TEST_ARTICLES); // refuse a malformed range before anything runs
parseArticles(TUNE_ARTICLES);
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const f4 = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const int = (x: number) => x.toLocaleString('en-US');
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const median = (xs: number[]) => quantile(xs, 0.5);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const fileHash = async (path: string) => sha256(await readFile(path));
const manifestOf = (model: string) => (model.endsWith('.json') ? model : join(model, 'manifest.json'));

/** The engine's source (gpu-pool and shared, tests left out): evals and query tuning rerun when it changes (read just before each). */
async function codeFingerprint(): Promise<string> {
  const h = createHash('sha256');
  for (const top of ['gpu-pool', 'shared']) {
    const entries = (await readdir(join(REPO_ROOT, top), { recursive: true })).map(String).sort();
    for (const rel of entries) {
      if (!/\.(ts|cc|cpp|h|hpp)$/.test(rel) || rel.endsWith('.test.ts') || /(^|\/)(node_modules|build)\//.test(rel)) continue;
      h.update(`${top}/${rel}\0`).update(await readFile(join(REPO_ROOT, top, rel))).update('\0');
    }
  }
  return h.digest('hex');
}
const squadHash = await fileHash(SQUAD);

// Every CLI run: a record in WORK/records/<name>.json, keyed by its arguments and inputs, so that a
// rerun with BENCH_WORK reuses what is still valid and redoes what changed.
interface CliRecord {
  key: string;
  args: string[];
  seconds: number;
  peakRssMB: number;
  json?: any;
  at: string;
}
const commands: { args: string[]; record: CliRecord; reused: boolean }[] = [];
async function cli(name: string, args: string[], inputs: unknown, opts: { output?: string; json?: boolean; rerunnable?: boolean } = {}): Promise<CliRecord> {
  const file = join(work, 'records', `${name}.json`);
  const key = sha256(JSON.stringify({ args, inputs }));
  const old: CliRecord | undefined = await readFile(file, 'utf8').then(JSON.parse, () => undefined);
  if (old?.key === key && (!opts.output || existsSync(opts.output)) && !(opts.rerunnable && REEVAL)) {
    log(`${name}: reusing the run of ${old.at} (${f1(old.seconds)} s, peak RSS ${old.peakRssMB.toFixed(0)} MB)`);
    commands.push({ args, record: old, reused: true });
    return old;
  }
  log(`${name}: edgesearch ${args.join(' ')}`);
  const run = timedCli(args);
  let json: unknown;
  if (opts.json) {
    const last = run.stdout.trim().split('\n').pop() ?? '';
    try {
      json = JSON.parse(last);
    } catch {
      throw new Error(`edgesearch ${args.join(' ')}: the last line of its output is not JSON: ${last.slice(0, 200)}`);
    }
  }
  const record: CliRecord = { key, args, seconds: run.seconds, peakRssMB: run.peakRssMB, json, at: new Date().toISOString() };
  await writeFile(file, JSON.stringify(record, null, 1));
  log(`${name}: done in ${f1(record.seconds)} s, peak RSS ${record.peakRssMB.toFixed(0)} MB`);
  commands.push({ args, record, reused: false });
  return record;
}

// 1. The phrase model: BENCH_PHRASE_MODEL, or `phrase train` on articles 0-23.
let model: string;
let trainRun: CliRecord | undefined;
if (process.env.BENCH_PHRASE_MODEL) {
  model = resolve(process.env.BENCH_PHRASE_MODEL);
  if (!existsSync(manifestOf(model))) throw new Error(`BENCH_PHRASE_MODEL: ${manifestOf(model)} does not exist`);
  log(`phrase model: ${model} (BENCH_PHRASE_MODEL)`);
} else {
  model = join(work, 'phrase-model');
  const args = ['phrase', 'train', '--squad', SQUAD, '--articles', TRAIN_ARTICLES, '--model', BASE_MODEL, '--out', model, '--cache', join(work, 'phrase-model.cache'), '--force'];
  trainRun = await cli('phrase-train', args, { squadHash, base: await fileHash(manifestOf(BASE_MODEL)) }, { output: manifestOf(model) });
}
const modelManifest = JSON.parse(await readFile(manifestOf(model), 'utf8'));
const modelHash = await fileHash(manifestOf(model));
const training = modelManifest.training;
if (!training?.filter) throw new Error(`${model}: its manifest has no training.filter record (a \`phrase train\` model with a phrase filter is needed for --filter-threshold)`);

// 2. One index of every paragraph per filter threshold (none: the main one).
interface Built {
  label: string;
  dir: string;
  build: CliRecord;
  version: string;
  docs: number;
  tokens: number;
  startable: number;
  storeBytes: number;
  startIndexBytes: number;
  indexBytes: number;
}
async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const rel of await readdir(dir, { recursive: true })) {
    const s = await stat(join(dir, String(rel)));
    if (s.isFile()) n += s.size;
  }
  return n;
}
// DensePhrases keeps its start vectors in IVF-OPQ: one more unfiltered index with such a factory.
const COMPRESSED_FACTORY = 'OPQ32,IVF1024,PQ32np';
const buildOptions = (t: string) => ['--method', 'phrase', '--factory', t === COMPRESSED_FACTORY ? t : 'Flat', '--bm25', ...(t === 'none' || t === COMPRESSED_FACTORY ? [] : ['--filter-threshold', t])];
async function buildIndex(t: string): Promise<Built> {
  const dir = join(work, `squad-${t.replace(/[^\w.]+/g, '-')}`);
  const args = ['index', 'build', '--corpus', SQUAD, '--format', 'squad', '--model', model, ...buildOptions(t), '--out', dir, '--force'];
  const build = await cli(`build-${t}`, args, { squadHash, modelHash }, { output: join(dir, 'index.json') });
  const manifest = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  const b: Built = { label: t, dir, build, version: manifest.version, docs: manifest.counts.docs, tokens: 0, startable: 0, storeBytes: 0, startIndexBytes: 0, indexBytes: await dirBytes(dir) };
  for (const shard of manifest.shards as { dir: string }[]) {
    const sdir = join(dir, shard.dir);
    const meta = JSON.parse(await readFile(join(sdir, PHRASE_META_FILE), 'utf8'));
    b.tokens += meta.tokens;
    b.startable += meta.startable;
    for (const f of PHRASE_STORE_FILES) b.storeBytes += (await stat(join(sdir, f))).size;
    for (const f of [PHRASE_START_INDEX_FILE, PHRASE_START_ROWS_FILE]) b.startIndexBytes += (await stat(join(sdir, f))).size;
  }
  log(`index ${t}: ${int(b.startable)} of ${int(b.tokens)} tokens indexed as phrase starts, phrase store ${mb(b.storeBytes)}, index ${mb(b.indexBytes)}`);
  return b;
}
const main = await buildIndex('none');
const filtered: Built[] = [];
for (const t of [...THRESHOLDS, COMPRESSED_FACTORY]) filtered.push(await buildIndex(t));

// Evals: `eval --qa SQUAD --articles TEST --mode phrase --json`, keyed by the index's content
// version, the model and the engine's code.
async function evalQa(name: string, index: Built, extra: string[], tunedModel?: string): Promise<CliRecord> {
  const args = ['eval', '--index', index.dir, '--qa', SQUAD, '--articles', TEST_ARTICLES, '--mode', 'phrase', ...extra, ...(tunedModel ? ['--model', tunedModel] : []), '--json'];
  const r = await cli(name, args, { squadHash, version: index.version, model: tunedModel ? await fileHash(manifestOf(tunedModel)) : modelHash, code: await codeFingerprint() }, { json: true, rerunnable: true });
  if (!r.json?.metrics) throw new Error(`edgesearch ${args.join(' ')}: no "metrics" in its JSON`);
  return r;
}
// 3a. The main index against the baselines (its phrase metrics are also the "none" row of the threshold table).
const baselines = await evalQa('eval-none-baselines', main, ['--baselines']);
if (!baselines.json.baselines) throw new Error('eval --baselines: no "baselines" in its JSON');
const thresholdEvals: CliRecord[] = [];
for (const b of filtered) thresholdEvals.push(await evalQa(`eval-${b.label.replace(/[^\w.]+/g, '-')}`, b, []));
// 3b, 3c. Sentence and passage units.
const sentence = await evalQa('eval-none-sentence', main, ['--unit', 'sentence']);
const passage = await evalQa('eval-none-passage', main, ['--unit', 'passage']);

// 3d. Query-side fine-tuning on the training articles, against the main index.
const tuned = join(work, 'phrase-model-qtuned');
const tuneArgs = ['phrase', 'tune-query', '--index', main.dir, '--qa', SQUAD, '--articles', TUNE_ARTICLES, ...(TUNE_VALIDATION ? ['--validation-articles', TUNE_VALIDATION] : []), '--epochs', TUNE_EPOCHS, ...(TUNE_REFRESH ? ['--refresh-pools'] : []), '--out', tuned, '--force'];
const tune = await cli('tune-query', tuneArgs, { squadHash, version: main.version, modelHash, code: await codeFingerprint() }, { output: manifestOf(tuned), rerunnable: true });
const tuning = JSON.parse(await readFile(manifestOf(tuned), 'utf8')).training?.queryTuning;
if (!tuning?.validation) throw new Error(`${tuned}: its manifest has no training.queryTuning.validation record`);
const tunedPhrase = await evalQa('eval-none-qtuned', main, [], tuned);
const tunedSentence = await evalQa('eval-none-qtuned-sentence', main, ['--unit', 'sentence'], tuned);

// 3e. Latency: one question at a time through the Searcher, one thread.
const questions = await readQaQuestions(SQUAD, parseArticles(TEST_ARTICLES));
const timed = questions.slice(0, LATENCY_QUERIES);
FaissIndex.setThreads(1);
const searcher = await Searcher.open(main.dir, { threads: 1 });
const encodeMs: number[] = [];
const searchMs: number[] = [];
const evidenceMs: number[] = [];
const totalMs: number[] = [];
try {
  for (const q of timed.slice(0, WARMUP)) await searcher.searchTimed('phrase', [{ id: q.id, text: q.question, k: K }]);
  for (const q of timed) {
    const t = performance.now();
    const { timings } = await searcher.searchTimed('phrase', [{ id: q.id, text: q.question, k: K }]);
    totalMs.push(performance.now() - t);
    encodeMs.push(timings.encodeMs);
    searchMs.push(timings.searchMs);
    evidenceMs.push(timings.evidenceMs);
  }
} finally {
  await searcher.close();
}
const benchRssMB = process.resourceUsage().maxRSS / 1024;
log(`latency over ${timed.length} questions: ${f2(median(totalMs))} ms median, ${f2(quantile(totalMs, 0.95))} ms p95`);

// 4. Tables.
const m = (r: CliRecord) => r.json.metrics as Record<string, number>;
const metric = (x: Record<string, number> | undefined, name: string) => (x && name in x ? f4(x[name]) : '-');
const testQuestions = baselines.json.questions as number;
const full = TEST_ARTICLES === FULL_TEST && THRESHOLDS.join(',') === FULL_THRESHOLDS && TUNE_ARTICLES === TRAIN_ARTICLES && !TUNE_VALIDATION && TUNE_REFRESH && TUNE_EPOCHS === '3';
const dev = full
  ? ''
  : ` **Development run: test articles ${TEST_ARTICLES} (BENCH_PHRASE_ARTICLES), thresholds ${THRESHOLDS.join(', ') || 'none'} (BENCH_PHRASE_THRESHOLDS), query tuning on articles ${TUNE_ARTICLES}${TUNE_VALIDATION ? ` with --validation-articles ${TUNE_VALIDATION}` : ''}, --epochs ${TUNE_EPOCHS}${TUNE_REFRESH ? ' --refresh-pools' : ''}; not the benchmark's configuration.**`;
const shortPath = (p: string) => {
  if (p === SQUAD) return 'SQUAD';
  if (p.startsWith(work)) return `WORK${p.slice(work.length)}`;
  if (p.startsWith(REPO_ROOT)) return relative(REPO_ROOT, p);
  return p;
};
const commandLine = (args: string[]) => `edgesearch ${args.map(shortPath).join(' ')}`;
const weightRow = (name: string, w: Readonly<PhraseWeights>) => `| ${name} | ${w.dense} | ${w.bm25} | ${w.sentence} | ${w.context} | ${w.overlap} |`;
const filterVal = training.filter.validation as { paragraphs: number; startCandidates: number; goldStarts: number; questions: number; thresholds: { threshold: number; kept: number; startRecall: number; questionRecall: number; em: number; f1: number }[] };
const trainSeconds = trainRun ? trainRun.seconds : training.seconds;
const trainRss = trainRun ? trainRun.peakRssMB : training.peakRssMb;
const allBuilt = [main, ...filtered];
const allEvals = [baselines, ...thresholdEvals];
const tv = tuning.validation as { before: { em: number; recall: number; sentence?: number }; best: { epoch: number; em: number; recall: number; sentence?: number } };
const sys = baselines.json.baselines as Record<string, Record<string, number>>;
const cols = ['em@1', 'f1@1', 'gold-paragraph-em', 'gold-paragraph-f1', 'phrase-recall@10', 'answer-recall@10'];

await writeResultTable('phrase.md', [
  `# Phrase benchmark: DensePhrases-style phrase retrieval on SQuAD v1.1 dev (${int(main.docs)} paragraphs indexed, ${int(testQuestions)} test questions of articles ${TEST_ARTICLES}), model ${modelManifest.id}`,
  '',
  `${machineLine('faiss (Debian libfaiss-dev), onnxruntime-node CPU')}${dev}`,
  `Model: \`${shortPath(model)}\`${trainRun ? '' : ' (BENCH_PHRASE_MODEL)'}, ${modelManifest.phrase?.dimension}-d start / end vectors on ${modelManifest.training?.base?.id ?? 'its base model'}. ` +
    `Training uses articles ${training.inputs?.articles ?? TRAIN_ARTICLES} (heads and filter validated on ${training.inputs?.validationArticles ?? '?'}), test questions are those of articles ${TEST_ARTICLES}; every index holds all ${int(main.docs)} paragraphs of the file, so test questions search the training articles' paragraphs too. ` +
    'Every command runs as a child process (seconds and peak RSS: GNU time); evals use `eval`\'s defaults (k 10, batches of 32 questions, default threads). SQUAD = `../shared/data/squad-v1.1-dev/dev-v1.1.json`, WORK = the work directory.',
  '',
  '## Phrase model',
  '',
  `Validation: the top phrase of each held-out question's gold paragraph (${training.validation?.questions} questions), SQuAD EM / F1. ${trainRun ? 'Seconds and peak RSS: the `phrase train` process.' : 'Seconds and peak RSS: from the model\'s manifest (it was not trained by this run).'}`,
  '',
  '| model | training questions | best epoch (of run) | validation EM | validation F1 | random heads EM / F1 | train s | peak RSS MB | filter best epoch |',
  '|---|---|---|---|---|---|---|---|---|',
  `| ${modelManifest.id} | ${int(training.questions?.train ?? NaN)} | ${training.bestEpoch} (${(training.epochs?.length ?? 1) - 1}) | ${f4(training.validation.trained.em)} | ${f4(training.validation.trained.f1)} | ${f4(training.validation.random.em)} / ${f4(training.validation.random.f1)} | ${f1(trainSeconds)} | ${Number(trainRss).toFixed(0)} | ${training.filter.bestEpoch} |`,
  '',
  `Phrase filter on the validation articles (${int(filterVal.paragraphs)} paragraphs, ${int(filterVal.startCandidates)} candidate starts, ${int(filterVal.goldStarts)} gold starts, ${filterVal.questions} questions): share of candidate starts kept, of gold starts kept, of questions with a gold start kept, and the heads' gold-paragraph EM / F1 when phrases may start only at kept tokens.`,
  '',
  '| start likelihood ≥ | starts kept | gold starts kept | questions with a gold start kept | EM | F1 |',
  '|---|---|---|---|---|---|',
  ...filterVal.thresholds.map((r) => `| ${r.threshold} | ${pct(r.kept)} | ${pct(r.startRecall)} | ${pct(r.questionRecall)} | ${f4(r.em)} | ${f4(r.f1)} |`),
  '',
  '## Index size and quality against the filter threshold',
  '',
  `\`edgesearch index build --corpus SQUAD --format squad --model MODEL ${buildOptions('none').join(' ')} [--filter-threshold T] --out DIR\`, one shard. Phrases indexed: tokens in the start index (\`startable\` in phrase.json) of ${int(main.tokens)} tokens. ` +
    `Every row but the last: start index \`Flat\`; the last: DensePhrases' IVF-OPQ (\`--factory ${COMPRESSED_FACTORY}\`, the default nprobe, a quarter of the lists). ` +
    'Phrase store: every file of the store (int8 start and end rows of every token, scales, offsets, flags, the start index); start index: the faiss index of start vectors and its rows; bytes/phrase: phrase store bytes per indexed phrase. Whole index: every file of the index directory (passages and BM25 included). ' +
    `Quality: the test questions on that index, unit phrase (the "none" row is the eval of the next section); ms/query: \`eval\`'s encode + search per question, batched.`,
  '',
  '| --filter-threshold | phrases indexed | of unfiltered | phrase store | start index | bytes/phrase | whole index | build s | build peak RSS MB | EM@1 | F1@1 | phrase-recall@10 | ms/query |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...allBuilt.map((b, i) => {
    const e = allEvals[i];
    const label = b.label === COMPRESSED_FACTORY ? `none, --factory ${COMPRESSED_FACTORY}` : b.label;
    return `| ${label} | ${int(b.startable)} | ${pct(b.startable / main.startable)} | ${mb(b.storeBytes)} | ${mb(b.startIndexBytes)} | ${(b.storeBytes / b.startable).toFixed(0)} | ${mb(b.indexBytes)} | ${f1(b.build.seconds)} | ${b.build.peakRssMB.toFixed(0)} | ${metric(m(e), 'em@1')} | ${metric(m(e), 'f1@1')} | ${metric(m(e), 'phrase-recall@10')} | ${f2(e.json.msPerQuery)} |`;
  }),
  '',
  '## Against the baselines (unfiltered index)',
  '',
  `\`eval --mode phrase --baselines\` on the ${int(testQuestions)} test questions. Open: EM / F1 of the top phrase over the whole index, phrase-recall@10 (a top-10 phrase equals an answer), answer-recall@10 (an answer in a top-10 phrase's evidence passage). Gold paragraph: the reader alone, the gold paragraph given. ` +
    'Linear heads: the phrase model\'s start + end scores with passage BM25 only (weights below); lexical reader: no model, the 1-4 word span with the most question words in the top BM25 passage.',
  `The eval process: ${f2(baselines.json.msPerQuery)} ms/query (the phrase model's pass, before the baselines), peak RSS ${baselines.peakRssMB.toFixed(0)} MB, ${f1(baselines.seconds)} s in all.`,
  '',
  `| system | ${cols.join(' | ')} |`,
  `|---|${cols.map(() => '---').join('|')}|`,
  ...['phrase model', 'linear heads', 'lexical reader'].map((s) => `| ${s} | ${cols.map((c) => metric(sys[s], c)).join(' | ')} |`),
  '',
  '## Sentence and passage retrieval (unfiltered index)',
  '',
  '`eval --mode phrase --unit sentence`: phrase scores aggregated (max) to sentences; sentence@k: the sentence holding an answer start of the gold paragraph is among the top k. `--unit passage`: passage@k, the gold paragraph among the top k.',
  '',
  '| system | sentence@1 | sentence@10 |',
  '|---|---|---|',
  `| target (issue) | ≥ ${SENTENCE_TARGET.at1.toFixed(2)} | ≥ ${SENTENCE_TARGET.at10.toFixed(2)} |`,
  `| reference (issue probe): plain sentence vectors | ${SENTENCE_REFERENCE.at1.toFixed(3)} | ${SENTENCE_REFERENCE.at10.toFixed(3)} |`,
  `| phrase model, --unit sentence | ${metric(m(sentence), 'sentence@1')} | ${metric(m(sentence), 'sentence@10')} |`,
  `| phrase model, query-tuned, --unit sentence | ${metric(m(tunedSentence), 'sentence@1')} | ${metric(m(tunedSentence), 'sentence@10')} |`,
  '',
  '| unit | passage@1 | passage@10 | answer-recall@10 | ms/query |',
  '|---|---|---|---|---|',
  `| passage | ${metric(m(passage), 'passage@1')} | ${metric(m(passage), 'passage@10')} | ${metric(m(passage), 'answer-recall@10')} | ${f2(passage.json.msPerQuery)} |`,
  '',
  '## Query-side fine-tuning',
  '',
  `\`phrase tune-query\` on the main index, articles ${TUNE_ARTICLES}${TUNE_VALIDATION ? ` (--validation-articles ${TUNE_VALIDATION})` : ' (the last 4 validate)'}, --epochs ${TUNE_EPOCHS}${TUNE_REFRESH ? ' --refresh-pools (every training question\'s pool read again each epoch)' : ' (pools read once)'}: ${int(tuning.questions?.train ?? NaN)} training questions (${int(tuning.questions?.trainWithAnswer ?? NaN)} with an answer phrase in reach), ${int(tuning.questions?.validation ?? NaN)} validation; ${f1(tune.seconds)} s, peak RSS ${tune.peakRssMB.toFixed(0)} MB. ` +
    `Validation by phrase search (the last 4 of the tuning's articles): EM@1 ${f4(tv.before.em)} → ${f4(tv.best.em)}, phrase-exact recall@10 ${f4(tv.before.recall)} → ${f4(tv.best.recall)}${tv.best.sentence !== undefined ? `, sentence@1 ${f4(tv.before.sentence ?? NaN)} → ${f4(tv.best.sentence)}` : ''} (best epoch ${tv.best.epoch}; the epoch is chosen on recall@10 + sentence@1). The test questions, same index, \`--model WORK/phrase-model-qtuned\`:`,
  '',
  '| query side | EM@1 | F1@1 | phrase-recall@10 | sentence@1 | sentence@10 |',
  '|---|---|---|---|---|---|',
  `| before (the index's model) | ${metric(m(baselines), 'em@1')} | ${metric(m(baselines), 'f1@1')} | ${metric(m(baselines), 'phrase-recall@10')} | ${metric(m(sentence), 'sentence@1')} | ${metric(m(sentence), 'sentence@10')} |`,
  `| after (query-tuned) | ${metric(m(tunedPhrase), 'em@1')} | ${metric(m(tunedPhrase), 'f1@1')} | ${metric(m(tunedPhrase), 'phrase-recall@10')} | ${metric(m(tunedSentence), 'sentence@1')} | ${metric(m(tunedSentence), 'sentence@10')} |`,
  '',
  '## Latency, one question at a time',
  '',
  `\`Searcher.searchTimed('phrase', [one question], k ${K})\` in the bench process on the unfiltered index, the first ${timed.length} test questions after ${WARMUP} of warm-up, onnxruntime and faiss at 1 thread, the index's model. ` +
    `Encode: the question's start / end vectors; search: start index, BM25 passages read whole, evidence scoring and merge; evidence: reading the hits' passages. Peak RSS of the bench process (index loaded, ${timed.length} questions served): ${benchRssMB.toFixed(0)} MB.`,
  '',
  '| unit | questions | encode ms median | search ms median | evidence ms median | total ms median | total p95 |',
  '|---|---|---|---|---|---|---|',
  `| phrase | ${timed.length} | ${f2(median(encodeMs))} | ${f2(median(searchMs))} | ${f2(median(evidenceMs))} | ${f2(median(totalMs))} | ${f2(quantile(totalMs, 0.95))} |`,
  '',
  '## Evidence weights in use',
  '',
  'DEFAULT_PHRASE_WEIGHTS (gpu-pool/engine/phrase/evidence/weights.ts), per unit: score = dense · (start · q_start + end · q_end) + bm25 · BM25(passage) + sentence · BM25(sentence) + context · C − overlap · O. Linear heads: the baseline\'s weights.',
  '',
  '| unit | dense | bm25 | sentence | context | overlap |',
  '|---|---|---|---|---|---|',
  ...Object.entries(DEFAULT_PHRASE_WEIGHTS).map(([unit, w]) => weightRow(unit, w)),
  weightRow('linear heads (baseline)', LINEAR_HEAD_WEIGHTS),
  '',
  '## Commands',
  '',
  'In the order run; "reused": the record in WORK/records matched (same arguments and inputs), so the earlier run\'s figures are used.',
  '',
  '```sh',
  ...commands.map((c) => `${commandLine(c.args)}   # ${f1(c.record.seconds)} s, peak RSS ${c.record.peakRssMB.toFixed(0)} MB${c.reused ? `, reused (run ${c.record.at})` : ''}`),
  '```',
  '',
]);
if (!process.env.BENCH_WORK) await rm(work, { recursive: true, force: true });
