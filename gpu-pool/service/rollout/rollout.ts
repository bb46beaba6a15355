// `edgesearch pool rollout`: moves a running cluster from the index version it serves (OLD) to a
// newer published version (NEW), one replica of each shard at a time, and puts back every replica
// it swapped when any step fails.
//
// Replicas are swapped in waves: first one replica of every shard, then a second of every shard,
// and so on (config order). Each swap: the node's /readyz must list NEW's shard version (within
// `readyTimeoutMs`), then a probe `shard-search` sent to that node for that shard must answer on
// NEW's version, before the next replica of that wave. So every shard keeps a replica on the
// serving version until its first NEW replica is ready (and a swap itself is hot: the node serves
// the old files until the new ones are loaded and verified). Several shards may move at once
// within a wave (`parallel`).
//
// No answer mixes versions: routers answer a batch from one index version while every shard has a
// replica on it (router/replica-versions.ts). Through the first wave every shard keeps an OLD
// replica, so answers are OLD's; when the second wave takes a shard's last OLD replica, every
// shard already has a NEW one, and routers move to NEW. Only a shard with a single replica
// (nothing to keep OLD on) makes answers mix shard versions, named by a digest of them.
//
// Rollback: nodes swap only forward along an index's lineage (swap-policy.ts), so OLD's own
// directory is refused once a replica serves NEW. The rollout therefore publishes, before the first
// swap, a "revert" version beside OLD under the index root: OLD's shard files (hard links) under an
// index.json identical to OLD's but whose lineage names NEW. Its index and shard versions are OLD's
// (content versions), so a node swapped back serves exactly OLD again and routers name OLD's version.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { importSigningKey } from '../../../shared/protocol/index.ts';
import { createStaging, exists, indexMethods, linkOrCopy, publishDirectory, readIndexManifest, readShardManifest, verifyShardFiles, writeJson, type IndexManifest } from '../../engine/shard/index.ts';
import type { ClusterConfig, NodeConfig } from '../cluster/index.ts';
import { PoolClient, sendSwap, signSwap } from '../pool-client/index.ts';
import { HttpShardClient, shardVersionsDigest } from '../router/index.ts';

export interface RolloutOptions {
  config: ClusterConfig;
  /** NEW: a published index directory (absolute, or relative to the config's index root). */
  index: string;
  /** The admin key (hot swaps). */
  adminKey: string;
  /** The signing key (probe frames and the final query). */
  signingKey: string;
  /** Bearer token for /readyz's detail (not needed from loopback). */
  metricsToken?: string;
  /** How long a swapped replica has to list NEW's version on /readyz. Default 60 s. */
  readyTimeoutMs?: number;
  /** Shards moved at once (each one replica at a time). Default 1. */
  parallel?: number;
  /** Text of the probe query (BM25 when the index has it). */
  probeText?: string;
  /** Progress lines (the CLI writes them to stderr). */
  log?: (line: string) => void;
}

/** One replica of one shard. */
export interface Replica {
  node: string;
  shard: number;
}

export interface RolloutResult {
  from: string;
  to: string;
  /** Replicas swapped, in the order they were done. */
  swapped: Replica[];
  /** Replicas that already served NEW. */
  skipped: Replica[];
  /** What routers name answers computed on NEW's shards. */
  answerVersion: string;
  seconds: number;
}

/** The rollout stopped at `node`/`shard` because of `cause`; the replicas listed were put back (or not). */
export class RolloutError extends Error {
  constructor(
    readonly node: string | undefined,
    readonly shard: number | undefined,
    readonly cause: string,
    readonly rolledBack: Replica[] = [],
    readonly rollbackFailures: { replica: Replica; cause: string }[] = [],
  ) {
    const where = node === undefined ? (shard === undefined ? 'before any swap' : `shard ${shard}, before any swap`) : shard === undefined ? `node ${node}` : `node ${node}, shard ${shard}`;
    const back =
      rolledBack.length + rollbackFailures.length === 0
        ? 'no replica had been swapped'
        : `rolled back ${rolledBack.length} replica(s)${rolledBack.length ? ` (${rolledBack.map((r) => `${r.node}/${r.shard}`).join(', ')})` : ''}${rollbackFailures.length ? `; ROLLBACK FAILED for ${rollbackFailures.map((f) => `${f.replica.node}/${f.replica.shard}: ${f.cause}`).join('; ')}` : ''}`;
    super(`rollout failed (${where}): ${cause}; ${back}`);
    this.name = 'RolloutError';
  }
}

/**
 * The index version a router names for an answer whose shards all served the versions in
 * `shardVersions` when the router itself was started on another version: the digest of
 * Router.indexVersion (router.ts). A router started on that very index names `manifest.version`.
 */
export function mixedAnswerVersion(shardVersions: string[]): string {
  return shardVersionsDigest(shardVersions);
}

/** Both names an answer computed entirely on `manifest`'s shards may carry. */
export function answerVersions(manifest: IndexManifest): string[] {
  return [manifest.version, mixedAnswerVersion(manifest.shards.map((s) => s.version))];
}

/** The plan: per shard, the nodes holding it, in config order. */
export function planRollout(config: ClusterConfig, shardCount: number): { shard: number; nodes: NodeConfig[] }[] {
  const plan = Array.from({ length: shardCount }, (_, shard) => ({ shard, nodes: config.nodes.filter((n) => n.shards.includes(shard)) }));
  for (const n of config.nodes) {
    const beyond = n.shards.filter((s) => s >= shardCount);
    if (beyond.length) throw new RolloutError(undefined, undefined, `node ${n.id} holds shard(s) ${beyond.join(', ')}, but the index has ${shardCount} shards`);
  }
  const orphan = plan.find((p) => p.nodes.length === 0);
  if (orphan) throw new RolloutError(undefined, undefined, `no node of the config holds shard ${orphan.shard}`);
  return plan;
}

/** The plan's replicas by wave: wave w holds the w-th replica (config order) of every shard that has one. */
export function waves(plan: { shard: number; nodes: NodeConfig[] }[]): { shard: number; node: NodeConfig }[][] {
  const depth = Math.max(0, ...plan.map((p) => p.nodes.length));
  return Array.from({ length: depth }, (_, w) => plan.filter((p) => p.nodes[w] !== undefined).map((p) => ({ shard: p.shard, node: p.nodes[w] })));
}

/** Resolves NEW's directory as the CLI and the nodes would: absolute, or from the index root. */
export function resolveIndexDir(config: ClusterConfig, index: string): string {
  return isAbsolute(index) ? resolve(index) : resolve(config.indexRoot ?? dirname(config.index), index);
}

interface Readiness {
  ready: boolean;
  shards?: Record<string, string>;
  reason?: string;
}

class Nodes {
  constructor(
    private readonly opts: RolloutOptions,
    private readonly signing: CryptoKey,
  ) {}

  private readonly shardClients = new Map<string, HttpShardClient>();

  async readyz(node: NodeConfig): Promise<Readiness> {
    const headers: Record<string, string> = this.opts.metricsToken ? { authorization: `Bearer ${this.opts.metricsToken}` } : {};
    const res = await fetch(new URL('/readyz', node.url), { headers, signal: AbortSignal.timeout(10_000) });
    const body = (await res.json().catch(() => ({}))) as Readiness;
    return { ...body, ready: res.status === 200 && body.ready === true };
  }

  /** shard → version the node serves; from /readyz's detail, or (without the operator's token) from shard leases. */
  async versions(node: NodeConfig): Promise<Record<number, string>> {
    const r = await this.readyz(node);
    if (!r.ready) throw new Error(`not ready (${r.reason ?? 'no reason given'})`);
    if (r.shards) return Object.fromEntries(Object.entries(r.shards).map(([s, v]) => [Number(s), v]));
    const out: Record<number, string> = {};
    for (const s of node.shards) {
      const lease = await this.client(node).lease({ v: 1, type: 'shard-lease', batchId: `rollout-lease-${randomUUID()}`, deadline: Date.now() + 10_000, shard: s }, AbortSignal.timeout(10_000));
      out[s] = lease.version;
    }
    return out;
  }

  client(node: NodeConfig): HttpShardClient {
    let c = this.shardClients.get(node.id);
    if (!c) this.shardClients.set(node.id, (c = new HttpShardClient(node.id, node.url, this.signing)));
    return c;
  }

  async swap(node: NodeConfig, shard: number, dir: string): Promise<void> {
    const res = await sendSwap(node.url, await signSwap(this.opts.adminKey, node.id, { shard, dir }));
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
      } catch {
        // not JSON: the text as it came
      }
      throw new Error(`swap refused (HTTP ${res.status}): ${message}`);
    }
  }

  /** Polls /readyz until the node lists `version` for `shard`. */
  async waitFor(node: NodeConfig, shard: number, version: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      try {
        const v = (await this.versions(node))[shard];
        if (v === version) return;
        last = `serves ${v ?? 'nothing'}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() >= until) throw new Error(`readiness timeout: /readyz did not list version ${version} for shard ${shard} within ${timeoutMs} ms (last: ${last})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A shard-search sent to that node for that shard must answer on `version`. */
  async probe(node: NodeConfig, shard: number, version: string, bm25: boolean): Promise<void> {
    const batchId = `rollout-probe-${randomUUID()}`;
    let got: string;
    try {
      if (bm25) {
        const r = await this.client(node).search({ v: 1, type: 'shard-search', batchId, deadline: Date.now() + 10_000, shard, queries: [{ id: 'probe', mode: 'bm25', k: 3, text: this.opts.probeText ?? 'cell protein expression' }] }, AbortSignal.timeout(10_000));
        got = r.version;
      } else {
        got = (await this.client(node).lease({ v: 1, type: 'shard-lease', batchId, deadline: Date.now() + 10_000, shard }, AbortSignal.timeout(10_000))).version;
      }
    } catch (err) {
      throw new Error(`probe failed: ${(err as Error).message}`);
    }
    if (got !== version) throw new Error(`probe failed: the probe query was answered on version ${got}, not ${version}`);
  }

  close(): void {
    for (const c of this.shardClients.values()) c.close();
  }
}

/** The index directories under `root` (one level), the configured one first. */
async function candidateIndexes(config: ClusterConfig): Promise<string[]> {
  const root = config.indexRoot ?? dirname(config.index);
  const out = [config.index];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const dir = join(root, name);
    if (dir !== config.index && !name.startsWith('.') && (await exists(join(dir, 'index.json')))) out.push(dir);
  }
  return out;
}

/**
 * Publishes (once) the revert version of OLD after NEW: OLD's index.json and shard files (hard
 * links) with NEW added to its lineage, at `<root>/<OLD's name>.revert-<NEW's version>`.
 * Returns its directory and whether this call created it.
 */
export async function publishRevert(oldDir: string, old: IndexManifest, next: IndexManifest, root: string): Promise<{ dir: string; created: boolean }> {
  const dir = join(root, `${basename(oldDir)}.revert-${next.version}`);
  if (await exists(join(dir, 'index.json'))) {
    const m = await readIndexManifest(dir);
    if (m.version === old.version && (m.lineage ?? []).includes(next.version)) return { dir, created: false };
    throw new Error(`${dir} exists and is not the revert of ${next.version} to ${old.version}; move it away`);
  }
  const staging = await createStaging(dir);
  try {
    for (const entry of old.shards) {
      const from = join(oldDir, entry.dir);
      const to = join(staging, entry.dir);
      await mkdir(to);
      for (const name of await readdir(from)) {
        if ((await stat(join(from, name))).isFile()) await linkOrCopy(join(from, name), join(to, name));
      }
    }
    const lineage = [...new Set([...(old.lineage ?? []), ...(next.lineage ?? []), next.version])].filter((v) => v !== old.version);
    await writeJson(join(staging, 'index.json'), { ...old, lineage });
    await publishDirectory(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return { dir, created: true };
}

/** Runs the rollout; throws RolloutError (after rolling back) on the first failure. */
export async function rollout(opts: RolloutOptions): Promise<RolloutResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const { config } = opts;
  const root = config.indexRoot ?? dirname(config.index);
  const newDir = resolveIndexDir(config, opts.index);
  const fail = (cause: string): never => {
    throw new RolloutError(undefined, undefined, cause);
  };

  // NEW: a published version of the served index, under the root the nodes swap from.
  let next: IndexManifest;
  try {
    next = await readIndexManifest(newDir);
  } catch (err) {
    return fail(`${newDir} is not a published index: ${(err as Error).message}`);
  }
  const rel = relative(root, newDir);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) fail(`${newDir} is not under the nodes' index root ${root} (nodes refuse swaps from elsewhere)`);
  const configured = await readIndexManifest(config.index).catch((err: Error) => fail(`the served index ${config.index}: ${err.message}`));
  if (next.shards.length !== configured.shards.length) fail(`${newDir} has ${next.shards.length} shards, the cluster serves ${configured.shards.length} (${config.index}); a re-sharded index needs a new cluster, not a rollout`);
  if (next.model.id !== configured.model.id || next.model.manifestHash !== configured.model.manifestHash) fail(`${newDir} was built with model ${next.model.id}, the cluster serves ${configured.model.id}`);
  const plan = planRollout(config, next.shards.length);
  const bm25 = indexMethods(next).includes('bm25');

  const nodes = new Nodes(opts, await importSigningKey(opts.signingKey));
  try {
    // What every replica serves now: each must serve OLD's or NEW's version of its shard.
    const serving = new Map<string, Record<number, string>>();
    for (const node of config.nodes.filter((n) => n.shards.length > 0)) {
      try {
        serving.set(node.id, await nodes.versions(node));
      } catch (err) {
        throw new RolloutError(node.id, undefined, `node ${node.id} is not ready before the rollout: ${(err as Error).message}`);
      }
    }
    const notNew = plan.flatMap((p) => p.nodes.filter((n) => serving.get(n.id)![p.shard] !== next.shards[p.shard].version).map((n) => ({ node: n.id, shard: p.shard, version: serving.get(n.id)![p.shard] })));
    let oldDir: string | undefined;
    let old: IndexManifest | undefined;
    for (const dir of await candidateIndexes(config)) {
      const m = await readIndexManifest(dir).catch(() => undefined);
      if (m && m.shards.length === next.shards.length && notNew.every((r) => m.shards[r.shard].version === r.version)) {
        if (!oldDir || (basename(oldDir).includes('.revert-') && !basename(dir).includes('.revert-'))) [oldDir, old] = [dir, m];
      }
    }
    if (notNew.length === 0) {
      log(`every replica already serves ${next.version}\n`);
      [oldDir, old] = [newDir, next];
    }
    if (!oldDir || !old) {
      const list = notNew.map((r) => `${r.node}/${r.shard}=${r.version}`).join(', ');
      return fail(`the replicas serve versions that no index under ${root} holds together (${list}); finish or roll back the earlier rollout first`);
    }
    if (old.version !== next.version && !(next.lineage ?? []).includes(old.version)) fail(`${newDir} (version ${next.version}) does not descend from the served version ${old.version} (${oldDir}); nodes swap only forward`);
    const from = old.version;
    log(`rollout ${from} (${oldDir}) -> ${next.version} (${newDir}): ${plan.length} shards, ${plan.reduce((n, p) => n + p.nodes.length, 0)} replicas, ${opts.parallel ?? 1} shard(s) at a time\n`);

    // When the nodes do not verify checksums on swap, the rollout does it before swapping.
    if (!config.verify) {
      for (const entry of next.shards) {
        const dir = join(newDir, entry.dir);
        try {
          await verifyShardFiles(dir, await readShardManifest(dir));
        } catch (err) {
          throw new RolloutError(undefined, next.shards.indexOf(entry), `checksum failure in ${dir}: ${(err as Error).message}`);
        }
      }
    }

    const revert = notNew.length > 0 && old !== next ? await publishRevert(oldDir, old, next, root) : undefined;
    if (revert?.created) log(`rollback version prepared: ${revert.dir}\n`);

    const touched: Replica[] = [];
    const swapped: Replica[] = [];
    const skipped: Replica[] = [];
    let failure: RolloutError | undefined;
    const total = plan.reduce((n, p) => n + p.nodes.length, 0);
    let done = 0;
    const moveReplica = async ({ shard, node }: { shard: number; node: NodeConfig }) => {
      const version = next.shards[shard].version;
      if (serving.get(node.id)![shard] === version) {
        skipped.push({ node: node.id, shard });
        log(`[${++done}/${total}] shard ${shard} on ${node.id}: already on ${version}\n`);
        return;
      }
      const t = performance.now();
      log(`[${done + 1}/${total}] shard ${shard} on ${node.id}: swapping to ${version}\n`);
      touched.push({ node: node.id, shard });
      try {
        await nodes.swap(node, shard, join(newDir, next.shards[shard].dir));
        await nodes.waitFor(node, shard, version, opts.readyTimeoutMs ?? 60_000);
        await nodes.probe(node, shard, version, bm25);
      } catch (err) {
        failure ??= new RolloutError(node.id, shard, (err as Error).message);
        log(`shard ${shard} on ${node.id}: FAILED: ${(err as Error).message}\n`);
        return;
      }
      swapped.push({ node: node.id, shard });
      log(`[${++done}/${total}] shard ${shard} on ${node.id}: ready on ${version} and answering (${Math.round(performance.now() - t)} ms)\n`);
    };
    // Wave w swaps the w-th replica of every shard: after the first wave every shard has a
    // replica on NEW and still one on OLD, so routers answer wholly from OLD until a shard's
    // last OLD replica goes, and then wholly from NEW (router/replica-versions.ts).
    for (const wave of waves(plan)) {
      const queue = [...wave];
      const workers = Array.from({ length: Math.max(1, Math.min(opts.parallel ?? 1, wave.length)) }, async () => {
        for (let step = queue.shift(); step && !failure; step = queue.shift()) await moveReplica(step);
      });
      await Promise.all(workers);
      if (failure) break;
    }

    if (failure) {
      const f = failure as RolloutError;
      log(`rolling back ${touched.length} replica(s) to ${from}\n`);
      const rolledBack: Replica[] = [];
      const rollbackFailures: { replica: Replica; cause: string }[] = [];
      for (const r of touched) {
        const node = config.nodes.find((n) => n.id === r.node)!;
        const oldVersion = old.shards[r.shard].version;
        try {
          const now = (await nodes.versions(node).catch(() => ({}) as Record<number, string>))[r.shard];
          if (now !== oldVersion) {
            await nodes.swap(node, r.shard, join(revert!.dir, old.shards[r.shard].dir));
            await nodes.waitFor(node, r.shard, oldVersion, opts.readyTimeoutMs ?? 60_000);
            rolledBack.push(r);
            log(`shard ${r.shard} on ${r.node}: back on ${oldVersion}\n`);
          } else log(`shard ${r.shard} on ${r.node}: still on ${oldVersion}\n`);
        } catch (err) {
          rollbackFailures.push({ replica: r, cause: (err as Error).message });
          log(`shard ${r.shard} on ${r.node}: ROLLBACK FAILED: ${(err as Error).message}\n`);
        }
      }
      throw new RolloutError(f.node, f.shard, f.cause, rolledBack, rollbackFailures);
    }

    // Agreement: every node lists NEW's version for every shard it holds, and routers answer on it.
    for (const node of config.nodes.filter((n) => n.shards.length > 0)) {
      const v = await nodes.versions(node).catch((err: Error) => fail(`final check: node ${node.id}: ${err.message}`));
      const off = node.shards.filter((s) => v[s] !== next.shards[s].version);
      if (off.length) throw new RolloutError(node.id, off[0], `final check: node ${node.id} serves ${off.map((s) => `shard ${s} at ${v[s]}`).join(', ')}, not ${next.version}'s`);
    }
    const accepted = answerVersions(next);
    let answerVersion = accepted[0];
    for (const router of config.nodes.filter((n) => n.router)) {
      const client = await PoolClient.create(router.url, opts.signingKey);
      try {
        const r = await client.search([{ id: 'rollout-check', mode: bm25 ? 'bm25' : 'dense', k: 3, text: opts.probeText ?? 'cell protein expression' }], { deadlineMs: 10_000 });
        const res = r.results[0];
        if (res.error || res.partial) throw new Error(res.error ? res.error.message : `missing shards ${res.partial!.missingShards.join(', ')}`);
        if (!accepted.includes(r.indexVersion)) throw new Error(`answered on index version ${r.indexVersion}, not ${next.version} (${accepted.join(' or ')})`);
        answerVersion = r.indexVersion;
      } catch (err) {
        throw new RolloutError(router.id, undefined, `final check: a query to router ${router.id} failed: ${(err as Error).message}`);
      } finally {
        client.close();
      }
    }
    if (revert?.created) await rm(revert.dir, { recursive: true, force: true });
    log(`rollout done: every replica serves ${next.version}; routers answer with index version ${answerVersion}\n`);
    return { from, to: next.version, swapped, skipped, answerVersion, seconds: (performance.now() - t0) / 1000 };
  } finally {
    nodes.close();
  }
}
