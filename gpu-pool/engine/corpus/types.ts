/** One retrievable unit of a corpus: a passage, abstract or paragraph. */
export interface Doc {
  id: string;
  title: string;
  text: string;
}

export interface Query {
  id: string;
  text: string;
}

export const CORPUS_FORMATS = ['beir', 'tsv', 'densephrases'] as const;
export type CorpusFormat = (typeof CORPUS_FORMATS)[number];
