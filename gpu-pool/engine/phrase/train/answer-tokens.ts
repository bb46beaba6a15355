// A SQuAD answer (a character span of its paragraph) → the phrase of tokens training aims at: the
// gold start and end tokens. Phrases start and end only where tokenBoundaries allows (whole words,
// no punctuation at either end), so an answer is snapped to those: the start to the canStart token
// containing the answer's first character, else the first canStart token after it within the
// answer; the end to the canEnd token containing its last character, else the last canEnd token
// before it within the answer ("U.S." ends on "S"; a trailing quote or period is left out).
import type { TokenBoundaries } from '../model/index.ts';

export type AnswerTokens =
  | { start: number; end: number }
  /** `unmapped`: no phrase boundary within the answer; `too-long`: more than maxPhraseTokens tokens. */
  | { dropped: 'unmapped' | 'too-long' };

const SPACE = /\s/;

/** The gold tokens of the answer `context.slice(charStart, charEnd)`. */
export function answerTokens(context: string, b: TokenBoundaries, charStart: number, charEnd: number, maxPhraseTokens: number): AnswerTokens {
  // Surrounding whitespace is no part of the answer (a few SQuAD answers carry a space).
  let s = charStart;
  let e = charEnd;
  while (s < e && SPACE.test(context[s])) s++;
  while (e > s && SPACE.test(context[e - 1])) e--;
  if (s >= e) return { dropped: 'unmapped' };
  const n = b.canStart.length;
  let start = -1;
  for (let i = 0; i < n; i++) {
    if (b.charEnd[i] <= s) continue;
    // The first token reaching past s: it contains s, or starts after it.
    if (b.charStart[i] >= e) break;
    if (b.canStart[i]) {
      start = i;
      break;
    }
  }
  let end = -1;
  for (let j = n - 1; j >= 0; j--) {
    if (b.charStart[j] >= e) continue;
    if (b.charEnd[j] <= s) break;
    if (b.canEnd[j]) {
      end = j;
      break;
    }
  }
  if (start < 0 || end < start) return { dropped: 'unmapped' };
  if (end - start + 1 > maxPhraseTokens) return { dropped: 'too-long' };
  return { start, end };
}
