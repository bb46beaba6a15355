import { describe, expect, it } from 'vitest';
import type { PhraseRows, PoolPhrase } from './pools.ts';
import { matVec, poolScores, questionLoss, type TuneQuestion } from './query-heads.ts';

/** Float rows in memory with the store's row operations. */
function rowsOf(starts: number[][], ends: number[][]): PhraseRows {
  const dot = (v: Float32Array, r: number[]) => r.reduce((s, x, k) => s + x * v[k], 0);
  return {
    dir: 'mem',
    dotStart: (v, row) => dot(v, starts[row]),
    dotEnd: (v, row) => dot(v, ends[row]),
    addStart: (row, c, out) => starts[row].forEach((x, k) => (out[k] += c * x)),
    addEnd: (row, c, out) => ends[row].forEach((x, k) => (out[k] += c * x)),
  };
}

function lcg(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 2;
}

const H = 6;
const d = 3;

function fixture(seed = 7) {
  const r = lcg(seed);
  const starts = Array.from({ length: 5 }, () => Array.from({ length: d }, r));
  const ends = Array.from({ length: 5 }, () => Array.from({ length: d }, r));
  const store = rowsOf(starts, ends);
  const pool: PoolPhrase[] = [0, 1, 2, 3, 4].map((i) => ({ store, startRow: i, endRow: (i + 1) % 5, fixed: r(), positive: i === 3 || i === 4, key: i === 4 ? 'b' : `t${i}` }));
  const q: TuneQuestion = { m: Float32Array.from({ length: H }, r), pool };
  const heads = { Qs: Float32Array.from({ length: H * d }, r), Qe: Float32Array.from({ length: H * d }, r), d };
  return { q, heads };
}

describe('query-side fine-tuning loss', () => {
  it('is −log of the positives\' share of the softmax over the pool', () => {
    const { q, heads } = fixture();
    const qs = matVec(q.m, heads.Qs, d);
    const qe = matVec(q.m, heads.Qe, d);
    const z = q.pool.map((c) => 2 * (c.store.dotStart(qs, c.startRow) + c.store.dotEnd(qe, c.endRow)) + c.fixed);
    const e = z.map(Math.exp);
    const expected = -Math.log((e[3] + e[4]) / e.reduce((a, b) => a + b, 0));
    expect(questionLoss(q, heads, 2)).toBeCloseTo(expected, 5);
  });

  it('has the gradient of finite differences, for both query heads', () => {
    const { q, heads } = fixture(11);
    const gQs = new Float32Array(H * d);
    const gQe = new Float32Array(H * d);
    questionLoss(q, heads, 1.5, { Qs: gQs, Qe: gQe, scale: 1 });
    const h = 1e-3;
    for (const [W, g] of [
      [heads.Qs, gQs],
      [heads.Qe, gQe],
    ] as const) {
      for (const i of [0, 4, 7, H * d - 1]) {
        const keep = W[i];
        W[i] = keep + h;
        const up = questionLoss(q, heads, 1.5);
        W[i] = keep - h;
        const down = questionLoss(q, heads, 1.5);
        W[i] = keep;
        expect(g[i]).toBeCloseTo((up - down) / (2 * h), 2);
      }
    }
  });

  it('steps downhill: a few gradient steps raise the positives to rank 1', () => {
    const { q, heads } = fixture(3);
    const before = questionLoss(q, heads, 1);
    for (let step = 0; step < 200; step++) {
      const gQs = new Float32Array(H * d);
      const gQe = new Float32Array(H * d);
      questionLoss(q, heads, 1, { Qs: gQs, Qe: gQe, scale: 1 });
      for (let i = 0; i < H * d; i++) {
        heads.Qs[i] -= 0.1 * gQs[i];
        heads.Qe[i] -= 0.1 * gQe[i];
      }
    }
    expect(questionLoss(q, heads, 1)).toBeLessThan(before);
    const z = poolScores(q, matVec(q.m, heads.Qs, d), matVec(q.m, heads.Qe, d), 1);
    const top = [...z.keys()].sort((a, b) => z[b] - z[a])[0];
    expect(q.pool[top].positive).toBe(true);
  });
});
