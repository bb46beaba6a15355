import { describe, expect, it } from 'vitest';
import { FeatureStore } from './features.ts';
import { gaussian, principalProjection, randomProjection, seededRandom } from './init.ts';

/** Max |VᵀV − I| of an F × dim matrix. */
function orthogonalityError(V: Float32Array, F: number, dim: number): number {
  let worst = 0;
  for (let a = 0; a < dim; a++)
    for (let b = 0; b < dim; b++) {
      let s = 0;
      for (let r = 0; r < F; r++) s += V[r * dim + a] * V[r * dim + b];
      worst = Math.max(worst, Math.abs(s - (a === b ? 1 : 0)));
    }
  return worst;
}

describe('projection initialisation', () => {
  it('gives a seeded random projection with orthonormal columns', () => {
    const a = randomProjection(40, 8, 3);
    expect(orthogonalityError(a, 40, 8)).toBeLessThan(1e-5);
    expect(Array.from(randomProjection(40, 8, 3))).toEqual(Array.from(a));
    expect(Array.from(randomProjection(40, 8, 4))).not.toEqual(Array.from(a));
    expect(() => randomProjection(8, 9, 1)).toThrow(/--dim must be ≤ 8/);
  });

  it('finds the directions the features vary most along, largest first', () => {
    // Features in 12-d with standard deviations 8, 4, 2 along axes 5, 0, 9 and 0.1 elsewhere.
    const F = 12;
    const g = gaussian(seededRandom(1));
    const store = new FeatureStore(F);
    const scale = Array.from({ length: F }, (_, i) => ({ 5: 8, 0: 4, 9: 2 })[i] ?? 0.1);
    for (let item = 0; item < 50; item++) store.add(Float32Array.from({ length: 20 * F }, (_, j) => g() * scale[j % F]), 20);
    const V = principalProjection(store, Array.from({ length: 50 }, (_, i) => i), 3, { seed: 2 });
    expect(orthogonalityError(V, F, 3)).toBeLessThan(1e-5);
    [5, 0, 9].forEach((axis, c) => expect(Math.abs(V[axis * 3 + c])).toBeGreaterThan(0.99));
  });
});
