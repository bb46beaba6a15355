import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { difference } from './arbitrary.test-support.ts';
import {
  DEFAULT_LIMITS,
  MAX_ERROR_MESSAGE,
  ProtocolError,
  decodeFrame,
  encodeFrame,
  errorFrame,
  validateFrame,
  type ErrorCode,
  type EvidenceFrame,
  type EvidenceResultFrame,
  type Frame,
  type ResultFrame,
  type SearchFrame,
  type ShardResultFrame,
  type ShardSearchFrame,
} from './index.ts';

// Packs arbitrary values as another peer might, to build frames our encoder never would.
const raw = new Packr({ useRecords: false, mapsAsObjects: true });
const rawUnpack = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** The wire object of a frame: what decodeFrame sees after msgpack, vectors still bytes. */
const wireOf = (f: Frame) => rawUnpack.unpack(encodeFrame(f)) as Record<string, any>;

function rejected(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  return expect.fail('expected a ProtocolError, but nothing was thrown');
}

const expectError = (fn: () => unknown, code: ErrorCode, message?: string | RegExp) => {
  const err = rejected(fn);
  expect(err.code).toBe(code);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
};

const vec = (...xs: number[]) => new Float32Array(xs);

const search = (): SearchFrame => ({
  v: 1,
  type: 'search',
  batchId: 'batch-1',
  deadline: 1767225600123,
  queries: [
    { id: 'q0', mode: 'dense', k: 10, text: 'what is a quantized index' },
    { id: 'q1', mode: 'dense', k: 5, vector: vec(0.25, -1, 3.5e-39, -0, 3.4028234663852886e38) },
    { id: 'q2', mode: 'hybrid', k: 1000, text: 'bm25 vs dense', vector: vec(1, 2), params: { nprobe: 16, efSearch: 64, windowFactor: 4, rrfK: 60, weights: { dense: 0.7, bm25: 0.3 }, depth: 100, k1: 0.9, b: 0.4 } },
    { id: 'q3', mode: 'bm25', k: 3, text: 'naïve 中文 😀', params: {} },
  ],
});

const result = (): ResultFrame => ({
  v: 1,
  type: 'result',
  batchId: 'batch-1',
  indexVersion: 'msmarco-2026-01-01',
  results: [
    {
      id: 'q0',
      hits: [
        { docId: 'd1', score: 12.5, shard: 0, title: 'T', text: 'passage' },
        { docId: 'd2', score: -3.75, shard: 3, title: '', text: '', branches: { dense: { score: 0.8, rank: 1 }, bm25: { score: -1e-300, rank: 42 } } },
      ],
      partial: { missingShards: [1, 2] },
    },
    { id: 'q1', hits: [], error: { code: 'deadline', message: 'ran out of time' } },
  ],
  timings: { queueMs: 0, encodeMs: 1.25, searchMs: 7, mergeMs: 0.5, totalMs: 9.75 },
});

const shardSearch = (): ShardSearchFrame => ({
  v: 1,
  type: 'shard-search',
  batchId: 'b',
  deadline: 1767225600123,
  shard: 7,
  queries: [
    { id: '0.d', mode: 'dense', k: 10000, vector: vec(1, -1, 0.5) },
    { id: '0.b', mode: 'bm25', k: 10, text: 'x', params: { k1: 1.2, b: 0.75 } },
  ],
});

const shardResult = (): ShardResultFrame => ({
  v: 1,
  type: 'shard-result',
  batchId: 'b',
  shard: 7,
  version: 'v3',
  results: [
    { id: '0.d', hits: [{ ordinal: 0, score: 0.5 }, { ordinal: 2 ** 40, score: -2 }] },
    { id: '0.b', hits: [] },
  ],
});

const evidence = (): EvidenceFrame => ({ v: 1, type: 'evidence', batchId: 'b', shard: 0, ordinals: [5, 0, 2 ** 31] });

const evidenceResult = (): EvidenceResultFrame => ({
  v: 1,
  type: 'evidence-result',
  batchId: 'b',
  shard: 0,
  version: 'v3',
  passages: [{ ordinal: 5, docId: 'doc-5', title: 'Title', text: 'Body ✓' }],
});

const examples = (): Frame[] => [
  search(),
  result(),
  shardSearch(),
  shardResult(),
  evidence(),
  evidenceResult(),
  { v: 1, type: 'error', code: 'overloaded', message: 'queue full', batchId: 'b', queryId: 'q', retryAfterMs: 250 },
  { v: 1, type: 'error', code: 'bad-frame', message: '' },
];

describe('round-trip', () => {
  it.each(examples().map((f) => [f.type, f] as const))('%s frame', (type, frame) => {
    const decoded = decodeFrame(encodeFrame(frame), { expect: [type] });
    expect(difference(decoded, frame)).toBeNull();
    expect(decoded).toEqual(frame);
  });

  it('vectors come back as fresh Float32Arrays, equal bit for bit', () => {
    const frame = search();
    const bytes = encodeFrame(frame);
    const decoded = decodeFrame(bytes, { expect: ['search'] });
    const sent = frame.queries[1].vector!;
    const got = decoded.queries[1].vector!;
    expect(got).toBeInstanceOf(Float32Array);
    expect(new Uint32Array(got.buffer, got.byteOffset, got.length)).toEqual(new Uint32Array(sent.buffer));
    expect(Object.is(got[3], -0)).toBe(true);
    // No aliasing of the received buffer.
    bytes.fill(0);
    expect(Array.from(got)).toEqual(Array.from(sent));
  });

  it('decodes a frame that sits at an odd byteOffset (vector bytes unaligned)', () => {
    const frame = search();
    const bytes = encodeFrame(frame);
    for (const offset of [1, 3, 5]) {
      const host = new Uint8Array(offset + bytes.length + 2).fill(0xc1);
      host.set(bytes, offset);
      const decoded = decodeFrame(host.subarray(offset, offset + bytes.length));
      expect(difference(decoded, frame)).toBeNull();
    }
  });

  it('encodes a vector that is a view into a bigger buffer', () => {
    const big = new Float32Array([9, 9, 1.5, -2.5, 9]);
    const frame: ShardSearchFrame = { ...shardSearch(), queries: [{ id: 'a', mode: 'dense', k: 1, vector: big.subarray(2, 4) }] };
    const decoded = decodeFrame(encodeFrame(frame), { expect: ['shard-search'] });
    expect(Array.from(decoded.queries[0].vector!)).toEqual([1.5, -2.5]);
  });

  it('puts vectors on the wire as msgpack bin of little-endian float32', () => {
    const bytes = encodeFrame({ ...shardSearch(), queries: [{ id: 'a', mode: 'dense', k: 1, vector: vec(1) }] });
    const wire = rawUnpack.unpack(bytes) as { queries: { vector: unknown }[] };
    expect(wire.queries[0].vector).toBeInstanceOf(Uint8Array);
    expect(Array.from(wire.queries[0].vector as Uint8Array)).toEqual([0, 0, 0x80, 0x3f]);
    // bin8 header 0xc4, length 4, then the bytes.
    expect(Buffer.from(bytes).includes(Buffer.from([0xc4, 4, 0, 0, 0x80, 0x3f]))).toBe(true);
  });

  it('keeps integers numbers, also large ones and int64 written by another encoder', () => {
    const decoded = decodeFrame(encodeFrame(evidence()), { expect: ['evidence'] });
    for (const o of decoded.ordinals) expect(typeof o).toBe('number');
    expect(decoded.ordinals).toEqual([5, 0, 2 ** 31]);
    // {v:1,type:"evidence",batchId:"b",shard:0,ordinals:[uint64 2^40]}
    const int64 = Buffer.concat([
      Buffer.from([0x85, 0xa1, 0x76, 0x01, 0xa4]), Buffer.from('type'), Buffer.from([0xa8]), Buffer.from('evidence'),
      Buffer.from([0xa7]), Buffer.from('batchId'), Buffer.from([0xa1, 0x62]), Buffer.from([0xa5]), Buffer.from('shard'), Buffer.from([0xd3, 0, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0xa8]), Buffer.from('ordinals'), Buffer.from([0x91, 0xcf, 0, 0, 1, 0, 0, 0, 0, 0]),
    ]);
    const f = decodeFrame(int64, { expect: ['evidence'] });
    expect(f.ordinals).toEqual([2 ** 40]);
    expect(f.shard).toBe(0);
  });

  it('returns a standalone Uint8Array', () => {
    const bytes = encodeFrame(result());
    expect(bytes.constructor).toBe(Uint8Array);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    // Later encodes do not overwrite earlier results.
    const copy = Uint8Array.from(bytes);
    for (let i = 0; i < 50; i++) encodeFrame(search());
    expect(bytes).toEqual(copy);
  });

  it('leaves out optional fields that are undefined', () => {
    const frame = { v: 1, type: 'error', code: 'internal', message: 'm', batchId: undefined, queryId: undefined } as const;
    const decoded = decodeFrame(encodeFrame(frame));
    expect(Object.keys(decoded).sort()).toEqual(['code', 'message', 'type', 'v']);
    const q = decodeFrame(encodeFrame({ ...search(), queries: [{ id: 'a', mode: 'bm25', k: 1, text: 't', vector: undefined, params: undefined }] }), { expect: ['search'] });
    expect(Object.keys(q.queries[0]).sort()).toEqual(['id', 'k', 'mode', 'text']);
  });

  it('turns a -0 score into 0 (msgpack writes it as the integer 0)', () => {
    const frame = shardResult();
    frame.results[0].hits[0].score = -0;
    const decoded = decodeFrame(encodeFrame(frame), { expect: ['shard-result'] });
    expect(Object.is(decoded.results[0].hits[0].score, 0)).toBe(true);
  });

  it('accepts an ArrayBuffer', () => {
    const bytes = encodeFrame(evidence());
    expect(decodeFrame(bytes.buffer)).toEqual(evidence());
  });
});

describe('limits', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `q${i}`, mode: 'bm25' as const, k: 1, text: 't' }));

  it('too many queries → limit', () => {
    const err = expectError(() => decodeFrame(encodeFrame({ ...search(), queries: many(257) })), 'limit', 'queries: must have at most 256 items, got 257');
    expect(err.batchId).toBe('batch-1');
    expectError(() => decodeFrame(encodeFrame({ ...search(), queries: many(5) }), { limits: { maxQueries: 4 } }), 'limit', /^queries: /);
    expect(decodeFrame(encodeFrame({ ...search(), queries: many(256) })).type).toBe('search');
  });

  it('k above maxK → limit, naming the field and the query', () => {
    const frame = search();
    frame.queries[3].k = 1001;
    const err = expectError(() => decodeFrame(encodeFrame(frame)), 'limit', 'queries[3].k: must be at most 1000');
    expect(err.message).toBe('queries[3].k: must be at most 1000');
    expect(err.queryId).toBe('q3');
    expect(err.batchId).toBe('batch-1');
    expect(err.path).toBe('queries[3].k');
    // Custom limits apply.
    expectError(() => decodeFrame(encodeFrame(search()), { limits: { maxK: 999 } }), 'limit', 'queries[2].k: must be at most 999');
  });

  it('text longer than maxQueryChars → limit', () => {
    const frame = search();
    frame.queries[0].text = 'x'.repeat(4097);
    const err = expectError(() => decodeFrame(encodeFrame(frame)), 'limit', 'queries[0].text: must be at most 4096 characters long');
    expect(err.queryId).toBe('q0');
    frame.queries[0].text = 'x'.repeat(4096);
    expect(decodeFrame(encodeFrame(frame)).type).toBe('search');
  });

  it('vector longer than maxVectorDim → limit', () => {
    const frame = search();
    frame.queries[1].vector = new Float32Array(4097);
    const err = expectError(() => decodeFrame(encodeFrame(frame)), 'limit', 'queries[1].vector: must have at most 4096 dimensions');
    expect(err.queryId).toBe('q1');
    expectError(() => decodeFrame(encodeFrame(search()), { limits: { maxVectorDim: 4 } }), 'limit', /^queries\[1\]\.vector: /);
  });

  it('too many ordinals → limit', () => {
    const ordinals = Array.from({ length: 10001 }, (_, i) => i);
    expectError(() => decodeFrame(encodeFrame({ ...evidence(), ordinals })), 'limit', 'ordinals: must have at most 10000 items');
    expectError(() => decodeFrame(encodeFrame(evidence()), { limits: { maxOrdinals: 2 } }), 'limit', /^ordinals: /);
  });

  it('more hits than maxK in a result → limit', () => {
    const frame = result();
    frame.results[1].hits = Array.from({ length: 3 }, (_, i) => ({ docId: `d${i}`, score: 1, shard: 0, title: '', text: '' }));
    const err = expectError(() => decodeFrame(encodeFrame(frame), { limits: { maxK: 2 } }), 'limit', 'results[1].hits: must have at most 2 items');
    expect(err.queryId).toBe('q1');
  });

  it('frame over maxFrameBytes → too-large, before any parsing', () => {
    const bytes = encodeFrame(search());
    expectError(() => decodeFrame(bytes, { limits: { maxFrameBytes: bytes.length - 1 } }), 'too-large', `frame: ${bytes.length} bytes exceeds maxFrameBytes ${bytes.length - 1}`);
    expect(decodeFrame(bytes, { limits: { maxFrameBytes: bytes.length } }).type).toBe('search');
    // Garbage that is too large is too-large, not bad-frame.
    expectError(() => decodeFrame(new Uint8Array(DEFAULT_LIMITS.maxFrameBytes + 1)), 'too-large');
  });

  it('static bounds that are not limits are bad-frame', () => {
    const frame = search();
    frame.queries[2].params = { nprobe: 65537 };
    expectError(() => decodeFrame(encodeFrame(frame)), 'bad-frame', 'queries[2].params.nprobe: must be at most 65536');
    expectError(() => decodeFrame(encodeFrame({ ...search(), batchId: 'x'.repeat(129) })), 'bad-frame', 'batchId: must be at most 128 characters long');
  });

  it('invalid limits are the caller’s bug: internal', () => {
    expectError(() => decodeFrame(encodeFrame(search()), { limits: { maxK: 0 } }), 'internal', /maxK/);
    expectError(() => decodeFrame(encodeFrame(search()), { limits: { maxk: 5 } as never }), 'internal', /maxk/);
  });
});

describe('shape rules', () => {
  it('bm25 and hybrid queries need text', () => {
    for (const mode of ['bm25', 'hybrid'] as const) {
      const err = expectError(() => decodeFrame(encodeFrame({ ...search(), queries: [{ id: 'qq', mode, k: 1, vector: vec(1) }] })), 'bad-frame', `queries[0].text: required for mode "${mode}"`);
      expect(err.queryId).toBe('qq');
    }
  });

  it('a query needs text or a vector', () => {
    expectError(() => decodeFrame(encodeFrame({ ...search(), queries: [{ id: 'a', mode: 'dense', k: 1 }] })), 'bad-frame', 'queries[0]: needs text or vector');
  });

  it('shard queries: dense needs a vector, bm25 needs text', () => {
    expectError(() => decodeFrame(encodeFrame({ ...shardSearch(), queries: [{ id: 'a', mode: 'dense', k: 1, text: 't' }] })), 'bad-frame', 'queries[0].vector: required for mode "dense"');
    expectError(() => decodeFrame(encodeFrame({ ...shardSearch(), queries: [{ id: 'a', mode: 'bm25', k: 1, vector: vec(1) }] })), 'bad-frame', 'queries[0].text: required for mode "bm25"');
    expectError(() => decodeFrame(encodeFrame({ ...shardSearch(), queries: [{ id: 'a', mode: 'hybrid' as 'dense', k: 1, vector: vec(1) }] })), 'bad-frame', /^queries\[0\]\.mode: must be one of "dense", "bm25"/);
  });

  it('query and result ids are unique within a frame', () => {
    const frame = search();
    frame.queries[2].id = 'q0';
    const err = expectError(() => decodeFrame(encodeFrame(frame)), 'bad-frame', 'queries[2].id: duplicate id "q0"');
    expect(err.queryId).toBe('q0');
    const r = result();
    r.results[1].id = 'q0';
    expectError(() => decodeFrame(encodeFrame(r)), 'bad-frame', 'results[1].id: duplicate id "q0"');
    const s = shardSearch();
    s.queries[1].id = '0.d';
    expectError(() => decodeFrame(encodeFrame(s)), 'bad-frame', /duplicate id/);
  });

  it('wrong or missing protocol version', () => {
    for (const v of [2, 0, '1', null]) {
      expectError(() => decodeFrame(raw.pack({ ...wireOf(evidence()), v })), 'bad-frame', /^v: unsupported protocol version/);
    }
    const { v: _, ...noVersion } = wireOf(evidence());
    const err = expectError(() => decodeFrame(raw.pack(noVersion)), 'bad-frame', 'v: unsupported protocol version undefined (this side speaks 1)');
    expect(err.batchId).toBe('b');
  });

  it('unknown frame types', () => {
    expectError(() => decodeFrame(raw.pack({ v: 1, type: 'search2' })), 'bad-frame', 'type: unknown frame type "search2"');
    expectError(() => decodeFrame(raw.pack({ v: 1 })), 'bad-frame', 'type: unknown frame type undefined');
    expectError(() => decodeFrame(raw.pack({ v: 1, type: 'toString' })), 'bad-frame', /unknown frame type/);
  });

  it('expect is honoured', () => {
    const bytes = encodeFrame(search());
    expectError(() => decodeFrame(bytes, { expect: ['result', 'error'] }), 'bad-frame', 'type: unexpected frame type "search" (expected "result" or "error")');
    expectError(() => decodeFrame(bytes, { expect: [] }), 'bad-frame', /unexpected frame type/);
    const ok = decodeFrame(bytes, { expect: ['search', 'error'] });
    expect(ok.type).toBe('search');
    // The error frame is accepted when listed, refused when not.
    const err = encodeFrame(errorFrame(new ProtocolError('not-ready', 'loading')));
    expect(decodeFrame(err, { expect: ['shard-result', 'error'] }).type).toBe('error');
    expectError(() => decodeFrame(err, { expect: ['shard-result'] }), 'bad-frame', /unexpected frame type "error"/);
  });

  it('unknown keys are refused, at every level', () => {
    expectError(() => decodeFrame(raw.pack({ ...wireOf(evidence()), extra: 1 })), 'bad-frame', 'extra: unknown key');
    const w = wireOf(search());
    w.queries[2].params.weights.colbert = 1;
    const err = expectError(() => decodeFrame(raw.pack(w)), 'bad-frame', 'queries[2].params.weights.colbert: unknown key');
    expect(err.queryId).toBe('q2');
    const w2 = wireOf(search());
    w2.queries[0]['a b'] = 1;
    expectError(() => decodeFrame(raw.pack(w2)), 'bad-frame', 'queries[0]["a b"]: unknown key');
  });

  it('type errors name the field and what was found', () => {
    const w = wireOf(search());
    w.queries[1].k = '5';
    expectError(() => decodeFrame(raw.pack(w)), 'bad-frame', 'queries[1].k: expected number, got string');
    w.queries[1].k = 1.5;
    expectError(() => decodeFrame(raw.pack(w)), 'bad-frame', 'queries[1].k: expected an integer, got non-integer number');
    const w2 = wireOf(search());
    delete w2.deadline;
    expectError(() => decodeFrame(raw.pack(w2)), 'bad-frame', 'deadline: required');
    expectError(() => decodeFrame(raw.pack([1, 2])), 'bad-frame', 'frame: expected a map, got array');
    expectError(() => decodeFrame(raw.pack('search')), 'bad-frame', 'frame: expected a map, got string');
  });

  it('scores must be finite; negative scores are fine', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const w = wireOf(result());
      w.results[0].hits[1].score = bad;
      const err = expectError(() => decodeFrame(raw.pack(w)), 'bad-frame', `results[0].hits[1].score: expected number, got ${bad}`);
      expect(err.queryId).toBe('q0');
      const s = wireOf(shardResult());
      s.results[0].hits[0].score = bad;
      expectError(() => decodeFrame(raw.pack(s)), 'bad-frame', /^results\[0\]\.hits\[0\]\.score: /);
    }
    const r = result();
    r.results[0].hits[0].score = -1e308;
    expect(decodeFrame(encodeFrame(r))).toEqual(r);
  });

  it('vectors: non-finite components, odd byte lengths, empty vectors and wrong types are refused', () => {
    const f = search();
    f.queries[1].vector = vec(1, NaN);
    expectError(() => decodeFrame(encodeFrame(f)), 'bad-frame', 'queries[1].vector: component 1 is NaN, not a finite number');
    f.queries[1].vector = vec(Infinity);
    expectError(() => decodeFrame(encodeFrame(f)), 'bad-frame', /component 0 is Infinity/);
    f.queries[1].vector = vec();
    expectError(() => decodeFrame(encodeFrame(f)), 'bad-frame', 'queries[1].vector: must have at least 1 dimension');
    const w = wireOf(search());
    w.queries[1].vector = new Uint8Array(7);
    expectError(() => decodeFrame(raw.pack(w)), 'bad-frame', 'queries[1].vector: byte length 7 is not a multiple of 4');
    w.queries[1].vector = [1, 2, 3];
    expectError(() => decodeFrame(raw.pack(w)), 'bad-frame', /^queries\[1\]\.vector: expected a float32 vector/);
    expect(() => encodeFrame({ ...search(), queries: [{ id: 'a', mode: 'dense', k: 1, vector: [1] as unknown as Float32Array }] })).toThrow(ProtocolError);
  });
});

describe('hostile input', () => {
  it('a __proto__ key cannot smuggle fields in through the prototype', () => {
    const inner = { v: 1, type: 'error', code: 'internal', message: 'smuggled' };
    const obj: Record<string, unknown> = {};
    Object.defineProperty(obj, '__proto__', { value: inner, enumerable: true, configurable: true, writable: true });
    const bytes = raw.pack(obj);
    expectError(() => decodeFrame(bytes), 'bad-frame', /"__proto__" is not allowed/);
    const nested = wireOf(search());
    Object.defineProperty(nested.queries[0], '__proto__', { value: { text: 'x' }, enumerable: true });
    expectError(() => decodeFrame(raw.pack(nested)), 'bad-frame', /"__proto__" is not allowed/);
    expect(({} as Record<string, unknown>).code).toBeUndefined();
  });

  it('constructor, toString and friends are just unknown keys', () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
      expectError(() => decodeFrame(raw.pack({ ...wireOf(evidence()), [key]: { a: 1 } })), 'bad-frame', `${key}: unknown key`);
    }
    // A required field is never read from Object.prototype.
    expectError(() => decodeFrame(raw.pack({ v: 1, type: 'error', code: 'internal' })), 'bad-frame', 'message: required');
  });

  it('msgpack extension types (Date, Set, typed arrays, undefined) are refused', () => {
    const withExt = new Packr({ useRecords: false, moreTypes: true, structuredClone: true });
    const cases: unknown[] = [
      { ...wireOf(evidence()), batchId: new Date(0) },
      { ...wireOf(evidence()), ordinals: new Set([1]) },
      { ...wireOf(search()), queries: [{ id: 'a', mode: 'dense', k: 1, vector: new Float32Array([1]) }] },
      { ...wireOf(evidence()), extra: undefined },
    ];
    for (const c of cases) expectError(() => decodeFrame(withExt.pack(c)), 'bad-frame', /extension types are not allowed/);
  });

  it('a declared 4 GB string, array or map in a tiny buffer is refused at once', () => {
    const evil = [
      [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61],
      [0xc6, 0xff, 0xff, 0xff, 0xff, 0x61],
      [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01],
      [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x76, 0x01],
      [0x81, 0xa1, 0x76, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01],
      [0x82, 0xa1, 0x76, 0x01, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xdb, 0xff, 0xff, 0xff, 0xf0],
    ];
    for (const bytes of evil) {
      const t0 = performance.now();
      expectError(() => decodeFrame(new Uint8Array(bytes)), 'bad-frame', /malformed msgpack: .*declares/);
      expect(performance.now() - t0).toBeLessThan(50);
    }
  });

  it('deep nesting is refused without recursion', () => {
    for (const depth of [17, 1000, 1_000_000]) {
      const bytes = new Uint8Array(depth + 1).fill(0x91);
      bytes[depth] = 0xc0;
      expectError(() => decodeFrame(bytes), 'bad-frame', /nesting deeper than 16/);
    }
    const maps = new Uint8Array(3 * 100_000 + 1);
    for (let i = 0; i < 100_000; i++) maps.set([0x81, 0xa1, 0x61], i * 3);
    maps[maps.length - 1] = 0x01;
    expectError(() => decodeFrame(maps), 'bad-frame', /nesting deeper than 16/);
  });

  it('trailing bytes, truncation and unused bytes are refused', () => {
    const bytes = encodeFrame(evidence());
    expectError(() => decodeFrame(new Uint8Array([...bytes, 0xc0])), 'bad-frame', /1 trailing bytes/);
    expectError(() => decodeFrame(bytes.subarray(0, bytes.length - 1)), 'bad-frame', /malformed msgpack/);
    expectError(() => decodeFrame(new Uint8Array(0)), 'bad-frame', /unexpected end of data/);
    expectError(() => decodeFrame(new Uint8Array([0xc1])), 'bad-frame', /invalid msgpack byte 0xc1/);
  });

  it('non-string map keys and huge maps are refused', () => {
    expectError(() => decodeFrame(new Uint8Array([0x81, 0x01, 0x01])), 'bad-frame', /map keys must be strings/);
    const wide: Record<string, number> = {};
    for (let i = 0; i < 33; i++) wide[`k${i}`] = i;
    expectError(() => decodeFrame(raw.pack(wide)), 'bad-frame', /map with 33 entries/);
  });

  it('non-bytes input is a ProtocolError, not a TypeError', () => {
    for (const x of ['abc', null, undefined, 42, [1, 2], { length: 3 }]) {
      expectError(() => decodeFrame(x as unknown as Uint8Array), 'bad-frame', /expected bytes/);
    }
  });

  it('a valid frame still decodes after hostile ones (no decoder state left behind)', () => {
    const good = encodeFrame(search());
    for (const bytes of [[0x91, 0x91, 0x91], [0xdb, 0xff, 0xff, 0xff, 0xff], [0x92, 0xc4, 0x02, 0x01]]) {
      expect(() => decodeFrame(new Uint8Array(bytes))).toThrow(ProtocolError);
      expect(difference(decodeFrame(good), search())).toBeNull();
    }
  });
});

describe('errorFrame', () => {
  it('keeps a ProtocolError’s code, ids and retry hint', () => {
    const err = new ProtocolError('overloaded', 'queue full', { batchId: 'b9', queryId: 'q9', retryAfterMs: 100 });
    const frame = errorFrame(err);
    expect(frame).toEqual({ v: 1, type: 'error', code: 'overloaded', message: 'queue full', batchId: 'b9', queryId: 'q9', retryAfterMs: 100 });
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('carries what decodeFrame found out about a bad frame', () => {
    const f = search();
    f.queries[3].k = 5000;
    let caught: unknown;
    try {
      decodeFrame(encodeFrame(f));
    } catch (e) {
      caught = e;
    }
    expect(errorFrame(caught)).toEqual({ v: 1, type: 'error', code: 'limit', message: 'queries[3].k: must be at most 1000', batchId: 'batch-1', queryId: 'q3' });
  });

  it('uses the given batchId when the error has none', () => {
    expect(errorFrame(new ProtocolError('deadline', 'late'), 'b2').batchId).toBe('b2');
    expect(errorFrame(new ProtocolError('deadline', 'late', { batchId: 'b1' }), 'b2').batchId).toBe('b1');
    expect(errorFrame(new Error('x'), 'x'.repeat(200))).not.toHaveProperty('batchId');
  });

  it('turns anything else into internal', () => {
    expect(errorFrame(new TypeError('boom'), 'b')).toEqual({ v: 1, type: 'error', code: 'internal', message: 'boom', batchId: 'b' });
    expect(errorFrame('plain string')).toEqual({ v: 1, type: 'error', code: 'internal', message: 'plain string' });
    expect(errorFrame(undefined).code).toBe('internal');
    const hostile = { toString: () => { throw new Error('no'); } };
    expect(errorFrame(hostile)).toMatchObject({ code: 'internal', message: 'unprintable error' });
  });

  it('truncates long messages so the frame always decodes', () => {
    const frame = errorFrame(new Error('m'.repeat(100_000)));
    expect(frame.message.length).toBe(MAX_ERROR_MESSAGE);
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });
});

describe('validateFrame', () => {
  it('accepts in-memory frames and returns a validated copy', () => {
    const f = search();
    const out = validateFrame(f, { expect: ['search'] });
    expect(out).not.toBe(f);
    expect(difference(out, f)).toBeNull();
  });

  it('reports like decodeFrame', () => {
    const f = search();
    f.queries[0].k = 0;
    expectError(() => validateFrame(f), 'bad-frame', 'queries[0].k: must be at least 1');
    expectError(() => validateFrame(null), 'bad-frame', 'frame: expected a map, got nil');
  });
});
