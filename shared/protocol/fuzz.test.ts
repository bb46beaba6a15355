// Hostile-input fuzzing of decodeFrame: whatever the bytes, the outcome is either a frame that
// passes validation again and re-encodes to itself, or a ProtocolError, never anything else,
// and never slowly.
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Rng, difference, finite, frame, str } from './arbitrary.test-support.ts';
import {
  ERROR_CODES,
  FRAME_TYPES,
  ProtocolError,
  decodeFrame,
  encodeFrame,
  validateFrame,
  type DecodeOptions,
  type ProtocolLimits,
} from './index.ts';

const raw = new Packr({ useRecords: false, mapsAsObjects: true });
const rawUnpack = new Unpackr({ useRecords: false, mapsAsObjects: true });

const TIGHT: ProtocolLimits = { maxFrameBytes: 2048, maxQueries: 3, maxQueryChars: 32, maxK: 10, maxVectorDim: 8, maxQueryTokens: 4, maxOrdinals: 4 };

interface Stats {
  cases: number;
  accepted: number;
  rejected: Record<string, number>;
  slowestMs: number;
  /** Worst ratio of decode time to the size-based budget; must stay below 1. */
  slowestOverBudget: number;
  slowestLabel: string;
}

const newStats = (): Stats => ({ cases: 0, accepted: 0, rejected: {}, slowestMs: 0, slowestOverBudget: 0, slowestLabel: '' });

function timed(stats: Stats, t0: number, bytes: Uint8Array, label: string): void {
  const ms = performance.now() - t0;
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  const ratio = ms / (250 + bytes.length / 4000);
  if (ratio > stats.slowestOverBudget) {
    stats.slowestOverBudget = ratio;
    stats.slowestLabel = `${label}: ${ms.toFixed(1)} ms for ${bytes.length} bytes`;
  }
}

/** Decodes one input and checks the outcome; anything but the two allowed outcomes fails. */
function probe(stats: Stats, bytes: Uint8Array, opts: DecodeOptions = {}, label = 'case'): void {
  stats.cases++;
  const t0 = performance.now();
  let decoded;
  try {
    decoded = decodeFrame(bytes, opts);
  } catch (err) {
    timed(stats, t0, bytes, label);
    if (!(err instanceof ProtocolError)) {
      expect.fail(`${label}: decodeFrame threw ${String(err)} (${(err as Error)?.constructor?.name}) for bytes ${hex(bytes)}`);
    }
    if (!(ERROR_CODES as readonly string[]).includes(err.code) || err.message.length === 0) {
      expect.fail(`${label}: bad ProtocolError ${err.code}: ${err.message}`);
    }
    stats.rejected[err.code] = (stats.rejected[err.code] ?? 0) + 1;
    return;
  }
  timed(stats, t0, bytes, label);
  stats.accepted++;
  // Outside the try: a decoded frame that fails re-validation is a failure, even though the
  // error would be a ProtocolError.
  const again = validateFrame(decoded, opts);
  const diffValidated = difference(again, decoded);
  if (diffValidated) expect.fail(`${label}: re-validation changed the frame at ${diffValidated}`);
  const diffRoundTrip = difference(decodeFrame(encodeFrame(decoded), opts), decoded);
  if (diffRoundTrip) expect.fail(`${label}: re-encoding changed the frame at ${diffRoundTrip}`);
}

function hex(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 48), (b) => b.toString(16).padStart(2, '0')).join('');
  return bytes.length > 48 ? `${head}… (${bytes.length} bytes)` : head;
}

const randomBytes = (rng: Rng, n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 255));

const validBytes = (rng: Rng, limits?: ProtocolLimits) => encodeFrame(frame(rng, rng.pick(FRAME_TYPES), limits));

// ---------------------------------------------------------------------------------------------
// Wrong shapes: random values and structural mutations of real frames

const KEYS = [
  'v', 'type', 'batchId', 'deadline', 'queries', 'id', 'mode', 'k', 'text', 'vector', 'params', 'nprobe', 'efSearch',
  'windowFactor', 'rrfK', 'weights', 'dense', 'bm25', 'depth', 'k1', 'b', 'indexVersion', 'results', 'hits', 'partial',
  'missingShards', 'error', 'code', 'message', 'docId', 'score', 'shard', 'title', 'branches', 'rank', 'timings', 'queueMs',
  'version', 'ordinal', 'ordinals', 'passages', 'queryId', 'retryAfterMs', '__proto__', 'constructor', 'toString', 'extra', '',
];
const STRINGS = [...FRAME_TYPES, ...ERROR_CODES, 'dense', 'bm25', 'hybrid', '', 'x', '__proto__'];

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty so "__proto__" becomes an own key (as a hostile peer would send it).
  Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
}

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 3 ? 8 : 12)) {
    case 0:
      return null;
    case 1:
      return rng.bool();
    case 2:
      return finite(rng);
    case 3:
      return rng.pick([NaN, Infinity, -Infinity, -0, 2 ** 53 + 2, -1, 1.5, 0, 1, 1000, 1001, 65537, 4097, 2 ** 32]);
    case 4:
      return rng.pick(STRINGS);
    case 5:
      return str(rng, 0, 40);
    case 6:
      return randomBytes(rng, rng.pick([0, 1, 3, 4, 8, 12, 33]));
    case 7:
      return rng.int(-5, 5);
    case 8:
      return rng.bool(0.1) ? 'y'.repeat(rng.pick([129, 257, 4097, 70000])) : rng.int(0, 2 ** 31);
    case 9:
    case 10:
      return Array.from({ length: rng.size(0, 6) }, () => randomValue(rng, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      if (rng.bool(0.4)) {
        obj.v = 1;
        obj.type = rng.pick(FRAME_TYPES);
      }
      for (let i = rng.size(0, 8); i > 0; i--) setKey(obj, rng.pick(KEYS), randomValue(rng, depth + 1));
      return obj;
    }
  }
}

/** Every container (map or array) in a decoded wire value. */
function containers(value: unknown, out: (Record<string, unknown> | unknown[])[] = []): (Record<string, unknown> | unknown[])[] {
  if (Array.isArray(value)) {
    out.push(value);
    for (const x of value) containers(x, out);
  } else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    out.push(value as Record<string, unknown>);
    for (const x of Object.values(value)) containers(x, out);
  }
  return out;
}

/** Applies one mutation; returns false when the frame grew so large that more would be slow to generate. */
function mutate(rng: Rng, wire: unknown): boolean {
  const all = containers(wire);
  const target = rng.pick(all);
  if (Array.isArray(target)) {
    const i = rng.int(0, Math.max(0, target.length - 1));
    switch (rng.int(0, 3)) {
      case 0:
        target[i] = randomValue(rng);
        break;
      case 1:
        target.splice(i, 1);
        break;
      case 2:
        if (target.length > 0) target.push(structuredClone(target[i]));
        break;
      default: {
        const n = rng.pick([1, 5, 300, 10001]);
        target.push(...Array.from({ length: n }, () => (target.length > 0 ? target[0] : 0)));
        return n < 300;
      }
    }
    return true;
  }
  const keys = Object.keys(target);
  switch (rng.int(0, 3)) {
    case 0:
      if (keys.length > 0) setKey(target, rng.pick(keys), randomValue(rng));
      break;
    case 1:
      if (keys.length > 0) delete target[rng.pick(keys)];
      break;
    case 2:
      setKey(target, rng.pick(KEYS), randomValue(rng));
      break;
    default:
      // A near-miss value for an existing field: boundaries, wrong sign, wrong type.
      if (keys.length > 0) {
        const key = rng.pick(keys);
        const old = target[key];
        setKey(target, key, typeof old === 'number' ? rng.pick([old + 1, old - 1, -old, old * 1e6, 0.5, NaN]) : typeof old === 'string' ? rng.pick(['', old + old, 'x'.repeat(5000)]) : null);
      }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations

function flip(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let n = rng.int(1, 8); n > 0; n--) {
    const i = rng.int(0, out.length - 1);
    out[i] = rng.bool(0.5) ? out[i] ^ (1 << rng.int(0, 7)) : rng.int(0, 255);
  }
  return out;
}

function splice(rng: Rng, bytes: Uint8Array): Uint8Array {
  const at = rng.int(0, bytes.length);
  const cut = rng.int(0, Math.min(8, bytes.length - at));
  const insert = rng.bool() ? randomBytes(rng, rng.int(0, 8)) : Uint8Array.from(rng.pick(HUGE_HEADERS));
  const out = new Uint8Array(bytes.length - cut + insert.length);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + cut), at + insert.length);
  return out;
}

/** Headers declaring lengths or counts far beyond any buffer here. */
const HUGE_HEADERS = [
  [0xdb, 0xff, 0xff, 0xff, 0xff], // str32
  [0xc6, 0xff, 0xff, 0xff, 0xff], // bin32
  [0xdd, 0xff, 0xff, 0xff, 0xff], // array32
  [0xdf, 0xff, 0xff, 0xff, 0xff], // map32
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0x74], // ext32
  [0xdb, 0x7f, 0xff, 0xff, 0xf0],
  [0xdd, 0x00, 0x10, 0x00, 0x00],
  [0xda, 0xff, 0xff], // str16
  [0xdc, 0xff, 0xff], // array16
  [0xde, 0xff, 0xff], // map16
  [0xc5, 0xff, 0xff], // bin16
];

function deepNest(rng: Rng): Uint8Array {
  const depth = rng.pick([15, 16, 17, 18, 64, 1000, 50_000, 500_000]);
  const unit = rng.pick([[0x91], [0xdc, 0x00, 0x01], [0xdd, 0, 0, 0, 1], [0x81, 0xa1, 0x61], [0x81, 0xa7, ...Array.from('queries', (c) => c.charCodeAt(0))], [0x92, 0xc0]]);
  // Optionally inside a real frame's field, e.g. {v:1,type:"search",...,queries:[[[[…]]]]}.
  const prefix = rng.bool() ? Array.from(raw.pack({ v: 1, type: 'search', batchId: 'b', deadline: 0 })) : [];
  if (prefix.length > 0) {
    prefix[0] += 1; // one more map entry…
    prefix.push(0xa7, ...Array.from('queries', (c) => c.charCodeAt(0))); // …named queries
  }
  const body = new Uint8Array(prefix.length + depth * unit.length + 1);
  body.set(prefix, 0);
  for (let i = 0; i < depth; i++) body.set(unit, prefix.length + i * unit.length);
  body[body.length - 1] = 0xc0;
  return body;
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing decodeFrame', () => {
  const all = newStats();
  const run = (name: string, n: number, seed: number, make: (rng: Rng, i: number) => [Uint8Array, DecodeOptions?], check?: (s: Stats) => void) => {
    it(`${name} (${n} cases)`, () => {
      const rng = new Rng(seed);
      const stats = newStats();
      for (let i = 0; i < n; i++) {
        const [bytes, opts] = make(rng, i);
        probe(stats, bytes, opts, `${name} #${i} (seed ${seed})`);
      }
      all.cases += stats.cases;
      all.accepted += stats.accepted;
      if (stats.slowestMs > all.slowestMs) all.slowestLabel = stats.slowestLabel;
      all.slowestMs = Math.max(all.slowestMs, stats.slowestMs);
      for (const [code, count] of Object.entries(stats.rejected)) all.rejected[code] = (all.rejected[code] ?? 0) + count;
      // No input may make the decoder slow: time linear in the size, with generous room for a
      // loaded CI machine (250 ms, plus 1 s per 4 MB).
      expect(stats.slowestOverBudget, stats.slowestLabel).toBeLessThan(1);
      check?.(stats);
    });
  };

  run('random bytes', 2000, 1, (rng) => [randomBytes(rng, rng.bool(0.9) ? rng.int(0, 64) : rng.int(65, 4096))]);

  run('random bytes behind a map header', 1000, 2, (rng) => {
    const b = randomBytes(rng, rng.int(1, 200));
    b[0] = 0x80 | rng.int(0, 15);
    return [b];
  });

  run('valid frames with bytes flipped', 3000, 3, (rng) => [flip(rng, validBytes(rng))], (s) => {
    expect(s.accepted).toBeGreaterThan(0);
    expect(s.rejected['bad-frame']).toBeGreaterThan(0);
  });

  run('valid frames truncated', 1500, 4, (rng) => {
    const b = validBytes(rng);
    return [b.subarray(0, rng.int(0, b.length - 1))];
  }, (s) => expect(s.accepted).toBe(0));

  run('valid frames extended', 1000, 5, (rng) => {
    const b = validBytes(rng);
    const tail = randomBytes(rng, rng.int(1, 16));
    const out = new Uint8Array(b.length + tail.length);
    out.set(b);
    out.set(tail, b.length);
    return [out];
  }, (s) => expect(s.accepted).toBe(0));

  run('valid frames with bytes spliced in or cut out', 1500, 6, (rng) => [splice(rng, validBytes(rng))]);

  run('valid msgpack of wrong shapes (mutated frames)', 3000, 7, (rng) => {
    const wire = rawUnpack.unpack(validBytes(rng));
    for (let n = rng.int(1, 3); n > 0 && mutate(rng, wire); n--);
    return [raw.pack(wire)];
  }, (s) => {
    expect(s.accepted).toBeGreaterThan(0);
    expect(s.rejected['bad-frame']).toBeGreaterThan(0);
    expect(s.rejected.limit).toBeGreaterThan(0);
  });

  run('valid msgpack of random values', 1500, 8, (rng) => [raw.pack(randomValue(rng))]);

  run('huge declared lengths', 300, 9, (rng) => {
    const header = Uint8Array.from(rng.pick(HUGE_HEADERS));
    return [new Uint8Array([...header, ...randomBytes(rng, rng.int(0, 16))])];
  }, (s) => expect(s.accepted).toBe(0));

  run('huge declared lengths inside valid frames', 600, 12, (rng) => {
    // Overwrites a random position; inside a string's payload the frame may stay valid.
    const header = Uint8Array.from(rng.pick(HUGE_HEADERS));
    const b = Uint8Array.from(validBytes(rng));
    const at = rng.int(0, Math.max(0, b.length - header.length));
    b.set(header.subarray(0, Math.min(header.length, b.length - at)), at);
    return [b];
  });

  run('deeply nested arrays and maps', 200, 10, (rng) => [deepNest(rng)], (s) => {
    expect(s.accepted).toBe(0);
    expect(s.rejected['bad-frame']).toBe(s.cases);
  });

  run('frames decoded under tight limits', 1500, 11, (rng) => {
    const b = rng.bool() ? validBytes(rng) : encodeFrame(frame(rng, rng.pick(FRAME_TYPES), { ...TIGHT, maxK: 12, maxQueries: 4 }));
    return [rng.bool(0.3) ? flip(rng, b) : b, { limits: TIGHT }];
  }, (s) => {
    expect(s.accepted).toBeGreaterThan(0);
    expect(s.rejected.limit).toBeGreaterThan(0);
    expect(s.rejected['too-large']).toBeGreaterThan(0);
  });

  it('ran at least 10,000 cases', () => {
    expect(all.cases).toBeGreaterThanOrEqual(10_000);
    console.log(`fuzz: ${all.cases} cases, ${all.accepted} decoded, rejected ${JSON.stringify(all.rejected)}, slowest ${all.slowestLabel}`);
  });
});

describe('big inputs stay fast', () => {
  it('a maximal 8 MiB frame decodes (or is refused) quickly', () => {
    // ~8 MiB of a valid result frame: 256 results × ~1000 hits with short passages.
    const hits = Array.from({ length: 1000 }, (_, i) => ({ docId: `d${i}`, score: i / 7, shard: i % 16, title: 't', text: 'passage text' }));
    const results = Array.from({ length: 135 }, (_, i) => ({ id: `q${i}`, hits }));
    const bytes = encodeFrame({ v: 1, type: 'result', batchId: 'b', indexVersion: 'v', results, timings: { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 0 } });
    expect(bytes.length).toBeLessThan(8 * 1024 * 1024);
    expect(bytes.length).toBeGreaterThan(7 * 1024 * 1024);
    const t0 = performance.now();
    const f = decodeFrame(bytes, { expect: ['result'] });
    const ms = performance.now() - t0;
    expect(f.results.length).toBe(135);
    expect(ms).toBeLessThan(5000);
  });

  it('an 8 MiB array of tiny items is refused by count before it is walked by zod', () => {
    const ordinals = new Array(2_000_000).fill(1);
    const bytes = raw.pack({ v: 1, type: 'evidence', batchId: 'b', shard: 0, ordinals });
    const t0 = performance.now();
    expect(() => decodeFrame(bytes)).toThrow(/ordinals: must have at most 10000 items, got 2000000/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a frame full of 32-entry maps is refused quickly', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 32; i++) wide[`k${i}`] = i;
    const bytes = raw.pack({ v: 1, type: 'shard-result', batchId: 'b', shard: 0, version: 'v', results: new Array(40_000).fill(wide) });
    const t0 = performance.now();
    expect(() => decodeFrame(bytes)).toThrow(ProtocolError);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
