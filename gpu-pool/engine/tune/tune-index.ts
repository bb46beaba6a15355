// `edgesearch index tune`: a new index version whose index.json names the fusion `hybrid` uses by
// default, chosen on the user's judged queries (choose-fusion.ts). The shard files are linked,
// not copied; the version differs from the source's because answers do.
import { resolve } from 'node:path';
import { readQueries } from '../corpus/index.ts';
import { parseMetrics, readQrels, type MetricName } from '../eval/index.ts';
import { DEFAULT_DEPTH, describeFusion } from '../methods/hybrid/index.ts';
import { isValidation } from '../optimize/index.ts';
import { Searcher } from '../search/index.ts';
import { checksumFile, indexMethods, type FusionRecord, type IndexManifest } from '../shard/index.ts';
import { checkNewVersionOut, publishNewVersion } from '../writer/index.ts';
import { chooseFusion, type BranchLists } from './choose-fusion.ts';

export interface TuneOptions {
  index: string;
  queries: string;
  qrels: string;
  out: string;
  folds?: number;
  metric?: string;
  /** Queries per search batch. */
  batch?: number;
  threads?: number;
  force?: boolean;
}

export class TuneError extends Error {
  override name = 'TuneError';
}

export interface TuneResult {
  manifest: IndexManifest;
  fusion: FusionRecord;
}

export async function tuneIndex(opts: TuneOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TuneResult> {
  const t0 = performance.now();
  const folds = opts.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 2) throw new TuneError(`--folds must be an integer ≥ 2, got ${folds}`);
  const [metric] = parseMetrics(opts.metric ?? 'ndcg@10') as MetricName[];
  await checkNewVersionOut(opts.index, opts.out, opts.force);
  const searcher = await Searcher.open(opts.index, { threads: opts.threads, log });
  try {
    const source = searcher.index.manifest;
    const methods = indexMethods(source);
    if (!methods.includes('dense') || !methods.includes('bm25')) throw new TuneError(`${opts.index} holds ${methods.join(' + ')}: hybrid fusion needs dense vectors and BM25 (build with --bm25)`);

    const qrels = await readQrels(opts.qrels);
    let queries: { id: string; text: string }[] = [];
    for await (const q of readQueries(opts.queries)) queries.push({ id: q.id, text: q.text });
    const [queriesSha, qrelsSha] = [(await checksumFile(opts.queries)).sha256, (await checksumFile(opts.qrels)).sha256];
    // On an optimized index, the queries the optimization trained on favour the dense branch:
    // from its own query file, only its validation split.
    const opt = source.optimization;
    if (opt && opt.queries.sha256 === queriesSha) {
      const fraction = Number(opt.params.validFraction ?? 0);
      if (!(fraction > 0)) throw new TuneError(`${opts.index} was optimized on every query of ${opts.queries} (--valid-fraction 0): tune on queries it did not train on`);
      queries = queries.filter((q) => isValidation(q.id, fraction));
      log(`${opts.index} was optimized on ${opts.queries}: tuning on its validation split only (${queries.length} queries)`);
    }
    const judged = queries.filter((q) => [...(qrels.get(q.id)?.values() ?? [])].some((r) => r > 0));
    if (judged.length === 0) throw new TuneError(`no query of ${opts.queries} has a relevant document in ${opts.qrels} (${queries.length} queries, ${qrels.size} judged query ids): are they the same collection's?`);
    if (judged.length < folds) throw new TuneError(`${judged.length} judged queries are fewer than --folds ${folds}`);
    log(`tuning hybrid fusion on ${judged.length} judged queries of ${opts.queries} (${queries.length} read), ${metric}, ${folds}-fold cross-validation, both branches to depth ${DEFAULT_DEPTH}`);

    const lists = await branchLists(searcher, judged, opts.batch ?? 32, log);
    const result = chooseFusion(lists, qrels, metric, folds);
    const fusion: FusionRecord = {
      ...result.choice,
      tuning: {
        queries: { path: resolve(opts.queries), sha256: queriesSha, count: queries.length, judged: judged.length },
        qrels: { path: resolve(opts.qrels), sha256: qrelsSha },
        metric,
        depth: DEFAULT_DEPTH,
        folds,
        candidates: result.candidates,
        chosen: result.chosen,
        crossValidated: result.crossValidated,
        references: result.references,
        perFold: result.perFold,
        seconds: (performance.now() - t0) / 1000,
      },
    };
    for (const [name, value] of Object.entries(result.references)) log(`  ${name}: ${metric} ${value.toFixed(4)}`);
    log(`chosen: ${describeFusion(result.choice)}: ${metric} ${result.chosen.toFixed(4)} on the tuning queries, ${result.crossValidated.toFixed(4)} cross-validated`);
    const manifest = await publishNewVersion({
      source: searcher.index,
      out: opts.out,
      force: opts.force,
      writeShard: async () => undefined,
      patch: () => ({ optimization: source.optimization, fusion }),
    });
    log(`index ${manifest.version} written to ${resolve(opts.out)} (from ${source.version}; shard files linked)`);
    return { manifest, fusion };
  } finally {
    await searcher.close();
  }
}

/** Each branch searched once per query, to depth DEFAULT_DEPTH; every candidate fusion is computed from these lists. */
export async function branchLists(searcher: Searcher, queries: { id: string; text: string }[], batch: number, log: (line: string) => void): Promise<BranchLists[]> {
  const lists: BranchLists[] = [];
  for (let i = 0; i < queries.length; i += batch) {
    const slice = queries.slice(i, i + batch).map((q) => ({ id: q.id, text: q.text, k: DEFAULT_DEPTH }));
    const [dense, bm25] = [await searcher.searchHits('dense', slice), await searcher.searchHits('bm25', slice)];
    slice.forEach((q, j) => lists.push({ id: q.id, dense: dense[j], bm25: bm25[j] }));
    log(`searched ${Math.min(i + batch, queries.length)}/${queries.length} queries`);
  }
  return lists;
}
