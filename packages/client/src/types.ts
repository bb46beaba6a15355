// The API's request and response types, named: aliases of the types generated from the edge's
// OpenAPI document (openapi.gen.ts), so they are the API's and nothing else.
import type { components } from './openapi.gen.js';

type Schemas = components['schemas'];

export type SearchRequest = Schemas['SearchRequest'];
export type SearchResponse = Schemas['SearchResponse'];
export type Hit = Schemas['Hit'];
export type Span = NonNullable<Hit['span']>;
export type Mode = NonNullable<SearchRequest['mode']>;
export type SearchParams = NonNullable<SearchRequest['params']>;
export type ContextTurn = NonNullable<SearchRequest['context']>[number];
export type BatchRequest = Schemas['BatchRequest'];
export type BatchResponse = Schemas['BatchResponse'];
export type BatchResult = BatchResponse['results'][number];
export type ConversationSearchRequest = Schemas['ConversationSearchRequest'];
export type ConversationSearchResponse = Schemas['ConversationSearchResponse'];
export type Conversation = Schemas['Conversation'];
export type StoredTurn = Schemas['StoredTurn'];
export type Health = Schemas['Health'];
export type AdminHealth = Schemas['AdminHealth'];
export type AdminStats = Schemas['AdminStats'];
export type ErrorBody = Schemas['Error'];
export type ErrorCode = ErrorBody['error']['code'];
