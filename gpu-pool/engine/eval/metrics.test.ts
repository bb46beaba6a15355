import { describe, expect, it } from 'vitest';
import { evaluate, parseMetrics, trecOrder, type Qrels, type RankedDoc, type Run } from './index.ts';

const qrels = (entries: Record<string, Record<string, number>>): Qrels =>
  new Map(Object.entries(entries).map(([q, docs]) => [q, new Map(Object.entries(docs))]));

/** Documents with descending scores in the order given. */
const ranked = (...ids: string[]): RankedDoc[] => ids.map((docId, i) => ({ docId, score: ids.length - i }));

describe('parseMetrics', () => {
  it('parses, normalises case and drops duplicates', () => {
    expect(parseMetrics('ndcg@10, MRR@10,recall@100,ndcg@10,P@5,map@1000')).toEqual(['ndcg@10', 'mrr@10', 'recall@100', 'p@5', 'map@1000']);
  });

  it('rejects unknown metrics and bad cutoffs clearly', () => {
    expect(() => parseMetrics('ndcg@10,bpref')).toThrow(/unknown metric "bpref"/);
    expect(() => parseMetrics('recall@0')).toThrow(/unknown metric "recall@0"/);
    expect(() => parseMetrics('ndcg')).toThrow(/ndcg@K/);
    expect(() => parseMetrics(' , ')).toThrow(/no metrics/);
  });
});

describe('evaluate', () => {
  it('computes graded nDCG with trec_eval discounts', () => {
    // Judged: a = 3, b = 2, c = 1, d = 0. Run order: c, x (unjudged), a, d, b.
    //   DCG@5  = 1/log2(2) + 0 + 3/log2(4) + 0 + 2/log2(6) = 1 + 1.5 + 0.773706 = 3.273706
    //   IDCG@5 = 3/log2(2) + 2/log2(3) + 1/log2(4)        = 3 + 1.261860 + 0.5 = 4.761860
    //   nDCG@5 = 0.687486
    //   DCG@2  = 1; IDCG@2 = 4.261860; nDCG@2 = 0.234639
    const r = evaluate(new Map([['q', ranked('c', 'x', 'a', 'd', 'b')]]), qrels({ q: { a: 3, b: 2, c: 1, d: 0 } }), ['ndcg@5', 'ndcg@2']);
    expect(r.mean['ndcg@5']).toBeCloseTo(0.687486, 5);
    expect(r.mean['ndcg@2']).toBeCloseTo(0.234639, 5);
  });

  it('ranks by score, breaking ties by docid descending as trec_eval does', () => {
    // Listed order says "a" first, but the scores tie and trec_eval puts "b" before "a".
    const run: Run = new Map([['q', [{ docId: 'a', score: 1 }, { docId: 'b', score: 1 }]]]);
    const r = evaluate(run, qrels({ q: { a: 1 } }), ['mrr@10', 'p@1']);
    expect(r.mean['mrr@10']).toBe(0.5);
    expect(r.mean['p@1']).toBe(0);
    expect(trecOrder([{ docId: 'a', score: 1 }, { docId: 'c', score: 2 }, { docId: 'b', score: 1 }]).map((d) => d.docId)).toEqual(['c', 'b', 'a']);
  });

  it('gives MRR 1/3 when the first relevant document is at rank 3, and 0 past the cutoff', () => {
    const run = new Map([['q', ranked('n1', 'n2', 'r', 'r2')]]);
    const r = evaluate(run, qrels({ q: { r: 1, r2: 2, n1: 0 } }), ['mrr@10', 'mrr@2']);
    expect(r.mean['mrr@10']).toBeCloseTo(1 / 3, 12);
    expect(r.mean['mrr@2']).toBe(0);
  });

  it('divides recall and MAP by all relevant documents, even beyond k', () => {
    // 4 relevant, k = 2, both top-2 relevant: recall 2/4; MAP@2 = (1/1 + 2/2) / 4 = 0.5.
    // At k = 5 the run finds r3 at rank 4: recall 3/4; MAP@5 = (1 + 1 + 3/4) / 4 = 0.6875.
    const run = new Map([['q', ranked('r1', 'r2', 'n', 'r3')]]);
    const judged = qrels({ q: { r1: 1, r2: 1, r3: 1, r4: 1 } });
    const r = evaluate(run, judged, ['recall@2', 'map@2', 'recall@5', 'map@5', 'p@5']);
    expect(r.mean).toEqual({ 'recall@2': 0.5, 'map@2': 0.5, 'recall@5': 0.75, 'map@5': 0.6875, 'p@5': 3 / 5 });
  });

  it('treats relevance ≤ 0 and unjudged documents as non-relevant', () => {
    const run = new Map([['q', ranked('neg', 'zero', 'unjudged', 'pos')]]);
    const r = evaluate(run, qrels({ q: { neg: -1, zero: 0, pos: 2 } }), ['mrr@10', 'ndcg@10', 'p@4']);
    expect(r.mean['mrr@10']).toBe(0.25);
    expect(r.mean['ndcg@10']).toBeCloseTo(2 / Math.log2(5) / 2, 12); // 0.430677
    expect(r.mean['p@4']).toBe(0.25);
  });

  it('scores a judged query missing from the run as 0 and counts it (trec_eval -c)', () => {
    const run = new Map([['q1', ranked('a')]]);
    const r = evaluate(run, qrels({ q1: { a: 1 }, q2: { b: 1 } }), ['ndcg@10', 'recall@10']);
    expect(r.queries).toBe(2);
    expect(r.perQuery.get('q2')).toEqual({ 'ndcg@10': 0, 'recall@10': 0 });
    expect(r.mean).toEqual({ 'ndcg@10': 0.5, 'recall@10': 0.5 });
  });

  it('skips qrels queries without relevant documents and run queries without qrels', () => {
    const run = new Map([['q1', ranked('a')], ['unjudged', ranked('a')], ['q0', ranked('z')]]);
    const r = evaluate(run, qrels({ q1: { a: 1 }, q0: { z: 0 } }), ['p@1']);
    expect(r.queries).toBe(1);
    expect([...r.perQuery.keys()]).toEqual(['q1']);
    expect(r.mean['p@1']).toBe(1);
  });

  it('handles an empty run and empty qrels', () => {
    const empty = evaluate(new Map(), qrels({ q: { a: 1 } }), ['ndcg@10', 'map@100']);
    expect(empty).toMatchObject({ queries: 1, mean: { 'ndcg@10': 0, 'map@100': 0 } });
    const none = evaluate(new Map([['q', ranked('a')]]), new Map(), ['ndcg@10']);
    expect(none).toMatchObject({ queries: 0, mean: { 'ndcg@10': 0 } });
  });

  it('rejects a document retrieved twice for one query', () => {
    const run: Run = new Map([['q', [{ docId: 'a', score: 2 }, { docId: 'a', score: 1 }]]]);
    expect(() => evaluate(run, qrels({ q: { a: 1 } }), ['p@1'])).toThrow(/twice/);
  });
});
