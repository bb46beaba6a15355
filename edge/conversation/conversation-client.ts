// The worker's side of stored conversations: one Durable Object per conversation (named by its
// id), asked over its stub's fetch. A conversation belongs to the principal that created it: an
// API key (`key:<id>`), or in public mode every keyless caller (`public`: the unguessable id is the
// capability). Refusals of the object come back as the API's errors.
import { ApiError, CONVERSATION_ID_PATTERN, type ApiErrorCode, type Conversation, type StoredTurn } from '../../shared/api/index.ts';
import type { Principal } from '../auth/index.ts';
import type { ConversationSettings, DurableObjectNamespaceLike } from '../config/index.ts';
import { newConversationId } from './limits.ts';
import type { BeginAnswer, Op } from './protocol.ts';

export function ownerOf(principal: Principal): string {
  return principal.kind === 'key' ? `key:${principal.id}` : 'public';
}

export interface ConversationClientOptions {
  limits: ConversationSettings;
  /** How long a turn is reserved for its search (the search's deadline and some). */
  leaseMs: number;
  /** How long a turn may wait for the turns of its conversation before it. */
  waitMs: number;
}

export class ConversationClient {
  constructor(
    private readonly ns: DurableObjectNamespaceLike,
    private readonly opts: ConversationClientOptions,
  ) {}

  /** A new, empty conversation of `principal`'s. */
  create(principal: Principal): Promise<Conversation> {
    const id = newConversationId();
    return this.call<Conversation>(id, 'create', { id, owner: ownerOf(principal), limits: this.opts.limits });
  }

  get(id: string, principal: Principal): Promise<Conversation> {
    return this.call<Conversation>(checked(id), 'get', { owner: ownerOf(principal), limits: this.opts.limits, timing: this.timing });
  }

  async delete(id: string, principal: Principal): Promise<void> {
    await this.call<null>(checked(id), 'delete', { owner: ownerOf(principal), limits: this.opts.limits, timing: this.timing });
  }

  /** Reserves the next turn for `query`: its number and its context (the turns before it). */
  begin(id: string, principal: Principal, query: string): Promise<BeginAnswer> {
    return this.call<BeginAnswer>(checked(id), 'begin', { owner: ownerOf(principal), limits: this.opts.limits, timing: this.timing, query });
  }

  private get timing() {
    return { leaseMs: this.opts.leaseMs, waitMs: this.opts.waitMs };
  }

  /** Stores a searched turn (and `response`, cut to fit, when the caller asked for one to be recorded). */
  commit(id: string, principal: Principal, turn: BeginAnswer, query: string, response?: string): Promise<StoredTurn> {
    return this.call<StoredTurn>(id, 'commit', {
      owner: ownerOf(principal),
      limits: this.opts.limits,
      token: turn.token,
      turn: turn.turn,
      query,
      ...(response !== undefined ? { response } : {}),
    });
  }

  /** Releases a reserved turn whose search failed: nothing is stored. */
  async abort(id: string, turn: BeginAnswer): Promise<void> {
    await this.call<unknown>(id, 'abort', { token: turn.token, limits: this.opts.limits });
  }

  record(id: string, principal: Principal, turn: number, response: string): Promise<StoredTurn> {
    return this.call<StoredTurn>(checked(id), 'record', { owner: ownerOf(principal), limits: this.opts.limits, timing: this.timing, turn, response });
  }

  private async call<T>(id: string, op: Op, body: unknown): Promise<T> {
    const stub = this.ns.get(this.ns.idFromName(id));
    const res = await stub.fetch(`https://conversation.invalid/${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status === 204) return null as T;
    const answer = (await res.json().catch(() => undefined)) as { error?: { code: ApiErrorCode; message: string; field?: string }; retryAfterS?: number } | undefined;
    if (res.ok && answer && !answer.error) return answer as T;
    const error = answer?.error;
    if (!error || res.status >= 500 || res.status === 409) {
      // Not the caller's fault: the detail goes to the log under the request id, not to the caller.
      throw new Error(`conversation object answered ${op} with ${res.status}: ${error?.message ?? 'no error body'}`);
    }
    throw new ApiError(error.code, error.message, error.field, answer?.retryAfterS);
  }
}

/** An id that cannot be a conversation's is the same 404 as an unknown one, without asking. */
function checked(id: string): string {
  if (!CONVERSATION_ID_PATTERN.test(id)) throw new ApiError('not_found', 'no such conversation (it never existed, was deleted, expired, or belongs to another key)');
  return id;
}
