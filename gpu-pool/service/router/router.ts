import { createHash, randomUUID } from 'node:crypto';
import { BRANCH_INPUT, DEFAULT_LIMITS, ProtocolError, type LeaseFrame, type LeaseResultFrame, type ResultFrame, type SearchFrame, type ShardQuery, type WireHit, type WireQuery, type WireResult } from '../../../shared/protocol/index.ts';
import type { Encoder, TokenEncoder } from '../../engine/encoders/index.ts';
import type { ConversationalEncoder } from '../../engine/conversation/index.ts';
import type { PhraseEncoder } from '../../engine/phrase/model/index.ts';
import type { FusionChoice } from '../../engine/shard/index.ts';
import { BRANCHES, METHODS, encodingsOf, withFusionDefault, formedText, lateInteractionBudget, phraseBudget, sentenceBudget, firstStageDepth, mergeTopKInOrder, ordinalsByShard, rerankedTopK, type BranchName, type EncodedQuery, type Hit } from '../../engine/methods/index.ts';
import { DynamicBatcher, OverloadError, type BatchInfo } from '../scheduler/index.ts';
import { EvidenceVersionError } from './errors.ts';
import type { ReplicaSet } from './replica-set.ts';
import { OtherIndexVersionError, ReplicaVersions } from './replica-versions.ts';
import { askShardLeases } from './shard-leases.ts';

export interface RouterOptions {
  /** The sentence encoder (dense, hybrid); absent when the index has no dense vectors. */
  encoder?: Encoder;
  /** The token encoder (colbert, rerank); absent when the index has no token store. */
  tokenEncoder?: TokenEncoder;
  /** The phrase encoder (phrase); absent when the index has no phrase store. */
  phraseEncoder?: PhraseEncoder;
  /** Mode conversational's encoder (ConvDR, distilled from the sentence encoder); absent: the mode is refused. */
  conversationalEncoder?: ConversationalEncoder;
  /** What the index's shards hold (index.json `methods`): modes needing anything else are refused. */
  methods?: readonly string[];
  /** One replica set per shard, index = shard number. */
  shards: ReplicaSet[];
  /** The index version, the shard versions it is made of, and hybrid's default fusion (from index.json). */
  index: { version: string; shardVersions: string[]; fusion?: FusionChoice };
  batching: { maxBatchSize: number; maxWaitMs: number; maxQueue: number; concurrency: number; maxQueueDelayMs?: number };
  hooks?: {
    onBatch?: (info: BatchInfo) => void;
    onShed?: () => void;
    onExpired?: (n: number) => void;
    onStage?: (stage: 'encode' | 'search' | 'merge' | 'evidence', ms: number) => void;
    /**
     * A shard gave no usable answer for a batch: its search or its evidence failed on every
     * replica tried (the shard is reported missing), or its evidence came from another version
     * (an EvidenceVersionError; the batch is searched again once).
     */
    onShardError?: (shard: number, err: unknown, stage: 'search' | 'evidence') => void;
  };
}

interface Pending {
  query: WireQuery;
  deadline: number;
  enqueuedAt: number;
}

/** Per stage, as the wire reports them; evidence is its own stage, as in the metrics. */
type StageTimings = { searchMs: number; mergeMs: number; evidenceMs: number };

interface Outcome {
  result: WireResult;
  timings: { queueMs: number; encodeMs: number } & StageTimings;
  versions: Map<number, string>;
  /** Until when (performance.now() ms) every shard that answered promised its version; -Infinity: none answered. */
  versionUntil: number;
}

/** A batch with its queries encoded: what the shard fan-out needs. */
interface EncodedBatch {
  items: Pending[];
  /** Each query with what its method's encodings made of it (or the vector it came with). */
  queries: EncodedQuery[];
  encodeMs: number;
  queueMs: number[];
}

/** Everything but the evidence text, as merged from the shards. */
type Ranked = { hits: Hit[]; missing: Set<number> };

/**
 * The router role: queries from concurrent frames meet in a dynamic batch, are encoded
 * once, sent as one frame per shard to one replica of every shard, merged exactly by score,
 * and dressed with evidence fetched from the shard that owns each hit.
 */
export class Router {
  private readonly batcher: DynamicBatcher<Pending, Outcome>;
  /**
   * Recent cost per query (exponential moving averages of batch wall time), split because a
   * query that needs the encoder costs several times one that does not (BM25, given vectors).
   */
  private readonly cost = { encodeMs: 0, restMs: 0 };
  /** Batches being computed: their expected cost and start, for the work ahead of a new query. */
  private readonly running = new Set<{ weightMs: number; started: number }>();
  /** Which index version each replica serves: a batch is answered from one (mid-rollout too). */
  private readonly replicaVersions: ReplicaVersions;
  private learning?: Promise<void>;

  constructor(private readonly opts: RouterOptions) {
    this.replicaVersions = new ReplicaVersions(opts.shards.map((set) => set.nodes), opts.index.version);
    const { maxQueueDelayMs } = opts.batching;
    this.batcher = new DynamicBatcher<Pending, Outcome>({
      ...opts.batching,
      weigh: (p) => this.expectedCostMs(p.query),
      // One batch is expected to take no longer than a query may queue: a query admitted just
      // behind a big batch would otherwise wait out the whole of it (on a CPU encoder a batch
      // of 32 costs about 32 single queries), and no queue bound can see that coming.
      maxBatchWeight: maxQueueDelayMs,
      process: (items) => this.runBatch(items),
      onBatch: opts.hooks?.onBatch,
      onShed: opts.hooks?.onShed,
      onExpired: opts.hooks?.onExpired,
    });
  }

  /**
   * Expected wait for a batch slot of a query arriving now, in ms: the queue ahead plus what is
   * left of the running batches, at recent costs, spread over the batch slots.
   */
  get expectedWaitMs(): number {
    const now = performance.now();
    let runningLeft = 0;
    for (const b of this.running) runningLeft += Math.max(0, b.weightMs - (now - b.started));
    return (this.batcher.queuedWeight + runningLeft) / this.opts.batching.concurrency;
  }

  private expectedCostMs(q: WireQuery): number {
    return this.cost.restMs + (needsEncoding(q) ? this.cost.encodeMs : 0);
  }

  /** Whether a query arriving now would be shed for waiting too long. */
  get saturated(): boolean {
    const { maxQueueDelayMs } = this.opts.batching;
    return maxQueueDelayMs !== undefined && this.expectedWaitMs > maxQueueDelayMs;
  }

  get queueDepth(): number {
    return this.batcher.depth;
  }

  /** Answers a search frame; every query gets a result or its own error (overload, deadline). */
  async handle(frame: SearchFrame): Promise<ResultFrame> {
    const t0 = performance.now();
    const now = Date.now();
    const settled = await Promise.allSettled(frame.queries.map((query) => this.admit({ query: this.withIndexDefaults(query), deadline: frame.deadline, enqueuedAt: now })));
    const timings = { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, evidenceMs: 0, totalMs: 0 };
    const versions = new Map<number, string>();
    let versionUntil = Infinity;
    const results = settled.map((s, i): WireResult => {
      if (s.status === 'fulfilled') {
        for (const key of ['queueMs', 'encodeMs', 'searchMs', 'mergeMs', 'evidenceMs'] as const) timings[key] = Math.max(timings[key], s.value.timings[key]);
        for (const [shard, v] of s.value.versions) versions.set(shard, v);
        versionUntil = Math.min(versionUntil, s.value.versionUntil);
        return s.value.result;
      }
      const err = s.reason as { code?: string; message?: string };
      const code = err?.code === 'overloaded' || err?.code === 'deadline' || err?.code === 'bad-frame' ? err.code : 'internal';
      return { id: frame.queries[i].id, hits: [], error: { code, message: err?.message ?? String(s.reason) } };
    });
    const end = performance.now();
    timings.totalMs = end - t0;
    // What is left of the promise now; the edge counts it from when it sent the frame, earlier.
    const versionLeaseMs = Number.isFinite(versionUntil) ? Math.max(0, Math.floor(versionUntil - end)) : 0;
    return { v: 1, type: 'result', batchId: frame.batchId, indexVersion: this.indexVersion(versions), versionLeaseMs, results, timings };
  }

  /**
   * Answers a lease frame: the index version served now, named as a search answer would name
   * it, and the least promise of the shards, asked of one replica each. It never enters the
   * batcher or admission, so an edge can renew its promise however loaded the pool is.
   */
  async lease(frame: LeaseFrame): Promise<LeaseResultFrame> {
    const { versions, until } = await askShardLeases(this.opts.shards, frame.deadline, frame.batchId, this.replicaVersions);
    // What is left of the promise now, as in handle().
    const versionLeaseMs = Math.max(0, Math.floor(until - performance.now()));
    return { v: 1, type: 'lease-result', batchId: frame.batchId, indexVersion: this.indexVersion(versions), versionLeaseMs };
  }

  /**
   * Asks every replica of every shard which index version it serves (shard-lease frames: cheap).
   * Batches that need it at once share one round.
   */
  private learnReplicaVersions(deadline: number): Promise<void> {
    this.learning ??= this.askReplicaVersions(deadline).finally(() => (this.learning = undefined));
    return this.learning;
  }

  private async askReplicaVersions(deadline: number): Promise<void> {
    const batchId = randomUUID();
    const askedAt = performance.now();
    const signal = AbortSignal.timeout(Math.max(1, Math.min(LEARN_VERSIONS_MS, deadline - Date.now())));
    await Promise.all(
      this.opts.shards.flatMap((set, shard) =>
        set.clients.map(async (c) => {
          try {
            const reply = await c.lease({ v: 1, type: 'shard-lease', batchId, deadline, shard }, signal);
            if (reply.indexVersion !== undefined) this.replicaVersions.record(shard, c.node, reply.indexVersion, askedAt);
          } catch {
            // A replica that does not answer keeps what it said last; the search tries it anyway.
          }
        }),
      ),
    );
  }

  /** A hybrid query takes the index's default fusion (index tune) unless it sets its own. */
  private withIndexDefaults(query: WireQuery): WireQuery {
    const { fusion } = this.opts.index;
    return query.mode === 'hybrid' && fusion ? { ...query, params: withFusionDefault(query.params, fusion) } : query;
  }

  /** Sheds at once when the wait ahead would exceed maxQueueDelayMs; otherwise queues. */
  private admit(p: Pending): Promise<Outcome> {
    const refused = this.unservable(p.query);
    if (refused) return Promise.reject(new ProtocolError('bad-frame', refused, { queryId: p.query.id }));
    if (this.saturated) {
      const expectedWaitMs = this.expectedWaitMs;
      this.opts.hooks?.onShed?.();
      return Promise.reject(new OverloadError(`overloaded: about ${Math.round(expectedWaitMs)} ms of work queued ahead`, Math.ceil(expectedWaitMs)));
    }
    return this.batcher.submit(p, p.deadline);
  }

  /**
   * Re-scores re-ranked queries' first-stage hits: one shard-score frame per shard, for every
   * query with hits there, answered on the version the search ran on (another version's
   * ordinals name other passages: `swapped`, and the batch goes again). A shard that fails is
   * reported missing for the queries that had hits there.
   */
  private async rescore(
    wanted: { query: EncodedQuery; hits: Hit[]; index: number }[],
    ctx: { batchId: string; deadline: number; versions: Map<number, string>; searchedOn: Map<number, string>; missing: (index: number, shard: number) => void },
  ): Promise<{ of: Map<Hit, number>; swapped: boolean }> {
    const of = new Map<Hit, number>();
    let swapped = false;
    const perShard = new Map<number, { w: (typeof wanted)[number]; hits: Hit[]; ordinals: Uint32Array }[]>();
    for (const w of wanted) {
      for (const [s, group] of ordinalsByShard(w.hits)) perShard.set(s, [...(perShard.get(s) ?? []), { w, ...group }]);
    }
    await Promise.all(
      [...perShard].map(async ([s, entries]) => {
        try {
          const frame = {
            v: 1 as const,
            type: 'shard-score' as const,
            batchId: ctx.batchId,
            deadline: ctx.deadline,
            shard: s,
            ...versionOf(ctx.versions, s),
            queries: entries.map((e) => ({ id: String(e.w.index), method: e.w.query.rerank!.method, tokens: e.w.query.tokens!, ordinals: Array.from(e.ordinals) })),
          };
          // As evidence: the node that searched first, a replica on another version passed over.
          const reply = await this.opts.shards[s].call(
            async (c, signal) => {
              const answer = await c.score(frame, signal);
              if (answer.version !== ctx.versions.get(s)) throw new EvidenceVersionError(s, ctx.versions.get(s), answer.version, true);
              return answer;
            },
            ctx.deadline,
            ctx.searchedOn.get(s),
          );
          const byId = new Map(reply.results.map((r) => [r.id, r.scores]));
          for (const e of entries) {
            const scores = byId.get(String(e.w.index));
            if (!scores || scores.length !== e.hits.length) throw new Error(`shard ${s} answered ${scores?.length ?? 'no'} scores for ${e.hits.length} passages`);
            e.hits.forEach((h, j) => of.set(h, scores[j]));
          }
        } catch (err) {
          if (err instanceof EvidenceVersionError) swapped = true;
          for (const e of entries) ctx.missing(e.w.index, s);
          this.opts.hooks?.onShardError?.(s, err, 'search');
        }
      }),
    );
    return { of, swapped };
  }

  /** Why this index cannot answer a query (a mode or re-ranker needing what its shards lack), or undefined. */
  private unservable(q: WireQuery): string | undefined {
    const { methods = Object.keys(BRANCHES), tokenEncoder, encoder } = this.opts;
    const plugin = METHODS[q.mode];
    const lacking = plugin.branches.filter((b) => !methods.includes(b));
    if (lacking.length > 0) return `index ${this.opts.index.version} cannot answer mode "${q.mode}": it holds ${methods.join(' + ')}, not ${lacking.join(' + ')}${lacking.includes('colbert') ? ' (build it with --method colbert)' : lacking.includes('phrase') ? ' (build it with --method phrase)' : ''}`;
    if (q.rerank && !methods.includes('colbert')) return `index ${this.opts.index.version} cannot re-rank with ${q.rerank.method}: it holds ${methods.join(' + ')}, no ColBERT token store (build it with --method colbert)`;
    const encodings = encodingsOf(plugin, q);
    if (encodings.has('sentence') && !q.vector && !encoder) return `index ${this.opts.index.version} has no sentence encoder for mode "${q.mode}"`;
    if (encodings.has('tokens') && !q.tokens && !tokenEncoder) return `index ${this.opts.index.version} has no token encoder for ${q.rerank ? 'rerank' : `mode "${q.mode}"`}`;
    if (q.tokens && tokenEncoder && q.tokens.dim !== tokenEncoder.dimension) return `query ${q.id}: token vectors have dimension ${q.tokens.dim}, the index holds ${tokenEncoder.dimension}-d token vectors`;
    const { phraseEncoder } = this.opts;
    if (encodings.has('phrase') && !q.phrase && !phraseEncoder) return `index ${this.opts.index.version} has no phrase encoder for mode "${q.mode}"`;
    if (encodings.has('conversation') && !this.opts.conversationalEncoder)
      return `index ${this.opts.index.version} has no conversational encoder for mode "conversational" (train one with \`edgesearch convdr train\`; serve it with the cluster config's conversationalModel, or pool cluster --conversational-model)`;
    if (q.phrase && phraseEncoder && q.phrase.start.length !== phraseEncoder.dimension)
      return `query ${q.id}: phrase vectors have dimension ${q.phrase.start.length}, the index holds ${phraseEncoder.dimension}-d phrase vectors`;
    return undefined;
  }

  /**
   * The index version a response was computed on: index.json's when every shard answered
   * with the version it lists, otherwise a digest of the shard versions actually used (after
   * a hot swap), so caches keyed on it never mix versions.
   */
  private indexVersion(used: Map<number, string>): string {
    const { version, shardVersions } = this.opts.index;
    if ([...used].every(([s, v]) => shardVersions[s] === v)) return version;
    return shardVersionsDigest(shardVersions.map((v, s) => used.get(s) ?? v));
  }

  /** Stops taking queries, finishes the queued ones. */
  async drain(): Promise<void> {
    this.batcher.close();
    await this.batcher.drain();
  }

  private async runBatch(items: Pending[]): Promise<Outcome[]> {
    const started = Date.now();
    const t0 = performance.now();
    const entry = { weightMs: items.reduce((sum, p) => sum + this.expectedCostMs(p.query), 0), started: t0 };
    this.running.add(entry);
    const encode = { ms: 0, queries: 0 };
    try {
      return await this.computeBatch(items, started, (ms, queries) => Object.assign(encode, { ms, queries }));
    } finally {
      this.running.delete(entry);
      if (encode.queries > 0) this.cost.encodeMs = movingAverage(this.cost.encodeMs, encode.ms / encode.queries);
      this.cost.restMs = movingAverage(this.cost.restMs, (performance.now() - t0 - encode.ms) / items.length);
    }
  }

  private async computeBatch(items: Pending[], started: number, onEncoded: (ms: number, queries: number) => void): Promise<Outcome[]> {
    const { encoder, hooks } = this.opts;
    const queueMs = items.map((p) => started - p.enqueuedAt);
    // A query with context searches the text its policy forms (the encoders form it within their window).
    const asked = items.map((p) => ({ text: p.query.text ?? '', context: p.query.mode === 'conversational' ? undefined : p.query.context, params: p.query.params }));
    const queries: EncodedQuery[] = items.map((p, i) => ({ id: p.query.id, text: formedText(asked[i]), k: p.query.k, params: p.query.params, rerank: p.query.rerank }));

    // 1. Encode once per encoding, every query of the batch that needs it in one call.
    let t = performance.now();
    const sentence = items.map((p, i) => (needsSentence(p.query) ? i : -1)).filter((i) => i >= 0);
    const tokens = items.map((p, i) => (needsTokens(p.query) ? i : -1)).filter((i) => i >= 0);
    const phrase = items.map((p, i) => (needsPhrase(p.query) ? i : -1)).filter((i) => i >= 0);
    const conversation = items.map((p, i) => (needsConversation(p.query) ? i : -1)).filter((i) => i >= 0);
    if (sentence.length > 0) {
      const d = encoder!.dimension;
      const budget = sentenceBudget(encoder!);
      const encoded = await encoder!.encodeQueries(sentence.map((i) => formedText(asked[i], budget)));
      sentence.forEach((i, j) => (queries[i].vector = encoded.subarray(j * d, (j + 1) * d)));
    }
    if (tokens.length > 0) {
      const tokenEncoder = this.opts.tokenEncoder!;
      const budget = lateInteractionBudget(tokenEncoder);
      const matrices = await tokenEncoder.encodeQueryTokens(tokens.map((i) => formedText(asked[i], budget)));
      tokens.forEach((i, j) => (queries[i].tokens = matrices[j]));
    }
    if (phrase.length > 0) {
      const phraseEncoder = this.opts.phraseEncoder!;
      const budget = phraseBudget(phraseEncoder);
      const vectors = await phraseEncoder.encodeQueries(phrase.map((i) => formedText(asked[i], budget)));
      phrase.forEach((i, j) => (queries[i].phrase = vectors[j]));
    }
    if (conversation.length > 0) {
      const conversational = this.opts.conversationalEncoder!;
      const d = conversational.dimension;
      const encoded = await conversational.encodeConversations(conversation.map((i) => ({ text: items[i].query.text!, context: items[i].query.context })));
      conversation.forEach((i, j) => (queries[i].vector = encoded.subarray(j * d, (j + 1) * d)));
    }
    items.forEach((p, i) => {
      if (p.query.vector && encodingsOf(METHODS[p.query.mode], p.query).has('sentence')) {
        const d = encoder?.dimension;
        if (d !== undefined && p.query.vector.length !== d) throw new Error(`query ${p.query.id}: vector has dimension ${p.query.vector.length}, the index holds ${d}-d vectors`);
        queries[i].vector = p.query.vector;
      }
      if (p.query.tokens) queries[i].tokens = p.query.tokens;
      if (p.query.phrase) queries[i].phrase = p.query.phrase;
    });
    const encodeMs = performance.now() - t;
    onEncoded(encodeMs, sentence.length + tokens.length + phrase.length + conversation.length);
    hooks?.onStage?.('encode', encodeMs);
    return this.searchAndDress({ items, queries, encodeMs, queueMs });
  }

  /**
   * Steps 2-4 of a batch, on its encoded queries. `earlier`: the goes before this one and their
   * stage times, when a swap came between a search and its evidence (a search that straddled
   * the switch) or no replica of a shard served the pinned index version any more; on the last
   * go a shard answers from any version, and evidence from another version is reported missing.
   */
  private async searchAndDress(batch: EncodedBatch, earlier?: { goes: number; timings: StageTimings }): Promise<Outcome[]> {
    const { shards, hooks } = this.opts;
    const goes = (earlier?.goes ?? 0) + 1;
    const lastGo = goes >= MAX_GOES;
    const { items, queries, encodeMs, queueMs } = batch;

    // 2. One shard-search frame per shard: a sub-query per branch the query's method plans.
    let t = performance.now();
    // A re-ranked query's first stage goes as deep as the re-ranking.
    const firstStage = queries.map((q) => ({ ...q, k: firstStageDepth(q) }));
    const plans = items.map((p, i) => METHODS[p.query.mode].plan(firstStage[i]));
    const sub: ShardQuery[] = [];
    plans.forEach((plan, i) => {
      const q = queries[i];
      for (const { branch, k } of plan) sub.push({ id: `${i}.${branch}`, mode: branch, k, params: q.params, ...branchInput(branch, q) });
    });
    const deadline = Math.max(...items.map((p) => p.deadline));
    const batchId = randomUUID();
    // One index version for the whole answer while every shard has a replica on it; on the last
    // go a shard with no replica on it answers from any version rather than not at all.
    let target = this.replicaVersions.target();
    if (target === undefined && !lastGo) {
      // No version known on every shard: perhaps the router has not heard of the new one yet.
      await this.learnReplicaVersions(deadline);
      target = this.replicaVersions.target();
    }
    let pinnedVersionLost = false;
    const versions = new Map<number, string>();
    /** The node whose search each shard's hits came from: evidence is asked of it first (same version, mid-rollout too). */
    const searchedOn = new Map<number, string>();
    const missing = new Set<number>();
    // A shard's promise counts from before the frame left, so it never outlasts the host's.
    const sentAt = performance.now();
    let versionUntil = Infinity;
    const perShard = await Promise.all(
      shards.map(async (set, s) => {
        try {
          const searchOn = (accept: string | undefined) =>
            set.call(
              async (c, signal) => {
                const askedAt = performance.now();
                const answer = await c.search({ v: 1, type: 'shard-search', batchId, deadline, shard: s, queries: sub }, signal);
                if (answer.indexVersion !== undefined) {
                  this.replicaVersions.record(s, c.node, answer.indexVersion, askedAt);
                  if (accept !== undefined && answer.indexVersion !== accept) throw new OtherIndexVersionError(s, c.node, accept, answer.indexVersion);
                }
                if (!searchedOn.has(s)) searchedOn.set(s, c.node); // the first answer wins; a hedge that lost may still resolve
                return answer;
              },
              deadline,
              target === undefined ? undefined : this.replicaVersions.nodesOn(s, target),
            );
          let reply;
          try {
            reply = await searchOn(target);
          } catch (err) {
            // On a second go a shard without the pinned version answers from any, rather than not at all.
            if (!(err instanceof OtherIndexVersionError) || !lastGo) throw err;
            reply = await searchOn(undefined);
          }
          versions.set(s, reply.version);
          versionUntil = Math.min(versionUntil, sentAt + (reply.leaseMs ?? 0));
          return new Map(reply.results.map((r) => [r.id, r.hits.map((h): Hit => ({ docId: '', score: h.score, shard: s, ordinal: h.ordinal, ...(h.span ? { span: h.span } : {}), ...(h.group !== undefined ? { group: h.group } : {}) }))]));
        } catch (err) {
          if (err instanceof OtherIndexVersionError) pinnedVersionLost = true;
          missing.add(s);
          hooks?.onShardError?.(s, err, 'search');
          return new Map<string, Hit[]>();
        }
      }),
    );
    const searchMs = performance.now() - t;
    hooks?.onStage?.('search', searchMs);
    // No replica of some shard serves the pinned version any more (a rollout's second wave):
    // ask every replica what it serves, and search once more on the version all shards have.
    if (pinnedVersionLost) {
      await this.learnReplicaVersions(deadline);
      return this.searchAndDress(batch, { goes, timings: { searchMs: searchMs + (earlier?.timings.searchMs ?? 0), mergeMs: earlier?.timings.mergeMs ?? 0, evidenceMs: earlier?.timings.evidenceMs ?? 0 } });
    }

    // Evidence (passage and document id) from the shard that owns each hit, one frame per shard
    // per call. Every read is kept (its promise, while in flight), so concurrent queries of the
    // batch never ask for a passage twice, and ids read for ties are not fetched again.
    const passages = new Map<string, { docId: string; title: string; text: string }>();
    const reads = new Map<string, Promise<void>>();
    let swappedBetween = false;
    let evidenceMs = 0;
    const readShard = async (s: number, ordinals: number[]): Promise<void> => {
      try {
        // Frames carry at most maxOrdinals ordinals: big batches ask in several frames.
        for (let i = 0; i < ordinals.length; i += DEFAULT_LIMITS.maxOrdinals) {
          const chunk = ordinals.slice(i, i + DEFAULT_LIMITS.maxOrdinals);
          // Ordinals name documents of one version: evidence from another would be wrong text.
          // Asked of the node that searched first; a replica on another version is passed over.
          const reply = await shards[s].call(
            async (c, signal) => {
              const answer = await c.evidence({ v: 1, type: 'evidence', batchId, shard: s, ...versionOf(versions, s), ordinals: chunk }, signal);
              if (answer.version !== versions.get(s)) throw new EvidenceVersionError(s, versions.get(s), answer.version, !lastGo);
              return answer;
            },
            deadline,
            searchedOn.get(s),
          );
          for (const p of reply.passages) passages.set(`${s}:${p.ordinal}`, p);
        }
      } catch (err) {
        // No replica had the searched version any more: search the batch again (once).
        if (err instanceof EvidenceVersionError) swappedBetween = true;
        hooks?.onShardError?.(s, err, 'evidence');
      }
    };
    const fetchEvidence = async (hits: Hit[]): Promise<void> => {
      const t0 = performance.now();
      const wanted = new Map<number, Set<number>>();
      for (const h of hits) if (!reads.has(`${h.shard}:${h.ordinal}`)) wanted.set(h.shard, (wanted.get(h.shard) ?? new Set()).add(h.ordinal));
      for (const [s, ordinals] of wanted) {
        const read = readShard(s, [...ordinals]);
        for (const o of ordinals) reads.set(`${s}:${o}`, read);
      }
      await Promise.all(new Set(hits.map((h) => reads.get(`${h.shard}:${h.ordinal}`)!)));
      for (const h of hits) h.docId = passages.get(`${h.shard}:${h.ordinal}`)?.docId ?? h.docId;
      evidenceMs += performance.now() - t0;
    };

    // 3. Exact merge by score of each branch, then the method's combination (fusion for hybrid),
    // in the system's one order (methods/order.ts): the ids of tied hits are read first, so ties
    // rank by document id as `search` and `eval` do.
    t = performance.now();
    const ranked: Ranked[] = await Promise.all(
      items.map(async (p, i) => {
        const lists: Partial<Record<BranchName, Hit[]>> = {};
        for (const { branch, k } of plans[i]) lists[branch] = await mergeTopKInOrder(perShard.map((m) => m.get(`${i}.${branch}`) ?? []), k, fetchEvidence);
        const hits = await METHODS[p.query.mode].combine(firstStage[i], lists, fetchEvidence);
        return { hits, missing: new Set(missing) };
      }),
    );
    // A re-ranked query's first stage, re-scored by the shards that hold its hits, then cut at k.
    const reranked = items.map((p, i) => (p.query.rerank ? i : -1)).filter((i) => i >= 0);
    if (reranked.length > 0) {
      const scores = await this.rescore(reranked.map((i) => ({ query: queries[i], hits: ranked[i].hits, index: i })), { batchId, deadline, versions, searchedOn, missing: (i, s) => ranked[i].missing.add(s) });
      if (scores.swapped) swappedBetween = true;
      await Promise.all(
        reranked.map(async (i) => {
          // Hits of a shard that could not re-score are dropped (their shard reported missing).
          const kept = ranked[i].hits.filter((h) => scores.of.has(h));
          ranked[i].hits = await rerankedTopK(queries[i], kept, kept.map((h) => scores.of.get(h)!), fetchEvidence);
        }),
      );
    }
    const mergeMs = performance.now() - t - evidenceMs;
    hooks?.onStage?.('merge', mergeMs);

    // 4. Evidence for the hits whose passages were not read for ties.
    await fetchEvidence(ranked.flatMap((r) => r.hits));
    hooks?.onStage?.('evidence', evidenceMs);
    // A second go counts the first one's time too: the stages still add up to the batch's time.
    const timings = { encodeMs, searchMs: searchMs + (earlier?.timings.searchMs ?? 0), mergeMs: mergeMs + (earlier?.timings.mergeMs ?? 0), evidenceMs: evidenceMs + (earlier?.timings.evidenceMs ?? 0) };
    // The search ran on a version that has just been swapped out: once more, on the new one.
    if (swappedBetween && !lastGo) {
      await this.learnReplicaVersions(deadline);
      return this.searchAndDress(batch, { goes, timings });
    }

    return items.map((p, i): Outcome => {
      const hits: WireHit[] = [];
      for (const h of ranked[i].hits) {
        const passage = passages.get(`${h.shard}:${h.ordinal}`);
        // A hit whose evidence cannot be fetched is left out and its shard reported missing.
        if (!passage) {
          ranked[i].missing.add(h.shard);
          continue;
        }
        hits.push({ docId: passage.docId, score: h.score, shard: h.shard, title: passage.title, text: passage.text, ...(h.span ? { span: h.span } : {}), ...(h.branches ? { branches: h.branches } : {}) });
      }
      const lost = [...ranked[i].missing].sort((a, b) => a - b);
      return {
        result: { id: p.query.id, hits, ...(lost.length > 0 ? { partial: { missingShards: lost } } : {}) },
        timings: { queueMs: queueMs[i], ...timings },
        versions,
        versionUntil: Number.isFinite(versionUntil) ? versionUntil : -Infinity,
      };
    });
  }
}

/** How long a router waits for replicas to say which version they serve, when its pinned one is gone. */
const LEARN_VERSIONS_MS = 1_000;

/**
 * Goes of one batch at most: a swap between search and evidence, or the pinned version gone,
 * sends it again; three goes see through one rollout step and the re-pin that may follow it.
 */
const MAX_GOES = 3;

/** Queries that need sentence vectors go through the sentence encoder unless they came with one. */
function needsSentence(q: WireQuery): boolean {
  return encodingsOf(METHODS[q.mode], q).has('sentence') && !q.vector;
}

/** Queries that need token vectors go through the token encoder unless they came with them. */
function needsTokens(q: WireQuery): boolean {
  return encodingsOf(METHODS[q.mode], q).has('tokens') && !q.tokens;
}

/** Phrase queries go through the phrase encoder unless they came with their vectors. */
function needsPhrase(q: WireQuery): boolean {
  return encodingsOf(METHODS[q.mode], q).has('phrase') && !q.phrase;
}

/**
 * The index version an answer names when its shards' versions are not the ones of the router's
 * index.json: a digest of every shard's version, in shard order.
 */
export function shardVersionsDigest(shardVersions: readonly string[]): string {
  const hash = createHash('sha256');
  shardVersions.forEach((v, s) => hash.update(`${s}:${v}\n`));
  return hash.digest('hex').slice(0, 16);
}

/** Conversational queries always go through their encoder: it reads the whole conversation. */
function needsConversation(q: WireQuery): boolean {
  return encodingsOf(METHODS[q.mode], q).has('conversation');
}

function needsEncoding(q: WireQuery): boolean {
  return needsSentence(q) || needsTokens(q) || needsPhrase(q) || needsConversation(q);
}

/** What a branch's sub-query carries to its shard. */
function branchInput(branch: BranchName, q: EncodedQuery): Partial<ShardQuery> {
  switch (BRANCH_INPUT[branch]) {
    case 'vector':
      return { vector: q.vector };
    case 'tokens':
      return { tokens: q.tokens };
    case 'text':
      return { text: q.text };
    case 'phrase':
      return { phrase: q.phrase };
  }
}

function movingAverage(average: number, sample: number): number {
  return average === 0 ? sample : 0.8 * average + 0.2 * sample;
}

/** The `version` field of an evidence or score frame: the version shard `s` searched on, when it answered. */
function versionOf(versions: Map<number, string>, s: number): { version?: string } {
  const version = versions.get(s);
  return version === undefined ? {} : { version };
}
