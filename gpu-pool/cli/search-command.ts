import type { Command } from 'commander';
import type { QueryParams } from '../engine/methods/index.ts';
import { Searcher } from '../engine/search/index.ts';
import { intArg, modeOption, numberArg } from './index.ts';

export function queryParams(o: Record<string, unknown>): QueryParams {
  const params: QueryParams = {};
  if (o.nprobe !== undefined) params.nprobe = o.nprobe as number;
  if (o.ef !== undefined) params.efSearch = o.ef as number;
  if (o.rrfK !== undefined) params.rrfK = o.rrfK as number;
  if (o.denseWeight !== undefined || o.bm25Weight !== undefined) params.weights = { dense: o.denseWeight as number | undefined, bm25: o.bm25Weight as number | undefined };
  return params;
}

export function addQueryOptions(cmd: Command): Command {
  return cmd
    .addOption(modeOption())
    .option('--nprobe <n>', 'IVF lists to probe (default: a quarter of the lists)', intArg('--nprobe'))
    .option('--ef <n>', 'HNSW efSearch (default 64)', intArg('--ef'))
    .option('--rrf-k <n>', 'hybrid: reciprocal rank fusion constant', numberArg('--rrf-k'))
    .option('--dense-weight <w>', 'hybrid: weight of the dense branch', numberArg('--dense-weight'))
    .option('--bm25-weight <w>', 'hybrid: weight of the BM25 branch', numberArg('--bm25-weight'))
    .option('--model <dir>', 'query encoder (default: the model the index was built with)')
    .option('--threads <n>', 'threads for ONNX and faiss', intArg('--threads'))
    .option('--no-verify', 'skip checksum verification when loading');
}

function snippet(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

export function searchCommand(cmd: Command): Command {
  return addQueryOptions(
    cmd
      .description('search an index and print the ranked documents with their evidence passages')
      .argument('<query>', 'query text')
      .requiredOption('--index <dir>', 'index directory')
      .option('--k <n>', 'results to return', intArg('--k'), 10)
      .option('--json', 'print the results as JSON', false),
  ).action(async (query: string, o) => {
    if (query.trim() === '') throw new Error('the query is empty');
    const searcher = await Searcher.open(o.index, { model: o.model, verify: o.verify, threads: o.threads });
    try {
      // Model loading is not query time: load before the clock starts.
      await searcher.method(o.mode);
      const t0 = performance.now();
      const {
        results: [hits],
        timings,
      } = await searcher.searchTimed(o.mode, [{ id: 'q', text: query, k: o.k, params: queryParams(o) }]);
      const ms = performance.now() - t0;
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ query, mode: o.mode, version: searcher.version, ms, timings, hits })}\n`);
        return;
      }
      const stages = `encode ${timings.encodeMs.toFixed(1)} ms, search ${timings.searchMs.toFixed(1)} ms, evidence ${timings.evidenceMs.toFixed(1)} ms`;
      process.stdout.write(`${hits.length} results for "${query}" (${o.mode}, index ${searcher.version}, ${ms.toFixed(1)} ms: ${stages})\n\n`);
      for (const hit of hits) {
        const branches = hit.branches ? `  [${Object.entries(hit.branches).map(([b, v]) => `${b} #${v!.rank} ${v!.score.toFixed(4)}`).join(', ')}]` : '';
        process.stdout.write(`${String(hit.rank).padStart(3)}. ${hit.score.toFixed(4)}  ${hit.docId}  ${snippet(hit.title, 100)}${branches}\n`);
        process.stdout.write(`     ${snippet(hit.text, 300)}\n\n`);
      }
    } finally {
      await searcher.close();
    }
  });
}
