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

// squad and densephrases are one layout (`data[].paragraphs[].context`), read by one reader.
export const CORPUS_FORMATS = ['beir', 'tsv', 'densephrases', 'squad'] as const;
export type CorpusFormat = (typeof CORPUS_FORMATS)[number];
