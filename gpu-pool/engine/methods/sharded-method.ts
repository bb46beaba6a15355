// A method run over the shards loaded in this process: plan, search every shard with the same
// per-shard functions a pool shard host runs, merge each branch exactly, combine.
import type { Encoder } from '../encoders/index.ts';
import type { LoadedShard } from '../shard/index.ts';
import { mergeTopKInOrder, passageDocIds, type DocIdResolver } from './order.ts';
import { BRANCHES } from './registry.ts';
import type { BranchName, EncodedQuery, EncodingRetrievalMethod, Hit, MethodPlugin, MethodQuery } from './types.ts';

/** Where the encoders a method needs come from (loaded on first use). */
export interface QueryEncoders {
  sentence(): Promise<Encoder>;
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

  async encode(queries: MethodQuery[]): Promise<EncodedQuery[]> {
    const encoded: EncodedQuery[] = queries.map((q) => ({ ...q }));
    if (queries.length > 0 && this.plugin.encodings.includes('sentence')) {
      const encoder = await this.encoders.sentence();
      const vectors = await encoder.encodeQueries(queries.map((q) => q.text));
      const d = encoder.dimension;
      encoded.forEach((q, i) => (q.vector = vectors.subarray(i * d, (i + 1) * d)));
    }
    return encoded;
  }

  async searchEncoded(queries: EncodedQuery[]): Promise<Hit[][]> {
    if (queries.length === 0) return [];
    const plans = queries.map((q) => this.plugin.plan(q));
    // Sub-queries grouped by branch, so each shard runs one batched call per branch.
    const groups = new Map<BranchName, { query: number; sub: EncodedQuery }[]>();
    plans.forEach((plan, i) => {
      for (const { branch, k } of plan) groups.set(branch, [...(groups.get(branch) ?? []), { query: i, sub: { ...queries[i], k } }]);
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
    return Promise.all(queries.map((q, i) => this.plugin.combine(q, lists[i], this.docIds)));
  }
}
