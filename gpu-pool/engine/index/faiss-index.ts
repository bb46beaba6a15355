import { FaissError, invalidArg, toFaissError } from './errors.ts';
import { loadNative, type CreateOptions, type NativeIndex, type NativeSearchParams, type TrainingClustering } from './native.ts';
import { trainingDataWarning } from './training-warning.ts';

export type { CreateOptions, TrainingClustering } from './native.ts';

export interface TrainOptions {
  /** Receives the one warning about too little training data (default: a `warning:` line on stderr). */
  warn?: (message: string) => void;
  /**
   * Let faiss print its own warning for every k-means run short of points instead (one per PQ
   * sub-quantizer per OPQ alternation). Training gives the same result either way.
   */
  faissWarnings?: boolean;
}

export type Metric = 'ip' | 'l2';

/** Per-call search parameters. Thread-safe: concurrent searches may use different values. */
export interface SearchParams {
  /** IVF: inverted lists probed per query (default: the index's own, 1 after training). Ignored without an IVF layer. */
  nprobe?: number | undefined;
  /** HNSW (also an HNSW coarse quantizer, "IVFx_HNSWy"): search breadth. Ignored without HNSW. */
  efSearch?: number | undefined;
  /**
   * Refine (",RFlat", ",Refine(SQ8)"): the base index returns k * kFactor candidates, which the
   * refine index scores exactly (default: the index's own k_factor, 1). Ignored without a refine layer.
   */
  kFactor?: number | undefined;
}

export interface SearchResult {
  /** n*k, row-major: query i's results are [i*k, (i+1)*k). IP: larger is better; L2: squared distance, smaller is better. */
  distances: Float32Array;
  /**
   * n*k ids, same layout. -1n means "no result" for that slot (fewer than k
   * vectors reachable: small index, low nprobe, removed ids); its distance is
   * -Infinity (IP) or +Infinity (L2)/max float. Callers must skip them.
   */
  labels: BigInt64Array;
}

export interface ReadOptions {
  /**
   * Memory-map the IVF inverted lists (faiss IO_FLAG_MMAP) instead of loading
   * them: fast open, pages shared between processes. The index is then
   * read-only: train/add/removeIds/writeFile/toBuffer/clone throw ERR_READ_ONLY.
   */
  mmap?: boolean;
}

/** The value of a label slot that holds no result. */
export const NO_RESULT = -1n;

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function checkVectors(op: string, what: string, x: unknown, d: number, allowEmpty: boolean): number {
  if (!(x instanceof Float32Array)) throw invalidArg(op, `${what} must be a Float32Array, got ${describeType(x)}`);
  if (x.length % d !== 0) {
    throw invalidArg(op, `${what} has length ${x.length}, not a multiple of the index dimension ${d}`);
  }
  const n = x.length / d;
  if (!allowEmpty && n === 0) throw invalidArg(op, `${what} is empty`);
  return n;
}

function checkPositiveInt(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw invalidArg(op, `${name} must be an integer >= 1, got ${String(v)}`);
  }
  return v;
}

function toIdArray(op: string, ids: unknown): BigInt64Array {
  if (ids instanceof BigInt64Array) return ids;
  if (Array.isArray(ids)) {
    const out = new BigInt64Array(ids.length);
    ids.forEach((v, i) => {
      if (typeof v === 'bigint') out[i] = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) out[i] = BigInt(v);
      else throw invalidArg(op, `ids[${i}] must be a bigint or a safe integer, got ${String(v)}`);
    });
    return out;
  }
  throw invalidArg(op, `ids must be a BigInt64Array (or an array of bigint/integer), got ${describeType(ids)}`);
}

function checkParams(op: string, params: unknown): NativeSearchParams | undefined {
  if (params === undefined || params === null) return undefined;
  if (typeof params !== 'object') throw invalidArg(op, `params must be an object { nprobe?, efSearch?, kFactor? }`);
  const p = params as SearchParams;
  const out: NativeSearchParams = {};
  if (p.nprobe !== undefined) out.nprobe = checkPositiveInt(op, 'nprobe', p.nprobe);
  if (p.efSearch !== undefined) out.efSearch = checkPositiveInt(op, 'efSearch', p.efSearch);
  if (p.kFactor !== undefined) {
    if (typeof p.kFactor !== 'number' || !(p.kFactor >= 1)) throw invalidArg(op, `kFactor must be a number >= 1, got ${String(p.kFactor)}`);
    out.kFactor = p.kFactor;
  }
  return out;
}

function checkPath(op: string, path: unknown): string {
  if (typeof path !== 'string' || path.length === 0) throw invalidArg(op, `path must be a non-empty string`);
  return path;
}

/**
 * A faiss index (any factory key) behind the native binding.
 *
 * Concurrency: searches run in parallel on the libuv pool with per-call
 * parameters; train/add/removeIds are exclusive and run in the order they are
 * called; a search, writeFile or toBuffer sees every mutation called before
 * it. Input arrays are used in place (not copied) while the promise is
 * pending: do not modify them until it settles.
 */
export class FaissIndex {
  readonly #native: NativeIndex;
  /** The factory key for indexes made by create(); undefined for read ones. */
  readonly factoryKey: string | undefined;

  private constructor(native: NativeIndex, factoryKey?: string) {
    this.#native = native;
    this.factoryKey = factoryKey;
  }

  /**
   * index_factory(dimension, factoryKey, metric). Throws FaissError (faiss's
   * message) on an unknown key. Keys that work in faiss 1.7.3: "Flat",
   * "IVF1024,Flat", "IVF1024,PQ64np", "OPQ64,IVF1024,PQ64np",
   * "OPQ64_256,IVF1024,PQ64np", "HNSW32", "HNSW32_PQ64" (= "HNSW32,PQ64"),
   * "IDMap2,Flat", "IDMap2,HNSW32", "IVF1024_HNSW32,Flat", "IVF1024,Flat,RFlat".
   */
  static create(dimension: number, factoryKey: string, metric: Metric, options: CreateOptions = {}): FaissIndex {
    const op = 'create';
    if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1) {
      throw invalidArg(op, `dimension must be an integer >= 1, got ${String(dimension)}`);
    }
    if (typeof factoryKey !== 'string' || factoryKey.length === 0) {
      throw invalidArg(op, `factoryKey must be a non-empty string`);
    }
    if (metric !== 'ip' && metric !== 'l2') throw invalidArg(op, `metric must be 'ip' or 'l2', got ${String(metric)}`);
    const native = loadNative();
    try {
      return new FaissIndex(native.create(dimension, factoryKey, metric, options), factoryKey);
    } catch (err) {
      throw toFaissError(err, `create(${JSON.stringify(factoryKey)}, d=${dimension})`);
    }
  }

  /** Reads a faiss index file (any index faiss can write, e.g. from Python). */
  static async readFile(path: string, opts: ReadOptions = {}): Promise<FaissIndex> {
    const p = checkPath('readFile', path);
    const native = loadNative();
    try {
      return new FaissIndex(await native.readFile(p, { mmap: opts.mmap === true }));
    } catch (err) {
      throw toFaissError(err, 'readFile', p);
    }
  }

  /** Reads an index serialized by toBuffer() (or Python's faiss.serialize_index). */
  static async fromBuffer(buf: Uint8Array): Promise<FaissIndex> {
    if (!(buf instanceof Uint8Array)) throw invalidArg('fromBuffer', `buffer must be a Buffer or Uint8Array, got ${describeType(buf)}`);
    const native = loadNative();
    try {
      return new FaissIndex(await native.fromBuffer(buf));
    } catch (err) {
      throw toFaissError(err, 'fromBuffer');
    }
  }

  /** OpenMP threads faiss uses inside each call (process-wide). */
  static setThreads(n: number): void {
    setThreads(n);
  }

  static getThreads(): number {
    return getThreads();
  }

  get ntotal(): number {
    return this.#call('ntotal', (n) => n.ntotal);
  }

  get dimension(): number {
    return this.#call('dimension', (n) => n.d);
  }

  get isTrained(): boolean {
    return this.#call('isTrained', (n) => n.isTrained);
  }

  /** 'other' only for files written with a metric other than IP/L2. */
  get metric(): Metric | 'other' {
    return this.#call('metric', (n) => n.metric);
  }

  /** The faiss type chain, e.g. "IndexPreTransform[OPQMatrix(64->64)] > IndexIVFPQ(nlist=64, ...)". */
  get description(): string {
    return this.#call('description', (n) => n.description);
  }

  /**
   * How the index stores rows, for write-path code that replaces or removes some: 'ivf'
   * (inverted lists with explicit ids: remove, then re-add under the same ids or renumber),
   * 'hnsw' (a graph that cannot remove: reset and refill), 'flat' (codes by position: removal
   * compacts in order).
   */
  get rowLayout(): 'ivf' | 'hnsw' | 'flat' {
    const description = this.description;
    if (/IndexIVF/.test(description)) return 'ivf';
    return /HNSW/.test(description) ? 'hnsw' : 'flat';
  }

  get readOnly(): boolean {
    return this.#call('readOnly', (n) => n.readOnly);
  }

  get disposed(): boolean {
    return this.#native.disposed;
  }

  /** The k-means runs the next train() makes (empty once trained): what it needs data for. */
  get trainingClusterings(): TrainingClustering[] {
    return this.#call('trainingClusterings', (n) => n.trainingClusterings);
  }

  /**
   * Trains the quantizers. With fewer vectors than faiss recommends for any of its k-means runs
   * (39 per centroid), one warning goes to `options.warn` before training starts.
   */
  async train(x: Float32Array, options: TrainOptions = {}): Promise<void> {
    const n = checkVectors('train', 'training vectors', x, this.dimension, false);
    const faissWarnings = options.faissWarnings === true;
    if (!faissWarnings) {
      const message = trainingDataWarning(n, this.trainingClusterings);
      if (message !== undefined) (options.warn ?? ((m: string) => void process.stderr.write(`warning: ${m}\n`)))(message);
    }
    await this.#async('train', (nat) => nat.train(x, { faissWarnings }));
  }

  /**
   * Adds n vectors. With ids, faiss's add_with_ids: IVF indexes and
   * "IDMap,..."/"IDMap2,..." keys support it; Flat/HNSW/PQ reject it (use an
   * "IDMap2,<key>" factory key). Without ids, ids are ntotal, ntotal+1, ...
   */
  async add(x: Float32Array, ids?: BigInt64Array): Promise<void> {
    const n = checkVectors('add', 'vectors', x, this.dimension, true);
    if (ids !== undefined) {
      if (!(ids instanceof BigInt64Array)) throw invalidArg('add', `ids must be a BigInt64Array, got ${describeType(ids)}`);
      if (ids.length !== n) throw invalidArg('add', `ids has ${ids.length} entries but vectors has ${n} rows`);
    }
    await this.#async('add', (nat) => (ids === undefined ? nat.add(x) : nat.add(x, ids)));
  }

  /**
   * k nearest neighbours of each of the n = q.length / dimension queries.
   * Labels of -1n mean "no result" (see SearchResult).
   */
  async search(q: Float32Array, k: number, params?: SearchParams): Promise<SearchResult> {
    checkVectors('search', 'queries', q, this.dimension, true);
    checkPositiveInt('search', 'k', k);
    const p = checkParams('search', params);
    return this.#async('search', (n) => n.search(q, k, p));
  }

  /**
   * search() on the calling thread: no hand-off to a pool thread and back, which costs tens of
   * microseconds per call (bench:peers measures it), but it blocks the event loop while faiss
   * works. Throws ERR_BUSY while a mutation is in flight, and ERR_INVALID_ARG for parameters that
   * need the locked fallback path.
   */
  searchSync(q: Float32Array, k: number, params?: SearchParams): SearchResult {
    checkVectors('searchSync', 'queries', q, this.dimension, true);
    checkPositiveInt('searchSync', 'k', k);
    const p = checkParams('searchSync', params);
    return this.#call('searchSync', (n) => n.searchSync(q, k, p));
  }

  /**
   * Whether a search with these parameters runs with per-call faiss
   * SearchParameters (concurrent) or needs the locked ParameterSpace fallback
   * (wrappers faiss 1.7.3 cannot forward through, e.g. IndexRefine).
   */
  searchPath(params?: SearchParams): 'per-call' | 'fallback' {
    const p = checkParams('searchPath', params);
    return this.#call('searchPath', (n) => n.searchPath(p));
  }

  /**
   * The stored vector of an id (decoded: exact for Flat codes, approximate for
   * PQ/SQ). IVF indexes get a hashtable direct map on first use (kept, and
   * written to files). Synchronous; throws ERR_BUSY while a mutation is in flight.
   */
  reconstruct(id: bigint | number): Float32Array {
    if (typeof id !== 'bigint' && !(typeof id === 'number' && Number.isSafeInteger(id))) {
      throw invalidArg('reconstruct', `id must be a bigint or a safe integer, got ${String(id)}`);
    }
    return this.#call('reconstruct', (n) => n.reconstruct(id));
  }

  /** reconstruct() for many ids: a Float32Array of ids.length * dimension. */
  reconstructBatch(ids: BigInt64Array | readonly (bigint | number)[]): Float32Array {
    const arr = toIdArray('reconstructBatch', ids);
    return this.#call('reconstructBatch', (n) => n.reconstructBatch(arr));
  }

  /**
   * What the index would store for these vectors, decoded again: the round trip through its
   * trained codec (OPQ/PCA chain, IVF assignment and residual, PQ/SQ codes; HNSW through its
   * storage). Equals reconstruct() of the same vectors once added; the index is not modified.
   */
  async quantize(vectors: Float32Array): Promise<Float32Array> {
    if (!(vectors instanceof Float32Array)) throw invalidArg('quantize', 'vectors must be a Float32Array');
    return this.#async('quantize', (n) => n.quantize(vectors));
  }

  /** Removes every vector and keeps the training (quantizers, codebooks): for re-adding all rows (HNSW cannot remove some). */
  async reset(): Promise<void> {
    await this.#async('reset', (n) => n.reset());
  }

  /**
   * IVF only: every stored id `i` becomes `mapping[i]` (codes unchanged); an id without a mapping
   * (out of range or -1) is an error. Closes the gaps removeIds leaves, so ids stay row positions.
   */
  async renumberIds(mapping: BigInt64Array): Promise<void> {
    if (!(mapping instanceof BigInt64Array)) throw invalidArg('renumberIds', 'mapping must be a BigInt64Array');
    await this.#async('renumberIds', (n) => n.renumberIds(mapping));
  }

  /** Removes the ids (unknown ids are ignored); resolves to the number removed. HNSW cannot remove. */
  async removeIds(ids: BigInt64Array | readonly (bigint | number)[]): Promise<number> {
    const arr = toIdArray('removeIds', ids);
    return this.#async('removeIds', (n) => n.removeIds(arr));
  }

  /** faiss::write_index to a file (readable by Python faiss). */
  async writeFile(path: string): Promise<void> {
    const p = checkPath('writeFile', path);
    await this.#async('writeFile', (n) => n.writeFile(p), p);
  }

  /** The bytes write_index produces (same as the file), via faiss's VectorIOWriter. */
  async toBuffer(): Promise<Buffer> {
    return this.#async('toBuffer', (n) => n.toBuffer());
  }

  /** Deep copy (faiss::clone_index, or a serialization round trip for types it lacks). Synchronous. */
  clone(): FaissIndex {
    const copy = this.#call('clone', (n) => n.clone());
    return new FaissIndex(copy, this.factoryKey);
  }

  /** Frees the index now rather than at GC; pending calls still complete. Idempotent. */
  dispose(): void {
    this.#native.dispose();
  }

  #call<T>(op: string, f: (n: NativeIndex) => T): T {
    try {
      return f(this.#native);
    } catch (err) {
      throw toFaissError(err, op);
    }
  }

  async #async<T>(op: string, f: (n: NativeIndex) => Promise<T>, path?: string): Promise<T> {
    try {
      return await f(this.#native);
    } catch (err) {
      throw toFaissError(err, op, path);
    }
  }
}

/** OpenMP threads faiss uses inside each call (process-wide; default OMP_NUM_THREADS or the core count). */
export function setThreads(n: number): void {
  checkPositiveInt('setThreads', 'threads', n);
  try {
    loadNative().setThreads(n);
  } catch (err) {
    throw toFaissError(err, 'setThreads');
  }
}

export function getThreads(): number {
  return loadNative().getThreads();
}

/** The linked faiss version, e.g. "1.7.3". */
export function faissVersion(): string {
  return loadNative().faissVersion;
}

export { FaissError };
