// What `colbert train` learns from, read and resolved: the passages (a BEIR corpus or ColBERT's
// collection.tsv) in memory, and per training query its text, its positives and (for triples)
// its negatives. Then negatives mined for BEIR input: BM25 over the whole corpus, optionally
// joined by exact dense search with a sentence model.
import { Bm25Builder, type Bm25Index } from '../../bm25/index.ts';
import { InputError, readCorpus, readQueries, readTriples, type CorpusFormat } from '../../corpus/index.ts';
import type { Encoder } from '../../encoders/index.ts';
import { matmul } from '../../index/index.ts';
import { loadTrainingSet, type TrainingSetReport, type UnknownPolicy } from '../../optimize/index.ts';
import { createProgress } from '../../progress/index.ts';
import { FeatureStore, normalizeRows, roundToHalf } from './features.ts';
import { FeatureCache, textKey } from './feature-cache.ts';

export interface Corpus {
  ids: string[];
  titles: string[];
  texts: string[];
  ordinal: Map<string, number>;
}

export async function readCorpusInMemory(path: string, format?: CorpusFormat): Promise<Corpus> {
  const corpus: Corpus = { ids: [], titles: [], texts: [], ordinal: new Map() };
  for await (const doc of readCorpus(path, format)) {
    corpus.ordinal.set(doc.id, corpus.ids.length);
    corpus.ids.push(doc.id);
    corpus.titles.push(doc.title);
    corpus.texts.push(doc.text);
  }
  if (corpus.ids.length === 0) throw new InputError('the corpus has no documents', { file: path });
  return corpus;
}

/** A query with what it is trained or validated on (document ordinals). */
export interface JudgedQuery {
  id: string;
  text: string;
  positives: number[];
  /** Given negatives (triples); empty for BEIR input, where they are mined. */
  negatives: number[];
}

export interface JudgedQueries {
  queries: JudgedQuery[];
  /** One line for the log. */
  summary: string;
  report?: TrainingSetReport;
}

/** BEIR queries + qrels resolved against the corpus (judgments naming unknown ids: rejected or skipped). */
export async function judgedFromQrels(opts: { queries: string; qrels: string; corpus: Corpus; unknown: UnknownPolicy }): Promise<JudgedQueries> {
  const set = await loadTrainingSet({ queries: opts.queries, qrels: opts.qrels, docOrdinal: (id) => opts.corpus.ordinal.get(id), unknown: opts.unknown });
  const r = set.report;
  const skipped = r.unknownDocs.count + r.unknownQueries.count;
  return {
    queries: set.ids.map((id, i) => ({ id, text: set.texts[i], positives: set.relevant[i], negatives: [] })),
    summary: `${opts.qrels}: ${set.ids.length} queries with ${r.used} of ${r.judgments} relevant judgments${skipped ? ` (${skipped} naming unknown queries or documents skipped)` : ''}`,
    report: r,
  };
}

/**
 * ColBERT triples (`qid \t pid+ \t pid-`) resolved against queries.tsv and collection.tsv: per
 * query, the set of its positives and the set of its negatives (a passage that is some triple's
 * positive for the query is never its negative). An unknown id is an InputError naming the
 * triples file and line.
 */
export async function judgedFromTriples(opts: { triples: string; queries: string; corpus: Corpus }): Promise<JudgedQueries> {
  const texts = new Map<string, string>();
  for await (const q of readQueries(opts.queries)) texts.set(q.id, q.text);
  const byQuery = new Map<string, { positives: Set<number>; negatives: Set<number> }>();
  let lines = 0;
  for await (const t of readTriples(opts.triples)) {
    lines++;
    if (!texts.has(t.qid)) throw new InputError(`query id ${JSON.stringify(t.qid)} is not in ${opts.queries}`, { file: opts.triples, line: t.line, field: 'qid' });
    const pos = opts.corpus.ordinal.get(t.positive);
    if (pos === undefined) throw new InputError(`positive passage id ${JSON.stringify(t.positive)} is not in the collection`, { file: opts.triples, line: t.line, field: 'positive pid' });
    const neg = opts.corpus.ordinal.get(t.negative);
    if (neg === undefined) throw new InputError(`negative passage id ${JSON.stringify(t.negative)} is not in the collection`, { file: opts.triples, line: t.line, field: 'negative pid' });
    let entry = byQuery.get(t.qid);
    if (!entry) byQuery.set(t.qid, (entry = { positives: new Set(), negatives: new Set() }));
    entry.positives.add(pos);
    entry.negatives.add(neg);
  }
  if (lines === 0) throw new InputError('no triples', { file: opts.triples });
  const queries = [...byQuery].map(([id, e]) => ({
    id,
    text: texts.get(id)!,
    positives: [...e.positives],
    negatives: [...e.negatives].filter((n) => !e.positives.has(n)),
  }));
  return { queries, summary: `${opts.triples}: ${lines} triples over ${queries.length} queries` };
}

/** BM25 (Lucene's, as index build --bm25 uses: title and text) over the whole corpus. */
export function buildBm25(corpus: Corpus): Bm25Index {
  const builder = new Bm25Builder();
  for (let d = 0; d < corpus.ids.length; d++) builder.add(d, `${corpus.titles[d]} ${corpus.texts[d]}`);
  return builder.build();
}

/** The BM25 top `depth` ordinals of each text, best first. */
export function bm25Top(bm25: Bm25Index, texts: readonly string[], depth: number): number[][] {
  return texts.map((t) => Array.from(bm25.search(t, depth).ordinals));
}

/**
 * The `depth` best documents of each query by exact inner product of a sentence model's vectors
 * (a document scores its best window), best first. Document windows are encoded once and kept in
 * `cache` (rows normalised, so the inner product is the cosine).
 */
export async function denseTop(opts: {
  encoder: Encoder;
  corpus: Corpus;
  texts: readonly string[];
  depth: number;
  cacheDir: string;
  modelKey: string;
  log: (m: string) => void;
  progress: boolean;
}): Promise<number[][]> {
  const { encoder, corpus } = opts;
  const d = encoder.dimension;
  const { cache, reason } = await FeatureCache.open(opts.cacheDir, 'dense-docs', opts.modelKey, d);
  if (reason) opts.log(`dense cache: starting afresh: ${reason}`);
  const keys = corpus.ids.map((_, i) => textKey('dense-doc', corpus.titles[i], corpus.texts[i]));
  const missing = [...new Set(keys.map((k, i) => (cache.has(k) ? -1 : i)).filter((i) => i >= 0))];
  if (missing.length > 0) {
    const progress = createProgress({ label: `encoding passages with ${encoder.modelId}`, total: missing.length, unit: 'passages', enabled: opts.progress });
    const seen = new Set<string>();
    for (let s = 0; s < missing.length; s += 64) {
      const chunk: { key: string; data: Float32Array; rows: number }[] = [];
      for (const i of missing.slice(s, s + 64)) {
        if (seen.has(keys[i])) continue;
        seen.add(keys[i]);
        const windows = encoder.documentWindows({ title: corpus.titles[i], text: corpus.texts[i] });
        const v = await encoder.encodeWindows(windows);
        normalizeRows(v, windows.length, d);
        chunk.push({ key: keys[i], data: roundToHalf(v), rows: windows.length });
      }
      await cache.append(chunk);
      progress.tick(Math.min(64, missing.length - s));
    }
    progress.finish();
  }
  opts.log(`dense vectors of ${corpus.ids.length} passages: ${corpus.ids.length - missing.length} from the cache, ${missing.length} encoded`);
  const store = new FeatureStore(d);
  await cache.read(keys, store);
  // All windows in one matrix, with the document of each.
  const rows = store.totalRows;
  const windows = new Float32Array(rows * d);
  const windowDoc = new Uint32Array(rows);
  let r = 0;
  for (let i = 0; i < store.size; i++) {
    windows.set(store.view(i), r * d);
    windowDoc.fill(i, r, r + store.rows(i));
    r += store.rows(i);
  }
  const queries = await encoder.encodeQueries([...opts.texts]);
  const out: number[][] = [];
  const CHUNK = 64;
  const best = new Float32Array(corpus.ids.length);
  for (let s = 0; s < opts.texts.length; s += CHUNK) {
    const m = Math.min(CHUNK, opts.texts.length - s);
    const scores = matmul(queries.subarray(s * d, (s + m) * d), windows, m, rows, d, { transB: true });
    for (let q = 0; q < m; q++) {
      best.fill(-Infinity);
      for (let w = 0; w < rows; w++) {
        const v = scores[q * rows + w];
        if (v > best[windowDoc[w]]) best[windowDoc[w]] = v;
      }
      out.push(topIndices(best, opts.depth));
    }
  }
  return out;
}

/** Indices of the `k` largest values, largest first (ties: lower index first). */
export function topIndices(values: Float32Array, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, Math.min(k, values.length));
}
