// A method run over the shards loaded in this process: plan, search every shard with the same
// per-shard functions a pool shard host runs, merge each branch exactly, combine, and re-rank
// when the query asks for it.
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
}

/** The encodings a query needs: its method's, and its re-ranker's. */
export function encodingsOf(plugin: MethodPlugin, q: Pick<MethodQuery, 'rerank'>): Set<QueryEncoding> {
  return new Set([...plugin.encodings, ...(q.rerank ? RERANKERS[q.rerank.method].encodings : [])]);
}

/** Encodes queries for what each needs: one encoder call per encoding for the whole batch. */
export async function encodeQueries(plugin: MethodPlugin, queries: MethodQuery[], encoders: QueryEncoders): Promise<EncodedQuery[]> {
  const encoded: EncodedQuery[] = queries.map((q) => ({ ...q }));
  const needing = (e: QueryEncoding) => encoded.filter((q) => encodingsOf(plugin, q).has(e));
  const sentence = needing('sentence');
  if (sentence.length > 0) {
    const encoder = await encoders.sentence();
    const vectors = await encoder.encodeQueries(sentence.map((q) => q.text));
    const d = encoder.dimension;
    sentence.forEach((q, i) => (q.vector = vectors.subarray(i * d, (i + 1) * d)));
  }
  const tokens = needing('tokens');
  if (tokens.length > 0) {
    const matrices = await (await encoders.tokens()).encodeQueryTokens(tokens.map((q) => q.text));
    tokens.forEach((q, i) => (q.tokens = matrices[i]));
  }
  // Phrase queries may come with their vectors (given as vectors): only the others are encoded.
  const phrase = needing('phrase').filter((q) => !q.phrase);
  if (phrase.length > 0) {
    const vectors = await (await encoders.phrase()).encodeQueries(phrase.map((q) => q.text));
    phrase.forEach((q, i) => (q.phrase = vectors[i]));
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
