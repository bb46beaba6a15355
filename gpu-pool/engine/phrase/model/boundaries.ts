// Where phrases may start and end in a tokenized passage, and the exact text each token covers.
// A phrase is a run of whole words: it starts at a word-initial token and ends at a word-final
// one, and neither end is a punctuation-only token (so "Kevin Skinner" can be an answer, but not
// "evin Skin" or "Skinner.").
import { isPunctuationPiece, type Tokenizer } from '../../encoders/index.ts';

export interface TokenBoundaries {
  /** Per token: [charStart, charEnd) in the text, leading whitespace (a SentencePiece `▁`) trimmed. */
  charStart: Int32Array;
  charEnd: Int32Array;
  /** Per token: 1 where a phrase may start / end. */
  canStart: Uint8Array;
  canEnd: Uint8Array;
}

const SPACE = /\s/;

export function tokenBoundaries(text: string, ids: Int32Array, offsets: Int32Array, tokenizer: Pick<Tokenizer, 'idToToken'>): TokenBoundaries {
  const n = ids.length;
  const charStart = new Int32Array(n);
  const charEnd = new Int32Array(n);
  const punct = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let s = offsets[2 * i];
    const e = offsets[2 * i + 1];
    while (s < e && SPACE.test(text[s])) s++;
    charStart[i] = s;
    charEnd[i] = e;
    const piece = tokenizer.idToToken(ids[i]);
    // A piece of nothing but punctuation, or one that covers no text (a lone `▁`), never bounds a phrase.
    punct[i] = s >= e || piece === undefined || isPunctuationPiece(piece) ? 1 : 0;
  }
  // A token begins a word when text (space) separates it from the previous token, or the previous one is punctuation.
  const wordInitial = (i: number) => i === 0 || charStart[i] > charEnd[i - 1] || punct[i - 1] === 1;
  const canStart = new Uint8Array(n);
  const canEnd = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (punct[i]) continue;
    canStart[i] = wordInitial(i) ? 1 : 0;
    canEnd[i] = i === n - 1 || punct[i + 1] === 1 || wordInitial(i + 1) ? 1 : 0;
  }
  return { charStart, charEnd, canStart, canEnd };
}
