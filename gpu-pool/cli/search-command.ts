import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { ConversationContext, Fusion, MAX_RERANK_DEPTH, PhraseUnit, Policy, RerankMethod, RerankParams, type ConversationTurn } from '../../shared/protocol/index.ts';
import { describeFusion, fusionInUse, type QueryParams } from '../engine/methods/index.ts';
import type { FusionChoice } from '../engine/shard/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { intArg, modeOption, numberArg } from './index.ts';

/** `--rerank colbert:100` (method, optional depth), with --rerank-fuse and --rerank-weight. */
export function parseRerank(value: string): { method: 'colbert'; depth?: number } {
  const m = /^([a-z]+)(?::(\d+))?$/.exec(value.trim());
  const method = m ? RerankMethod.safeParse(m[1]) : undefined;
  if (!m || !method?.success) throw new InvalidArgumentError(`--rerank must look like METHOD[:DEPTH] with METHOD one of ${RerankMethod.options.join(', ')} (e.g. colbert:100), got "${value}"`);
  const depth = m[2] === undefined ? undefined : Number(m[2]);
  if (depth !== undefined && (depth < 1 || depth > MAX_RERANK_DEPTH)) throw new InvalidArgumentError(`--rerank depth must be between 1 and ${MAX_RERANK_DEPTH}, got ${depth}`);
  return { method: method.data, ...(depth !== undefined ? { depth } : {}) };
}

/** The re-ranking the options ask for (undefined without --rerank); --rerank-fuse alone is an error. */
export function queryRerank(o: Record<string, unknown>): RerankParams | undefined {
  if (o.rerank === undefined) {
    if (o.rerankFuse || o.rerankWeight !== undefined) throw new InvalidArgumentError('--rerank-fuse and --rerank-weight need --rerank (e.g. --rerank colbert:100)');
    return undefined;
  }
  const given = o.rerank as { method: 'colbert'; depth?: number };
  if (o.rerankWeight !== undefined && !o.rerankFuse) throw new InvalidArgumentError('--rerank-weight weighs a fusion: give --rerank-fuse too');
  return RerankParams.parse({ ...given, fuse: Boolean(o.rerankFuse), ...(o.rerankWeight !== undefined ? { weight: o.rerankWeight } : {}) });
}

const FUSION_FROM = {
  query: 'set by the query options',
  index: "the index's default, chosen by `index tune`",
  default: 'the built-in default; `index tune` chooses one from your judged queries',
} as const;

/** For mode hybrid: the fusion the queries run with, where it comes from, and the line search and eval print. */
export function hybridFusion(mode: string, params: QueryParams, indexFusion: FusionChoice | undefined) {
  if (mode !== 'hybrid') return undefined;
  const used = fusionInUse(params, indexFusion);
  return { ...used, line: `hybrid fusion: ${describeFusion(used.fusion)} (${FUSION_FROM[used.from]})` };
}

export function queryParams(o: Record<string, unknown>): QueryParams {
  const params: QueryParams = {};
  if (o.candidates !== undefined) params.candidates = o.candidates as number;
  if (o.nprobe !== undefined) params.nprobe = o.nprobe as number;
  if (o.ef !== undefined) params.efSearch = o.ef as number;
  if (o.refineFactor !== undefined) params.refineFactor = o.refineFactor as number;
  if (o.rrfK !== undefined) params.rrfK = o.rrfK as number;
  if (o.fusion !== undefined) params.fusion = o.fusion as QueryParams['fusion'];
  if (o.depth !== undefined) params.depth = o.depth as number;
  if (o.unit !== undefined) params.unit = o.unit as QueryParams['unit'];
  if (o.policy !== undefined) params.policy = o.policy as QueryParams['policy'];
  const weights: NonNullable<QueryParams['weights']> = {};
  const given: [keyof typeof weights, unknown][] = [
    ['dense', o.denseWeight],
    ['bm25', o.bm25Weight],
    ['sentence', o.sentenceWeight],
    ['context', o.contextWeight],
    ['overlap', o.overlapWeight],
  ];
  for (const [name, value] of given) if (value !== undefined) weights[name] = value as number;
  if (Object.keys(weights).length > 0) params.weights = weights;
  return params;
}

export function addQueryOptions(cmd: Command): Command {
  return cmd
    .addOption(modeOption())
    .option('--nprobe <n>', 'IVF lists to probe (default: a quarter of the lists)', intArg('--nprobe'))
    .option('--ef <n>', 'HNSW efSearch (default 64)', intArg('--ef'))
    .option('--refine-factor <f>', 'index with a refine stage (",RFlat", ",Refine(SQ8)"): candidates per result re-scored exactly (default 4)', numberArg('--refine-factor'))
    .addOption(new Option('--fusion <how>', 'hybrid: reciprocal rank fusion (rrf, default), or a weighted sum of each branch\'s scores normalised per query (minmax, zscore)').choices([...Fusion.options]))
    .option('--rrf-k <n>', 'hybrid: reciprocal rank fusion constant', numberArg('--rrf-k'))
    .option('--dense-weight <w>', 'hybrid: weight of the dense branch; phrase: weight of the phrase model\'s start + end score (default 1)', numberArg('--dense-weight'))
    .option('--bm25-weight <w>', 'hybrid: weight of the BM25 branch; phrase: weight of the passage\'s BM25 score (default: fitted per unit, see phrase fit-weights)', numberArg('--bm25-weight'))
    .option('--sentence-weight <w>', 'phrase: weight of the BM25 score of the sentence a phrase is in', numberArg('--sentence-weight'))
    .option('--context-weight <w>', 'phrase: weight of the question words around a phrase', numberArg('--context-weight'))
    .option('--overlap-weight <w>', 'phrase: penalty for question words inside a phrase', numberArg('--overlap-weight'))
    .option('--depth <n>', 'hybrid: depth of each branch before fusion (default 100); phrase: passages per shard read whole, from BM25 (default 20)', intArg('--depth'))
    .option('--candidates <n>', 'colbert: passages per shard re-scored exactly after candidate generation (default 256); phrase: phrase starts taken from each shard\'s start index (default 100)', intArg('--candidates'))
    .addOption(new Option('--unit <unit>', 'phrase: return phrases, or phrase scores aggregated (max) to sentences, passages or documents').choices([...PhraseUnit.options]))
    .option('--rerank <method[:depth]>', 're-rank the mode\'s best depth (default 100) hits, e.g. colbert:100 (the index needs a ColBERT token store)', parseRerank)
    .option('--rerank-fuse', 'with --rerank: rank by a fusion of the first stage\'s and the re-ranker\'s z-scored scores', false)
    .option('--rerank-weight <w>', 'with --rerank-fuse: weight of the re-ranker in the fusion (0..1, default 0.5)', numberArg('--rerank-weight'))
    .option('--policy <policy>', 'with context: how the query is formed from the turns before it: raw, concat (default), concat+responses, first, window:N', (v: string) => {
      const parsed = Policy.safeParse(v);
      if (!parsed.success) throw new InvalidArgumentError(`--policy ${parsed.error.issues[0].message}, got "${v}"`);
      return parsed.data;
    })
    .option('--model <dir>', 'query encoder (default: the model the index was built with)')
    .option('--conversational-model <dir>', 'mode conversational: the conversation encoder (an `edgesearch convdr train` output)')
    .option('--threads <n>', 'threads for ONNX and faiss', intArg('--threads'))
    .option('--no-verify', 'skip checksum verification when loading')
    // Option combinations are checked before the index is opened.
    .hook('preAction', (command) => {
      try {
        queryRerank(command.opts());
      } catch (err) {
        command.error(`error: ${(err as Error).message}`, { exitCode: 2, code: 'edgesearch.badOptions' });
      }
    });
}

/**
 * The conversation before the query: `--turn` utterances (oldest first), or `--context FILE`, a
 * JSON list of {"query", "response"?}, as the API's `context`.
 */
async function readContext(o: { turn?: string[]; context?: string }): Promise<ConversationTurn[] | undefined> {
  if (o.turn && o.context) throw new Error('give the previous turns with --turn or with --context, not both');
  if (o.turn) return o.turn.map((query) => ({ query }));
  if (!o.context) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(o.context, 'utf8'));
  } catch (err) {
    throw new Error(`--context ${o.context}: ${(err as Error).message}`);
  }
  const parsed = ConversationContext.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--context ${o.context}: field ${issue.path.join('.') || '(root)'}: ${issue.message} (expected [{"query": "...", "response"?: "..."}, ...])`);
  }
  const blank = parsed.data.findIndex((t) => t.query.trim() === '');
  if (blank >= 0) throw new Error(`--context ${o.context}: field ${blank}.query: must not be empty`);
  return parsed.data;
}

const PhraseVectorsFile = z.strictObject({ start: z.array(z.number()).min(1), end: z.array(z.number()).min(1) });

/** `--phrase-vectors FILE`: a JSON object {start: [...], end: [...]}, the query's phrase vectors. */
async function readPhraseVectors(file: string): Promise<{ start: Float32Array; end: Float32Array }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`--phrase-vectors ${file}: ${(err as Error).message}`);
  }
  const parsed = PhraseVectorsFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--phrase-vectors ${file}: field ${issue.path.join('.') || '(root)'}: ${issue.message} (expected {"start": [numbers], "end": [numbers]})`);
  }
  return { start: Float32Array.from(parsed.data.start), end: Float32Array.from(parsed.data.end) };
}

function snippet(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

export function searchCommand(cmd: Command): Command {
  return addQueryOptions(
    cmd
      .description('search an index and print the ranked documents with their evidence passages')
      .argument('[query]', 'query text')
      .requiredOption('--index <dir>', 'index directory')
      .option('--k <n>', 'results to return', intArg('--k'), 10)
      .option('--turn <text>', 'a previous utterance of the conversation, oldest first (repeat it)', (v: string, prev: string[] = []) => [...prev, v])
      .option('--context <file>', 'the previous turns as JSON [{"query", "response"?}, ...], oldest first')
      .option('--phrase-vectors <file>', 'phrase: the query\'s start and end vectors, JSON {"start": [...], "end": [...]}, instead of encoding the query text')
      .option('--json', 'print the results as JSON', false),
  ).action(async (given: string | undefined, o) => {
    const phrase = o.phraseVectors ? await readPhraseVectors(o.phraseVectors) : undefined;
    if (phrase && o.mode !== 'phrase') throw new Error('--phrase-vectors is for --mode phrase');
    const query = given ?? '';
    if (query.trim() === '' && !phrase) throw new Error('the query is empty');
    const context = await readContext(o);
    if (o.mode === 'conversational' && o.policy) throw new Error('--policy is for the other modes: mode conversational forms its query with its trained encoder');
    const searcher = await Searcher.open(o.index, { model: o.model, conversationalModel: o.conversationalModel, verify: o.verify, threads: o.threads });
    try {
      // Model loading is not query time: load before the clock starts.
      await searcher.method(o.mode);
      const t0 = performance.now();
      const {
        results: [hits],
        timings,
      } = await searcher.searchTimed(o.mode, [{ id: 'q', text: query, k: o.k, params: queryParams(o), rerank: queryRerank(o), ...(phrase ? { phrase } : {}), ...(context ? { context } : {}) }]);
      const ms = performance.now() - t0;
      const fusion = hybridFusion(o.mode, queryParams(o), searcher.index.manifest.fusion);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ query, mode: o.mode, version: searcher.version, ...(fusion ? { fusion: { ...fusion.fusion, from: fusion.from } } : {}), ms, timings, hits })}\n`);
        return;
      }
      if (fusion) process.stdout.write(`${fusion.line}\n`);
      const stages = `encode ${timings.encodeMs.toFixed(1)} ms, search ${timings.searchMs.toFixed(1)} ms, evidence ${timings.evidenceMs.toFixed(1)} ms`;
      process.stdout.write(`${hits.length} results for "${query}" (${o.mode}, index ${searcher.version}, ${ms.toFixed(1)} ms: ${stages})\n\n`);
      for (const hit of hits) {
        const branches = hit.branches ? `  [${Object.entries(hit.branches).map(([b, v]) => `${b} #${v!.rank} ${v!.score.toFixed(4)}`).join(', ')}]` : '';
        process.stdout.write(`${String(hit.rank).padStart(3)}. ${hit.score.toFixed(4)}  ${hit.docId}  ${snippet(hit.title, 100)}${branches}\n`);
        if (hit.span) process.stdout.write(`     » ${snippet(hit.span.text, 200)} «  [chars ${hit.span.start}-${hit.span.end}]\n`);
        process.stdout.write(`     ${snippet(hit.text, 300)}\n\n`);
      }
    } finally {
      await searcher.close();
    }
  });
}
