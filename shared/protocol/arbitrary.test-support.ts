// Test support (not part of the public surface): a seeded PRNG, generators of random valid
// frames, and an exact comparison. No property-testing dependency: the generators know the
// schema's bounds, which is what makes the frames valid by construction.
import { DEFAULT_LIMITS, type ProtocolLimits } from './limits.ts';
import type { Frame, FrameType, QueryParams, QueryTokens, RerankParams, ShardQuery, WireHit, WireQuery, WireResult } from './index.ts';
import { ERROR_CODES, maxShardK, maxShardQueries } from './frames.ts';

/** sfc32: small, fast, good enough statistics for test data, and reproducible from a seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi], exact up to 2^53. */
  int(lo: number, hi: number): number {
    const span = hi - lo + 1;
    if (span <= 4294967296) return lo + Math.floor(this.next() * span);
    const r = (this.u32() * 2097152 + (this.u32() >>> 11)) / 9007199254740992;
    return lo + Math.floor(r * span);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }

  /** Small sizes mostly, now and then the edge of the range. */
  size(lo: number, hi: number): number {
    const r = this.next();
    if (r < 0.05) return lo;
    if (r < 0.08) return hi;
    return this.int(lo, Math.min(hi, lo + (r < 0.9 ? 4 : 40)));
  }
}

const PIECES = ['a', 'b', 'z', 'Q', '0', '9', ' ', '-', '.', '"', '\\', '\n', '\u0000', 'é', 'ß', 'Ω', '中', '文', '😀', '🦀', '\u200b'];

/** A string of valid Unicode (no lone surrogates) whose .length is within [min, max]. */
export function str(rng: Rng, min: number, max: number): string {
  const target = rng.size(min, max);
  let out = '';
  while (out.length < target) {
    const piece = rng.pick(PIECES);
    if (out.length + piece.length > max) break;
    out += piece;
  }
  while (out.length < min) out += 'x';
  return out;
}

const f64 = new DataView(new ArrayBuffer(8));

/** A finite number from several distributions; never -0 (msgpack ints carry no sign for 0). */
export function finite(rng: Rng): number {
  let x: number;
  switch (rng.int(0, 6)) {
    case 0:
      x = rng.int(-1000, 1000);
      break;
    case 1:
      x = rng.int(0, 0xffffffff);
      break;
    case 2:
      x = rng.int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      break;
    case 3:
      x = rng.next() * 2 - 1;
      break;
    case 4:
      x = rng.pick([Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 1e-300, 0.1, 1 / 3, 2 ** 31, -(2 ** 31) - 1, 2 ** 32]);
      break;
    default:
      do {
        f64.setUint32(0, rng.u32());
        f64.setUint32(4, rng.u32());
        x = f64.getFloat64(0);
      } while (!Number.isFinite(x));
  }
  return Object.is(x, -0) ? 0 : x;
}

export function nonNegative(rng: Rng): number {
  return Math.abs(finite(rng));
}

function between(rng: Rng, lo: number, hi: number, int: boolean): number {
  if (int) return rng.int(lo, hi);
  const r = rng.next();
  return r < 0.1 ? lo : r < 0.2 ? hi : lo + rng.next() * (hi - lo);
}

const f32 = new DataView(new ArrayBuffer(4));

/** Random finite float32 bits (subnormals and -0 included: vectors travel as raw bytes). */
export function vector(rng: Rng, maxDim: number): Float32Array {
  const dim = rng.bool(0.05) ? Math.min(maxDim, rng.int(1, 1024)) : rng.size(1, maxDim);
  // Sometimes a view at an offset into a bigger buffer, as the router's subarray() gives.
  const pad = rng.bool(0.3) ? rng.int(1, 3) : 0;
  const out = new Float32Array(dim + pad * 2).subarray(pad, pad + dim);
  for (let i = 0; i < dim; i++) {
    let x: number;
    do {
      f32.setUint32(0, rng.bool(0.5) ? rng.u32() : 0);
      x = f32.getFloat32(0);
      if (rng.bool(0.5)) x = Math.fround(rng.next() * 2 - 1);
    } while (!Number.isFinite(x));
    out[i] = x;
  }
  return out;
}

export function params(rng: Rng): QueryParams {
  const p: QueryParams = {};
  if (rng.bool(0.3)) p.nprobe = between(rng, 1, 65536, true);
  if (rng.bool(0.3)) p.efSearch = between(rng, 1, 65536, true);
  if (rng.bool(0.3)) p.windowFactor = between(rng, 1, 64, true);
  if (rng.bool(0.3)) p.refineFactor = between(rng, 1, 64, false);
  if (rng.bool(0.3)) p.rrfK = between(rng, 0, 10000, false);
  if (rng.bool(0.3)) p.fusion = rng.pick(['rrf', 'minmax', 'zscore'] as const);
  if (rng.bool(0.3)) {
    p.weights = {};
    if (rng.bool()) p.weights.dense = between(rng, 0, 100, false);
    if (rng.bool()) p.weights.bm25 = between(rng, 0, 100, false);
    if (rng.bool(0.2)) p.weights.sentence = between(rng, 0, 100, false);
    if (rng.bool(0.2)) p.weights.context = between(rng, 0, 100, false);
    if (rng.bool(0.2)) p.weights.overlap = between(rng, 0, 100, false);
  }
  if (rng.bool(0.3)) p.depth = between(rng, 1, 10000, true);
  if (rng.bool(0.3)) p.k1 = between(rng, 0, 10, false);
  if (rng.bool(0.3)) p.b = between(rng, 0, 1, false);
  if (rng.bool(0.3)) p.candidates = between(rng, 1, 10000, true);
  if (rng.bool(0.2)) p.unit = rng.pick(['phrase', 'sentence', 'passage', 'document'] as const);
  if (rng.bool(0.2)) p.policy = rng.pick(['raw', 'concat', 'concat+responses', 'first', `window:${rng.int(1, 999)}`]);
  return p;
}

/** A phrase query's start and end vectors (one dimension). */
export function phraseVectors(rng: Rng, maxDim: number): { start: Float32Array; end: Float32Array } {
  const start = vector(rng, maxDim);
  const end = vector(rng, maxDim);
  // Both the same length: copy what fits of one into a vector of the other's length.
  const e = new Float32Array(start.length);
  e.set(end.subarray(0, Math.min(end.length, start.length)));
  return { start, end: e };
}

/** A phrase or sentence hit's place in its passage. */
function span(rng: Rng): { start: number; end: number; text: string } {
  const start = rng.int(0, 5000);
  return { start, end: start + rng.int(0, 300), text: text(rng) };
}

/** A query's token vectors: a few rows of one dimension, within the limits. */
export function tokens(rng: Rng, limits: ProtocolLimits): QueryTokens {
  const dim = rng.size(1, Math.min(limits.maxVectorDim, 16));
  const rows = rng.size(0, Math.min(limits.maxQueryTokens, 6));
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = Math.fround(rng.next() * 2 - 1);
  // Senders write float32 (float16 is a wire option for clients, decoded in vectors.test.ts).
  return { rows, dim, data, ...(rng.bool(0.3) ? { dtype: 'f32' as const } : {}) };
}

function rerank(rng: Rng): RerankParams {
  const r: RerankParams = { method: 'colbert', depth: rng.size(1, 1000), fuse: rng.bool() };
  if (rng.bool(0.3)) r.weight = between(rng, 0, 1, false);
  return r;
}

const id = (rng: Rng, i: number) => `${str(rng, 0, 100)}#${i}`;
const batchId = (rng: Rng) => str(rng, 1, 128);
const version = (rng: Rng) => str(rng, 1, 256);
const docId = (rng: Rng) => str(rng, 1, 60);
const text = (rng: Rng) => str(rng, 0, 300);
const uint = (rng: Rng) => rng.pick([0, 1, rng.int(0, 100), rng.int(0, Number.MAX_SAFE_INTEGER)]);
// Version promises are bounded to a day (frames.ts).
const leaseMs = (rng: Rng) => rng.pick([0, rng.int(1, 60000), between(rng, 0, 86_400_000, false)]);
const deadline = (rng: Rng) => rng.pick([Date.now() + rng.int(0, 60000), 0, nonNegative(rng)]);

/** A random frame of the given type, valid under `limits` by construction. */
export function frame(rng: Rng, type: FrameType, limits: ProtocolLimits = DEFAULT_LIMITS): Frame {
  const shortList = (max: number) => rng.size(0, Math.min(max, 12));
  switch (type) {
    case 'search': {
      const n = rng.size(1, Math.min(limits.maxQueries, 12));
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        deadline: deadline(rng),
        queries: Array.from({ length: n }, (_, i) => {
          const mode = rng.pick(['dense', 'bm25', 'hybrid', 'colbert', 'phrase', 'conversational'] as const);
          const withText = mode === 'bm25' || mode === 'hybrid' || mode === 'conversational' || rng.bool();
          const q: WireQuery = { id: id(rng, i), mode, k: rng.size(1, limits.maxK) };
          if (withText) q.text = str(rng, 1, limits.maxQueryChars);
          if ((mode === 'dense' && !withText) || rng.bool(0.4)) q.vector = vector(rng, limits.maxVectorDim);
          if ((mode === 'colbert' && !withText) || rng.bool(0.2)) q.tokens = tokens(rng, limits);
          if ((mode === 'phrase' && !withText) || rng.bool(0.2)) q.phrase = phraseVectors(rng, limits.maxVectorDim);
          if (rng.bool(0.4)) q.params = params(rng);
          if (mode === 'conversational' && q.params) delete q.params.policy;
          if (rng.bool(0.2) && (withText || q.tokens)) q.rerank = rerank(rng);
          if (withText && rng.bool(0.2)) q.context = Array.from({ length: rng.size(0, 4) }, () => (rng.bool() ? { query: str(rng, 1, 200), response: str(rng, 0, 300) } : { query: str(rng, 1, 200) }));
          return q;
        }),
      };
    }
    case 'shard-search': {
      const n = rng.size(1, Math.min(maxShardQueries(limits), 12));
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        deadline: deadline(rng),
        shard: uint(rng),
        queries: Array.from({ length: n }, (_, i) => {
          const mode = rng.pick(['dense', 'bm25', 'colbert', 'phrase'] as const);
          const q: ShardQuery = { id: id(rng, i), mode, k: rng.size(1, maxShardK(limits)) };
          if (mode === 'dense' || rng.bool(0.2)) q.vector = vector(rng, limits.maxVectorDim);
          if (mode === 'bm25' || rng.bool(0.2)) q.text = str(rng, 1, limits.maxQueryChars);
          if (mode === 'colbert' || rng.bool(0.2)) q.tokens = tokens(rng, limits);
          if (mode === 'phrase' || rng.bool(0.2)) q.phrase = phraseVectors(rng, limits.maxVectorDim);
          if (rng.bool(0.4)) q.params = params(rng);
          return q;
        }),
      };
    }
    case 'result':
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        indexVersion: version(rng),
        ...(rng.bool(0.3) ? { versionLeaseMs: leaseMs(rng) } : {}),
        results: Array.from({ length: shortList(limits.maxQueries) }, (_, i) => {
          const r: WireResult = {
            id: id(rng, i),
            hits: Array.from({ length: shortList(limits.maxK) }, () => {
              const hit: WireHit = {
                docId: docId(rng),
                score: finite(rng),
                shard: uint(rng),
                title: text(rng),
                text: text(rng),
              };
              if (rng.bool(0.3)) hit.span = span(rng);
              if (rng.bool(0.3)) {
                hit.branches = {};
                if (rng.bool()) hit.branches.dense = { score: finite(rng), rank: rng.int(1, 10000) };
                if (rng.bool()) hit.branches.bm25 = { score: finite(rng), rank: rng.int(1, 10000) };
                if (rng.bool(0.3)) hit.branches.first = { score: finite(rng), rank: rng.int(1, 10000) };
                if (rng.bool(0.3)) hit.branches.rerank = { score: finite(rng), rank: rng.int(1, 10000) };
              }
              return hit;
            }),
          };
          if (rng.bool(0.2)) r.partial = { missingShards: Array.from({ length: rng.size(0, 8) }, () => uint(rng)) };
          if (rng.bool(0.1)) r.error = { code: rng.pick(ERROR_CODES), message: str(rng, 0, 200) };
          return r;
        }),
        timings: {
          queueMs: nonNegative(rng),
          encodeMs: nonNegative(rng),
          searchMs: nonNegative(rng),
          mergeMs: nonNegative(rng),
          ...(rng.bool() ? { evidenceMs: nonNegative(rng) } : {}),
          totalMs: nonNegative(rng),
        },
      };
    case 'shard-result':
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        shard: uint(rng),
        version: version(rng),
        ...(rng.bool() ? { indexVersion: version(rng) } : {}),
        ...(rng.bool(0.3) ? { leaseMs: leaseMs(rng) } : {}),
        results: Array.from({ length: shortList(maxShardQueries(limits)) }, (_, i) => ({
          id: id(rng, i),
          hits: Array.from({ length: shortList(maxShardK(limits)) }, () => ({
            ordinal: uint(rng),
            score: finite(rng),
            ...(rng.bool(0.3) ? { span: span(rng) } : {}),
            ...(rng.bool(0.3) ? { group: text(rng) } : {}),
          })),
        })),
      };
    case 'shard-score':
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        deadline: deadline(rng),
        shard: uint(rng),
        ...(rng.bool() ? { version: version(rng) } : {}),
        queries: Array.from({ length: rng.size(1, Math.min(limits.maxQueries, 12)) }, (_, i) => ({
          id: id(rng, i),
          method: 'colbert' as const,
          tokens: tokens(rng, limits),
          ordinals: Array.from({ length: rng.size(1, 40) }, () => uint(rng)),
        })),
      };
    case 'shard-score-result':
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        shard: uint(rng),
        version: version(rng),
        results: Array.from({ length: shortList(limits.maxQueries) }, (_, i) => ({ id: id(rng, i), scores: Array.from({ length: shortList(1000) }, () => finite(rng)) })),
      };
    case 'evidence':
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        shard: uint(rng),
        ...(rng.bool() ? { version: version(rng) } : {}),
        ordinals: Array.from({ length: rng.size(1, Math.min(limits.maxOrdinals, 40)) }, () => uint(rng)),
      };
    case 'evidence-result':
      return {
        v: 1,
        type,
        batchId: batchId(rng),
        shard: uint(rng),
        version: version(rng),
        passages: Array.from({ length: shortList(limits.maxOrdinals) }, () => ({ ordinal: uint(rng), docId: docId(rng), title: text(rng), text: text(rng) })),
      };
    case 'lease':
      return { v: 1, type, batchId: batchId(rng), deadline: deadline(rng) };
    case 'lease-result':
      return { v: 1, type, batchId: batchId(rng), indexVersion: version(rng), versionLeaseMs: leaseMs(rng) };
    case 'shard-lease':
      return { v: 1, type, batchId: batchId(rng), deadline: deadline(rng), shard: uint(rng) };
    case 'shard-lease-result':
      return { v: 1, type, batchId: batchId(rng), shard: uint(rng), version: version(rng), ...(rng.bool() ? { indexVersion: version(rng) } : {}), leaseMs: leaseMs(rng) };
    case 'error': {
      const f: Frame = { v: 1, type, code: rng.pick(ERROR_CODES), message: str(rng, 0, 300) };
      if (rng.bool()) f.batchId = batchId(rng);
      if (rng.bool()) f.queryId = id(rng, 0);
      if (rng.bool()) f.retryAfterMs = nonNegative(rng);
      return f;
    }
  }
}

/**
 * Exact structural equality: same own keys, numbers by Object.is, Float32Arrays bit for bit.
 * Returns the path of the first difference, or null.
 */
export function difference(a: unknown, b: unknown, path = 'frame'): string | null {
  if (a instanceof Float32Array || b instanceof Float32Array) {
    if (!(a instanceof Float32Array && b instanceof Float32Array) || a.length !== b.length) return path;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `${path}[${i >> 2}] (bits)`;
    return null;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return path;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join('\u0001') !== kb.join('\u0001')) return `${path} (keys ${ka.join(',')} vs ${kb.join(',')})`;
    for (const k of ka) {
      const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path} (${String(a)} vs ${String(b)})`;
}
