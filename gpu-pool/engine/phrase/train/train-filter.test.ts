// The phrase filter's loss and training on synthetic token features (no model): the gradient
// against finite differences, learning a start signal planted in the features, and the figures.
import { describe, expect, it } from 'vitest';
import { FeatureStore } from '../../colbert/train/index.ts';
import type { TokenBoundaries } from '../model/index.ts';
import { filterFigures, filterLossAndGradient, foldFilterScale, positiveWeights, trainFilter, type FilterData, type FilterParagraph } from './index.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * `n` paragraphs of 20..40 tokens, every third token not a candidate (a word piece), about one
 * candidate in 12 a gold start (and its next candidate a gold end); gold tokens carry `signal`
 * along feature 0 (starts) and feature 1 (ends), everything else is noise of norm ~1.
 */
function synthetic(n: number, H: number, seed: number, signal: number): { data: FilterData; paragraphs: FilterParagraph[] } {
  const r = rng(seed);
  const store = new FeatureStore(H);
  const boundaries: TokenBoundaries[] = [];
  const paragraphs: FilterParagraph[] = [];
  for (let p = 0; p < n; p++) {
    const T = 20 + Math.floor(r() * 21);
    const canStart = new Uint8Array(T);
    const canEnd = new Uint8Array(T);
    const x = new Float32Array(T * H);
    for (let k = 0; k < x.length; k++) x[k] = (2 * r() - 1) * Math.sqrt(3 / H);
    const starts: number[] = [];
    const ends: number[] = [];
    for (let t = 0; t < T; t++) canStart[t] = canEnd[t] = t % 3 === 2 ? 0 : 1;
    for (let t = 0; t < T; t++) {
      if (canStart[t] && t + 1 < T && canEnd[t + 1] && r() < 1 / 12) {
        starts.push(t);
        ends.push(t + 1);
        x[t * H] += signal;
        x[(t + 1) * H + 1] += signal;
      }
    }
    store.add(x, T);
    boundaries.push({ charStart: new Int32Array(T), charEnd: new Int32Array(T), canStart, canEnd });
    paragraphs.push({ paragraph: p, starts, ends });
  }
  const cut = Math.floor(n * 0.75);
  const data: FilterData = {
    H,
    paragraphs: store,
    boundaries,
    train: paragraphs.slice(0, cut),
    validation: paragraphs.slice(cut),
    validationQuestions: paragraphs.slice(cut).map((p) => ({ paragraph: p.paragraph, starts: p.starts.slice(0, 1) })),
  };
  return { data, paragraphs };
}

describe('phrase filter loss', () => {
  it('has the gradient of its loss (central differences)', () => {
    const H = 6;
    const { data } = synthetic(5, H, 3, 0.5);
    const r = rng(9);
    const params = Float32Array.from({ length: 2 * (H + 1) }, () => (2 * r() - 1) * 2);
    const w = positiveWeights(data, data.train);
    const grad = new Float32Array(params.length);
    const loss = filterLossAndGradient(params, data, data.train, w, { grad });
    expect(loss).toBeGreaterThan(0);
    const eps = 1e-2;
    for (let i = 0; i < params.length; i++) {
      const p = params.slice();
      p[i] = params[i] + eps;
      const up = filterLossAndGradient(p, data, data.train, w);
      p[i] = params[i] - eps;
      const down = filterLossAndGradient(p, data, data.train, w);
      expect(grad[i]).toBeCloseTo((up - down) / (2 * eps), 3);
    }
  });

  it('weights positives by negatives / positives, and refuses a gold token that is not a candidate', () => {
    const { data } = synthetic(8, 4, 5, 0);
    const w = positiveWeights(data, data.train);
    expect(w.start).toBeCloseTo((w.counts.startCandidates - w.counts.goldStarts) / w.counts.goldStarts, 10);
    expect(w.counts.goldStarts).toBeGreaterThan(0);
    // At zero weights every candidate scores 0.5: both classes cost log 2 and the loss is exactly log 2.
    expect(filterLossAndGradient(new Float32Array(10), data, data.train, w)).toBeCloseTo(Math.LN2, 6);
    const bad = { ...data, train: [{ paragraph: 0, starts: [2], ends: [] }] };
    expect(() => positiveWeights(bad, bad.train)).toThrow(/gold start 2 of paragraph 0 is not a canStart token/);
  });
});

describe('phrase filter training', () => {
  it('learns a planted start signal: at 0.5 it keeps few candidates and most gold starts, and reruns give the same filter', () => {
    const H = 16;
    const { data } = synthetic(120, H, 11, 1);
    const opts = { epochs: 30, lr: 3e-2, batchSize: 8, seed: 2, patience: 3 };
    const a = trainFilter(data, opts);
    expect(a.bestEpoch).toBeGreaterThan(0);
    expect(a.history[a.bestEpoch].validationLoss).toBeLessThan(a.history[0].validationLoss - 0.1);
    const [low, mid] = filterFigures(data, a.params, [0.05, 0.5]);
    expect(low.kept).toBeGreaterThan(mid.kept);
    expect(mid.startRecall).toBeGreaterThan(0.8);
    expect(mid.kept).toBeLessThan(0.4);
    expect(mid.startRecall - mid.kept).toBeGreaterThan(0.5);
    expect(mid.endRecall - mid.endKept).toBeGreaterThan(0.5);
    expect(mid.questionRecall).toBeGreaterThanOrEqual(mid.startRecall - 0.2);
    const b = trainFilter(data, opts);
    expect(Buffer.from(b.params.buffer).equals(Buffer.from(a.params.buffer))).toBe(true);
  });

  it('folds the feature scale into the weights, not the biases', () => {
    const H = 3;
    const params = Float32Array.from([2, 4, 6, 1, 8, 10, 12, -1]);
    expect(Array.from(foldFilterScale(params, H, 2))).toEqual([1, 2, 3, 1, 4, 5, 6, -1]);
  });
});
