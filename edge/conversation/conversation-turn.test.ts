// One stored turn: searched with exactly the context the object gave, stored only on success
// (with the best passage when record is "top"), released at once on failure; the store and the
// release run after the answer (waitUntil).
import { describe, expect, it } from 'vitest';
import { ApiError, parseRequest, ConversationSearchRequest, type SearchRequest, type SearchResponse } from '../../shared/api/index.ts';
import type { Principal } from '../auth/index.ts';
import type { ConversationClient } from './conversation-client.ts';
import { conversationTurn } from './conversation-turn.ts';

const principal: Principal = { kind: 'key', id: 'alice', scopes: ['search'], rate: { perSecond: 1, burst: 1 } };

function fakes(context: { query: string; response?: string }[], fail?: Error) {
  const calls: string[] = [];
  const searched: SearchRequest[] = [];
  const client = {
    begin: async (_id: string, _p: Principal, query: string) => (calls.push(`begin ${query}`), { token: 't', turn: context.length + 1, context }),
    commit: async (_id: string, _p: Principal, turn: { turn: number }, query: string, response?: string) => (
      calls.push(`commit ${turn.turn} ${query} ${response ?? '-'}`), { turn: turn.turn, query, ...(response ? { response } : {}) }
    ),
    abort: async () => void calls.push('abort'),
  } as unknown as ConversationClient;
  const searcher = {
    search: async (req: SearchRequest): Promise<SearchResponse> => {
      searched.push(req);
      if (fail) throw fail;
      return { query: req.query, mode: req.mode, k: req.k, indexVersion: 'v', cached: false, hits: [{ rank: 1, docId: 'd1', score: 1, title: 't', text: 'the top passage', shard: 0 }], timings: { edgeMs: 1 } };
    },
  };
  return { client, searcher, calls, searched };
}

const req = (body: Record<string, unknown>) => parseRequest(ConversationSearchRequest, { mode: 'bm25', ...body });

/** A request context that collects what is left to run after the answer. */
function turnCtx() {
  const pending: Promise<unknown>[] = [];
  return { ctx: { waitUntil: (p: Promise<unknown>) => void pending.push(p) }, settled: () => Promise.all(pending) };
}

describe('a stored conversation turn', () => {
  it('searches with the stored turns as context, and stores the turn (and the top passage when asked)', async () => {
    const f = fakes([{ query: 'tuberculosis', response: 'r' }]);
    const { ctx, settled } = turnCtx();
    const res = await conversationTurn(f.client, f.searcher, 'c_x', principal, req({ query: 'is it  treatable?', record: 'top' }), ctx);
    await settled();
    expect(res).toMatchObject({ conversation: 'c_x', turn: 2, query: 'is it treatable?' });
    expect(f.searched[0]).toMatchObject({ query: 'is it treatable?', context: [{ query: 'tuberculosis', response: 'r' }] });
    expect('record' in f.searched[0]).toBe(false);
    expect(f.calls).toEqual(['begin is it treatable?', 'commit 2 is it treatable? the top passage']);
  });

  it('sends no context on the first turn, and records nothing unless asked', async () => {
    const f = fakes([]);
    const { ctx, settled } = turnCtx();
    await conversationTurn(f.client, f.searcher, 'c_x', principal, req({ query: 'q' }), ctx);
    await settled();
    expect(f.searched[0].context).toBeUndefined();
    expect(f.calls).toEqual(['begin q', 'commit 1 q -']);
  });

  it('stores nothing when the search fails: the reservation is released and the error passed on', async () => {
    const f = fakes([{ query: 'a' }], new ApiError('bad_request', 'mode: no colbert', 'mode'));
    const { ctx, settled } = turnCtx();
    await expect(conversationTurn(f.client, f.searcher, 'c_x', principal, req({ query: 'q' }), ctx)).rejects.toMatchObject({ code: 'bad_request', field: 'mode' });
    await settled();
    expect(f.calls).toEqual(['begin q', 'abort']);
  });
});
