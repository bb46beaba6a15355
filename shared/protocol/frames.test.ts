// The frame types are inferred from the zod schemas (frames.ts). These tests pin what that
// must not change: the wire bytes, the generators' coverage of every schema field (so the
// property and fuzz tests exercise each one), strictness at every level, and the types'
// narrowing (Float32Array vectors, literal discriminants).
import { createHash } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { Rng, frame as randomFrame } from './arbitrary.test-support.ts';
import {
  DEFAULT_LIMITS,
  FRAME_TYPES,
  ProtocolError,
  decodeFrame,
  encodeFrame,
  frameSchemas,
  validateFrame,
  type Frame,
  type FrameOf,
  type FrameType,
  type ResultFrame,
  type SearchFrame,
  type ShardMode,
  type ShardQuery,
  type Timings,
  type WireQuery,
} from './index.ts';

// One frame of each type using every optional field somewhere; the result frame has no
// evidenceMs, i.e. it is a frame from before that field existed.
const FIXED: Frame[] = [
  {
    v: 1,
    type: 'search',
    batchId: 'b1',
    deadline: 1700000000000,
    queries: [
      { id: 'q1', mode: 'hybrid', k: 10, text: 'what is é?', params: { nprobe: 8, weights: { dense: 0.7, bm25: 0.3 } } },
      { id: 'q2', mode: 'dense', k: 3, vector: new Float32Array([1, -0, 0.5]) },
    ],
  },
  {
    v: 1,
    type: 'result',
    batchId: 'b1',
    indexVersion: 'v7',
    versionLeaseMs: 5000,
    results: [
      { id: 'q1', hits: [{ docId: 'd1', score: 0.25, shard: 2, title: 'T', text: 'x', branches: { dense: { score: 1.5, rank: 1 } } }], partial: { missingShards: [0] } },
      { id: 'q2', hits: [], error: { code: 'deadline', message: 'late' } },
    ],
    timings: { queueMs: 0, encodeMs: 1.25, searchMs: 7, mergeMs: 0.5, totalMs: 9.75 },
  },
  {
    v: 1,
    type: 'shard-search',
    batchId: 'b1',
    deadline: 0,
    shard: 3,
    queries: [
      { id: 'q1.d', mode: 'dense', k: 640, vector: new Float32Array([2]) },
      { id: 'q1.b', mode: 'bm25', k: 5, text: 'x', params: { k1: 1.2, b: 0.75 } },
    ],
  },
  { v: 1, type: 'shard-result', batchId: 'b1', shard: 3, version: 'v7', leaseMs: 100, results: [{ id: 'q1.d', hits: [{ ordinal: 4, score: -1 }] }] },
  {
    v: 1,
    type: 'shard-score',
    batchId: 'b1',
    deadline: 1700000000000,
    shard: 3,
    queries: [{ id: 'q1.r', method: 'colbert', tokens: { rows: 2, dim: 2, data: new Float32Array([1, 0, 0.5, -0.5]) }, ordinals: [4, 9] }],
  },
  { v: 1, type: 'shard-score-result', batchId: 'b1', shard: 3, version: 'v7', results: [{ id: 'q1.r', scores: [1.5, -0.25] }] },
  { v: 1, type: 'evidence', batchId: 'b1', shard: 3, ordinals: [4, 70000] },
  { v: 1, type: 'evidence-result', batchId: 'b1', shard: 3, version: 'v7', passages: [{ ordinal: 4, docId: 'd1', title: '', text: 'passage' }] },
  { v: 1, type: 'lease', batchId: 'l1', deadline: 1700000000000 },
  { v: 1, type: 'lease-result', batchId: 'l1', indexVersion: 'v7', versionLeaseMs: 1000 },
  { v: 1, type: 'shard-lease', batchId: 'l1', deadline: 1700000000000, shard: 3 },
  { v: 1, type: 'shard-lease-result', batchId: 'l1', shard: 3, version: 'v7', leaseMs: 0 },
  { v: 1, type: 'error', code: 'overloaded', message: 'busy', batchId: 'b1', retryAfterMs: 250 },
];

// SHA-256 of each FIXED frame's encoding, computed with the hand-written-types version of
// frames.ts that preceded the inferred types: peers on either version must read each other.
// (The lease and shard-score frames came later: pinned from their first version.)
const WIRE_SHA256: Record<FrameType, string> = {
  search: '2aacf93d4e3382bd8e54d94e676e514d025528074ac758a3ad2b8198ba37abef',
  result: 'd7d327392d6da44bccff5e64804205087ad0d4b7dd63f7eadcbe05823f01a33a',
  'shard-search': '0cd0d3538404fdbcfef48582a43ce03a903919bbf71980390eab24f517852df7',
  'shard-result': 'e815e7d68c36eac8694a6b6091ad46dcb16785f73af130eac6de911823a8bef7',
  'shard-score': '2a2dda2a6d922cf0f935adea783ef4678f94975a87729f35305a63987e9fa98a',
  'shard-score-result': '6ecb3602c872958de0fe164f3ee015c52187f17a39ed8d5ab5065281a0770d46',
  evidence: '296a71a4e6ce918af38e4a3a3cf4d4ab05a9458b425b1c626cab2b0b9535deb6',
  'evidence-result': '84add27886c4f325df7b476e269342c4e436e4fd1f50e90c22975e04a889689c',
  lease: '0fc0fc4c88f74d1b75edefdf4ade41b7f336137d1a60a8d205ff5246deff6db9',
  'lease-result': 'eb1579208271af1492f87a5b7793a3bd6c37df3b025edca213b56a656a17e945',
  'shard-lease': '245026f3871f12a5faba5aa51b87b9d2d63347a522c9864709fefa7ddea39f0f',
  'shard-lease-result': 'bf6cf9f03071c3a1ec1e71332085cbc5cd6d67fc7335c5d6d5efdc9e4303d648',
  error: '05755f55494da475335b9f18dbcf829c2b61c841c8e133241476d6a703828e58',
};

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('wire format', () => {
  it('covers every frame type', () => {
    expect(FIXED.map((f) => f.type).sort()).toEqual([...FRAME_TYPES].sort());
  });

  it.each(FIXED.map((f) => [f.type, f] as const))('%s frames encode to the same bytes as before, and re-encode identically after decoding', (type, f) => {
    const bytes = encodeFrame(f);
    expect(sha256(bytes)).toBe(WIRE_SHA256[type]);
    // Decoding rebuilds the object in the schema's key order; the bytes must not move.
    expect(sha256(encodeFrame(decodeFrame(bytes, { expect: [type] })))).toBe(WIRE_SHA256[type]);
  });
});

// Every field path a schema allows ("queries[].params.weights.dense"), read through zod's
// public API: objects by shape, arrays by element, optionals unwrapped; anything else (numbers,
// strings, enums, the vector's bytes→Float32Array pipe) is a leaf; an object piped into a
// decoder (token vectors) is read by its input shape.
function schemaPaths(schema: z.ZodType, prefix = '', out = new Set<string>()): Set<string> {
  if (schema instanceof z.ZodOptional) return schemaPaths(schema.unwrap() as z.ZodType, prefix, out);
  if (schema instanceof z.ZodPipe && schema.in instanceof z.ZodObject) return schemaPaths(schema.in as z.ZodType, prefix, out);
  if (schema instanceof z.ZodArray) return schemaPaths(schema.element as z.ZodType, `${prefix}[]`, out);
  if (schema instanceof z.ZodObject) {
    for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      schemaPaths(field, path, out);
    }
  }
  return out;
}

// The same paths, as present in a frame value.
function valuePaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) valuePaths(item, `${prefix}[]`, out);
  else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const [key, field] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      valuePaths(field, path, out);
    }
  }
  return out;
}

const PER_TYPE = 400;

describe('the random-frame generators cover every schema field', () => {
  const schemas = frameSchemas(DEFAULT_LIMITS);

  it.each([...FRAME_TYPES])('%s', (type) => {
    const rng = new Rng(0xf1e1d + FRAME_TYPES.indexOf(type));
    const generated = new Set<string>();
    for (let i = 0; i < PER_TYPE; i++) valuePaths(randomFrame(rng, type), '', generated);
    const allowed = schemaPaths(schemas[type]);
    // A field added to the schema but not to arbitrary.test-support.ts would go untested by
    // the property and fuzz suites; one the schema lacks would make every frame invalid.
    expect([...allowed].filter((p) => !generated.has(p)), 'schema fields never generated').toEqual([]);
    expect([...generated].filter((p) => !allowed.has(p)), 'generated fields the schema lacks').toEqual([]);
  });

  it('sees nested optional fields, so the check above is not vacuous', () => {
    const paths = schemaPaths(schemas.result);
    expect(paths).toContain('results[].hits[].branches.bm25.rank');
    expect(paths).toContain('timings.evidenceMs');
    expect(schemaPaths(schemas.search)).toContain('queries[].params.weights.dense');
  });
});

/** Adds `zz` to the first object found at `path` ("queries[].params") in a copy of `f`. */
function withExtraKey(f: Frame, path: string): unknown | undefined {
  const copy = structuredClone(f) as unknown;
  const segments = path === '' ? [] : path.split('.');
  let placed = false;
  const visit = (node: unknown, i: number): void => {
    if (placed) return;
    if (Array.isArray(node)) return node.forEach((item) => visit(item, i));
    if (typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) return;
    if (i === segments.length) {
      (node as Record<string, unknown>).zz = 1;
      placed = true;
      return;
    }
    const seg = segments[i].replace(/\[\]$/, '');
    visit((node as Record<string, unknown>)[seg], i + 1);
  };
  visit(copy, 0);
  return placed ? copy : undefined;
}

describe('every map in every frame is strict', () => {
  const schemas = frameSchemas(DEFAULT_LIMITS);

  it.each([...FRAME_TYPES])('%s: an unknown key is refused at each level', (type) => {
    // The frame itself ('') and every field; withExtraKey skips those that hold no map.
    const objects = ['', ...schemaPaths(schemas[type])];
    const rng = new Rng(0x57c7 + FRAME_TYPES.indexOf(type));
    const samples = Array.from({ length: 200 }, () => randomFrame(rng, type));
    let checked = 0;
    for (const path of objects) {
      const bad = samples.map((f) => withExtraKey(f, path)).find((x) => x !== undefined);
      if (bad === undefined) continue; // a leaf, or never an object in the samples
      const err = (() => {
        try {
          validateFrame(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, `zz under ${path || 'the frame'}`).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('bad-frame');
      expect((err as ProtocolError).message).toMatch(/zz: unknown key$/);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe('timings.evidenceMs', () => {
  const base = FIXED.find((f): f is ResultFrame => f.type === 'result')!;
  const withEvidence = (evidenceMs: unknown) => ({ ...base, timings: { ...base.timings, evidenceMs } });

  it('round-trips beside mergeMs', () => {
    const f = withEvidence(3.5) as ResultFrame;
    const back = decodeFrame(encodeFrame(f), { expect: ['result'] });
    expect(back.timings).toEqual({ queueMs: 0, encodeMs: 1.25, searchMs: 7, mergeMs: 0.5, evidenceMs: 3.5, totalMs: 9.75 });
  });

  it('is optional: a frame without it decodes without the key', () => {
    const back = decodeFrame(encodeFrame(base), { expect: ['result'] });
    expect(Object.keys(back.timings)).not.toContain('evidenceMs');
  });

  it.each([
    [-1, /timings\.evidenceMs: must be at least 0/],
    ['3', /timings\.evidenceMs: expected number, got string/],
  ])('refuses %j', (value, message) => {
    expect(() => validateFrame(withEvidence(value))).toThrow(message);
  });
});

describe('types inferred from the schemas', () => {
  it('keep vectors as Float32Array, modes and discriminants as literals', () => {
    // Checked by tsc (npx tsc --noEmit); vitest runs these as no-ops.
    expectTypeOf<WireQuery['vector']>().toEqualTypeOf<Float32Array | undefined>();
    expectTypeOf<ShardQuery['vector']>().toEqualTypeOf<Float32Array | undefined>();
    expectTypeOf<WireQuery['mode']>().toEqualTypeOf<'dense' | 'bm25' | 'hybrid' | 'colbert' | 'phrase' | 'conversational'>();
    expectTypeOf<ShardMode>().toEqualTypeOf<'dense' | 'bm25' | 'colbert' | 'phrase'>();
    expectTypeOf<FrameOf<'result'>>().toEqualTypeOf<ResultFrame>();
    expectTypeOf<Frame['v']>().toEqualTypeOf<1>();
    expectTypeOf<Timings>().toEqualTypeOf<{
      queueMs: number;
      encodeMs: number;
      searchMs: number;
      mergeMs: number;
      evidenceMs?: number | undefined;
      totalMs: number;
    }>();
    // An unknown field is a compile error, as it is a decode error.
    // @ts-expect-error bogusMs is not a field of Timings
    const t: Timings = { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 0, bogusMs: 1 };
    // And the runtime agrees with the compile-time check.
    expect(() => validateFrame({ ...FIXED[1], timings: t })).toThrow(/timings\.bogusMs: unknown key/);
  });
});

describe('token vectors in frames (late interaction)', () => {
  const search = (tokens: unknown, extra: object = {}) => ({ v: 1, type: 'search', batchId: 'b', deadline: 1, queries: [{ id: 'q', mode: 'colbert', k: 5, tokens, ...extra }] });
  const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

  it('decode float32 and float16 bytes to rows × dim float32', () => {
    const a = validateFrame(search({ dim: 2, data: f32([1, 0, 0, 1, 0.5, 0.5]) })) as SearchFrame;
    expect(a.queries[0].tokens).toMatchObject({ rows: 3, dim: 2 });
    expect([...a.queries[0].tokens!.data]).toEqual([1, 0, 0, 1, 0.5, 0.5]);
    const half = new Uint8Array([0x00, 0x3c, 0x00, 0xb8]); // 1, -0.5
    const b = validateFrame(search({ dim: 1, dtype: 'f16', data: half })) as SearchFrame;
    expect([...b.queries[0].tokens!.data]).toEqual([1, -0.5]);
  });

  it('refuse bytes that are not whole vectors, a wrong row count, non-finite values, and too many tokens (as a limit)', () => {
    expect(() => validateFrame(search({ dim: 3, data: f32([1, 2, 3, 4]) }))).toThrow(/tokens\.data: 16 bytes are not whole 3-d f32 vectors/);
    expect(() => validateFrame(search({ dim: 2, rows: 3, data: f32([1, 2]) }))).toThrow(/tokens\.rows: says 3 rows, data holds 1/);
    expect(() => validateFrame(search({ dim: 1, data: f32([1, Number.NaN]) }))).toThrow(/component 1 is NaN/);
    const many = f32(new Array(DEFAULT_LIMITS.maxQueryTokens + 1).fill(0.5));
    expect(() => validateFrame(search({ dim: 1, data: many }))).toThrow(/at most 512 token vectors/);
    try {
      decodeFrame(encodeFrame(search({ rows: 513, dim: 1, data: new Float32Array(513) }) as Frame));
      expect.fail('decoded');
    } catch (err) {
      expect((err as ProtocolError).code).toBe('limit');
    }
  });

  it('need text or tokens for colbert and for a re-ranked query', () => {
    expect(() => validateFrame({ v: 1, type: 'search', batchId: 'b', deadline: 1, queries: [{ id: 'q', mode: 'colbert', k: 5 }] })).toThrow(/needs text or tokens \(mode "colbert"\)/);
    expect(() => validateFrame({ v: 1, type: 'search', batchId: 'b', deadline: 1, queries: [{ id: 'q', mode: 'dense', k: 5, vector: new Float32Array(4), rerank: { method: 'colbert' } }] })).toThrow(/needs text or tokens \(rerank\)/);
    const ok = validateFrame({ v: 1, type: 'search', batchId: 'b', deadline: 1, queries: [{ id: 'q', mode: 'bm25', k: 5, text: 'x', rerank: { method: 'colbert' } }] }) as SearchFrame;
    expect(ok.queries[0].rerank).toEqual({ method: 'colbert', depth: 100, fuse: false });
    expect(() => validateFrame({ v: 1, type: 'search', batchId: 'b', deadline: 1, queries: [{ id: 'q', mode: 'bm25', k: 5, text: 'x', rerank: { method: 'colbert', depth: 1001 } }] })).toThrow(/rerank\.depth/);
  });
});
