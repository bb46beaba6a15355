// Conversations on the pool side: how a query is formed from the turns before it (policies), and
// the contract of an encoder that reads the whole conversation (mode conversational, ConvDR).
export { formQueryText, parsePolicy, policyPieces, STUDENT_VIEWS, type ConversationTurn, type ParsedPolicy, type Policy, type StudentView, type TokenBudget } from './query-formation.ts';
export type { ConversationalEncoder, ConversationQuery } from './conversational-encoder.ts';
