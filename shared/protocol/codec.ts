// Frame <-> msgpack bytes. Encoding trusts the (typed) frame; decoding trusts nothing: size,
// then structure (scan.ts), then msgpack, then the zod schema, each failure reported as a
// ProtocolError with the code the peer should see.
import { Packr, type Options } from 'msgpackr';
import type { z } from 'zod';
import {
  ERROR_CODES,
  FRAME_TYPES,
  MAX_ERROR_MESSAGE,
  PROTOCOL_VERSION,
  frameSchemas,
  isLimitIssue,
  maxShardK,
  maxShardQueries,
  type ErrorCode,
  type ErrorFrame,
  type Frame,
  type FrameOf,
  type FrameType,
} from './frames.ts';
import { resolveLimits, type ProtocolLimits } from './limits.ts';
import { scanMsgpack } from './scan.ts';
import { vectorToBytes } from './vectors.ts';
import type { QueryTokens } from './frames.ts';

// No records/structures: msgpackr compiles readers for those with `new Function`, which
// workerd forbids, and a shared structure table would couple the tiers' deployments. No
// structured clone or extra types: frames are plain data, and fewer decoder paths is a smaller
// attack surface. int64 as number: other encoders may write large ints as int64; a bigint would
// only fail validation with a confusing message.
const packrOptions: Options & { skipValues?: unknown[] } = {
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
  bundleStrings: false,
  int64AsType: 'number',
  // Optional fields set to undefined are left out instead of being written as msgpackr's
  // "undefined" extension, which decoders here refuse.
  // (Supported by msgpackr ≥ 1.10, missing from its type declarations.)
  skipValues: [undefined],
};
const packr = new Packr(packrOptions);

export interface ProtocolErrorOptions {
  /** Dotted path of the failing field, e.g. "queries[3].k". */
  path?: string;
  batchId?: string;
  queryId?: string;
  /** For 'overloaded': when the client may try again. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** The one error type this module throws; `code` is what the peer should be told. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly path?: string;
  readonly batchId?: string;
  readonly queryId?: string;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    if (options.path !== undefined) this.path = options.path;
    if (options.batchId !== undefined) this.batchId = options.batchId;
    if (options.queryId !== undefined) this.queryId = options.queryId;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

export interface DecodeOptions {
  /** Overrides of DEFAULT_LIMITS for this receiver. */
  limits?: Partial<ProtocolLimits>;
  /** Frame types the caller accepts; any other type is a 'bad-frame'. */
  expect?: readonly FrameType[];
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Packs a frame. Vectors travel as little-endian float32 bytes (msgpack bin). The result is a
 * standalone Uint8Array (its own exact-size ArrayBuffer, never msgpackr's reusable buffer).
 * Does not validate; call validateFrame first where a sender wants to catch its own bugs.
 */
export function encodeFrame(frame: Frame): Uint8Array<ArrayBuffer> {
  let wire: unknown = frame;
  if (frame.type === 'search' || frame.type === 'shard-search' || frame.type === 'shard-score') {
    wire = {
      ...frame,
      queries: frame.queries.map((q: { id: string; vector?: Float32Array; tokens?: QueryTokens; phrase?: { start: Float32Array; end: Float32Array } }, i: number) => {
        let out: object = q;
        if (q.vector !== undefined) {
          if (!(q.vector instanceof Float32Array)) {
            throw new ProtocolError('bad-frame', `queries[${i}].vector: must be a Float32Array`, { path: `queries[${i}].vector`, queryId: q.id });
          }
          out = { ...out, vector: vectorToBytes(q.vector) };
        }
        if (q.tokens !== undefined) {
          if (!(q.tokens.data instanceof Float32Array)) {
            throw new ProtocolError('bad-frame', `queries[${i}].tokens.data: must be a Float32Array`, { path: `queries[${i}].tokens`, queryId: q.id });
          }
          // Only the rows the shape names: a view may sit in a bigger buffer.
          // Sent as float32 whatever it arrived as (a dtype that was given says so).
          const data = vectorToBytes(q.tokens.data.subarray(0, q.tokens.rows * q.tokens.dim));
          out = { ...out, tokens: { rows: q.tokens.rows, dim: q.tokens.dim, data, ...(q.tokens.dtype ? { dtype: 'f32' } : {}) } };
        }
        if (q.phrase !== undefined) {
          if (!(q.phrase.start instanceof Float32Array) || !(q.phrase.end instanceof Float32Array)) {
            throw new ProtocolError('bad-frame', `queries[${i}].phrase: start and end must be Float32Arrays`, { path: `queries[${i}].phrase`, queryId: q.id });
          }
          out = { ...out, phrase: { start: vectorToBytes(q.phrase.start), end: vectorToBytes(q.phrase.end) } };
        }
        return out;
      }),
    };
  }
  let packed: Uint8Array;
  try {
    packed = packr.pack(wire);
  } catch (err) {
    throw new ProtocolError('internal', `frame cannot be encoded: ${messageOf(err)}`, { cause: err });
  }
  return new Uint8Array(packed);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Unpacks and validates a frame. Throws only ProtocolError: 'too-large' past maxFrameBytes,
 * 'limit' when a configured limit is exceeded, 'bad-frame' for anything else wrong with the
 * bytes ('internal' only for invalid options or a bug here).
 */
export function decodeFrame<T extends FrameType>(bytes: Uint8Array | ArrayBuffer, opts: DecodeOptions & { expect: readonly T[] }): FrameOf<T>;
export function decodeFrame(bytes: Uint8Array | ArrayBuffer, opts?: DecodeOptions): Frame;
export function decodeFrame(bytes: Uint8Array | ArrayBuffer, opts: DecodeOptions = {}): Frame {
  try {
    const limits = limitsFrom(opts);
    let view: Uint8Array;
    // A fresh view: msgpackr caches a DataView on the object it is given, which should not
    // be the caller's array.
    if (bytes instanceof Uint8Array) view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    else if (bytes instanceof ArrayBuffer) view = new Uint8Array(bytes);
    else throw new ProtocolError('bad-frame', 'frame: expected bytes (Uint8Array or ArrayBuffer)');

    if (view.byteLength > limits.maxFrameBytes) {
      throw new ProtocolError('too-large', `frame: ${view.byteLength} bytes exceeds maxFrameBytes ${limits.maxFrameBytes}`);
    }
    try {
      scanMsgpack(view);
    } catch (err) {
      throw new ProtocolError('bad-frame', `frame: malformed msgpack: ${messageOf(err)}`, { cause: err });
    }
    let raw: unknown;
    try {
      raw = packr.unpack(view);
    } catch (err) {
      throw new ProtocolError('bad-frame', `frame: malformed msgpack: ${messageOf(err)}`, { cause: err });
    }
    return check(raw, limits, opts.expect);
  } catch (err) {
    throw asProtocolError(err);
  }
}

/**
 * Validates an in-memory frame exactly as decodeFrame validates a received one (vectors may
 * be Float32Array or wire bytes) and returns the parsed copy. Throws only ProtocolError.
 */
export function validateFrame<T extends FrameType>(frame: unknown, opts: DecodeOptions & { expect: readonly T[] }): FrameOf<T>;
export function validateFrame(frame: unknown, opts?: DecodeOptions): Frame;
export function validateFrame(frame: unknown, opts: DecodeOptions = {}): Frame {
  try {
    return check(frame, limitsFrom(opts), opts.expect);
  } catch (err) {
    throw asProtocolError(err);
  }
}

function limitsFrom(opts: DecodeOptions): ProtocolLimits {
  try {
    return resolveLimits(opts.limits);
  } catch (err) {
    throw new ProtocolError('internal', messageOf(err), { cause: err });
  }
}

// Lists bounded by a limit: checked before the schema so a frame with too many entries is
// answered 'limit' without validating every entry first (zod checks an array's length only
// after its elements, and only when they are all valid).
const LIST_LIMITS: Partial<Record<FrameType, { list: string; max: (l: ProtocolLimits) => number; hits?: (l: ProtocolLimits) => number }>> = {
  search: { list: 'queries', max: (l) => l.maxQueries },
  'shard-search': { list: 'queries', max: maxShardQueries },
  result: { list: 'results', max: (l) => l.maxQueries, hits: (l) => l.maxK },
  'shard-result': { list: 'results', max: maxShardQueries, hits: maxShardK },
  evidence: { list: 'ordinals', max: (l) => l.maxOrdinals },
  'evidence-result': { list: 'passages', max: (l) => l.maxOrdinals },
};

function check(raw: unknown, limits: ProtocolLimits, expect: readonly FrameType[] | undefined): Frame {
  if (!isRecord(raw)) throw new ProtocolError('bad-frame', `frame: expected a map, got ${kindOf(raw)}`);
  const batchId = readableId(own(raw, 'batchId'));
  const fail = (code: ErrorCode, path: string, detail: string) => new ProtocolError(code, `${path}: ${detail}`, { path, batchId });

  const v = own(raw, 'v');
  if (v !== PROTOCOL_VERSION) throw fail('bad-frame', 'v', `unsupported protocol version ${describe(v)} (this side speaks ${PROTOCOL_VERSION})`);
  const type = own(raw, 'type');
  if (typeof type !== 'string' || !(FRAME_TYPES as readonly string[]).includes(type)) {
    throw fail('bad-frame', 'type', `unknown frame type ${describe(type)}`);
  }
  const frameType = type as FrameType;
  if (expect !== undefined && !expect.includes(frameType)) {
    throw fail('bad-frame', 'type', `unexpected frame type "${frameType}" (expected ${expect.map((t) => `"${t}"`).join(' or ') || 'none'})`);
  }
  const bounded = LIST_LIMITS[frameType];
  if (bounded) {
    const items = own(raw, bounded.list);
    const max = bounded.max(limits);
    if (Array.isArray(items) && items.length > max) throw fail('limit', bounded.list, `must have at most ${max} items, got ${items.length}`);
    if (Array.isArray(items) && bounded.hits) {
      const maxHits = bounded.hits(limits);
      items.forEach((item: unknown, i) => {
        const hits = isRecord(item) ? own(item, 'hits') : undefined;
        if (Array.isArray(hits) && hits.length > maxHits) {
          const path = `${bounded.list}[${i}].hits`;
          throw new ProtocolError('limit', `${path}: must have at most ${maxHits} items, got ${hits.length}`, { path, batchId, queryId: queryIdAt(raw, [bounded.list, i]) });
        }
      });
    }
  }

  const parsed = frameSchemas(limits)[frameType].safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw issueToError(parsed.error.issues[0], raw, batchId);
}

function issueToError(issue: z.core.$ZodIssue, raw: Record<string, unknown>, batchId: string | undefined): ProtocolError {
  let path: readonly PropertyKey[] = issue.path;
  let detail: string;
  switch (issue.code) {
    case 'invalid_type': {
      const input = (issue as { input?: unknown }).input;
      detail = input === undefined ? 'required' : `expected ${issue.expected === 'int' ? 'an integer' : issue.expected}, got ${kindOf(input)}`;
      break;
    }
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const bound = Number(big ? issue.maximum : issue.minimum);
      const relation = issue.inclusive === false ? (big ? 'less than' : 'more than') : big ? 'at most' : 'at least';
      if (issue.origin === 'array') detail = `must have ${relation} ${bound} items`;
      else if (issue.origin === 'string') detail = `must be ${relation} ${bound} characters long`;
      else detail = `must be ${relation} ${bound}`;
      break;
    }
    case 'unrecognized_keys': {
      // The path names the first unknown key itself; key names are peer-supplied, so quoted
      // and truncated by formatPath.
      path = [...issue.path, issue.keys[0]];
      detail = issue.keys.length > 1 ? `unknown key (and ${issue.keys.length - 1} more)` : 'unknown key';
      break;
    }
    case 'invalid_value':
      detail = issue.values.length === 1 ? `must be ${describe(issue.values[0])}` : `must be one of ${issue.values.map(describe).join(', ')}`;
      break;
    case 'invalid_union':
      detail = 'matches none of the allowed shapes';
      break;
    default:
      detail = issue.message;
  }
  const where = formatPath(path);
  return new ProtocolError(isLimitIssue(issue) ? 'limit' : 'bad-frame', `${where}: ${detail}`, {
    path: where,
    batchId,
    queryId: queryIdAt(raw, issue.path),
  });
}

/** The id of the query (or result) the failing field belongs to, when it has a sane one. */
function queryIdAt(raw: Record<string, unknown>, path: readonly PropertyKey[]): string | undefined {
  const [list, index] = path;
  if ((list !== 'queries' && list !== 'results') || typeof index !== 'number') return undefined;
  const items = own(raw, list);
  if (!Array.isArray(items)) return undefined;
  const item: unknown = items[index];
  return isRecord(item) ? readableId(own(item, 'id')) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Turns any thrown value into an error frame for the peer. ProtocolErrors keep their code,
 * ids and retry hint; anything else is 'internal' with its message.
 */
export function errorFrame(err: unknown, batchId?: string): ErrorFrame {
  const frame: ErrorFrame = { v: PROTOCOL_VERSION, type: 'error', code: 'internal', message: '' };
  if (err instanceof ProtocolError && (ERROR_CODES as readonly string[]).includes(err.code)) {
    frame.code = err.code;
    frame.message = err.message;
    const id = readableId(err.batchId) ?? readableId(batchId);
    if (id !== undefined) frame.batchId = id;
    const queryId = readableId(err.queryId);
    if (queryId !== undefined) frame.queryId = queryId;
    if (typeof err.retryAfterMs === 'number' && Number.isFinite(err.retryAfterMs) && err.retryAfterMs >= 0) frame.retryAfterMs = err.retryAfterMs;
  } else {
    frame.message = messageOf(err);
    const id = readableId(batchId);
    if (id !== undefined) frame.batchId = id;
  }
  // Kept within the schema's bound so the error frame itself always decodes.
  if (frame.message.length > MAX_ERROR_MESSAGE) frame.message = `${frame.message.slice(0, MAX_ERROR_MESSAGE - 1)}…`;
  return frame;
}

function asProtocolError(err: unknown): ProtocolError {
  if (err instanceof ProtocolError) return err;
  return new ProtocolError('internal', `frame could not be checked: ${messageOf(err)}`, { cause: err });
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

/** Own property only: decoded maps are plain objects, but never read through a prototype. */
function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** An id worth echoing back: a string within the protocol's id bounds. */
function readableId(x: unknown): string | undefined {
  return typeof x === 'string' && x.length >= 1 && x.length <= 128 ? x : undefined;
}

function kindOf(x: unknown): string {
  if (x === null) return 'nil';
  if (Array.isArray(x)) return 'array';
  if (x instanceof Uint8Array) return 'bytes';
  if (typeof x === 'number') {
    if (Number.isNaN(x)) return 'NaN';
    if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
    return Number.isInteger(x) ? 'integer' : 'non-integer number';
  }
  if (typeof x === 'object') return 'map';
  return typeof x;
}

/** A short, safe rendering of a peer-supplied value for a message. */
function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 64 ? `${x.slice(0, 64)}…` : x);
  if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) return String(x);
  return kindOf(x);
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** ["queries", 3, "k"] → "queries[3].k"; the root is "frame". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENT.test(seg) && seg.length <= 64) out += out ? `.${seg}` : seg;
    else out += `[${describe(typeof seg === 'symbol' ? seg.toString() : seg)}]`;
  }
  return out || 'frame';
}

function messageOf(err: unknown): string {
  try {
    if (err instanceof Error) return err.message;
    return String(err);
  } catch {
    return 'unprintable error';
  }
}
