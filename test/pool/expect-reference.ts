// The one comparison of a pool answer with what one process serving every shard answers
// (harness.ts referenceAnswers); apart from the harness, which benchmarks import outside vitest.
import { expect } from 'vitest';
import type { Reference } from './harness.ts';

/** An answer from the pool has the reference's ids, in order, and its scores within 1e-4. */
export function expectReferenceHits(r: { id: string; hits: { docId: string; score: number }[] }, want: Reference): void {
  expect(r.hits.map((h) => h.docId), r.id).toEqual(want.ids);
  r.hits.forEach((h, i) => expect(Math.abs(h.score - want.scores[i]), r.id).toBeLessThan(1e-4));
}
