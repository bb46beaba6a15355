import { describe, expect, it } from 'vitest';
import { agreementJson, rankingAgreement, summarize } from './index.ts';

describe('rankingAgreement', () => {
  it('is 1 for the reference ranking, 0 for a disjoint one, in between for a partial overlap', () => {
    const ref = [['a', 'b', 'c']];
    expect(rankingAgreement(ref, [['a', 'b', 'c']])).toEqual([1]);
    expect(rankingAgreement(ref, [['x', 'y']])).toEqual([0]);
    const [partial] = rankingAgreement(ref, [['x', 'a', 'b']]);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(1);
    expect(rankingAgreement([[]], [['a']])[0]).toBeNaN();
  });
});

describe('summarize', () => {
  it('means overall, by depth 1, 2, 3+, each depth and fold', () => {
    const rows = [
      { id: '1_1', depth: 1, fold: 0, values: { a: 1, b: 0 } },
      { id: '1_2', depth: 2, fold: 0, values: { a: 0.5, b: 0.5 } },
      { id: '1_3', depth: 3, fold: 1, values: { a: 0, b: 1 } },
      { id: '1_4', depth: 4, fold: 1, values: { a: 0.5, b: 1 } },
    ];
    const s = summarize(rows, ['a', 'b']);
    expect(s.means).toEqual({ a: 0.5, b: 0.625 });
    expect(s.byDepth['3+']).toEqual({ a: 0.25, b: 1, turns: 2 });
    expect(Object.keys(s.perDepth)).toEqual(['1', '2', '3', '4']);
    expect(s.perFold).toEqual([{ fold: 1, turns: 2, a: 0.75, b: 0.25 }, { fold: 2, turns: 2, a: 0.25, b: 1 }]);
    expect(agreementJson(s)).toMatchObject({ a: 0.5, b: 0.625, turns: 4 });
  });
});
