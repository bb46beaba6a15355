import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bm25Builder } from '../bm25/index.ts';
import type { CorpusFormat } from '../corpus/index.ts';
import { trainCodec, type ResidualBits } from '../colbert/codec/index.ts';
import { TokenStoreWriter } from '../colbert/store/index.ts';
import { PHRASE_START_INDEX_FILE, PhraseStoreWriter } from '../phrase/store/index.ts';
import { phraseRowWidth, unpackPhraseRows } from './phrase-rows.ts';
import { tokenMatrix } from '../encoders/index.ts';
import { FaissIndex } from '../index/index.ts';
import { createProgress } from '../progress/index.ts';
import {
  FAISS_FILE,
  INDEX_MANIFEST_FILE,
  PassageStoreWriter,
  SHARD_FORMAT_VERSION,
  SHARD_MANIFEST_FILE,
  TARGETS_FILE,
  VECTOR_DOCS_FILE,
  checksumFiles,
  contentVersion,
  indexVersionOf,
  shardOf,
  writeJson,
  writeU32,
  type IndexManifest,
  type ModelRef,
  type ShardManifest,
} from '../shard/index.ts';
import type { EncodedVectors } from './encoded-vectors.ts';
import { corpusDocuments, inSlice, type Slice } from './encode-stage.ts';

/** Enough alternations to keep most of OPQ's gain at a fraction of faiss's 50. */
export const DEFAULT_OPQ_ITERATIONS = 10;

/** ColBERT's token store: residual bits per dimension and centroid count (default: ColBERTv2's rule). */
export interface TokenStoreOptions {
  bits: ResidualBits;
  centroids?: number;
}

export interface AssembleOptions {
  /** What the rows are: window vectors for a faiss index, token vectors for a ColBERT token store, or phrase rows (phrase-rows.ts). */
  method?: 'dense' | 'colbert' | 'phrase';
  colbert?: TokenStoreOptions;
  /**
   * Phrase rows: the vector dimension, the longest phrase, whether the rows carry the filter's
   * start likelihood (phrase-rows.ts), and the likelihood a canStart token needs to be indexed as a
   * start (needs `filter`; recorded in each shard's phrase.json).
   */
  phrase?: { dimension: number; maxPhraseTokens: number; filter?: boolean; filterThreshold?: number };
  corpus: string;
  format: CorpusFormat;
  limit?: number;
  encoded: EncodedVectors;
  model: ModelRef;
  factoryKey: string;
  metric: 'ip' | 'l2';
  shards: number;
  bm25: boolean;
  /** Also store each shard's float vectors (TARGETS_FILE), for `index optimize`. */
  keepVectors?: boolean;
  /** Upper bound on training vectors (evenly spaced sample). */
  trainSize: number;
  /** OPQ alternations (faiss's default of 50 takes many minutes at d=512 on CPU). */
  opqIterations?: number;
  /** Only documents of these slices are indexed (all when undefined). */
  slices?: Slice[];
  staging: string;
  build: Record<string, unknown>;
  log: (message: string) => void;
  progress?: boolean;
}

export function shardDirName(shard: number): string {
  return `shard-${String(shard).padStart(3, '0')}`;
}

/** Evenly spaced rows: deterministic, and spread over the whole corpus rather than its head. */
export function trainingSample(vectors: Float32Array, dimension: number, limit: number): Float32Array {
  const n = vectors.length / dimension;
  if (n <= limit) return vectors;
  const out = new Float32Array(limit * dimension);
  for (let i = 0; i < limit; i++) {
    const row = Math.floor((i * n) / limit);
    out.set(vectors.subarray(row * dimension, (row + 1) * dimension), i * dimension);
  }
  return out;
}

/**
 * Turns encoded windows into published-ready shard directories inside `staging`:
 * train one quantizer on a sample, clone it per shard, add each shard's rows, and write the
 * passage store, BM25 postings and a checksummed manifest per shard.
 */
export async function assembleShards(opts: AssembleOptions): Promise<IndexManifest> {
  const { encoded, shards } = opts;
  const d = encoded.dimension;
  const rows = encoded.windowDocs.length;

  // Pass over the corpus: passages and BM25 per shard, and where each document went.
  const globalShard: number[] = [];
  const globalLocal: number[] = [];
  const passages: PassageStoreWriter[] = [];
  const bm25: Bm25Builder[] = [];
  for (let s = 0; s < shards; s++) {
    await mkdir(join(opts.staging, shardDirName(s)), { recursive: true });
    passages.push(await PassageStoreWriter.create(join(opts.staging, shardDirName(s))));
    if (opts.bm25) bm25.push(new Bm25Builder());
  }
  const progress = createProgress({ label: 'store', unit: 'docs', enabled: opts.progress });
  let ordinal = 0;
  for await (const doc of corpusDocuments(opts.corpus, opts.format, opts.limit)) {
    const o = ordinal++;
    if (opts.slices && !opts.slices.some((slice) => inSlice(o, slice))) {
      globalShard.push(-1);
      globalLocal.push(-1);
      continue;
    }
    const s = shardOf(doc.id, shards);
    const local = await passages[s].append(doc);
    if (opts.bm25) bm25[s].add(local, `${doc.title} ${doc.text}`);
    globalShard.push(s);
    globalLocal.push(local);
    progress.tick();
  }
  progress.finish();

  // One trained quantizer (or codec) for all shards: scores are comparable when the shards are merged.
  const part = opts.method === 'colbert' ? await trainTokenPart(opts) : opts.method === 'phrase' ? await trainPhrasePart(opts) : await trainDensePart(opts);

  const perShardRows = new Array<number>(shards).fill(0);
  for (let r = 0; r < rows; r++) {
    const s = globalShard[encoded.windowDocs[r]];
    if (s === undefined || s < 0) throw new Error(`encoded window ${r} belongs to document ${encoded.windowDocs[r]}, which the corpus does not have: the corpus changed since encoding`);
    perShardRows[s]++;
  }

  const shardEntries: IndexManifest['shards'] = [];
  let totalDocs = 0;
  for (let s = 0; s < shards; s++) {
    const dir = join(opts.staging, shardDirName(s));
    const m = perShardRows[s];
    const vectors = new Float32Array(m * d);
    const vectorDocs = new Uint32Array(m);
    let j = 0;
    for (let r = 0; r < rows; r++) {
      const g = encoded.windowDocs[r];
      if (globalShard[g] !== s) continue;
      vectors.set(encoded.vectors.subarray(r * d, (r + 1) * d), j * d);
      vectorDocs[j++] = globalLocal[g];
    }
    const names = [...(await part.write(dir, vectors, vectorDocs, passages[s].size)), ...(await passages[s].close())];
    if (opts.bm25) names.push(...(await bm25[s].build().write(dir)));
    const files = await checksumFiles(dir, names);
    const docs = passages[s].size;
    totalDocs += docs;
    const manifest: ShardManifest = {
      format: 'edgesearch-shard',
      formatVersion: SHARD_FORMAT_VERSION,
      shard: s,
      shardCount: shards,
      methods: [part.method, ...(opts.bm25 ? (['bm25'] as const) : [])],
      model: opts.model,
      factoryKey: part.factoryKey,
      metric: part.metric,
      counts: { docs, vectors: m },
      files,
      version: contentVersion(files),
    };
    await writeJson(join(dir, SHARD_MANIFEST_FILE), manifest);
    shardEntries.push({ dir: shardDirName(s), version: manifest.version, docs, vectors: m });
    opts.log(`shard ${s}: ${docs} docs, ${m} ${part.method === 'dense' ? 'vectors' : 'tokens'}`);
  }
  const summary = part.summary?.();
  if (summary) opts.log(summary);

  const manifest: IndexManifest = {
    format: 'edgesearch-index',
    formatVersion: SHARD_FORMAT_VERSION,
    version: indexVersionOf(shardEntries),
    createdAt: new Date().toISOString(),
    model: opts.model,
    factoryKey: part.factoryKey,
    metric: part.metric,
    counts: { docs: totalDocs, vectors: rows },
    shards: shardEntries,
    bm25: opts.bm25,
    methods: [part.method, ...(opts.bm25 ? (['bm25'] as const) : [])],
    build: opts.build,
  };
  await writeJson(join(opts.staging, INDEX_MANIFEST_FILE), manifest);
  return manifest;
}

/** How the shards store their rows, trained once for all of them. */
interface ShardPart {
  method: 'dense' | 'colbert' | 'phrase';
  /** What the manifest records as the factory key (faiss's, or the codec's description). */
  factoryKey: string;
  metric: 'ip' | 'l2';
  /** Writes one shard's rows (vectors of documents `vectorDocs`, shard-local ordinals) into `dir`; the file names. */
  write(dir: string, vectors: Float32Array, vectorDocs: Uint32Array, docs: number): Promise<string[]>;
  /** A log line once every shard is written (e.g. what the store costs). */
  summary?(): string | undefined;
}

/** A faiss index of this factory key, trained on (a sample of) `vectors` when its type needs training. */
async function trainedTemplate(opts: AssembleOptions, vectors: Float32Array, d: number, metric: 'ip' | 'l2'): Promise<FaissIndex> {
  const template = FaissIndex.create(d, opts.factoryKey, metric, { opqIterations: opts.opqIterations ?? DEFAULT_OPQ_ITERATIONS });
  if (!template.isTrained) {
    const sample = trainingSample(vectors, d, opts.trainSize);
    opts.log(`training ${opts.factoryKey} on ${sample.length / d} vectors`);
    const t0 = performance.now();
    await template.train(sample, { warn: (m) => opts.log(`warning: ${m}`) });
    opts.log(`trained in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  }
  return template;
}

async function trainDensePart(opts: AssembleOptions): Promise<ShardPart> {
  const d = opts.encoded.dimension;
  const template = await trainedTemplate(opts, opts.encoded.vectors, d, opts.metric);
  // Some index types ignore the requested metric (faiss 1.7.3 builds HNSW-PQ with L2 only);
  // the manifest records what the index really computes, so scores are read the right way.
  const metric = template.metric;
  if (metric === 'other') throw new Error(`${opts.factoryKey}: index uses a metric other than inner product or L2`);
  if (metric !== opts.metric) {
    opts.log(`warning: ${opts.factoryKey} computes ${metric === 'l2' ? 'L2 distance' : 'inner product'}, not ${opts.metric === 'l2' ? 'L2 distance' : 'inner product'}, in this faiss build; rankings match only for normalised vectors`);
  }
  // Each shard starts from a copy of the trained template. Serialising it is the copy that works
  // for every index type (faiss 1.7.3's clone_index returns HNSW-PQ as a plain HNSW it cannot write).
  const trained = await template.toBuffer();
  template.dispose();
  return {
    method: 'dense',
    factoryKey: opts.factoryKey,
    metric,
    async write(dir, vectors, vectorDocs) {
      const index = await FaissIndex.fromBuffer(trained);
      if (vectors.length > 0) await index.add(vectors);
      await index.writeFile(join(dir, FAISS_FILE));
      index.dispose();
      await writeU32(join(dir, VECTOR_DOCS_FILE), vectorDocs);
      const names = [FAISS_FILE, VECTOR_DOCS_FILE];
      if (opts.keepVectors) {
        await writeFile(join(dir, TARGETS_FILE), new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
        names.push(TARGETS_FILE);
      }
      return names;
    },
  };
}

/** ColBERTv2's residual codec, trained on a sample of the corpus's token vectors. */
async function trainTokenPart(opts: AssembleOptions): Promise<ShardPart> {
  const d = opts.encoded.dimension;
  const tokens = opts.encoded.windowDocs.length;
  const sample = trainingSample(opts.encoded.vectors, d, opts.trainSize);
  const bits = opts.colbert?.bits ?? 2;
  const t0 = performance.now();
  const codec = await trainCodec(sample, d, { bits, centroids: opts.colbert?.centroids, tokens });
  opts.log(`token codec: ${codec.centroids.length / d} centroids, ${bits}-bit residuals, trained on ${sample.length / d} of ${tokens} tokens in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  // What the store costs, before the shards are written: a centroid id and the residual bits per token.
  opts.log(`token store: ${codec.bytesPerToken} bytes per token (float32 tokens: ${d * 4}), ${((codec.bytesPerToken * tokens) / 2 ** 20).toFixed(1)} MiB for ${tokens} tokens`);
  return {
    method: 'colbert',
    factoryKey: `colbert-residual-${bits}bit-${codec.centroids.length / d}c`,
    metric: 'ip',
    async write(dir, vectors, vectorDocs, docs) {
      // Rows arrive in corpus order, so each document's tokens are one run of rows.
      const writer = new TokenStoreWriter(dir, codec);
      try {
        let r = 0;
        for (let doc = 0; doc < docs; doc++) {
          const from = r;
          while (r < vectorDocs.length && vectorDocs[r] === doc) r++;
          writer.add(tokenMatrix(r - from, d, vectors.subarray(from * d, r * d)));
        }
        if (r !== vectorDocs.length) throw new Error(`token rows are not in document order at row ${r}`);
        return await writer.finish();
      } catch (err) {
        writer.abort();
        throw err;
      }
    },
  };
}

/**
 * DensePhrases' phrase index: the start vectors of phrase-start tokens in a faiss index trained
 * once for all shards. With a filter threshold, a canStart token is a start only when its start
 * likelihood (the rows' filter column) is at least the threshold, as PhraseStoreWriter decides.
 */
async function trainPhrasePart(opts: AssembleOptions): Promise<ShardPart> {
  if (!opts.phrase) throw new Error('assembleShards: method phrase needs the phrase dimension and maxPhraseTokens');
  const { dimension: d, maxPhraseTokens, filter = false, filterThreshold } = opts.phrase;
  if (filterThreshold !== undefined && !filter) throw new Error('assembleShards: a phrase filter threshold needs rows that carry the filter scores');
  const w = phraseRowWidth(d, filter);
  if (opts.encoded.dimension !== w) throw new Error(`phrase rows are ${opts.encoded.dimension} floats wide, expected ${w} for ${d}-d phrase vectors${filter ? ' and a filter score' : ''}`);
  const rows = opts.encoded.windowDocs.length;
  const v = opts.encoded.vectors;
  // Start vectors of the rows a phrase may start at (filter passed): what the index will hold.
  const isStart = (r: number) => v[r * w + 2 * d + 2] % 2 === 1 && (filterThreshold === undefined || v[r * w + 2 * d + 3] >= filterThreshold);
  let candidates = 0;
  let startable = 0;
  for (let r = 0; r < rows; r++) {
    if (v[r * w + 2 * d + 2] % 2 === 1) candidates++;
    if (isStart(r)) startable++;
  }
  const starts = new Float32Array(startable * d);
  for (let r = 0, at = 0; r < rows; r++) if (isStart(r)) starts.set(v.subarray(r * w, r * w + d), at++ * d);
  const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '-');
  opts.log(
    filterThreshold === undefined
      ? `phrase index: ${startable} phrase starts of ${rows} tokens`
      : `phrase index: ${startable} phrase starts (start likelihood ≥ ${filterThreshold}) of ${candidates} tokens a phrase may start at (${pct(startable, candidates)}), ${rows} tokens`,
  );
  const template = await trainedTemplate(opts, starts, d, 'ip');
  const trained = await template.toBuffer();
  template.dispose();
  const bytes = { store: 0, startIndex: 0, starts: 0 };
  return {
    method: 'phrase',
    factoryKey: opts.factoryKey,
    metric: 'ip',
    async write(dir, vectors, vectorDocs, docs) {
      const writer = new PhraseStoreWriter(dir, { dimension: d, maxPhraseTokens, startIndex: await FaissIndex.fromBuffer(trained), factoryKey: opts.factoryKey, filterThreshold });
      let names: string[];
      try {
        // Rows arrive in corpus order, so each passage's tokens are one run of rows.
        let r = 0;
        for (let doc = 0; doc < docs; doc++) {
          const from = r;
          while (r < vectorDocs.length && vectorDocs[r] === doc) r++;
          writer.add(unpackPhraseRows(vectors.subarray(from * w, r * w), r - from, d, filter));
        }
        if (r !== vectorDocs.length) throw new Error(`phrase rows are not in passage order at row ${r}`);
        names = await writer.finish();
      } catch (err) {
        writer.abort();
        throw err;
      }
      for (const name of names) {
        const size = (await stat(join(dir, name))).size;
        bytes.store += size;
        if (name === PHRASE_START_INDEX_FILE) bytes.startIndex += size;
      }
      return names;
    },
    summary() {
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      const per = (b: number) => (startable > 0 ? (b / startable).toFixed(1) : '-');
      return (
        `phrase store: ${startable} phrases indexed${filterThreshold === undefined ? '' : ` (filter threshold ${filterThreshold})`} of ${candidates} tokens a phrase may start at (${pct(startable, candidates)}); ` +
        `${bytes.store} bytes (${mib(bytes.store)}), ${per(bytes.store)} bytes per phrase; start index ${bytes.startIndex} bytes (${mib(bytes.startIndex)}), ${per(bytes.startIndex)} per phrase; ` +
        `the int8 start / end rows, offsets and flags of all ${rows} tokens are the rest`
      );
    },
  };
}
