// Public surface of phrase/reader: a paragraph's best phrases for a question, from its phrase
// vectors (the gold-paragraph reader that training validates with and the eval reuses).
export { goldParagraphReader, topSpans, type ReaderOptions, type ReaderPassage, type ReaderPhrase, type ReaderQuery } from './gold-paragraph-reader.ts';
