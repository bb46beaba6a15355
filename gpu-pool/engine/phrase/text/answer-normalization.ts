// The answer comparison of the official SQuAD v1.1 evaluate script (evaluate-v1.1.py), which
// DensePhrases and DPR also use for open-domain EM/F1. Kept step for step so our numbers can be
// compared with published ones.

// Python's string.punctuation (ASCII only, as the script).
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python's `\b` in a str pattern is Unicode-aware (word = alphanumeric or `_`); JavaScript's is
// ASCII-only even with the u flag, so the boundaries are spelled out.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
// What Python's str.split() splits on (JavaScript's \s differs: no \x1c-\x1f or \x85, adds \ufeff).
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** The script's normalize_answer: lower → remove punctuation → remove articles → white_space_fix. */
export function normalizeAnswer(s: string): string {
  const text = s.toLowerCase().replace(PUNCTUATION, '').replace(ARTICLES, ' ');
  return tokens(text).join(' ');
}

/** 1 when the normalised prediction equals some normalised gold answer, else 0 (0 with no golds). */
export function exactMatch(prediction: string, golds: readonly string[]): number {
  const p = normalizeAnswer(prediction);
  return golds.some((g) => normalizeAnswer(g) === p) ? 1 : 0;
}

/** The best token F1 over the gold answers (0 with no golds), as the script's f1_score. */
export function f1Score(prediction: string, golds: readonly string[]): number {
  const predicted = tokens(normalizeAnswer(prediction));
  let best = 0;
  for (const gold of golds) best = Math.max(best, tokenF1(predicted, tokens(normalizeAnswer(gold))));
  return best;
}

function tokenF1(predicted: readonly string[], gold: readonly string[]): number {
  // Counter(prediction) & Counter(gold): each shared token counts min(times in each).
  const counts = new Map<string, number>();
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of predicted) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      same++;
      counts.set(t, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predicted.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

/** str.split() with no argument: runs of whitespace, no empty tokens. */
function tokens(s: string): string[] {
  return s.split(PY_WHITESPACE).filter((t) => t !== '');
}
