// A method run over the shards loaded in this process: plan, search every shard with the same
// per-shard functions a pool shard host runs, merge each branch exactly, combine, and re-rank
// when the query asks for it.
import { formQueryText, type ConversationalEncoder, type TokenBudget } from '../conversation/index.ts';
import type { Encoder, TokenEncoder } from '../encoders/index.ts';
import type { PhraseEncoder } from '../phrase/model/index.ts';
import type { LoadedShard } from '../shard/index.ts';
import { mergeTopKInOrder, passageDocIds, type DocIdResolver } from './order.ts';
import { BRANCHES, RERANKERS } from './registry.ts';
import { firstStageDepth, ordinalsByShard, rerankedTopK } from './rerank.ts';
import type { BranchName, EncodedQuery, EncodingRetrievalMethod, Hit, MethodPlugin, MethodQuery, QueryEncoding } from './types.ts';

/** Where the encoders a method needs come from (loaded on first use). */
export interface QueryEncoders {
  sentence(): Promise<Encoder>;
  tokens(): Promise<TokenEncoder>;
  phrase(): Promise<PhraseEncoder>;
  conversation(): Promise<ConversationalEncoder>;
}

/** The sentence encoder's window, for cutting a formed query's oldest turns. */
export function sentenceBudget(encoder: Pick<Encoder, 'maxTokens' | 'tokenize'>): TokenBudget {
  return { maxTokens: encoder.maxTokens, countTokens: (t) => encoder.tokenize(t).length };
}

/** A token model's query window (specials included, so a little generous), for the same. */
function tokenBudget(encoder: Pick<TokenEncoder, 'tokenizer' | 'manifest'>, maxTokens: number): TokenBudget {
  return { maxTokens, countTokens: (t) => encoder.tokenizer.encodeWithOffsets(t).ids.length };
}

/** The late-interaction query window of a token encoder. */
export function lateInteractionBudget(encoder: Pick<TokenEncoder, 'tokenizer' | 'manifest'>): TokenBudget {
  return tokenBudget(encoder, encoder.manifest.lateInteraction?.queryMaxTokens ?? encoder.manifest.maxTokens);
}

/** The phrase model's question window. */
export function phraseBudget(encoder: Pick<PhraseEncoder, 'tokens'>): TokenBudget {
  return tokenBudget(encoder.tokens, encoder.tokens.manifest.phrase?.queryMaxTokens ?? encoder.tokens.manifest.maxTokens);
}

/**
 * What each query searches with, its context folded in by its policy: the text for the text
 * branches (BM25, phrase evidence: no window), and for an encoder with a window, the same cut
 * from the oldest turn until it fits. Mode conversational reads the context itself.
 */
export function formedText(q: Pick<MethodQuery, 'text' | 'context' | 'params'>, budget?: TokenBudget): string {
  return formQueryText(q.text, q.context, q.params?.policy, budget);
}

/** The encodings a query needs: its method's, and its re-ranker's. */
export function encodingsOf(plugin: MethodPlugin, q: Pick<MethodQuery, 'rerank'>): Set<QueryEncoding> {
  return new Set([...plugin.encodings, ...(q.rerank ? RERANKERS[q.rerank.method].encodings : [])]);
}

/** Encodes queries for what each needs: one encoder call per encoding for the whole batch. */
export async function encodeQueries(plugin: MethodPlugin, queries: MethodQuery[], encoders: QueryEncoders): Promise<EncodedQuery[]> {
  // The text branches see the formed text; encoders form it again within their window.
  const formed = (q: MethodQuery) => q.context !== undefined && plugin.name !== 'conversational';
  const encoded: EncodedQuery[] = queries.map((q) => (formed(q) ? { ...q, text: formedText(q) } : { ...q }));
  const needing = (e: QueryEncoding) => encoded.flatMap((q, i) => (encodingsOf(plugin, q).has(e) ? [i] : []));
  const textFor = (i: number, budget: TokenBudget) => (formed(queries[i]) ? formedText(queries[i], budget) : queries[i].text);
  const sentence = needing('sentence');
  if (sentence.length > 0) {
    const encoder = await encoders.sentence();
    const budget = sentenceBudget(encoder);
    const vectors = await encoder.encodeQueries(sentence.map((i) => textFor(i, budget)));
    const d = encoder.dimension;
    sentence.forEach((i, j) => (encoded[i].vector = vectors.subarray(j * d, (j + 1) * d)));
  }
  const tokens = needing('tokens');
  if (tokens.length > 0) {
    const encoder = await encoders.tokens();
    const budget = lateInteractionBudget(encoder);
    const matrices = await encoder.encodeQueryTokens(tokens.map((i) => textFor(i, budget)));
    tokens.forEach((i, j) => (encoded[i].tokens = matrices[j]));
  }
  // Phrase queries may come with their vectors (given as vectors): only the others are encoded.
  const phrase = needing('phrase').filter((i) => !encoded[i].phrase);
  if (phrase.length > 0) {
    const encoder = await encoders.phrase();
    const budget = phraseBudget(encoder);
    const vectors = await encoder.encodeQueries(phrase.map((i) => textFor(i, budget)));
    phrase.forEach((i, j) => (encoded[i].phrase = vectors[j]));
  }
  const conversation = needing('conversation');
  if (conversation.length > 0) {
    const encoder = await encoders.conversation();
    const vectors = await encoder.encodeConversations(conversation.map((i) => ({ text: queries[i].text, context: queries[i].context })));
    const d = encoder.dimension;
    conversation.forEach((i, j) => (encoded[i].vector = vectors.subarray(j * d, (j + 1) * d)));
  }
  return encoded;
}

export class ShardedMethod implements EncodingRetrievalMethod {
  readonly name;
  private readonly docIds: DocIdResolver;

  constructor(
    readonly plugin: MethodPlugin,
    private readonly shards: LoadedShard[],
    private readonly encoders: QueryEncoders,
  ) {
    this.name = plugin.name;
    for (const branch of plugin.branches) for (const shard of shards) BRANCHES[branch].check(shard);
    this.docIds = passageDocIds((s) => shards[s].passages);
  }

  async search(queries: MethodQuery[]): Promise<Hit[][]> {
    return this.searchEncoded(await this.encode(queries));
  }

  encode(queries: MethodQuery[]): Promise<EncodedQuery[]> {
    for (const q of queries) if (q.rerank) for (const shard of this.shards) RERANKERS[q.rerank.method].check(shard);
    return encodeQueries(this.plugin, queries, this.encoders);
  }

  async searchEncoded(queries: EncodedQuery[]): Promise<Hit[][]> {
    if (queries.length === 0) return [];
    const firstStage = queries.map((q) => ({ ...q, k: firstStageDepth(q) }));
    const plans = firstStage.map((q) => this.plugin.plan(q));
    // Sub-queries grouped by branch, so each shard runs one batched call per branch.
    const groups = new Map<BranchName, { query: number; sub: EncodedQuery }[]>();
    plans.forEach((plan, i) => {
      for (const { branch, k } of plan) groups.set(branch, [...(groups.get(branch) ?? []), { query: i, sub: { ...firstStage[i], k } }]);
    });
    const lists: Partial<Record<BranchName, Hit[]>>[] = queries.map(() => ({}));
    await Promise.all(
      [...groups].map(async ([branch, members]) => {
        const subs = members.map((m) => m.sub);
        const perShard = await Promise.all(this.shards.map((shard, s) => BRANCHES[branch].search(shard, s, subs)));
        await Promise.all(
          members.map(async (m, j) => {
            lists[m.query][branch] = await mergeTopKInOrder(perShard.map((l) => l[j]), m.sub.k, this.docIds);
          }),
        );
      }),
    );
    return Promise.all(
      firstStage.map(async (q, i) => {
        const first = await this.plugin.combine(q, lists[i], this.docIds);
        return q.rerank ? this.rerank(queries[i], first) : first;
      }),
    );
  }

  private async rerank(q: EncodedQuery, first: Hit[]): Promise<Hit[]> {
    const reranker = RERANKERS[q.rerank!.method];
    const scores = new Map<Hit, number>();
    for (const [s, group] of ordinalsByShard(first)) {
      const got = reranker.score(this.shards[s], q, group.ordinals);
      group.hits.forEach((h, i) => scores.set(h, got[i]));
    }
    return rerankedTopK(q, first, first.map((h) => scores.get(h)!), this.docIds);
  }
}
