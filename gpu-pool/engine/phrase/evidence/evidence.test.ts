import { describe, expect, it } from 'vitest';
import { Bm25Builder } from '../../bm25/index.ts';
import { CAN_END, CAN_START, type PassageTokens } from '../store/index.ts';
import { wordSpans } from '../text/index.ts';
import { bm25Score, fitWeights, PassageEvidence, PassageText, queryTerms, resolveWeights, scoreWeights, DEFAULT_PHRASE_WEIGHTS, type FitQuestion, type PhraseWeights } from './index.ts';

const DOCS = [
  { title: 'Rivers', text: 'The Nile is the longest river. It flows north through Egypt into the Mediterranean Sea.' },
  { title: 'Mountains', text: 'Everest is the highest mountain. Its summit lies on the border of Nepal and China.' },
  { title: 'Deserts', text: 'The Sahara is a hot desert. Rain is rare there; the river Nile crosses its eastern part.' },
];

function bm25Of(docs = DOCS) {
  const b = new Bm25Builder();
  docs.forEach((d, i) => b.add(i, `${d.title} ${d.text}`));
  return b.build();
}

/** One token per word (a phrase may start and end at any word), with the given per-token scores. */
function tokensOf(text: string, start: (i: number) => number = () => 0, end: (i: number) => number = () => 0): PassageTokens {
  const words = wordSpans(text);
  const n = words.length;
  return {
    from: 100,
    startScores: Float32Array.from({ length: n }, (_, i) => start(i)),
    endScores: Float32Array.from({ length: n }, (_, i) => end(i)),
    charStart: Uint32Array.from(words, (w) => w.start),
    charEnd: Uint32Array.from(words, (w) => w.end),
    flags: new Uint8Array(n).fill(CAN_START | CAN_END),
    maxPhraseTokens: 4,
  };
}

const ZERO: PhraseWeights = { dense: 0, bm25: 0, sentence: 0, context: 0, overlap: 0 };

describe('phrase evidence', () => {
  it('scores a passage read whole exactly as the BM25 postings score it, and sentences with the same IDF', () => {
    const bm25 = bm25Of();
    const q = queryTerms('Which river flows through Egypt?', bm25);
    expect(q.terms).toEqual(expect.arrayContaining(['river', 'flow', 'egypt']));
    const hits = bm25.search('Which river flows through Egypt?', 3);
    for (const [r, o] of [...hits.ordinals].entries()) {
      const e = new PassageEvidence(o, tokensOf(DOCS[o].text), new PassageText(DOCS[o].title, DOCS[o].text), q, 8);
      expect(e.passageBm25).toBeCloseTo(hits.scores[r], 4);
    }
    const e = new PassageEvidence(0, tokensOf(DOCS[0].text), new PassageText(DOCS[0].title, DOCS[0].text), q, 8);
    expect(e.sentences.map((s) => DOCS[0].text.slice(s.start, s.end))).toEqual(['The Nile is the longest river.', 'It flows north through Egypt into the Mediterranean Sea.']);
    expect(e.sentenceBm25[1]).toBeCloseTo(bm25Score(q, 'It flows north through Egypt into the Mediterranean Sea.', 8), 10);
    // The second sentence holds two question terms, the first one: it scores higher.
    expect(e.sentenceBm25[1]).toBeGreaterThan(e.sentenceBm25[0]);
    expect(e.sentenceBm25[0]).toBeGreaterThan(0);
  });

  it('measures question words around a phrase (inside its sentence) and inside it, IDF-weighted', () => {
    const bm25 = bm25Of();
    const text = DOCS[0].text;
    const words = wordSpans(text).map((w) => text.slice(w.start, w.end));
    const at = (w: string) => words.indexOf(w);
    const q = queryTerms('Which river flows in Egypt?', bm25);
    const weight = (t: string) => q.idf[q.index.get(t)!] / q.idfSum;
    const e = new PassageEvidence(0, tokensOf(text), new PassageText(DOCS[0].title, text), q, 8);
    // "north": "flows" before it and "Egypt" after it, in its sentence; "river" is in the sentence before: not context.
    expect(e.context(at('north'), at('north'))).toBeCloseTo(weight('flow') + weight('egypt'), 10);
    expect(e.overlap(at('north'), at('north'))).toBe(0);
    // "Mediterranean Sea": "flows" and "Egypt" a few words before; nothing of the question inside.
    expect(e.context(at('Mediterranean'), at('Sea'))).toBeCloseTo(weight('flow') + weight('egypt'), 10);
    expect(e.overlap(at('Mediterranean'), at('Sea'))).toBe(0);
    // "through Egypt" repeats "Egypt".
    expect(e.overlap(at('through'), at('Egypt'))).toBeCloseTo(weight('egypt'), 10);
    // "longest": "river" right after, in the first sentence; "flows" is across the sentence end.
    expect(e.context(at('longest'), at('longest'))).toBeCloseTo(weight('river'), 10);
    const f = e.features(at('north'), at('north'));
    expect(f).toMatchObject({ bm25: e.passageBm25, sentence: e.sentenceBm25[1] });
  });

  it('picks each start\'s best end under the weights; context and overlap move the answer', () => {
    const bm25 = bm25Of();
    const text = DOCS[0].text;
    const words = wordSpans(text).map((w) => text.slice(w.start, w.end));
    const q = queryTerms('Which river flows through Egypt?', bm25);
    // The phrase model alone prefers "Egypt" (repeats the question) a little over "north".
    const start = (i: number) => (words[i] === 'Egypt' ? 1.1 : words[i] === 'north' ? 1 : 0);
    const e = new PassageEvidence(0, tokensOf(text, start, start), new PassageText(DOCS[0].title, text), q, 8);
    const top = (w: PhraseWeights) => {
      const b = e.best(w)!;
      return text.slice(e.tokens.charStart[b.i], e.tokens.charEnd[b.j]);
    };
    expect(top({ ...ZERO, dense: 1 })).toBe('Egypt');
    expect(top({ ...ZERO, dense: 1, overlap: 2 })).toBe('north');
    const all = e.bestPhrases({ ...ZERO, dense: 1, overlap: 2 });
    expect(all).toHaveLength(words.length);
    const north = all.find((p) => text.slice(p.charStart, p.charEnd) === 'north')!;
    expect(north).toMatchObject({ ordinal: 0, startRow: 100 + words.indexOf('north'), endRow: 100 + words.indexOf('north'), score: 2 });
    expect(text.slice(north.sentence.start, north.sentence.end)).toBe('It flows north through Egypt into the Mediterranean Sea.');
  });

  it('fits weights that make training questions right at rank 1', () => {
    const bm25 = bm25Of();
    // The phrase model finds the answer word in its passage, but likes a word of an unrelated passage more;
    // only the lexical evidence (which passage and sentence the question is about) can pick the right one.
    const cases = [
      { question: 'Which river flows through Egypt?', answer: 'north', doc: 0, decoy: 'Everest' },
      { question: 'Where is the summit of Everest?', answer: 'Nepal', doc: 1, decoy: 'Sahara' },
    ];
    const questions: FitQuestion[] = cases.map(({ question, answer, doc, decoy }) => {
      const q = queryTerms(question, bm25);
      const passages = DOCS.map((d, o) => {
        const words = wordSpans(d.text).map((w) => d.text.slice(w.start, w.end));
        const s = (i: number) => (words[i] === decoy ? 1.5 : words[i] === answer ? 1 : 0);
        return { docId: `d${o}`, evidence: new PassageEvidence(o, tokensOf(d.text, s, s), new PassageText(d.title, d.text), q, 8) };
      });
      return { answers: [answer], gold: { docId: `d${doc}`, starts: [DOCS[doc].text.indexOf(answer)] }, passages };
    });
    const start = { ...ZERO, dense: 1 };
    expect(scoreWeights(questions, start).em).toBe(0);
    const fit = fitWeights(questions, { target: 'phrase', start });
    expect(fit.score).toMatchObject({ em: 1, sentence: 1 });
    expect(fit.weights.dense).toBe(1);
    expect(scoreWeights(questions, fit.weights)).toEqual(fit.score);
  });

  it('resolves weights from the unit\'s defaults and the query\'s own', () => {
    expect(resolveWeights('sentence')).toEqual(DEFAULT_PHRASE_WEIGHTS.sentence);
    expect(resolveWeights('phrase', { context: 3 })).toEqual({ ...DEFAULT_PHRASE_WEIGHTS.phrase, context: 3 });
  });
});
