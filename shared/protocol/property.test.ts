import { describe, expect, it } from 'vitest';
import { Rng, difference, frame } from './arbitrary.test-support.ts';
import { FRAME_TYPES, decodeFrame, encodeFrame, validateFrame, type FrameType } from './index.ts';

const PER_TYPE = 1000;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('random valid frames round-trip exactly', () => {
  FRAME_TYPES.forEach((type, t) => {
    it(`${PER_TYPE} ${type} frames`, () => {
      const rng = new Rng(0x5eed0000 + t);
      for (let i = 0; i < PER_TYPE; i++) {
        const original = frame(rng, type);
        // The generator is meant to produce valid frames; if it does not, the round-trip
        // property below would be vacuous for that frame.
        expect(() => validateFrame(original)).not.toThrow();
        const bytes = encodeFrame(original);
        const decoded = decodeFrame(bytes, { expect: [type] });
        const diff = difference(decoded, original);
        if (diff) expect.fail(`frame ${i} (seed ${0x5eed0000 + t}) differs at ${diff}`);
        // Canonical: re-encoding what was decoded gives the same bytes.
        if (!sameBytes(encodeFrame(decoded), bytes)) expect.fail(`frame ${i}: re-encoding changed the bytes`);
      }
    });
  });

  it('frames generated under tight custom limits decode under those limits', () => {
    const limits = { maxQueries: 3, maxK: 7, maxQueryChars: 20, maxVectorDim: 8, maxQueryTokens: 5, maxOrdinals: 5 };
    const rng = new Rng(42);
    for (let i = 0; i < 700; i++) {
      const type: FrameType = FRAME_TYPES[i % FRAME_TYPES.length];
      const original = frame(rng, type, { ...limits, maxFrameBytes: 1 << 20 });
      const decoded = decodeFrame(encodeFrame(original), { limits });
      const diff = difference(decoded, original);
      if (diff) expect.fail(`frame ${i} differs at ${diff}`);
    }
  });
});

describe('the comparison the properties rely on', () => {
  it('sees a single flipped vector bit, -0 against 0, and a missing or extra key', () => {
    const a = new Float32Array([1, 2, 3]);
    const b = new Float32Array([1, 2, 3]);
    expect(difference({ v: a }, { v: b })).toBeNull();
    new Uint8Array(b.buffer)[5] ^= 1;
    expect(difference({ v: a }, { v: b })).toMatch(/v\[1\]/);
    expect(difference({ s: -0 }, { s: 0 })).toMatch(/frame\.s/);
    expect(difference({ a: 1 }, { a: 1, b: undefined })).toMatch(/keys/);
    expect(difference([new Float32Array([0])], [new Float32Array([-0])])).not.toBeNull();
  });
});
