// Float32Array <-> raw little-endian bytes, the wire form of a vector (msgpack `bin`).
// Raw bytes instead of an array of msgpack floats: 4 bytes a component instead of 5 or 9, and
// a memcpy on little-endian hosts instead of a per-element encode.

/** True on little-endian hosts (every platform we run on; the DataView path is for the rest). */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies a vector into a fresh Uint8Array holding its components as little-endian float32. */
export function vectorToBytes(vector: Float32Array): Uint8Array<ArrayBuffer> {
  if (!(vector instanceof Float32Array)) throw new TypeError('vector must be a Float32Array');
  return HOST_IS_LITTLE_ENDIAN ? vectorToBytesNative(vector) : vectorToBytesPortable(vector);
}

/**
 * Reads little-endian float32 bytes into a fresh Float32Array. The input may sit at any
 * byteOffset (e.g. a slice of a received frame); the output owns its own aligned buffer, so
 * it never aliases the frame. Throws a RangeError unless the length is a multiple of 4.
 */
export function bytesToVector(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`vector byte length ${bytes.byteLength} is not a multiple of 4`);
  }
  return HOST_IS_LITTLE_ENDIAN ? bytesToVectorNative(bytes) : bytesToVectorPortable(bytes);
}

// Little-endian host: the in-memory layout is the wire layout, so a byte copy is enough.
// Copying through Uint8Array views sidesteps Float32Array's 4-byte alignment requirement.
function vectorToBytesNative(vector: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(vector.byteLength);
  out.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength));
  return out;
}

function bytesToVectorNative(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

// Any host: explicit little-endian reads and writes. Exported for tests, so the big-endian
// path is exercised on little-endian CI machines too.
export function vectorToBytesPortable(vector: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(vector.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i], true);
  return out;
}

export function bytesToVectorPortable(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`vector byte length ${bytes.byteLength} is not a multiple of 4`);
  }
  const out = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** IEEE half-precision bits → number (exact: every half value is a float32 value). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Reads little-endian float16 bytes (half the bytes of float32) into a fresh Float32Array. */
export function halfBytesToVector(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.byteLength % 2 !== 0) throw new RangeError(`float16 byte length ${bytes.byteLength} is not a multiple of 2`);
  const out = new Float32Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  return out;
}
