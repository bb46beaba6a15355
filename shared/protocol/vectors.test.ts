import { describe, expect, it } from 'vitest';
import {
  HOST_IS_LITTLE_ENDIAN,
  bytesToVector,
  bytesToVectorPortable,
  halfBytesToVector,
  vectorToBytes,
  vectorToBytesPortable,
} from './vectors.ts';
import { Rng } from './arbitrary.test-support.ts';

const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)));

describe('vectorToBytes', () => {
  it('writes little-endian float32', () => {
    expect(Array.from(vectorToBytes(new Float32Array([1, -2])))).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
    expect(Array.from(vectorToBytesPortable(new Float32Array([1, -2])))).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]);
  });

  it('encodes only the view of a subarray, into a fresh exact-size buffer', () => {
    const big = new Float32Array([9, 1.5, 2.5, 9]);
    const bytes = vectorToBytes(big.subarray(1, 3));
    expect(bytes.byteLength).toBe(8);
    expect(bytes.buffer.byteLength).toBe(8);
    expect(Array.from(bytesToVector(bytes))).toEqual([1.5, 2.5]);
    big[1] = 7; // a copy, not a view
    expect(Array.from(bytesToVector(bytes))).toEqual([1.5, 2.5]);
  });

  it('handles the empty vector', () => {
    expect(vectorToBytes(new Float32Array(0)).byteLength).toBe(0);
    expect(bytesToVector(new Uint8Array(0)).length).toBe(0);
  });

  it('rejects what is not a Float32Array', () => {
    expect(() => vectorToBytes([1, 2] as unknown as Float32Array)).toThrow(TypeError);
    expect(() => vectorToBytes(new Float64Array(2) as unknown as Float32Array)).toThrow(TypeError);
  });
});

describe('bytesToVector', () => {
  it('round-trips bit for bit: -0, subnormals, extremes, NaN payloads', () => {
    const special = new Uint32Array([0x80000000, 0x00000001, 0x007fffff, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0x7fc00001, 0xffffffff, 0x3f800000]);
    const v = new Float32Array(special.buffer);
    expect(bits(bytesToVector(vectorToBytes(v)))).toEqual(Array.from(special));
  });

  it('reads from any byteOffset and returns an aligned copy that does not alias the input', () => {
    const v = new Float32Array([0.1, -3.25, 1e-40, 65504]);
    const wire = vectorToBytes(v);
    for (const offset of [1, 2, 3, 5, 7]) {
      const host = new Uint8Array(offset + wire.length + 3);
      host.set(wire, offset);
      const view = host.subarray(offset, offset + wire.length);
      const out = bytesToVector(view);
      expect(out.byteOffset).toBe(0);
      expect(out.buffer.byteLength).toBe(v.byteLength);
      expect(bits(out)).toEqual(bits(v));
      host.fill(0xff);
      expect(bits(out)).toEqual(bits(v));
      expect(bits(bytesToVectorPortable(host.subarray(offset, offset + 4)))).toEqual([0xffffffff]);
    }
  });

  it('rejects byte lengths that are not a multiple of 4', () => {
    for (const n of [1, 2, 3, 5, 4095]) {
      expect(() => bytesToVector(new Uint8Array(n))).toThrow(/multiple of 4/);
      expect(() => bytesToVectorPortable(new Uint8Array(n))).toThrow(/multiple of 4/);
    }
  });

  it('rejects what is not bytes', () => {
    expect(() => bytesToVector([0, 0, 0, 0] as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('the portable (big-endian host) path', () => {
  it('agrees with the native path on random non-NaN vectors', () => {
    const rng = new Rng(7);
    for (let n = 0; n < 200; n++) {
      const v = new Float32Array(rng.int(0, 64));
      const u = new Uint32Array(v.buffer);
      for (let i = 0; i < u.length; i++) {
        do u[i] = rng.u32();
        while (Number.isNaN(v[i]));
      }
      const native = vectorToBytes(v);
      expect(vectorToBytesPortable(v)).toEqual(native);
      expect(bits(bytesToVectorPortable(native))).toEqual(bits(v));
      expect(bits(bytesToVector(native))).toEqual(bits(v));
    }
  });

  it('is not what runs here (every supported host is little-endian)', () => {
    expect(HOST_IS_LITTLE_ENDIAN).toBe(true);
  });
});

describe('float16 token bytes', () => {
  it('decode exactly: normals, subnormals, zero signs, the largest half', () => {
    // 1, -2, 0.5, 65504 (max half), 2^-24 (smallest subnormal), -0
    const halves = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000];
    const bytes = new Uint8Array(halves.length * 2);
    halves.forEach((h, i) => new DataView(bytes.buffer).setUint16(i * 2, h, true));
    const out = halfBytesToVector(bytes);
    expect([...out.slice(0, 5)]).toEqual([1, -2, 0.5, 65504, 2 ** -24]);
    expect(Object.is(out[5], -0)).toBe(true);
  });

  it('refuses an odd byte count', () => {
    expect(() => halfBytesToVector(new Uint8Array(3))).toThrow(/not a multiple of 2/);
  });
});
