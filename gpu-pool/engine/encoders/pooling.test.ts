import { describe, expect, it } from 'vitest';
import { clsPool, l2NormalizeRows, meanPool } from './pooling.ts';

describe('pooling', () => {
  // B=2, T=3, H=2
  const hidden = Float32Array.from([1, 2, 3, 4, 100, 100, /* row 2 */ 5, 6, 7, 8, 9, 10]);
  it('mean over the valid (first len) positions only', () => {
    expect(Array.from(meanPool(hidden, [2, 3, 2], [2, 3]))).toEqual([2, 3, 7, 8]);
  });
  it('cls takes position 0', () => {
    expect(Array.from(clsPool(hidden, [2, 3, 2]))).toEqual([1, 2, 5, 6]);
  });
  it('normalises rows; unit rows keep their exact bits; zero rows stay zero', () => {
    const v = Float32Array.from([3, 4, 0, 0]);
    l2NormalizeRows(v, 2);
    expect(Array.from(v)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0]);
    const unit = Math.fround(1 / Math.sqrt(3));
    const w = Float32Array.from([unit, unit, unit]);
    l2NormalizeRows(w, 3);
    expect(Array.from(w)).toEqual([unit, unit, unit]);
  });
});
