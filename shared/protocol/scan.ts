// Structural check of untrusted msgpack bytes before msgpackr sees them. msgpackr trusts
// declared lengths, recurses once per nesting level and understands extension types we never
// send (Date, Set, RegExp, Error, typed arrays, structured-clone references, bundled strings).
// One linear, iterative pass here rejects all of that cheaply, so the decoder only ever runs
// on well-formed, shallow, extension-free input.

/** Deepest nesting any frame needs is 7 (result → results → result → hits → hit → branches → branch). */
export const MAX_DEPTH = 16;
/** Our maps are strict objects with at most 8 keys; a bigger map can never be valid. */
export const MAX_MAP_ENTRIES = 32;
/** Our keys are short field names. */
export const MAX_KEY_BYTES = 64;

/** Thrown for bytes that are not a single well-formed msgpack value of the shapes we accept. */
export class ScanError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'ScanError';
  }
}

// "__proto__" as UTF-8: msgpackr renames this key, but no frame field has it either way, so
// it is refused outright rather than turned into something that looks like a typo.
const PROTO_KEY = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

/** Throws ScanError unless `b` holds exactly one acceptable msgpack value. */
export function scanMsgpack(b: Uint8Array): void {
  const end = b.length;
  let pos = 0;
  // Per open container: values still to read; for maps, counted twice (key + value) so the
  // parity says whether the next item is a key.
  const left: number[] = [1];
  const isMap: boolean[] = [false];
  let depth = 0;

  const need = (n: number, what: string) => {
    if (n > end - pos) throw new ScanError(`${what} declares ${n} bytes but only ${end - pos} remain`, pos);
  };
  const u16 = () => (b[pos] << 8) | b[pos + 1];
  const u32 = () => ((b[pos] << 24) >>> 0) + ((b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]);

  const open = (n: number, map: boolean, at: number) => {
    // Every item takes at least one byte: a count the remaining bytes cannot hold is a lie,
    // refused before anything is allocated for it.
    const items = map ? n * 2 : n;
    if (items > end - pos) throw new ScanError(`${map ? 'map' : 'array'} declares ${n} entries but only ${end - pos} bytes remain`, at);
    if (map && n > MAX_MAP_ENTRIES) throw new ScanError(`map with ${n} entries exceeds ${MAX_MAP_ENTRIES}`, at);
    if (n === 0) return;
    if (depth + 1 > MAX_DEPTH) throw new ScanError(`nesting deeper than ${MAX_DEPTH}`, at);
    depth++;
    left[depth] = items;
    isMap[depth] = map;
  };

  while (depth >= 0) {
    if (left[depth] === 0) {
      depth--;
      continue;
    }
    const keyExpected = isMap[depth] && left[depth] % 2 === 0;
    left[depth]--;
    const at = pos;
    if (pos >= end) throw new ScanError('unexpected end of data', pos);
    const t = b[pos++];

    if (keyExpected) {
      let len: number;
      // Any str encoding is accepted (other encoders may use str8/16/32 for short strings).
      if (t >= 0xa0 && t <= 0xbf) len = t - 0xa0;
      else if (t === 0xd9) {
        need(1, 'length');
        len = b[pos++];
      } else if (t === 0xda) {
        need(2, 'length');
        len = u16();
        pos += 2;
      } else if (t === 0xdb) {
        need(4, 'length');
        len = u32();
        pos += 4;
      } else throw new ScanError('map keys must be strings', at);
      if (len > MAX_KEY_BYTES) throw new ScanError(`map key of ${len} bytes exceeds ${MAX_KEY_BYTES}`, at);
      need(len, 'map key');
      if (len === PROTO_KEY.length && PROTO_KEY.every((c, i) => b[pos + i] === c)) throw new ScanError('map key "__proto__" is not allowed', at);
      pos += len;
      continue;
    }

    if (t <= 0x7f || t >= 0xe0) continue; // fixint
    if (t <= 0x8f) {
      open(t & 0x0f, true, at);
      continue;
    }
    if (t <= 0x9f) {
      open(t & 0x0f, false, at);
      continue;
    }
    if (t <= 0xbf) {
      const len = t - 0xa0;
      need(len, 'fixstr');
      pos += len;
      continue;
    }
    switch (t) {
      case 0xc0: // nil
      case 0xc2: // false
      case 0xc3: // true
        continue;
      case 0xcc:
      case 0xd0:
        need(1, 'int8');
        pos += 1;
        continue;
      case 0xcd:
      case 0xd1:
        need(2, 'int16');
        pos += 2;
        continue;
      case 0xca:
      case 0xce:
      case 0xd2:
        need(4, 'number');
        pos += 4;
        continue;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        need(8, 'number');
        pos += 8;
        continue;
      case 0xc4:
      case 0xd9: {
        need(1, 'length');
        const len = b[pos++];
        need(len, t === 0xc4 ? 'bin8' : 'str8');
        pos += len;
        continue;
      }
      case 0xc5:
      case 0xda: {
        need(2, 'length');
        const len = u16();
        pos += 2;
        need(len, t === 0xc5 ? 'bin16' : 'str16');
        pos += len;
        continue;
      }
      case 0xc6:
      case 0xdb: {
        need(4, 'length');
        const len = u32();
        pos += 4;
        need(len, t === 0xc6 ? 'bin32' : 'str32');
        pos += len;
        continue;
      }
      case 0xdc:
      case 0xde: {
        need(2, 'count');
        const n = u16();
        pos += 2;
        open(n, t === 0xde, at);
        continue;
      }
      case 0xdd:
      case 0xdf: {
        need(4, 'count');
        const n = u32();
        pos += 4;
        open(n, t === 0xdf, at);
        continue;
      }
      case 0xc7:
      case 0xc8:
      case 0xc9:
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        throw new ScanError('msgpack extension types are not allowed', at);
      default: // 0xc1, never used
        throw new ScanError(`invalid msgpack byte 0x${t.toString(16)}`, at);
    }
  }
  if (pos !== end) throw new ScanError(`${end - pos} trailing bytes after the frame`, pos);
}
