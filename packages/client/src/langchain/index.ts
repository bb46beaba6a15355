// @edgesearch/client/langchain: edgesearch as a LangChain.js retriever (peer dependency @langchain/core).
export { EdgeSearchRetriever, type EdgeSearchRetrieverInput } from './retriever.js';
export { hitToDocument, responseToDocuments, type EdgeSearchDocument, type EdgeSearchDocumentMetadata } from './documents.js';
