// EdgeSearchRetriever: edgesearch as a LangChain.js retriever. Each invoke is one search (or one
// turn of a conversation stored at the edge), and each hit becomes a Document (documents.ts).
import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { EdgeSearchClient, Mode, SearchParams, SearchRequest } from '../index.js';
import { clientOf, defined, type ClientSource } from '../options.js';
import { responseToDocuments, type EdgeSearchDocument, type EdgeSearchDocumentMetadata } from './documents.js';

/** `client`, or `endpoint` (and `apiKey`) for the retriever to make one. */
export interface EdgeSearchRetrieverInput extends BaseRetrieverInput, ClientSource {
  /** dense, bm25, hybrid, phrase, ... (default: the API's, hybrid). */
  mode?: Mode;
  /** Documents per query (default: the API's, 10). */
  k?: number;
  /** The mode's parameters (nprobe, weights, unit, policy, ...), sent as they are. */
  params?: SearchParams;
  /** A second stage re-scoring the mode's best hits (an index built with --method colbert). */
  rerank?: SearchRequest['rerank'];
  /** false: bypass the edge's cache. */
  cache?: boolean;
  /**
   * A conversation stored at the edge (`client.conversations.create()`): every invoke is its next
   * turn, searched with the turns before it (`params.policy` says how).
   */
  conversationId?: string;
  /**
   * `'new'`: the first invoke creates a stored conversation and every invoke is a turn of it (one
   * conversation per retriever: make one retriever per chat session). Its id is then
   * `retriever.conversationId`. Not with `conversationId`.
   */
  conversation?: 'new';
  /** In a conversation, `'top'` stores the best passage as each turn's response (for policy concat+responses). */
  record?: 'top';
}

export class EdgeSearchRetriever extends BaseRetriever<EdgeSearchDocumentMetadata> {
  static lc_name(): string {
    return 'EdgeSearchRetriever';
  }

  lc_namespace = ['edgesearch', 'langchain', 'retrievers'];

  readonly client: EdgeSearchClient;
  mode?: Mode;
  k?: number;
  params?: SearchParams;
  rerank?: SearchRequest['rerank'];
  cache?: boolean;
  record?: 'top';
  /** The stored conversation the invokes are turns of: as given, or once created (`conversation: 'new'`). */
  conversationId?: string;
  /** The turn the last invoke was stored as (in a conversation), for `recordResponse`. */
  lastTurn?: number;

  private readonly createsConversation: boolean;
  /** The creation in flight, so that concurrent first invokes create one conversation, not several. */
  private creating?: Promise<string>;

  constructor(fields: EdgeSearchRetrieverInput) {
    const { client, endpoint, apiKey, mode, k, params, rerank, cache, conversationId, conversation, record, ...base } = fields;
    // Only LangChain's own fields go to the base: its kwargs would otherwise hold the key.
    super(base);
    this.client = clientOf({ client, endpoint, apiKey }, 'EdgeSearchRetriever');
    if (conversationId !== undefined && conversation !== undefined) throw new TypeError('EdgeSearchRetriever: give `conversationId` or `conversation: "new"`, not both');
    if (conversation !== undefined && conversation !== 'new') throw new TypeError(`EdgeSearchRetriever: conversation must be "new", not ${JSON.stringify(conversation)}`);
    if (record !== undefined && conversationId === undefined && conversation === undefined) throw new TypeError('EdgeSearchRetriever: `record` needs a conversation (`conversationId` or `conversation: "new"`)');
    this.createsConversation = conversation === 'new';
    Object.assign(this, defined({ mode, k, params, rerank, cache, record, conversationId }));
  }

  /** The search request each query is sent as (also what a raw POST /v1/search would send). */
  request(query: string): SearchRequest {
    return { query, ...defined({ mode: this.mode, k: this.k, params: this.params, rerank: this.rerank, cache: this.cache }) };
  }

  override async _getRelevantDocuments(query: string, _runManager?: CallbackManagerForRetrieverRun): Promise<EdgeSearchDocument[]> {
    const id = await this.conversation();
    if (id === undefined) return responseToDocuments(await this.client.search(this.request(query)));
    const res = await this.client.conversations.search(id, { ...this.request(query), ...defined({ record: this.record }) });
    this.lastTurn = res.turn;
    return responseToDocuments(res);
  }

  /**
   * Records what the bot answered to a turn (default: the last invoke's), so that later turns
   * under `params.policy: "concat+responses"` read it.
   */
  async recordResponse(response: string, turn: number | undefined = this.lastTurn): Promise<void> {
    if (this.conversationId === undefined || turn === undefined) throw new Error('EdgeSearchRetriever.recordResponse: no conversation turn yet (invoke the retriever in a conversation first)');
    await this.client.conversations.recordResponse(this.conversationId, turn, response);
  }

  /** The conversation to search in: none, the given one, or the one created on the first call. */
  private async conversation(): Promise<string | undefined> {
    if (this.conversationId !== undefined || !this.createsConversation) return this.conversationId;
    this.creating ??= this.client.conversations.create().then(
      (c) => (this.conversationId = c.id),
      (err: unknown) => {
        this.creating = undefined; // a failed creation is tried again by the next invoke
        throw err;
      },
    );
    return this.creating;
  }
}
