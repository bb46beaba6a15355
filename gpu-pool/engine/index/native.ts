// Loads the node-addon-api binding (gpu-pool/engine/native) lazily, so that importing
// this module never fails; the first use reports a missing build clearly.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FaissError } from './errors.ts';

export interface NativeSearchParams {
  nprobe?: number | undefined;
  efSearch?: number | undefined;
  kFactor?: number | undefined;
}

/** Training knobs that factory keys cannot express. */
export interface CreateOptions {
  /** OPQ rotation: alternations of rotation and PQ training (faiss default 50). */
  opqIterations?: number;
}

export interface NativeSearchResult {
  distances: Float32Array;
  labels: BigInt64Array;
}

/** One kind of k-means run that training performs (gpu-pool/engine/native/src/structure.h). */
export interface TrainingClustering {
  /** e.g. "PQ sub-quantizers", "IVF coarse quantizer", "OPQ rotation's PQ". */
  what: string;
  /** Centroids of each run (256 per 8-bit PQ sub-quantizer, nlist for IVF). */
  centroids: number;
  /** faiss warns below centroids * this many training points (39 by default). */
  minPointsPerCentroid: number;
  /** Runs of this kind in one train() (e.g. M per PQ, M per OPQ alternation). */
  runs: number;
}

/** The native `Index` object (gpu-pool/engine/native/src/index_wrap.cc). */
export interface NativeIndex {
  train(x: Float32Array, options?: { faissWarnings?: boolean }): Promise<void>;
  add(x: Float32Array, ids?: BigInt64Array): Promise<void>;
  search(q: Float32Array, k: number, params?: NativeSearchParams): Promise<NativeSearchResult>;
  reconstruct(id: bigint | number): Float32Array;
  reconstructBatch(ids: BigInt64Array): Float32Array;
  quantize(x: Float32Array): Promise<Float32Array>;
  reset(): Promise<void>;
  renumberIds(mapping: BigInt64Array): Promise<void>;
  removeIds(ids: BigInt64Array): Promise<number>;
  writeFile(path: string): Promise<void>;
  toBuffer(): Promise<Buffer>;
  clone(): NativeIndex;
  dispose(): void;
  searchSync(q: Float32Array, k: number, params?: NativeSearchParams): { distances: Float32Array; labels: BigInt64Array };
  searchPath(params?: NativeSearchParams): 'per-call' | 'fallback';
  readonly ntotal: number;
  readonly d: number;
  readonly isTrained: boolean;
  /** The clusterings the next train() runs; empty once trained. */
  readonly trainingClusterings: TrainingClustering[];
  readonly metric: 'ip' | 'l2' | 'other';
  readonly description: string;
  readonly disposed: boolean;
  readonly readOnly: boolean;
}

export interface NativeModule {
  create(d: number, factoryKey: string, metric: 'ip' | 'l2', options?: CreateOptions): NativeIndex;
  readFile(path: string, opts?: { mmap?: boolean }): Promise<NativeIndex>;
  fromBuffer(buf: Uint8Array): Promise<NativeIndex>;
  setThreads(n: number): void;
  getThreads(): number;
  /** ColBERT MaxSim scores, one per passage (gpu-pool/engine/native/src/maxsim.cc); see maxsim.ts. */
  maxSim(queries: Float32Array, dim: number, docTokens: Float32Array, docOffsets: Uint32Array): Float32Array;
  /** op(a) · op(b), row-major (gpu-pool/engine/native/src/matmul.cc); see matmul.ts. */
  matmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number, transA: boolean, transB: boolean): Float32Array;
  /** k-means with faiss::Clustering, on a pool thread (gpu-pool/engine/native/src/kmeans.cc); see kmeans.ts. */
  kmeans(x: Float32Array, d: number, k: number, options?: NativeKmeansOptions): Promise<{ centroids: Float32Array; objective: number }>;
  /** Nearest centroid by inner product (gpu-pool/engine/native/src/residual.cc); see residual.ts. */
  assignCentroids(x: Float32Array, dim: number, centroids: Float32Array): Uint32Array;
  residualEncode(x: Float32Array, codec: NativeResidualCodec & { cutoffs: Float32Array }): { codes: Uint32Array; residuals: Uint8Array };
  residualDecode(codec: NativeResidualCodec & { weights: Float32Array }, codes: Uint32Array, residuals: Uint8Array): Float32Array;
  maxSimResidual(queries: Float32Array, store: NativeResidualTokens, ordinals: Uint32Array): Float32Array;
  plaidCandidates(
    queries: Float32Array,
    store: NativePlaidStore,
    nprobe: number,
    limit: number,
    threshold?: number,
    pruneKeep?: number,
  ): { ordinals: Uint32Array; scores: Float32Array };
  readonly faissVersion: string;
}

export interface NativeKmeansOptions {
  niter?: number;
  seed?: number;
  spherical?: boolean;
  metric?: 'ip' | 'l2';
  maxPointsPerCentroid?: number;
}

/** A residual codec as the native code reads it (residual.cc). */
export interface NativeResidualCodec {
  dim: number;
  bits: number;
  /** K × dim. */
  centroids: Float32Array;
}

/** Compressed passages as the native code reads them (residual.cc). */
export interface NativeResidualTokens extends NativeResidualCodec {
  /** dim × 2^bits. */
  weights: Float32Array;
  codes: Uint32Array;
  residuals: Uint8Array;
  docOffsets: Uint32Array;
}

export interface NativePlaidStore extends NativeResidualCodec {
  codes: Uint32Array;
  docOffsets: Uint32Array;
  ivfOffsets: Uint32Array;
  ivfDocs: Uint32Array;
}

/** The addon linked against Debian's libfaiss-dev: every machine builds it. */
export const ADDON_PATH = fileURLToPath(new URL('../native/build/Release/faiss_node.node', import.meta.url));
/** The addon linked against the AVX2 faiss scripts/build-faiss makes, when that build exists. */
export const AVX2_ADDON_PATH = fileURLToPath(new URL('../native/build/Release/faiss_node_avx2.node', import.meta.url));

/** Which faiss build the engine loads: EDGESEARCH_FAISS=debian|avx2 forces one (default: avx2 where built and the CPU has AVX2). */
export type FaissBuild = 'debian' | 'avx2';

function cpuHasAvx2(): boolean {
  try {
    return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export function chosenAddon(env: NodeJS.ProcessEnv = process.env): { build: FaissBuild; path: string } {
  const asked = env.EDGESEARCH_FAISS;
  if (asked !== undefined && asked !== '' && asked !== 'debian' && asked !== 'avx2') {
    throw new FaissError(`EDGESEARCH_FAISS must be "debian" or "avx2", got ${JSON.stringify(asked)}`, { code: 'ERR_NATIVE_MISSING' });
  }
  if (asked === 'avx2') {
    if (!existsSync(AVX2_ADDON_PATH)) {
      throw new FaissError(
        `EDGESEARCH_FAISS=avx2 but ${AVX2_ADDON_PATH} is not built: run scripts/build-faiss, then \`npm run install\``,
        { code: 'ERR_NATIVE_MISSING' },
      );
    }
    return { build: 'avx2', path: AVX2_ADDON_PATH };
  }
  if (asked !== 'debian' && existsSync(AVX2_ADDON_PATH) && cpuHasAvx2()) return { build: 'avx2', path: AVX2_ADDON_PATH };
  return { build: 'debian', path: ADDON_PATH };
}

let cached: NativeModule | undefined;
let loadedBuild: FaissBuild | undefined;

/** The faiss build this process loaded (loads it if needed). */
export function faissBuild(): FaissBuild {
  loadNative();
  return loadedBuild!;
}

export function loadNative(): NativeModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const { build, path } = chosenAddon();
  if (!existsSync(path)) {
    throw new FaissError(
      `the faiss binding is not built (${path} is missing). Run \`npm ci\` (its install script builds it) ` +
        'or `npm run install` / `node-gyp rebuild --directory gpu-pool/engine/native`; it needs libfaiss-dev, ' +
        'libopenblas-dev and a C++17 compiler (see gpu-pool/engine/native/README.md)',
      { code: 'ERR_NATIVE_MISSING' },
    );
  }
  try {
    cached = require(path) as NativeModule;
    loadedBuild = build;
  } catch (err) {
    throw new FaissError(
      `cannot load the faiss binding ${path}: ${(err as Error).message}. ` +
        'Rebuild it with `npm run install -- --force` (node-gyp rebuild --directory gpu-pool/engine/native)',
      { code: 'ERR_NATIVE_MISSING', cause: err },
    );
  }
  return cached;
}
