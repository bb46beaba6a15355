// Packs the queries of concurrent requests in one isolate into one search frame. When nothing
// is in flight a query leaves at once (no added latency when idle); while a frame is out, the
// queries that arrive wait up to `windowMs` (or until `maxQueries`) and leave together. Each
// query gets its own result back; a failed frame fails only the queries it carried.
import type { ResultFrame, SearchFrame, WireQuery, WireResult } from '../../shared/protocol/index.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.ts';

export type BatchQuery = Omit<WireQuery, 'id'>;

export interface BatchedResult {
  result: WireResult;
  indexVersion: string;
  /** Queries in the frame this one travelled in. */
  batchSize: number;
  /** Until when (Date.now() ms) the pool promised to keep serving `indexVersion`. */
  versionUntil: number;
  /** Requests to pool routers it took to deliver the frame (1 unless attempts failed). */
  attempts: number;
}

export interface BatcherOptions {
  windowMs: number;
  maxQueries: number;
  /**
   * The longest version promise taken from the pool (MAX_VERSION_LEASE_MS): while a promise
   * holds, cached answers of its version are served without asking the pool, so a longer one
   * (a misconfigured pool) would keep a left version in service that long. Default: no cap.
   */
  maxVersionLeaseMs?: number;
  /** Delivers the frame; `sentAt` is Date.now() when the answered attempt left, `attempts` how many it took (default 1). */
  send(frame: SearchFrame, region?: string): Promise<{ frame: ResultFrame; sentAt: number; attempts?: number }>;
  newId?: () => string;
}

interface Pending {
  query: BatchQuery;
  deadline: number;
  resolve(r: BatchedResult): void;
  reject(err: unknown): void;
}

interface OpenBatch {
  items: Pending[];
  region?: string;
  timer?: ReturnType<typeof setTimeout>;
}

export class MicroBatcher {
  private open?: OpenBatch;
  private inFlight = 0;
  /** Frames sent and queries they carried, for health and tests. */
  readonly stats = { frames: 0, queries: 0, largest: 0 };
  private readonly newId: () => string;

  constructor(private readonly opts: BatcherOptions) {
    this.newId = opts.newId ?? (() => crypto.randomUUID());
  }

  submit(query: BatchQuery, deadline: number, region?: string): Promise<BatchedResult> {
    return new Promise<BatchedResult>((resolve, reject) => {
      let batch = this.open;
      if (!batch) {
        batch = this.open = { items: [], region };
        if (this.inFlight === 0 || this.opts.windowMs === 0) queueMicrotask(() => this.flush(batch!));
        else batch.timer = setTimeout(() => this.flush(batch!), this.opts.windowMs);
      }
      batch.items.push({ query, deadline, resolve, reject });
      if (batch.items.length >= this.opts.maxQueries) this.flush(batch);
    });
  }

  private flush(batch: OpenBatch): void {
    if (this.open !== batch) return; // already sent (full, or by its timer)
    this.open = undefined;
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    const ids = batch.items.map((_, i) => `q${i}`);
    const frame: SearchFrame = {
      v: PROTOCOL_VERSION,
      type: 'search',
      batchId: this.newId(),
      deadline: Math.max(...batch.items.map((p) => p.deadline)),
      queries: batch.items.map((p, i) => ({ ...p.query, id: ids[i] })),
    };
    this.inFlight++;
    this.stats.frames++;
    this.stats.queries += batch.items.length;
    this.stats.largest = Math.max(this.stats.largest, batch.items.length);
    this.opts
      .send(frame, batch.region)
      .then(({ frame: reply, sentAt, attempts = 1 }) => {
        const byId = new Map(reply.results.map((r) => [r.id, r]));
        const versionUntil = sentAt + Math.min(reply.versionLeaseMs ?? 0, this.opts.maxVersionLeaseMs ?? Infinity);
        batch.items.forEach((p, i) => {
          const result = byId.get(ids[i]);
          if (result) p.resolve({ result, indexVersion: reply.indexVersion, batchSize: batch.items.length, versionUntil, attempts });
          else p.reject(new Error(`the pool's answer to batch ${frame.batchId} has no result for query ${ids[i]}`));
        });
      })
      .catch((err) => batch.items.forEach((p) => p.reject(err)))
      .finally(() => this.inFlight--);
  }
}
