// Corpus and query readers: BEIR jsonl, ColBERT/MS MARCO TSV (collection, queries, training
// triples), DensePhrases/SQuAD JSON.
// Everything streams (constant memory); bad input is an InputError naming file, line and field.
export { InputError, type InputLocation } from './errors.ts';
export { CORPUS_FORMATS, type CorpusFormat, type Doc, type Query } from './types.ts';
export { detectCorpusFormat } from './detect.ts';
export { readCorpus, readQueries } from './read.ts';
export { corpusFingerprint, type CorpusFingerprint } from './fingerprint.ts';
export { readLines, type Line } from './lines.ts';
export { readTriples, type Triple } from './colbert-triples.ts';
export { parsePythonStringList, readOpenQa, readSquadQa, type OpenQa, type SquadQa } from './qa.ts';
