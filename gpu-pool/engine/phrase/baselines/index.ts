// Baselines for phrase retrieval: readers that need no trained model, as floors to compare with.
export { lexicalReader, type LexicalReaderOptions, type ReaderSpan } from './lexical-reader.ts';
