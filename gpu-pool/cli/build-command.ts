import type { Command } from 'commander';
import { Option } from 'commander';
import { addDocuments, BuildError, buildIndex, deleteDocuments, mergeSlices, parseSlice, readIdList } from '../engine/writer/index.ts';
import { CORPUS_FORMATS } from '../engine/corpus/index.ts';
import { intArg, numberArg } from './index.ts';

export function buildCommand(cmd: Command): Command {
  return cmd
    .description('encode a corpus and publish a sharded index (resumable: rerun the same command after a crash)')
    .requiredOption('--corpus <path>', 'BEIR dir or corpus.jsonl, collection.tsv, or DensePhrases/SQuAD json')
    .addOption(new Option('--format <format>', 'corpus format (default: from the path)').choices([...CORPUS_FORMATS]))
    .requiredOption('--model <dir>', 'model directory or manifest.json')
    .addOption(new Option('--method <method>', 'dense: a vector per window in a faiss index; colbert: every token vector, residual-compressed (needs a token model, e.g. models/use-lite-tokens or a `colbert train` output); phrase: every token\'s phrase start and end vectors, the starts in a faiss index of --factory (needs a `phrase train` output)').choices(['dense', 'colbert', 'phrase']).default('dense'))
    .addOption(new Option('--bits <b>', 'colbert: residual bits per dimension').choices(['1', '2', '4']).default('2'))
    .option('--centroids <n>', 'colbert: codec centroids (default: ColBERTv2\'s 2^floor(log2(16·sqrt(tokens))), capped by the sample)', intArg('--centroids'))
    .option('--factory <key>', 'faiss index factory key, e.g. Flat, IVF256,PQ64np, OPQ64,IVF256,PQ64np, HNSW32_PQ64', 'Flat')
    .addOption(new Option('--metric <metric>', 'similarity').choices(['ip', 'l2']).default('ip'))
    .requiredOption('--out <dir>', 'index directory to publish (must not exist unless --force)')
    .option('--shards <n>', 'number of shards', intArg('--shards'), 1)
    .option('--bm25', 'also build BM25 postings per shard', false)
    .option('--keep-vectors', 'also store the float vectors in each shard, so `index optimize` starts from them rather than from reconstructions', false)
    .option('--filter-threshold <t>', 'phrase: index a token as a phrase start only when the model\'s phrase filter gives it a start likelihood >= t (0..1; ends stay possible everywhere); needs a `phrase train` model with a filter; recorded in the store', numberArg('--filter-threshold'))
    .option('--slice <i/n>', 'encode only documents i, i+n, i+2n, ... (join slices with `index merge`; dense only)')
    .option('--threads <n>', 'threads for ONNX and faiss', intArg('--threads'))
    .option('--train-size <n>', 'max training vectors for the quantizer', intArg('--train-size'), 100_000)
    .option('--limit <n>', 'index only the first n documents', intArg('--limit'))
    .option('--opq-iterations <n>', 'OPQ training alternations (default 10; faiss uses 50)', intArg('--opq-iterations'))
    .option('--checkpoint-docs <n>', 'documents encoded between checkpoints', intArg('--checkpoint-docs'), 256)
    .option('--force', 'replace an existing index directory', false)
    .action(async (o) => {
      await buildIndex({
        limit: o.limit,
        groupDocs: o.checkpointDocs,
        corpus: o.corpus,
        format: o.format,
        model: o.model,
        method: o.method,
        bits: Number(o.bits) as 1 | 2 | 4,
        centroids: o.centroids,
        factory: o.factory,
        metric: o.metric,
        out: o.out,
        shards: o.shards,
        bm25: o.bm25,
        keepVectors: o.keepVectors,
        slice: o.slice ? parseSlice(o.slice) : undefined,
        threads: o.threads,
        trainSize: o.trainSize,
        opqIterations: o.opqIterations,
        filterThreshold: o.filterThreshold,
        force: o.force,
      });
    });
}

export function mergeCommand(cmd: Command): Command {
  return cmd
    .description('join slices made by `index build --slice i/n` into one index')
    .argument('<slices...>', 'slice directories')
    .requiredOption('--out <dir>', 'index directory to publish')
    .option('--factory <key>', 'override the factory key recorded in the slices')
    .option('--shards <n>', 'override the shard count recorded in the slices', intArg('--shards'))
    .option('--bm25', 'build BM25 postings even if the slices were made without --bm25')
    .option('--keep-vectors', 'also store the float vectors in each shard (for `index optimize`)', false)
    .option('--opq-iterations <n>', 'OPQ training alternations (default 10; faiss uses 50)', intArg('--opq-iterations'))
    .option('--force', 'replace an existing index directory', false)
    .action(async (slices: string[], o) => {
      await mergeSlices({ slices, out: o.out, factory: o.factory, shards: o.shards, bm25: o.bm25, keepVectors: o.keepVectors, opqIterations: o.opqIterations, force: o.force });
    });
}

export function addCommand(cmd: Command): Command {
  return cmd
    .description('add documents to an index without rebuilding it (only they are encoded), as a new index version')
    .requiredOption('--index <dir>', 'index to add to (read only: it keeps serving)')
    .requiredOption('--corpus <path>', 'the new documents: BEIR dir or corpus.jsonl, collection.tsv, or DensePhrases/SQuAD json')
    .addOption(new Option('--format <format>', 'corpus format (default: from the path)').choices([...CORPUS_FORMATS]))
    .requiredOption('--out <dir>', 'directory of the new index version (must not exist unless --force)')
    .option('--model <dir>', 'document encoder (default: the one recorded in the index; must be the same model)')
    .option('--threads <n>', 'threads for ONNX and faiss', intArg('--threads'))
    .option('--force', 'replace an existing --out directory', false)
    .action(async (o) => {
      await addDocuments({ index: o.index, corpus: o.corpus, format: o.format, out: o.out, model: o.model, threads: o.threads, force: o.force });
    });
}

export function deleteCommand(cmd: Command): Command {
  return cmd
    .description('delete documents from an index without rebuilding it (kept vectors keep their codes), as a new index version')
    .requiredOption('--index <dir>', 'index to delete from (read only: it keeps serving)')
    .option('--ids <file>', 'file of document ids, one per line')
    .option('--id <id...>', 'document ids')
    .requiredOption('--out <dir>', 'directory of the new index version (must not exist unless --force)')
    .option('--force', 'replace an existing --out directory', false)
    .action(async (o) => {
      const ids = [...(o.id ?? []), ...(o.ids ? await readIdList(o.ids) : [])];
      if (ids.length === 0) throw new BuildError('give the documents to delete with --ids FILE or --id ID...');
      await deleteDocuments({ index: o.index, ids, out: o.out, force: o.force });
    });
}
