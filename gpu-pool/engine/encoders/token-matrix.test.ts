import { describe, expect, it } from 'vitest';
import { concatTokenMatrices, emptyTokenMatrix, normalizeTokenRows, projectTokens, tokenMatrix, tokenRow } from './token-matrix.ts';

describe('token matrices', () => {
  it('checks shapes and gives row views', () => {
    const m = tokenMatrix(2, 3, Float32Array.of(1, 2, 3, 4, 5, 6));
    expect(Array.from(tokenRow(m, 1))).toEqual([4, 5, 6]);
    expect(() => tokenRow(m, 2)).toThrow(/token row 2 out of 0\.\.1/);
    expect(() => tokenMatrix(2, 3, new Float32Array(5))).toThrow(/5 floats for 2 × 3/);
    expect(emptyTokenMatrix(4)).toEqual({ rows: 0, dim: 4, data: new Float32Array(0) });
  });

  it('concatenates rows in order', () => {
    const a = tokenMatrix(1, 2, Float32Array.of(1, 2));
    const b = tokenMatrix(2, 2, Float32Array.of(3, 4, 5, 6));
    expect(Array.from(concatTokenMatrices([a, emptyTokenMatrix(2), b], 2).data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => concatTokenMatrices([a, tokenMatrix(1, 3)], 2)).toThrow(/3-d matrix with 2-d/);
  });

  it('normalises rows (zero rows stay zero) without touching the input', () => {
    const m = tokenMatrix(2, 2, Float32Array.of(3, 4, 0, 0));
    expect(normalizeTokenRows(m).data).toEqual(Float32Array.of(0.6, 0.8, 0, 0));
    expect(Array.from(m.data)).toEqual([3, 4, 0, 0]);
  });

  it('projects rows by a row-major in × out matrix, then normalises', () => {
    // x = [1, 2, 3]; W (3 × 2) = [[1, 0], [0, 1], [1, 1]] → x·W = [4, 5].
    const m = tokenMatrix(2, 3, Float32Array.of(1, 2, 3, 0, 0, 0));
    const p = projectTokens(m, Float32Array.of(1, 0, 0, 1, 1, 1), 2);
    expect(p.rows).toBe(2);
    expect(p.dim).toBe(2);
    expect(p.data[0]).toBeCloseTo(4 / Math.hypot(4, 5), 7);
    expect(p.data[1]).toBeCloseTo(5 / Math.hypot(4, 5), 7);
    expect(Array.from(p.data.subarray(2))).toEqual([0, 0]);
    expect(() => projectTokens(m, new Float32Array(5), 2)).toThrow(/5 weights for 3 × 2/);
    expect(projectTokens(m, undefined).data).toEqual(normalizeTokenRows(m).data);
  });
});
