// Which shard directories an admin swap may load. A swap key lets its holder name a directory;
// it must not let them read arbitrary files, probe which paths exist, or bring back an older
// version (one with documents `index delete` removed). So: only under the index root, only a
// real directory (no symlinks), only a shard of a version of the served index that descends
// from (or is) the version the slot serves now.
import { lstat, readdir, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { INDEX_MANIFEST_FILE, readIndexManifest, readShardManifest, type IndexManifest, type ShardManifest } from '../../engine/shard/index.ts';

/** What a refused swap tells its caller: short, generic, the same whether or not a path exists. */
export const SWAP_REASONS = {
  outsideRoot: 'the directory is not under the index root',
  notAVersion: 'not a version of the served index',
  notForward: 'an older or unrelated version',
  filesBad: 'the shard files do not verify',
  failed: 'the swap failed',
} as const;
export type SwapReason = (typeof SWAP_REASONS)[keyof typeof SWAP_REASONS];

/**
 * A swap was refused. `message` and `publicReason` are safe to send to the caller; `detail`
 * (paths, fs error codes, manifest fields) is for the operator's log only.
 */
export class SwapRefused extends Error {
  constructor(
    readonly publicReason: SwapReason,
    readonly detail: string,
  ) {
    super(`swap refused: ${publicReason}`);
    this.name = 'SwapRefused';
  }
}

/** The index a host serves: a swap target must be a version of it. */
export interface ServedIndex {
  modelId: string;
  manifestHash: string;
  shardCount: number;
}

export interface SwapRequest {
  /** Absolute directory swaps may load from. */
  root: string;
  /** As the caller gave it: absolute, or relative to `root`. */
  dir: string;
  shardNo: number;
  served: ServedIndex;
  /** The index version the slot serves now: the target's must equal it or descend from it. */
  currentIndexVersion: string;
}

export interface SwapTarget {
  /** The shard directory, fully resolved (no symlinks anywhere in it). */
  shardDir: string;
  index: IndexManifest;
  shard: ShardManifest;
}

const MAX_DIR_LENGTH = 4096;

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** `inner` is below `outer` (not equal to it); both absolute and normalised. */
function strictlyInside(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * The target of a swap, checked against the policy; throws SwapRefused and nothing else. The
 * caller then opens `shardDir` with verification (openShard checks files and checksums).
 */
export async function checkSwapTarget(req: SwapRequest): Promise<SwapTarget> {
  try {
    const shardDir = await locate(req.root, req.dir);
    const indexDir = dirname(shardDir);
    const index = await readVersion(indexDir);
    const entry = index.shards[req.shardNo];
    const notAVersion = (why: string) => new SwapRefused(SWAP_REASONS.notAVersion, `${shardDir}: ${why}`);
    if (index.model.id !== req.served.modelId || index.model.manifestHash !== req.served.manifestHash) {
      throw notAVersion(`index model ${index.model.id} (${index.model.manifestHash}), the node serves ${req.served.modelId} (${req.served.manifestHash})`);
    }
    if (index.shards.length !== req.served.shardCount) throw notAVersion(`index has ${index.shards.length} shards, the node serves ${req.served.shardCount}`);
    if (!entry || entry.dir !== basename(shardDir)) throw notAVersion(`${join(indexDir, INDEX_MANIFEST_FILE)} lists ${entry?.dir ?? 'nothing'} as shard ${req.shardNo}, not ${basename(shardDir)}`);
    if (index.version !== req.currentIndexVersion && !(index.lineage ?? []).includes(req.currentIndexVersion)) {
      throw new SwapRefused(SWAP_REASONS.notForward, `${indexDir}: index version ${index.version} (lineage ${(index.lineage ?? []).join(' → ') || 'none'}) does not descend from ${req.currentIndexVersion}, which shard ${req.shardNo} serves`);
    }
    await refuseLinks(shardDir);
    let shard: ShardManifest;
    try {
      shard = await readShardManifest(shardDir);
    } catch (err) {
      throw new SwapRefused(SWAP_REASONS.filesBad, (err as Error).message);
    }
    if (shard.shard !== req.shardNo || shard.shardCount !== req.served.shardCount) throw notAVersion(`manifest says shard ${shard.shard} of ${shard.shardCount}, wanted shard ${req.shardNo} of ${req.served.shardCount}`);
    if (shard.version !== entry.version) throw notAVersion(`manifest says version ${shard.version}, ${INDEX_MANIFEST_FILE} expects ${entry.version}`);
    if (shard.model.id !== index.model.id || shard.model.manifestHash !== index.model.manifestHash) throw notAVersion(`manifest model ${shard.model.id} differs from the index's ${index.model.id}`);
    return { shardDir, index, shard };
  } catch (err) {
    if (err instanceof SwapRefused) throw err;
    throw new SwapRefused(SWAP_REASONS.failed, `checking ${JSON.stringify(req.dir)}: ${(err as Error).message}`);
  }
}

/**
 * The shard directory `dir` names, resolved; refused before any filesystem access when it is
 * not lexically under the root (so the answer says nothing about what exists elsewhere).
 */
async function locate(root: string, dir: string): Promise<string> {
  const outside = (why: string) => new SwapRefused(SWAP_REASONS.outsideRoot, why);
  if (typeof dir !== 'string' || dir.length === 0 || dir.length > MAX_DIR_LENGTH || dir.includes('\0')) throw outside('dir is empty, too long or not a path');
  if (dir.split(/[\\/]+/).includes('..')) throw outside(`dir ${JSON.stringify(dir)} has a '..' segment`);
  if (!isAbsolute(root)) throw outside(`index root ${JSON.stringify(root)} is not absolute`);
  const rootAbs = resolve(root);
  const abs = isAbsolute(dir) ? resolve(dir) : resolve(rootAbs, dir);
  let rootReal: string;
  try {
    rootReal = await realpath(rootAbs);
  } catch (err) {
    throw outside(`index root ${rootAbs}: ${errCode(err)}`);
  }
  // The root as configured or as resolved: /tmp may itself be a link (macOS).
  if (!strictlyInside(rootAbs, abs) && !strictlyInside(rootReal, abs)) throw outside(`${abs} is not under the index root ${rootAbs}`);

  // The shard directory and its version directory must be real directories, not links to one.
  for (const [path, what] of [
    [abs, 'shard directory'],
    [dirname(abs), 'index version directory'],
  ] as const) {
    let stats;
    try {
      stats = await lstat(path);
    } catch (err) {
      throw new SwapRefused(SWAP_REASONS.notAVersion, `${what} ${path}: ${errCode(err)}`);
    }
    if (stats.isSymbolicLink()) throw outside(`${what} ${path} is a symbolic link`);
    if (!stats.isDirectory()) throw new SwapRefused(SWAP_REASONS.notAVersion, `${what} ${path} is not a directory`);
  }
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    throw new SwapRefused(SWAP_REASONS.notAVersion, `${abs}: ${errCode(err)}`);
  }
  // A link further up, inside the root, is fine as long as it leads to a place inside the root.
  if (!strictlyInside(rootReal, real)) throw outside(`${abs} resolves to ${real}, outside the index root ${rootReal}`);
  return real;
}

/** index.json of a version directory: a regular file that parses. */
async function readVersion(indexDir: string): Promise<IndexManifest> {
  const path = join(indexDir, INDEX_MANIFEST_FILE);
  try {
    const stats = await lstat(path);
    if (!stats.isFile()) throw new SwapRefused(SWAP_REASONS.notAVersion, `${path} is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`);
    return await readIndexManifest(indexDir);
  } catch (err) {
    if (err instanceof SwapRefused) throw err;
    throw new SwapRefused(SWAP_REASONS.notAVersion, errCode(err) === 'ENOENT' ? `${path}: ENOENT` : (err as Error).message);
  }
}

/** No entry of the shard directory may be a symbolic link (the loader follows none, the checksums neither). */
async function refuseLinks(shardDir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(shardDir, { withFileTypes: true });
  } catch (err) {
    throw new SwapRefused(SWAP_REASONS.filesBad, `${shardDir}: ${errCode(err)}`);
  }
  const links = entries.filter((e) => e.isSymbolicLink()).map((e) => e.name);
  if (links.length > 0) throw new SwapRefused(SWAP_REASONS.filesBad, `${shardDir}: symbolic links ${links.join(', ')}`);
}
