import type { ShardClient } from './shard-client.ts';

export interface ReplicaOptions {
  /** Ask a second replica when the first has not answered after this long. */
  hedgeMs: number;
  /** A replica that failed is tried last for this long. */
  cooldownMs: number;
  now?: () => number;
  onFailure?: (node: string, err: unknown) => void;
  onHedge?: (node: string) => void;
}

/** The deadline passed before any replica answered. */
export class ReplicaDeadlineError extends Error {
  readonly code = 'deadline';
}

/** The longest delay setTimeout keeps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Errors that another replica would give too: not worth a retry. */
const FINAL_CODES = new Set(['bad-frame', 'limit', 'too-large', 'deadline']);

/**
 * An answer a replica gave correctly but from another shard version than the caller needs (a
 * replica swapped, or not yet swapped, mid-rollout): the next replica is tried, and the replica is
 * not held to be failing for it.
 */
function isOtherVersion(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'evidence-version' || code === 'other-version';
}

function isFinal(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && FINAL_CODES.has(code);
}

/** A node, or a set of nodes, a call asks first. */
export type Preference = string | ReadonlySet<string>;

interface Replica {
  client: ShardClient;
  outstanding: number;
  downUntil: number;
}

/**
 * The replicas of one shard. A call goes to the healthy replica with the fewest outstanding
 * requests; a failure is retried on the next one, a slow answer is hedged with a second
 * request after `hedgeMs`; the first answer wins and the others are aborted.
 */
export class ReplicaSet {
  private readonly replicas: Replica[];
  private readonly now: () => number;

  constructor(
    readonly shard: number,
    clients: ShardClient[],
    private readonly opts: ReplicaOptions,
  ) {
    if (clients.length === 0) throw new Error(`shard ${shard} has no replica`);
    this.replicas = clients.map((client) => ({ client, outstanding: 0, downUntil: 0 }));
    this.now = opts.now ?? Date.now;
  }

  get nodes(): string[] {
    return this.replicas.map((r) => r.client.node);
  }

  get clients(): ShardClient[] {
    return this.replicas.map((r) => r.client);
  }

  /**
   * Healthy first, then the preferred nodes (if any), then fewest outstanding; ties broken at
   * random so load spreads.
   */
  private order(prefer?: Preference): Replica[] {
    const now = this.now();
    const preferred = (node: string) => (typeof prefer === 'string' ? node === prefer : prefer?.has(node) === true);
    return this.replicas
      .map((r) => ({ r, down: r.downUntil > now ? 1 : 0, other: preferred(r.client.node) ? 0 : 1, tie: Math.random() }))
      .sort((a, b) => a.down - b.down || a.other - b.other || a.r.outstanding - b.r.outstanding || a.tie - b.tie)
      .map((x) => x.r);
  }

  /**
   * Runs `op` on one replica (hedged, retried on failure). `prefer`: nodes to ask first while
   * healthy, e.g. the one whose search the call follows up, so both see the same shard version,
   * or those on the index version a batch is pinned to.
   */
  call<T>(op: (client: ShardClient, signal: AbortSignal) => Promise<T>, deadline: number, prefer?: Preference): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const order = this.order(prefer);
      const controllers: AbortController[] = [];
      let next = 0;
      let inFlight = 0;
      let done = false;
      let lastError: unknown;
      let hedgeTimer: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(hedgeTimer);
        clearTimeout(deadlineTimer);
        for (const c of controllers) c.abort();
        settle();
      };
      const launch = (): boolean => {
        if (done || next >= order.length) return false;
        const replica = order[next++];
        const controller = new AbortController();
        controllers.push(controller);
        inFlight++;
        replica.outstanding++;
        op(replica.client, controller.signal).then(
          (value) => {
            replica.downUntil = 0;
            finish(() => resolve(value));
          },
          (err) => {
            inFlight--;
            if (done) return;
            lastError = err;
            if (isFinal(err)) return finish(() => reject(err));
            if (!isOtherVersion(err)) {
              replica.downUntil = this.now() + this.opts.cooldownMs;
              this.opts.onFailure?.(replica.client.node, err);
            }
            if (!launch() && inFlight === 0) finish(() => reject(lastError));
          },
        ).finally(() => replica.outstanding--);
        return true;
      };
      const deadlineTimer = setTimeout(
        () => finish(() => reject(lastError && inFlight === 0 ? lastError : new ReplicaDeadlineError(`shard ${this.shard}: no replica answered before the deadline`))),
        // setTimeout fires at once for delays beyond 2^31-1 ms (24.8 days): a deadline that far
        // ahead would fail every call at once; capped, a call waits that long at most.
        Math.min(MAX_TIMER_MS, Math.max(0, deadline - this.now())),
      );
      launch();
      if (order.length > 1 && this.opts.hedgeMs > 0) {
        hedgeTimer = setTimeout(() => {
          if (!done && launch()) this.opts.onHedge?.(order[next - 1].client.node);
        }, this.opts.hedgeMs);
      }
    });
  }
}
