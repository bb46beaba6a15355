import { describe, expect, it } from 'vitest';
import { FaissIndex } from '../index/index.ts';
import { gaussian, normalizeRows, unitRows } from '../index/test-helpers.ts';
import { optimizeTargets, type TrainingData } from './train.ts';

/**
 * 150 documents (every 10th owns two rows: windows) in 16-d, and two noisy queries per document:
 * query i and query 150 + i are both about document i.
 */
function toyData(): TrainingData {
  const d = 16;
  const docs = 150;
  const docRows: number[] = [];
  for (let doc = 0; doc < docs; doc++) docRows.push(...(doc % 10 === 0 ? [doc, doc] : [doc]));
  const targets = unitRows(docRows.length, d, 7);
  const noise = gaussian(2 * docs, d, 8);
  const firstRow = new Map<number, number>();
  docRows.forEach((doc, row) => firstRow.has(doc) || firstRow.set(doc, row));
  const queries = new Float32Array(2 * docs * d);
  for (let q = 0; q < 2 * docs; q++) {
    const row = firstRow.get(q % docs)!;
    for (let i = 0; i < d; i++) queries[q * d + i] = targets[row * d + i] + 0.08 * noise[q * d + i];
  }
  normalizeRows(queries, d);
  return { targets, d, targetDoc: Uint32Array.from(docRows), queries, relevant: Array.from({ length: 2 * docs }, (_, q) => [q % docs]) };
}

async function coarsePq(data: TrainingData): Promise<FaissIndex> {
  const index = FaissIndex.create(data.d, 'PQ4x3', 'ip');
  await index.train(unitRows(2048, data.d, 3));
  return index;
}

const split = { train: Array.from({ length: 150 }, (_, i) => i), validation: Array.from({ length: 150 }, (_, i) => 150 + i) };

describe('optimizeTargets', () => {
  it('with lr 0 returns the targets byte for byte, and stops after `patience` epochs', async () => {
    const data = toyData();
    const before = Buffer.from(data.targets.buffer).toString('base64');
    const index = await coarsePq(data);
    const result = await optimizeTargets(data, { ...split, epochs: 10, lr: 0, negatives: 10, patience: 2, quantize: (t) => index.quantize(t) });
    index.dispose();
    expect(Buffer.from(result.targets.buffer).toString('base64')).toBe(before);
    expect(Buffer.from(data.targets.buffer).toString('base64')).toBe(before);
    expect(result.bestEpoch).toBe(0);
    expect(result.history).toHaveLength(3); // start + 2 epochs without improvement
  });

  it('gives bit-identical targets and history on 2 step threads as in this thread, and keeps frozen rows', async () => {
    const data = toyData();
    const index = FaissIndex.create(data.d, 'PQ4x6', 'ip');
    await index.train(unitRows(2048, data.d, 3));
    const n = data.targetDoc.length;
    const trainable = Uint8Array.from({ length: n }, (_, r) => (r % 3 === 0 ? 0 : 1));
    const run = (threads: number) => optimizeTargets(data, { ...split, epochs: 3, lr: 0.003, negatives: 20, patience: 5, quantize: (t) => index.quantize(t), trainable, threads });
    const [one, two] = [await run(1), await run(2)];
    index.dispose();
    expect(one.bestEpoch).toBeGreaterThan(0);
    expect(two.history.map((h) => [h.loss, h.validNdcg10])).toEqual(one.history.map((h) => [h.loss, h.validNdcg10]));
    expect(Buffer.from(two.targets.buffer).equals(Buffer.from(one.targets.buffer))).toBe(true);
    let moved = 0;
    for (let r = 0; r < n; r++) {
      const same = one.targets.subarray(r * data.d, (r + 1) * data.d).every((x, i) => x === data.targets[r * data.d + i]);
      if (!trainable[r]) expect(same, `frozen row ${r}`).toBe(true);
      else if (!same) moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('keeps every target at its starting norm unless told not to, and the anchor keeps moved targets nearer their start', async () => {
    const data = toyData();
    const d = data.d;
    const n = data.targetDoc.length;
    const norm = (m: Float32Array, r: number) => Math.hypot(...m.subarray(r * d, (r + 1) * d));
    const drift = (m: Float32Array) => {
      let sum = 0;
      for (let i = 0; i < m.length; i++) sum += (m[i] - data.targets[i]) ** 2;
      return Math.sqrt(sum);
    };
    // No validation split: the last epoch is kept, whatever it scores.
    const run = (more: object) => optimizeTargets(data, { train: split.train, validation: [], epochs: 3, lr: 0.01, negatives: 20, ...more });
    const kept = await run({});
    const free = await run({ keepNorms: false });
    const anchored = await run({ anchor: 1 });
    for (let r = 0; r < n; r++) expect(norm(kept.targets, r)).toBeCloseTo(norm(data.targets, r), 5);
    expect(Array.from({ length: n }, (_, r) => Math.abs(norm(free.targets, r) - norm(data.targets, r))).some((x) => x > 1e-3)).toBe(true);
    expect(drift(kept.targets)).toBeGreaterThan(0);
    expect(drift(anchored.targets)).toBeLessThan(drift(kept.targets));
    // Every validation query is about a document training moves: all "seen", none "unseen".
    const [start] = (await optimizeTargets(data, { ...split, epochs: 0, lr: 0.01, negatives: 20 })).history;
    expect(start.validSeen).toBe(start.validNdcg10);
    expect(start.validUnseen).toBeNaN();
  });

  it('refuses a query that is both trained on and validated on', async () => {
    const data = toyData();
    await expect(optimizeTargets(data, { train: [0, 1, 2], validation: [2, 3], epochs: 1, lr: 0.1, negatives: 5 })).rejects.toThrow(/1 queries are both trained on and validated on \(e\.g\. 2\)/);
  });
});
