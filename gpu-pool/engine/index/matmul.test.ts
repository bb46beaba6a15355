import { describe, expect, it } from 'vitest';
import { FaissError, matmul } from './index.ts';

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
}

/** The plain triple loop, reading a and b through their stored layouts. */
function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (ta ? a[t * m + i] : a[i * k + t]) * (tb ? b[j * k + t] : b[t * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

describe('matmul', () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`equals the plain product (transA ${ta}, transB ${tb})`, () => {
      const [m, n, k] = [7, 5, 33];
      const a = random(m * k, 1);
      const b = random(k * n, 2);
      const got = matmul(a, b, m, n, k, { transA: ta, transB: tb });
      const want = reference(a, b, m, n, k, ta, tb);
      expect(got).toHaveLength(m * n);
      // float32 products summed in BLAS's order against a float64 loop.
      got.forEach((x, i) => expect(x).toBeCloseTo(want[i], 4));
    });
  }

  it('gives zeros for an empty inner dimension and an empty result for empty outer ones', () => {
    expect([...matmul(new Float32Array(0), new Float32Array(0), 2, 3, 0)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(matmul(new Float32Array(0), new Float32Array(6), 0, 3, 2)).toHaveLength(0);
  });

  it('names the argument whose length does not fit the shape', () => {
    expect(() => matmul(new Float32Array(5), new Float32Array(6), 2, 3, 2)).toThrow(FaissError);
    expect(() => matmul(new Float32Array(5), new Float32Array(6), 2, 3, 2)).toThrow(/a has 5 elements, m \* k = 4/);
    expect(() => matmul(new Float32Array(4), new Float32Array(5), 2, 3, 2)).toThrow(/b has 5 elements, k \* n = 6/);
  });
});
