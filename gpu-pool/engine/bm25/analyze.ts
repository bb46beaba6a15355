import { stemmer } from 'stemmer';

/**
 * Lucene's English stop words (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET), the list Anserini and
 * pyserini index BEIR with, so our BM25 numbers are comparable to theirs.
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not',
  'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was',
  'will', 'with',
]);

/**
 * Identifies the analysis chain; stored with a persisted index, because an index is only
 * searchable by the analyzer that built it. Change it whenever `analyze` changes behaviour.
 */
export const ANALYZER_ID = 'en-lucene-stop-porter/1';

/** Longer runs are almost always junk (URLs, sequences, base64) and only bloat the vocabulary. */
export const MAX_TOKEN_CHARS = 40;

// A word: a letter or digit, then letters, digits or combining marks (so decomposed accents stay
// inside the word). Everything else, including '_', '-', '.', and apostrophes, separates words.
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
// English possessive, as Lucene's EnglishPossessiveFilter: "cell's" → "cell", not "cell" + "s".
const POSSESSIVE = /['’\uFF07][sS](?![\p{L}\p{N}\p{M}])/gu;

const stems = new Map<string, string>();
const STEM_CACHE_LIMIT = 200_000;

/**
 * The analysis used for both documents and queries (approximating Lucene's EnglishAnalyzer):
 * lowercase, split into Unicode letter/digit runs, drop possessive 's, drop stop words, drop
 * tokens over 40 characters, Porter-stem.
 */
export function analyze(text: string): string[] {
  let lower = text.toLowerCase();
  if (lower.includes("'") || lower.includes('’') || lower.includes('\uFF07')) lower = lower.replace(POSSESSIVE, '');
  const out: string[] = [];
  for (const match of lower.matchAll(WORD)) {
    const token = match[0];
    if (token.length > MAX_TOKEN_CHARS || ENGLISH_STOP_WORDS.has(token)) continue;
    out.push(stem(token));
  }
  return out;
}

/** Porter stemming memoised: vocabularies are Zipfian, so most calls are repeats. */
function stem(token: string): string {
  let s = stems.get(token);
  if (s === undefined) {
    if (stems.size >= STEM_CACHE_LIMIT) stems.clear();
    s = stemmer(token);
    stems.set(token, s);
  }
  return s;
}
