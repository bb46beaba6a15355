/**
 * Which index version (index.json) each replica of each shard serves, as the replicas last said,
 * and the index version answers are pinned to. A rollout moves one replica of every shard to the
 * new version before any shard's last old replica (pool rollout's waves), so there is always an
 * index version every shard has a replica on: a router that answers from that version alone never
 * mixes versions within one answer.
 */
export class ReplicaVersions {
  /** Per shard: node → index version, and when the request that learned it was sent. */
  private readonly known: Map<string, { version: string; askedAt: number }>[];
  /** Index version → when it was first reported (a later one is taken as newer). */
  private readonly firstSeen = new Map<string, number>();
  private seen = 0;
  private pinned: string;

  /**
   * `nodes[s]`: the replicas of shard s; `indexVersion`: what they are presumed to serve until
   * they say otherwise (the router's own index.json).
   */
  constructor(nodes: readonly (readonly string[])[], indexVersion: string) {
    this.pinned = indexVersion;
    this.firstSeen.set(indexVersion, this.seen++);
    this.known = nodes.map((list) => new Map(list.map((n) => [n, { version: indexVersion, askedAt: -Infinity }])));
  }

  /**
   * A replica said which index version its shard came from, in answer to a request sent at
   * `askedAt` (performance.now() ms): an answer to an older request than the one known is stale.
   */
  record(shard: number, node: string, indexVersion: string, askedAt: number): void {
    const known = this.known[shard];
    const was = known?.get(node);
    if (!known || (was && was.askedAt > askedAt)) return;
    known.set(node, { version: indexVersion, askedAt });
    if (!this.firstSeen.has(indexVersion)) this.firstSeen.set(indexVersion, this.seen++);
  }

  /** Replicas of `shard` known to serve `indexVersion`. */
  nodesOn(shard: number, indexVersion: string): Set<string> {
    const out = new Set<string>();
    for (const [node, v] of this.known[shard] ?? []) if (v.version === indexVersion) out.add(node);
    return out;
  }

  private complete(indexVersion: string): boolean {
    return this.known.every((m) => [...m.values()].some((v) => v.version === indexVersion));
  }

  /**
   * The index version to answer from: the pinned one while every shard has a replica on it,
   * else the newest version every shard has a replica on (pinned from then on); undefined when
   * there is none (e.g. a shard with a single replica swapped): answers then take any version.
   */
  target(): string | undefined {
    if (this.complete(this.pinned)) return this.pinned;
    const candidates = [...this.firstSeen.keys()].filter((v) => this.complete(v)).sort((a, b) => this.firstSeen.get(b)! - this.firstSeen.get(a)!);
    if (candidates.length === 0) return undefined;
    this.pinned = candidates[0];
    return this.pinned;
  }
}

/** A replica answered from another index version than the batch is pinned to: the next replica is asked. */
export class OtherIndexVersionError extends Error {
  readonly code = 'other-version';
  constructor(
    readonly shard: number,
    readonly node: string,
    readonly wanted: string,
    readonly answered: string,
  ) {
    super(`shard ${shard} on ${node} answered from index version ${answered}, the batch is pinned to ${wanted}`);
    this.name = 'OtherIndexVersionError';
  }
}
