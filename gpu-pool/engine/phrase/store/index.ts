export { CAN_END, CAN_START, PHRASE_START_INDEX_FILE, PHRASE_STORE_FILES, PhraseStoreError, readPhraseMeta, type PhraseStoreMeta } from './files.ts';
export { comparePhrases, DEFAULT_PHRASE_STARTS, PhraseStore, type PassageTokens, type PhraseCandidate, type PhraseSearchOptions } from './phrase-store.ts';
export { PhraseStoreWriter, type PhrasePassage, type PhraseStoreWriterOptions } from './writer.ts';
