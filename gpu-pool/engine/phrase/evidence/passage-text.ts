// A passage as the evidence needs it, whatever the question: its sentences, its words with their
// BM25 terms, and term counts per sentence and for the whole passage (title included, as the
// shard's BM25 postings count them). Query-independent, so phrase search keeps recent ones.
import { analyze } from '../../bm25/index.ts';
import { splitSentences, wordSpans, type Span } from '../text/index.ts';

export interface TermCounts {
  counts: Map<string, number>;
  /** Analyzed terms in all (BM25's document length). */
  length: number;
}

function countTerms(lists: Iterable<readonly string[]>): TermCounts {
  const counts = new Map<string, number>();
  let length = 0;
  for (const terms of lists) {
    for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
    length += terms.length;
  }
  return { counts, length };
}

export class PassageText {
  readonly sentences: Span[];
  readonly words: Span[];
  /** analyze() of each word: every term of the passage text lies in exactly one word. */
  readonly wordTerms: string[][];
  /** Title and text together, as `index build` gives them to BM25. */
  readonly passage: TermCounts;
  readonly sentenceTerms: TermCounts[];

  constructor(
    readonly title: string,
    readonly text: string,
  ) {
    this.sentences = splitSentences(text);
    this.words = wordSpans(text);
    this.wordTerms = this.words.map((w) => analyze(text.slice(w.start, w.end)));
    this.passage = countTerms([analyze(title), ...this.wordTerms]);
    const perSentence: string[][][] = this.sentences.map(() => []);
    let s = 0;
    for (const [i, w] of this.words.entries()) {
      while (s + 1 < this.sentences.length && this.sentences[s + 1].start <= w.start) s++;
      perSentence[s]?.push(this.wordTerms[i]);
    }
    this.sentenceTerms = perSentence.map(countTerms);
  }
}
