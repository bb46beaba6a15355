// One turn of a stored conversation: reserve it in the conversation's object (which gives the
// turns before it), search with those turns as the context exactly as a stateless search with
// that context would (same cache entry, same hits), and store the turn only when the search
// succeeded; a failed search releases the reservation and stores nothing.
//
// The answer does not wait for the store (or the release): the reservation holds the conversation
// until it arrives (the next turn, reads, PUTs and DELETEs wait for it in the object), so the
// caller still reads its own turn, and the turn costs one round trip to the object, which writes
// nothing, instead of two with a storage commit between them.
import type { ConversationSearchRequest, ConversationSearchResponse, SearchRequest, SearchResponse } from '../../shared/api/index.ts';
import type { Principal } from '../auth/index.ts';
import { edgeLog } from '../log/index.ts';
import type { ConversationClient } from './conversation-client.ts';

export interface Searcher<C> {
  search(req: SearchRequest, ctx: C): Promise<SearchResponse>;
}

export interface TurnContext {
  /** Keeps the isolate up for the store (or release) after the answer. */
  waitUntil(promise: Promise<unknown>): void;
}

export async function conversationTurn<C extends TurnContext>(
  conversations: ConversationClient,
  searcher: Searcher<C>,
  id: string,
  principal: Principal,
  req: ConversationSearchRequest,
  ctx: C,
): Promise<ConversationSearchResponse> {
  const { record, ...search } = req;
  const turn = await conversations.begin(id, principal, search.query);
  let answer: SearchResponse;
  try {
    answer = await searcher.search({ ...search, ...(turn.context.length > 0 ? { context: turn.context } : {}) }, ctx);
  } catch (err) {
    // Released at once so the next turn need not wait for the lease; if even that fails, the lease lapses.
    ctx.waitUntil(conversations.abort(id, turn).catch((e) => logFailure('abort', turn.turn, e)));
    throw err;
  }
  const response = record === 'top' ? answer.hits[0]?.text : undefined;
  ctx.waitUntil(conversations.commit(id, principal, turn, search.query, response).catch((e) => logFailure('commit', turn.turn, e)));
  return { ...answer, conversation: id, turn: turn.turn };
}

/** Logged without the conversation's id: in public mode the id is the capability. */
function logFailure(op: 'commit' | 'abort', turn: number, err: unknown): void {
  const what = op === 'commit' ? 'was answered but could not be stored' : 'failed, and its reservation could not be released (it lapses)';
  edgeLog.write('error', `conversation ${op}`, `[conversation] turn ${turn} of a conversation ${what}: ${err instanceof Error ? err.message : String(err)}`);
}
