// Stored conversations: one Durable Object (SQLite storage) per conversation, its client in the
// worker, and the size rules of a stored turn.
export { Conversation } from './conversation-object.ts';
export { ConversationClient, ownerOf, type ConversationClientOptions } from './conversation-client.ts';
export { cutToFit, newConversationId, newTurnError, responseError, responseRoom, utf8Bytes } from './limits.ts';
export { conversationTurn, type Searcher } from './conversation-turn.ts';
