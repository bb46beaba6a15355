import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { EvidenceFrame, EvidenceResultFrame, ShardLeaseFrame, ShardLeaseResultFrame, ShardResultFrame, ShardScoreFrame, ShardScoreResultFrame, ShardSearchFrame } from '../../../shared/protocol/index.ts';
import { ProtocolError } from '../../../shared/protocol/index.ts';
import { BRANCHES, QueryVectorError, RERANKERS, type BranchName, type EncodedQuery } from '../../engine/methods/index.ts';
import { ManifestError, closeShard, openShard, readIndexManifest, type LoadedShard, type OpenOptions } from '../../engine/shard/index.ts';
import { reverifyShard } from './reverify.ts';
import { ShardSlot, type SlotOptions } from './shard-slot.ts';
import { SWAP_REASONS, SwapRefused, checkSwapTarget, type ServedIndex } from './swap-policy.ts';

export interface HostOptions extends OpenOptions {
  /** See `SlotOptions.versionLeaseMs`; default 0 (no promises). */
  versionLeaseMs?: number;
  /**
   * Absolute directory admin swaps may load shard versions from (see swap-policy.ts).
   * Default: the directory that holds `indexDir`, where `index add/delete/optimize` write beside it.
   */
  swapRoot?: string;
  /** Served shards' files are checksummed again this often; a mismatch takes the shard out of service. 0 or absent: never. */
  reverifyIntervalMs?: number;
  /** Called once when a shard is taken out of service; `detail` names files (for the operator's log). */
  onShardFailed?: (shard: number, detail: string) => void;
}

export type SwapOptions = OpenOptions;

/** One shard number held here: its slot, the index version it came from, and whether it is in service. */
interface Held {
  slot: ShardSlot;
  /** Version of the index (index.json) the served shard belongs to: swaps go forward from it. */
  indexVersion: string;
  /** Set when re-verification found the files changed: short reason, no paths. */
  failed?: string;
  /** Swaps of this shard run one after another: each is checked against the version the one before left. */
  swaps: Promise<unknown>;
}

/**
 * The shard-host role of a pool node: holds some shards of an index and answers
 * `shard-search`, `evidence` and `shard-lease` frames for them. Shards can be swapped to a new version
 * while requests run (only forward, only from under the swap root: swap-policy.ts); every
 * shard result promises how long its version stays served. Served files are checksummed again
 * in the background; a shard whose files changed answers 'not-ready' until a swap.
 */
export class ShardHost {
  private timer?: NodeJS.Timeout;
  private reverifying: Promise<unknown> = Promise.resolve();
  private readonly stop = new AbortController();

  private constructor(
    private readonly held: Map<number, Held>,
    private readonly served: ServedIndex,
    private readonly swapRoot: string,
    private readonly opts: HostOptions,
  ) {
    const every = opts.reverifyIntervalMs ?? 0;
    if (every > 0) this.schedule(every);
  }

  /** Loads (and by default checksum-verifies) the named shards of the index in `indexDir`. */
  static async open(indexDir: string, shardNos: number[], opts: HostOptions = {}): Promise<ShardHost> {
    const swapRoot = opts.swapRoot ?? dirname(resolve(indexDir));
    if (!isAbsolute(swapRoot)) throw new Error(`swapRoot ${JSON.stringify(swapRoot)} must be an absolute directory`);
    const every = opts.reverifyIntervalMs ?? 0;
    if (!Number.isFinite(every) || every < 0) throw new RangeError(`reverifyIntervalMs must be a finite number >= 0, got ${every}`);
    const manifest = await readIndexManifest(indexDir);
    const slotOptions: SlotOptions = { versionLeaseMs: opts.versionLeaseMs ?? 0 };
    const held = new Map<number, Held>();
    try {
      for (const s of shardNos) {
        const entry = manifest.shards[s];
        if (!entry) throw new Error(`${indexDir} has ${manifest.shards.length} shards; there is no shard ${s}`);
        const dir = join(indexDir, entry.dir);
        const shard = await openShard(dir, opts);
        publishedIn.set(shard, manifest.version);
        const slot = new ShardSlot(s, shard, closeShard, slotOptions);
        held.set(s, { slot, indexVersion: manifest.version, swaps: Promise.resolve() });
        if (shard.manifest.version !== entry.version || shard.manifest.shard !== s || shard.manifest.shardCount !== manifest.shards.length) {
          throw new ManifestError(`field version/shard/shardCount: holds shard ${shard.manifest.shard} of ${shard.manifest.shardCount} version ${shard.manifest.version}, index.json expects shard ${s} of ${manifest.shards.length} version ${entry.version}`, dir);
        }
      }
    } catch (err) {
      for (const h of held.values()) await h.slot.dispose();
      throw err;
    }
    const served = { modelId: manifest.model.id, manifestHash: manifest.model.manifestHash, shardCount: manifest.shards.length };
    return new ShardHost(held, served, swapRoot, opts);
  }

  get shardNos(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** shard number → version currently served. */
  versions(): Record<number, string> {
    return Object.fromEntries([...this.held].map(([s, h]) => [s, h.slot.version]));
  }

  /** shard number → version of the index (index.json) its served shard belongs to. */
  indexVersions(): Record<number, string> {
    return Object.fromEntries([...this.held].map(([s, h]) => [s, h.indexVersion]));
  }

  /** Shards out of service (their files changed since load) → a short reason without paths. Empty when all serve. */
  failed(): Record<number, string> {
    return Object.fromEntries([...this.held].filter(([, h]) => h.failed !== undefined).map(([s, h]) => [s, h.failed!]));
  }

  shard(shardNo: number): LoadedShard {
    return this.get(shardNo).slot.shard;
  }

  private get(shardNo: number): Held {
    const held = this.held.get(shardNo);
    if (!held) throw new ProtocolError('unknown-shard', `this node does not hold shard ${shardNo} (it holds ${this.shardNos.join(', ') || 'none'})`);
    return held;
  }

  /** The slot of a shard in service: one out of service answers not-ready, so routers report it missing. */
  private slot(shardNo: number): ShardSlot {
    const held = this.get(shardNo);
    if (held.failed !== undefined) throw new ProtocolError('not-ready', `shard ${shardNo} is out of service`);
    return held.slot;
  }

  async search(frame: ShardSearchFrame): Promise<ShardResultFrame> {
    const slot = this.slot(frame.shard);
    const reply = await slot.use(async (shard): Promise<ShardResultFrame> => {
      // One batched call per branch (dense, bm25 ...), each the function a local search runs.
      const groups = new Map<BranchName, number[]>();
      frame.queries.forEach((q, i) => groups.set(q.mode, [...(groups.get(q.mode) ?? []), i]));
      const hits: { ordinal: number; score: number }[][] = frame.queries.map(() => []);
      for (const [name, members] of groups) {
        const branch = BRANCHES[name];
        const queries = members.map((i): EncodedQuery => {
          const q = frame.queries[i];
          return { id: q.id, text: q.text ?? '', k: q.k, params: q.params, vector: q.vector, tokens: q.tokens, phrase: q.phrase };
        });
        let lists;
        try {
          branch.check(shard);
          lists = await branch.search(shard, frame.shard, queries);
        } catch (err) {
          if (err instanceof QueryVectorError) throw new ProtocolError('bad-frame', err.message, { queryId: err.queryId });
          throw err;
        }
        members.forEach((i, j) => (hits[i] = lists[j].map((h) => ({ ordinal: h.ordinal, score: h.score, ...(h.span ? { span: h.span } : {}), ...(h.group !== undefined ? { group: h.group } : {}) }))));
      }
      return { v: 1, type: 'shard-result', batchId: frame.batchId, shard: frame.shard, version: shard.manifest.version, ...indexVersionOf(shard), results: frame.queries.map((q, i) => ({ id: q.id, hits: hits[i] })) };
    });
    // Promised once the answer is ready: the promise starts no earlier than the router sent.
    return { ...reply, leaseMs: slot.promise(reply.version) };
  }

  /**
   * The version this host serves now and its promise, given as a search answer gives it (a
   * swap waits for it too): what a router needs to renew an edge's version promise without a
   * search. A shard out of service answers not-ready, as its searches do.
   */
  lease(frame: ShardLeaseFrame): ShardLeaseResultFrame {
    const slot = this.slot(frame.shard);
    const version = slot.version;
    return { v: 1, type: 'shard-lease-result', batchId: frame.batchId, shard: frame.shard, version, ...indexVersionOf(slot.shard), leaseMs: slot.promise(version) };
  }

  /** Re-scores passages of one shard (the re-ranking second stage), on the version it serves now. */
  async score(frame: ShardScoreFrame): Promise<ShardScoreResultFrame> {
    return this.slot(frame.shard).use(async (shard) => {
      const version = shard.manifest.version;
      if (frame.version !== undefined && frame.version !== version) return { v: 1, type: 'shard-score-result', batchId: frame.batchId, shard: frame.shard, version, results: [] };
      const results = frame.queries.map((q) => {
        const reranker = RERANKERS[q.method];
        reranker.check(shard);
        for (const o of q.ordinals) {
          if (o >= shard.passages.size) throw new ProtocolError('bad-frame', `query ${q.id}: ordinal ${o} is out of range for shard ${frame.shard} (${shard.passages.size} documents)`, { queryId: q.id });
        }
        const scores = reranker.score(shard, { id: q.id, text: '', k: q.ordinals.length, tokens: q.tokens }, Uint32Array.from(q.ordinals));
        return { id: q.id, scores: Array.from(scores) };
      });
      return { v: 1, type: 'shard-score-result', batchId: frame.batchId, shard: frame.shard, version, results };
    });
  }

  async evidence(frame: EvidenceFrame): Promise<EvidenceResultFrame> {
    return this.slot(frame.shard).use(async (shard) => {
      const version = shard.manifest.version;
      // Ordinals of another version name other documents (or none): checked against this one they would be a bad frame.
      if (frame.version !== undefined && frame.version !== version) return { v: 1, type: 'evidence-result', batchId: frame.batchId, shard: frame.shard, version, passages: [] };
      for (const o of frame.ordinals) {
        if (o >= shard.passages.size) throw new ProtocolError('bad-frame', `ordinal ${o} is out of range for shard ${frame.shard} (${shard.passages.size} documents)`);
      }
      const passages = await shard.passages.getMany(frame.ordinals);
      return {
        v: 1,
        type: 'evidence-result',
        batchId: frame.batchId,
        shard: frame.shard,
        version,
        passages: passages.map((p, i) => ({ ordinal: frame.ordinals[i], docId: p.id, title: p.title, text: p.text })),
      };
    });
  }

  /**
   * Hot swap: check `dir` against the swap policy (under the swap root, no symlinks, a shard of
   * a version of the served index that descends from the one this shard serves), load and
   * verify it, wait until the old version's promises have ended, then serve it; in-flight
   * requests finish on the old one. A shard out of service is always verified, and serves
   * again once swapped. Every failure is a SwapRefused (generic `message`, `detail` for logs),
   * except ProtocolError 'unknown-shard' for a shard this node does not hold.
   */
  async swap(shardNo: number, dir: string, opts: SwapOptions = {}): Promise<{ from: string; to: string }> {
    const held = this.get(shardNo);
    const run = held.swaps.then(() => this.swapNow(shardNo, held, dir, opts));
    held.swaps = run.catch(() => undefined);
    return run;
  }

  private async swapNow(shardNo: number, held: Held, dir: string, opts: SwapOptions): Promise<{ from: string; to: string }> {
    if (this.stop.signal.aborted) throw new SwapRefused(SWAP_REASONS.failed, 'the shard host is closed');
    const target = await checkSwapTarget({ root: this.swapRoot, dir, shardNo, served: this.served, currentIndexVersion: held.indexVersion });
    let next: LoadedShard;
    try {
      next = await openShard(target.shardDir, { verify: opts.verify !== false || held.failed !== undefined });
    } catch (err) {
      throw new SwapRefused(SWAP_REASONS.filesBad, (err as Error).message);
    }
    // The manifest was read again to load: it must still be the one the policy passed.
    if (next.manifest.version !== target.shard.version || next.manifest.shard !== shardNo) {
      await closeShard(next).catch(() => undefined);
      throw new SwapRefused(SWAP_REASONS.filesBad, `${target.shardDir}: manifest changed while swapping (now version ${next.manifest.version})`);
    }
    const from = held.slot.version;
    publishedIn.set(next, target.index.version);
    try {
      await held.slot.swap(next);
    } catch (err) {
      // Closing the old version failed: the switch itself happened if `next` is served.
      if (held.slot.shard !== next) throw new SwapRefused(SWAP_REASONS.failed, `${target.shardDir}: ${(err as Error).message}`);
    }
    held.indexVersion = target.index.version;
    held.failed = undefined;
    return { from, to: next.manifest.version };
  }

  /**
   * Re-checksums every served shard's files now, one shard at a time (after any pass already
   * running); shards whose files changed go out of service. Resolves with `failed()`.
   */
  async reverifyNow(): Promise<Record<number, string>> {
    const run = this.reverifying.then(() => this.reverifyPass());
    this.reverifying = run.catch(() => undefined);
    await run;
    return this.failed();
  }

  private async reverifyPass(): Promise<void> {
    for (const [shardNo, held] of this.held) {
      if (this.stop.signal.aborted) return;
      if (held.failed !== undefined) continue; // only a swap brings it back
      let checked: LoadedShard | undefined;
      let problem;
      try {
        problem = await held.slot.use((shard) => {
          checked = shard;
          return reverifyShard(shard, this.stop.signal);
        });
      } catch (err) {
        if (this.stop.signal.aborted) return;
        problem = { reason: 'shard files cannot be re-read', detail: (err as Error).message };
      }
      // A swap that landed meanwhile replaced what was checked: the new version was verified by its load.
      if (!problem || held.slot.shard !== checked) continue;
      held.failed = problem.reason;
      try {
        this.opts.onShardFailed?.(shardNo, problem.detail);
      } catch {
        // A throwing hook must not stop the checks of the other shards.
      }
    }
  }

  /** The next pass starts `every` ms after the previous one ended: passes never pile up. */
  private schedule(every: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reverifyNow()
        .catch(() => undefined)
        .finally(() => {
          if (!this.stop.signal.aborted) this.schedule(every);
        });
    }, every);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.stop.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.reverifying;
    for (const h of this.held.values()) {
      await h.swaps;
      await h.slot.dispose();
    }
    this.held.clear();
  }
}

/**
 * The index version each loaded shard was published in (index.json's), kept with the shard
 * itself: an answer names the pair it was computed on, even while a swap replaces the shard.
 */
const publishedIn = new WeakMap<LoadedShard, string>();

function indexVersionOf(shard: LoadedShard): { indexVersion?: string } {
  const indexVersion = publishedIn.get(shard);
  return indexVersion === undefined ? {} : { indexVersion };
}
