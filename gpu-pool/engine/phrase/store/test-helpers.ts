// Phrase data built by hand, so the right answer to each query is known: every word of a passage
// is one token with its own random unit start and end vectors; the query for span (i, j) is
// (start_i, end_j) scaled up, which no other phrase can match.
import type { PhrasePassage } from './writer.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function unit(r: () => number, d: number): Float32Array {
  const v = Float32Array.from({ length: d }, () => r() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** A passage of the given words (single spaces), one token per word, every word a possible start and end. */
export function constructedPassage(words: string[], d: number, r: () => number): PhrasePassage & { text: string } {
  const text = words.join(' ');
  const n = words.length;
  const starts = new Float32Array(n * d);
  const ends = new Float32Array(n * d);
  const charStart = new Int32Array(n);
  const charEnd = new Int32Array(n);
  let at = 0;
  words.forEach((w, i) => {
    starts.set(unit(r, d), i * d);
    ends.set(unit(r, d), i * d);
    charStart[i] = at;
    charEnd[i] = at + w.length;
    at += w.length + 1;
  });
  return { text, tokens: n, starts, ends, boundaries: { charStart, charEnd, canStart: new Uint8Array(n).fill(1), canEnd: new Uint8Array(n).fill(1) } };
}

/** The query vectors that single out tokens i..j of passage p. */
export function spanQuery(p: PhrasePassage, i: number, j: number, d: number, scale = 10): { start: Float32Array; end: Float32Array } {
  return { start: p.starts.slice(i * d, (i + 1) * d).map((x) => x * scale), end: p.ends.slice(j * d, (j + 1) * d).map((x) => x * scale) };
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu', 'nu', 'xi', 'omicron', 'pi', 'rho', 'sigma', 'tau', 'upsilon'];

/** `n` passages of 3..20 words drawn from a fixed list. */
export function constructedCorpus(n: number, d: number, seed: number) {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const len = 3 + Math.floor(r() * 18);
    return constructedPassage(Array.from({ length: len }, () => WORDS[Math.floor(r() * WORDS.length)]), d, r);
  });
}
