// Hits as LangChain documents: the passage is the page content, the hit's rank, score, title and
// span go to the metadata, and the conversation turn when the search was one.
import { Document } from '@langchain/core/documents';
import type { ConversationSearchResponse, Hit, Mode, SearchResponse, Span } from '../index.js';

/** What an EdgeSearchRetriever document's metadata holds (a type alias, so it is a `Record<string, any>`). */
export type EdgeSearchDocumentMetadata = {
  docId: string;
  title: string;
  score: number;
  /** 1 for the best hit. */
  rank: number;
  /** The mode that answered (hybrid when the request named none). */
  mode: Mode;
  /** The index version the hits were computed on. */
  indexVersion: string;
  /** Mode phrase: the answer phrase inside the passage (`pageContent.slice(start, end)`). */
  span?: Span;
  /** A stored conversation's id and this search's turn in it (1 for the first). */
  conversation?: string;
  turn?: number;
};

export type EdgeSearchDocument = Document<EdgeSearchDocumentMetadata>;

/** One hit as a document: `id` is the document id (hits of one document, e.g. phrases, share it). */
export function hitToDocument(hit: Hit, res: SearchResponse | ConversationSearchResponse): EdgeSearchDocument {
  const metadata: EdgeSearchDocumentMetadata = {
    docId: hit.docId,
    title: hit.title,
    score: hit.score,
    rank: hit.rank,
    mode: res.mode,
    indexVersion: res.indexVersion,
  };
  if (hit.span) metadata.span = hit.span;
  if ('conversation' in res) {
    metadata.conversation = res.conversation;
    metadata.turn = res.turn;
  }
  return new Document({ pageContent: hit.text, metadata, id: hit.docId });
}

/** A response's hits as documents, best first. */
export function responseToDocuments(res: SearchResponse | ConversationSearchResponse): EdgeSearchDocument[] {
  return res.hits.map((hit) => hitToDocument(hit, res));
}
