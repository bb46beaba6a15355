import { splitSentences, wordSpans } from '../text/index.ts';

// The lexical reader baseline: with no model at all, how often does "the short span sitting among
// the question's words" answer the question? It is the floor a trained phrase encoder must beat.

export interface LexicalReaderOptions {
  /** Words looked at on each side of a candidate (within its sentence). Default 8. */
  window?: number;
  /** Longest candidate, in words. Default 4. */
  maxWords?: number;
  /** How many spans to return. Default 1. */
  topN?: number;
}

export interface ReaderSpan {
  /** `paragraph.slice(charStart, charEnd)`. */
  text: string;
  /** UTF-16 offsets into the paragraph. */
  charStart: number;
  charEnd: number;
  /** Distinct question words in the span's neighbourhood. */
  score: number;
}

// Function words: never question words, and never the first or last word of an answer.
const STOPWORDS = new Set(
  ('a an the and or but nor of in on at to for from by with about as into onto over under between through during ' +
    'before after than then so if is are was were be been being am do does did has have had having will would ' +
    'shall should can could may might must what which who whom whose when where why how that this these those ' +
    'it its they them their he him his she her we us our you your i me my not no there here also any all some ' +
    'such other more most many much very s').split(' '),
);

/** A word's matching key: lower case, without a possessive 's or inner punctuation ("U.S." = "US"). */
function key(word: string): string {
  return word.toLowerCase().replace(/['’]s$/u, '').replace(/[^\p{L}\p{N}\p{M}]/gu, '');
}

/**
 * The paragraph's spans of 1..maxWords words, best first, scored by how many distinct question
 * words (question words less stopwords) occur within `window` words on either side in the same
 * sentence (the sentence bounds the context an answer is usually stated in). A candidate may not
 * contain a question word (an answer rarely repeats the question) nor start or end with a
 * stopword. Ties: smaller sum of distances to the nearest occurrence of each matched question
 * word, then fewer words, then earlier in the paragraph.
 */
export function lexicalReader(question: string, paragraph: string, opts: LexicalReaderOptions = {}): ReaderSpan[] {
  const { window = 8, maxWords = 4, topN = 1 } = opts;
  const asked = new Set(wordSpans(question).map((w) => key(question.slice(w.start, w.end))).filter((k) => k !== '' && !STOPWORDS.has(k)));
  const words = wordSpans(paragraph);
  const keys = words.map((w) => key(paragraph.slice(w.start, w.end)));

  const candidates: { i: number; j: number; score: number; distance: number }[] = [];
  for (const [s0, s1] of sentenceWordRanges(paragraph, words)) {
    for (let i = s0; i < s1; i++) {
      if (STOPWORDS.has(keys[i])) continue;
      for (let j = i; j < s1 && j - i < maxWords; j++) {
        if (asked.has(keys[j])) break; // and every longer span from i contains it too
        if (STOPWORDS.has(keys[j])) continue;
        const nearest = new Map<string, number>();
        const see = (p: number, d: number) => {
          if (asked.has(keys[p]) && !(nearest.get(keys[p])! <= d)) nearest.set(keys[p], d);
        };
        for (let p = Math.max(s0, i - window); p < i; p++) see(p, i - p);
        for (let p = j + 1; p <= Math.min(s1 - 1, j + window); p++) see(p, p - j);
        let distance = 0;
        for (const d of nearest.values()) distance += d;
        candidates.push({ i, j, score: nearest.size, distance });
      }
    }
  }
  candidates.sort((a, b) => b.score - a.score || a.distance - b.distance || a.j - a.i - (b.j - b.i) || a.i - b.i);
  return candidates.slice(0, topN).map(({ i, j, score }) => {
    const charStart = words[i].start;
    const charEnd = words[j].end;
    return { text: paragraph.slice(charStart, charEnd), charStart, charEnd, score };
  });
}

/** [first, end) word indices of each sentence (a word belongs to the sentence it starts in). */
function sentenceWordRanges(text: string, words: readonly { start: number }[]): [number, number][] {
  const ranges: [number, number][] = [];
  let w = 0;
  for (const s of splitSentences(text)) {
    const first = w;
    while (w < words.length && words[w].start < s.end) w++;
    if (w > first) ranges.push([first, w]);
  }
  return ranges;
}
