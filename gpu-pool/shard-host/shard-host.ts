import { join } from 'node:path';
import type { EvidenceFrame, EvidenceResultFrame, ShardResultFrame, ShardSearchFrame } from '../../shared/protocol/index.ts';
import { ProtocolError } from '../../shared/protocol/index.ts';
import { searchBm25Shard, searchDenseShard, type MethodQuery } from '../methods/index.ts';
import { closeShard, openShard, readIndexManifest, type LoadedShard, type OpenOptions } from '../shard/index.ts';
import { ShardSlot, type SlotOptions } from './shard-slot.ts';

export interface HostOptions extends OpenOptions {
  /** See `SlotOptions.versionLeaseMs`; default 0 (no promises). */
  versionLeaseMs?: number;
}

/**
 * The shard-host role of a pool node: holds some shards of an index and answers
 * `shard-search` and `evidence` frames for them. Shards can be swapped to a new version
 * while requests run; every shard result promises how long its version stays served.
 */
export class ShardHost {
  private constructor(private readonly slots: Map<number, ShardSlot>) {}

  /** Loads (and by default checksum-verifies) the named shards of the index in `indexDir`. */
  static async open(indexDir: string, shardNos: number[], opts: HostOptions = {}): Promise<ShardHost> {
    const manifest = await readIndexManifest(indexDir);
    const slotOptions: SlotOptions = { versionLeaseMs: opts.versionLeaseMs ?? 0 };
    const slots = new Map<number, ShardSlot>();
    try {
      for (const s of shardNos) {
        const entry = manifest.shards[s];
        if (!entry) throw new Error(`${indexDir} has ${manifest.shards.length} shards; there is no shard ${s}`);
        slots.set(s, new ShardSlot(s, await openShard(join(indexDir, entry.dir), opts), closeShard, slotOptions));
      }
    } catch (err) {
      for (const slot of slots.values()) await slot.dispose();
      throw err;
    }
    return new ShardHost(slots);
  }

  get shardNos(): number[] {
    return [...this.slots.keys()].sort((a, b) => a - b);
  }

  /** shard number → version currently served. */
  versions(): Record<number, string> {
    return Object.fromEntries([...this.slots].map(([s, slot]) => [s, slot.version]));
  }

  shard(shardNo: number): LoadedShard {
    return this.slot(shardNo).shard;
  }

  private slot(shardNo: number): ShardSlot {
    const slot = this.slots.get(shardNo);
    if (!slot) throw new ProtocolError('unknown-shard', `this node does not hold shard ${shardNo} (it holds ${this.shardNos.join(', ') || 'none'})`);
    return slot;
  }

  async search(frame: ShardSearchFrame): Promise<ShardResultFrame> {
    const slot = this.slot(frame.shard);
    const reply = await slot.use(async (shard): Promise<ShardResultFrame> => {
      const dense: { i: number; q: MethodQuery }[] = [];
      const bm25: { i: number; q: MethodQuery }[] = [];
      frame.queries.forEach((q, i) => (q.mode === 'dense' ? dense : bm25).push({ i, q: { id: q.id, text: q.text ?? '', k: q.k, params: q.params } }));
      const hits: { ordinal: number; score: number }[][] = frame.queries.map(() => []);
      if (dense.length > 0) {
        const d = shard.index.dimension;
        const vectors = new Float32Array(dense.length * d);
        dense.forEach(({ i }, j) => {
          const v = frame.queries[i].vector!;
          if (v.length !== d) throw new ProtocolError('bad-frame', `query ${frame.queries[i].id}: vector has dimension ${v.length}, shard ${frame.shard} holds ${d}-d vectors`, { queryId: frame.queries[i].id });
          vectors.set(v, j * d);
        });
        const lists = await searchDenseShard(shard, frame.shard, dense.map((x) => x.q), vectors);
        dense.forEach(({ i }, j) => (hits[i] = lists[j].map((h) => ({ ordinal: h.ordinal, score: h.score }))));
      }
      if (bm25.length > 0) {
        const lists = await searchBm25Shard(shard, frame.shard, bm25.map((x) => x.q));
        bm25.forEach(({ i }, j) => (hits[i] = lists[j].map((h) => ({ ordinal: h.ordinal, score: h.score }))));
      }
      return { v: 1, type: 'shard-result', batchId: frame.batchId, shard: frame.shard, version: shard.manifest.version, results: frame.queries.map((q, i) => ({ id: q.id, hits: hits[i] })) };
    });
    // Promised once the answer is ready: the promise starts no earlier than the router sent.
    return { ...reply, leaseMs: slot.promise(reply.version) };
  }

  async evidence(frame: EvidenceFrame): Promise<EvidenceResultFrame> {
    return this.slot(frame.shard).use(async (shard) => {
      for (const o of frame.ordinals) {
        if (o >= shard.passages.size) throw new ProtocolError('bad-frame', `ordinal ${o} is out of range for shard ${frame.shard} (${shard.passages.size} documents)`);
      }
      const passages = await shard.passages.getMany(frame.ordinals);
      return {
        v: 1,
        type: 'evidence-result',
        batchId: frame.batchId,
        shard: frame.shard,
        version: shard.manifest.version,
        passages: passages.map((p, i) => ({ ordinal: frame.ordinals[i], docId: p.id, title: p.title, text: p.text })),
      };
    });
  }

  /**
   * Hot swap: load and verify the shard in `dir`, wait until the old version's promises have
   * ended, then serve it; in-flight requests finish on the old one.
   */
  async swap(shardNo: number, dir: string, opts: OpenOptions = {}): Promise<{ from: string; to: string }> {
    const slot = this.slot(shardNo);
    const next = await openShard(dir, opts);
    if (next.manifest.shard !== shardNo) {
      await closeShard(next);
      throw new Error(`${dir} holds shard ${next.manifest.shard}, not shard ${shardNo}`);
    }
    const from = slot.version;
    await slot.swap(next);
    return { from, to: next.manifest.version };
  }

  async close(): Promise<void> {
    for (const slot of this.slots.values()) await slot.dispose();
    this.slots.clear();
  }
}
