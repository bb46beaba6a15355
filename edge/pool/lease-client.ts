// Asks the pool for its version promise alone: a `lease` frame, which a router answers from its
// shards' current versions without the encoder, its batcher or its admission queue, so the
// answer comes back in a round trip however loaded the pool is. Delivered like a search frame
// (signed, the answer verified as bound to this request, retried elsewhere), it carries the
// header that keeps a saturated node from shedding it unread.
import type { LeaseFrame, LeaseResultFrame } from '../../shared/protocol/index.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.ts';

/** The pool's promise: `indexVersion` is served until `versionUntil` (Date.now() ms). */
export interface LeaseAnswer {
  indexVersion: string;
  versionUntil: number;
}

export interface LeaseClientOptions {
  /** Delivers the frame; `sentAt` is Date.now() when the answered attempt left. */
  send(frame: LeaseFrame, region?: string): Promise<{ frame: LeaseResultFrame; sentAt: number }>;
  /** The longest promise believed (MAX_VERSION_LEASE_MS), as for search answers. Default: no cap. */
  maxVersionLeaseMs?: number;
  newId?: () => string;
}

export class LeaseClient {
  /** Lease frames answered and failed, for health and tests. */
  readonly stats = { answered: 0, failed: 0 };
  private readonly newId: () => string;

  constructor(private readonly opts: LeaseClientOptions) {
    this.newId = opts.newId ?? (() => crypto.randomUUID());
  }

  async ask(deadline: number, region?: string): Promise<LeaseAnswer> {
    try {
      const { frame, sentAt } = await this.opts.send({ v: PROTOCOL_VERSION, type: 'lease', batchId: this.newId(), deadline }, region);
      this.stats.answered++;
      return { indexVersion: frame.indexVersion, versionUntil: sentAt + Math.min(frame.versionLeaseMs, this.opts.maxVersionLeaseMs ?? Infinity) };
    } catch (err) {
      this.stats.failed++;
      throw err;
    }
  }
}
