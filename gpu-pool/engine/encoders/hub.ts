// pullModel: download an ONNX model repository from the Hugging Face hub (or any server that
// speaks its two URLs) into a local cache directory and write its manifest.json.
//   GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true
//       → {sha, siblings: [{rfilename, size, blobId, lfs?: {sha256, size}}]}
//   GET {endpoint}/{repo}/resolve/{revision}/{path}       → the file (LFS files via a redirect)
// Every file is checked against the hash the hub reports, as huggingface_hub's `hf cache verify`
// does: sha256 for LFS files (lfs.sha256 in the listing, else the X-Linked-Etag / ETag of the
// resolve answer), the git blob sha1 otherwise (blobId, else the ETag). A pull is assembled in a
// staging directory and renamed into place only when every file checked out and the manifest was
// written, so a failed pull leaves the previous model directory (or none) as it was.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { inferManifest } from './infer.ts';
import { MANIFEST_FILE } from './manifest.ts';
import { createSession, describeSession } from './session.ts';

export interface PullProgress {
  file: string;
  /** Bytes received so far. */
  received: number;
  /** Bytes expected (Content-Length), when the server said. */
  total?: number;
  done: boolean;
  /** The file was already in the cache for this commit. */
  cached?: boolean;
  /** On the final event of a download: the hash the file was checked against (absent: the hub reported none). */
  verified?: HashAlgorithm;
}

/** sha256 of the content (LFS files), or git's blob sha1: sha1("blob <size>\0" + content). */
export type HashAlgorithm = 'sha256' | 'git-sha1';

/** What the hub says a file must hash to, and where it said so (for error messages). */
export interface ExpectedHash {
  algorithm: HashAlgorithm;
  hex: string;
  source: string;
}

export interface PullOptions {
  /** Hub URL (default $HF_ENDPOINT or https://huggingface.co). */
  endpoint?: string;
  /** Branch, tag or commit (default main). */
  revision?: string;
  /** Models are stored in `<cacheDir>/<owner>--<name>/<revision>` (default $EDGESEARCH_MODELS or ~/.cache/edgesearch/models). */
  cacheDir?: string;
  /** Bearer token for private or gated repositories (default $HF_TOKEN). */
  token?: string;
  /** The ONNX file to use (path inside the repository) instead of the automatic choice. */
  file?: string;
  /** Download again even when the cache holds this commit. */
  force?: boolean;
  /** Human-readable progress lines, with the structured progress of downloads. */
  onProgress?: (message: string, progress?: PullProgress) => void;
}

export class HubError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly url?: string,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

/** Small files fetched beside the ONNX graph when the repository has them. */
export const SIDE_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'config.json',
  'special_tokens_map.json',
  'modules.json',
  '1_Pooling/config.json',
  'config_sentence_transformers.json',
];

const PULL_RECORD = '.edgesearch-pull.json';
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const QUANTIZED = /quant|int8|uint8|int4|q4|fp16|bnb|_O[1-4]\b|O[1-4]\.onnx$/i;

interface PullRecord {
  repoId: string;
  revision: string;
  sha?: string;
  files: Record<string, number>;
}

/** One file of the hub's listing; size, blobId and lfs come with ?blobs=true. */
interface Sibling {
  rfilename?: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256?: string; oid?: string; size?: number };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SHA1_HEX = /^[0-9a-f]{40}$/;

/** An ETag's value without the weak marker, the quotes or an "sha256:" prefix, lower-cased. */
function normalizeEtag(etag: string | null | undefined): string | undefined {
  if (!etag) return undefined;
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1').replace(/^sha256:/, '').toLowerCase();
}

/**
 * The hash the listing gives for a file: lfs.sha256 (lfs.oid in the tree API) for LFS files,
 * else the git blob id. An LFS file's blobId is the pointer's, not the content's: never used.
 */
export function listedHash(sibling: Sibling | undefined): ExpectedHash | undefined {
  if (!sibling) return undefined;
  if (sibling.lfs) {
    const hex = normalizeEtag(sibling.lfs.sha256 ?? sibling.lfs.oid);
    return hex && SHA256_HEX.test(hex) ? { algorithm: 'sha256', hex, source: "the hub's file listing (lfs.sha256)" } : undefined;
  }
  const blob = normalizeEtag(sibling.blobId);
  return blob && SHA1_HEX.test(blob) ? { algorithm: 'git-sha1', hex: blob, source: "the hub's file listing (blobId)" } : undefined;
}

/**
 * The hash in a hub resolve answer, read as huggingface_hub reads it: X-Linked-Etag (the LFS
 * object's sha256) when present, else the ETag (sha256 for LFS files, git blob sha1 otherwise).
 * Anything that is not such a hash (a static server's or a CDN's own ETag) says nothing.
 */
export function headerHash(headers: Headers): ExpectedHash | undefined {
  const linked = normalizeEtag(headers.get('x-linked-etag'));
  if (linked) return SHA256_HEX.test(linked) ? { algorithm: 'sha256', hex: linked, source: 'the X-Linked-Etag header of the resolve answer' } : undefined;
  const etag = normalizeEtag(headers.get('etag'));
  if (etag && SHA256_HEX.test(etag)) return { algorithm: 'sha256', hex: etag, source: 'the ETag header of the resolve answer' };
  if (etag && SHA1_HEX.test(etag)) return { algorithm: 'git-sha1', hex: etag, source: 'the ETag header of the resolve answer' };
  return undefined;
}

/** git's blob id of a file: sha1 over "blob <size>\0" and the content. */
async function gitBlobSha1(path: string): Promise<string> {
  const hash = createHash('sha1').update(`blob ${statSync(path).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Pick the ONNX graph: onnx/model.onnx, model.onnx, else the shortest non-quantized *.onnx, else the shortest. */
export function chooseOnnxFile(files: string[], override?: string): string {
  const onnx = files.filter((f) => f.endsWith('.onnx'));
  if (override) {
    if (!files.includes(override))
      throw new HubError(`${override} is not in the repository (ONNX files: ${onnx.join(', ') || 'none'})`);
    return override;
  }
  for (const f of ['onnx/model.onnx', 'model.onnx']) if (onnx.includes(f)) return f;
  const byLength = [...onnx].sort((a, b) => a.length - b.length || a.localeCompare(b));
  const plain = byLength.find((f) => !QUANTIZED.test(f));
  const pick = plain ?? byLength[0];
  if (!pick) throw new HubError('the repository has no .onnx file (models need an ONNX export, e.g. an onnx/ folder)');
  return pick;
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

function statusError(status: number, url: string, what: string): HubError {
  if (status === 401 || status === 403)
    return new HubError(
      `${what}: HTTP ${status}: the repository is private or gated (or does not exist); set HF_TOKEN to a token with access`,
      status,
      url,
    );
  if (status === 404) return new HubError(`${what}: not found (HTTP 404) at ${url}`, status, url);
  return new HubError(`${what}: HTTP ${status} from ${url}`, status, url);
}

const MAX_REDIRECTS = 10;

/**
 * GET `url`, following redirects by hand so that the hub's own answer (the one that redirects an
 * LFS file to its storage) can be read for its hash headers. The token goes only to the origin
 * it was meant for, never to a storage host a redirect names (as fetch itself would do).
 * `hubHash` is the first hash found in an answer from the first URL's origin.
 */
async function hubFetch(url: string, token: string | undefined, what: string): Promise<{ res: Response; hubHash?: ExpectedHash }> {
  const origin = new URL(url).origin;
  let current = url;
  let hubHash: ExpectedHash | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const sameOrigin = new URL(current).origin === origin;
    let res: Response;
    try {
      res = await fetch(current, { headers: token && sameOrigin ? { authorization: `Bearer ${token}` } : {}, redirect: 'manual' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new HubError(`${what}: network error reaching ${current}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, undefined, current);
    }
    if (sameOrigin) hubHash ??= headerHash(res.headers);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel().catch(() => {});
      current = new URL(location, current).href;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw statusError(res.status, current, what);
    }
    return { res, hubHash };
  }
  throw new HubError(`${what}: more than ${MAX_REDIRECTS} redirects from ${url}`, undefined, url);
}

function readRecord(dir: string): PullRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, PULL_RECORD), 'utf8')) as PullRecord;
  } catch {
    return undefined;
  }
}

function manifestOnnx(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { onnx?: string }).onnx;
  } catch {
    return undefined;
  }
}

/**
 * Stream one file to `<dest>.<pid>.<rand>.tmp`, check its size and its hash against what the hub
 * reports (the listing's, else the resolve answer's headers), fsync, rename into place. Returns its size.
 */
async function download(
  url: string,
  dest: string,
  file: string,
  token: string | undefined,
  listed: { hash?: ExpectedHash; size?: number },
  report: (message: string, p?: PullProgress) => void,
): Promise<number> {
  const { res, hubHash } = await hubFetch(url, token, `download of ${file}`);
  const expected = listed.hash ?? hubHash;
  const sha256 = createHash('sha256');
  const encoded = res.headers.get('content-encoding');
  const lengthHeader = res.headers.get('content-length');
  const total = lengthHeader && !encoded ? Number(lengthHeader) : undefined;
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w');
  let received = 0;
  let lastReport = Date.now();
  const mb = (n: number) => (n / 1e6).toFixed(1);
  report(`downloading ${file}${total !== undefined ? ` (${mb(total)} MB)` : ''}`, { file, received, total, done: false });
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        sha256.update(chunk);
        received += chunk.length;
        if (Date.now() - lastReport > 1000) {
          lastReport = Date.now();
          const pct = total ? ` ${Math.floor((100 * received) / total)}%` : '';
          report(`  ${file}${pct} (${mb(received)} MB)`, { file, received, total, done: false });
        }
      }
    }
    if (total !== undefined && received !== total)
      throw new HubError(`download of ${file}: got ${received} bytes, expected ${total} (connection cut?)`, undefined, url);
    if (listed.size !== undefined && received !== listed.size)
      throw new HubError(`download of ${file} refused: got ${received} bytes, the hub's file listing says ${listed.size}`, undefined, url);
    await fh.sync();
    await fh.close();
    if (expected) {
      // Non-LFS files are small (the hub moves larger ones to LFS): hashing them again from disk is cheap.
      const actual = expected.algorithm === 'sha256' ? sha256.digest('hex') : await gitBlobSha1(tmp);
      if (actual !== expected.hex)
        throw new HubError(
          `download of ${file} refused: its ${expected.algorithm} is ${actual}, but the hub reports ${expected.hex} (${expected.source}); the transfer was corrupted or the file was changed on the server`,
          undefined,
          url,
        );
    }
    await rename(tmp, dest);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    if (err instanceof HubError) throw err;
    const msg = (err as Error).message;
    throw new HubError(`download of ${file} from ${url} failed: ${msg === 'terminated' ? 'the connection closed before the end' : msg}`, undefined, url);
  }
  const check = expected ? `${expected.algorithm} verified` : 'not verified: the hub reported no hash';
  report(`  ${file} done (${mb(received)} MB, ${check})`, { file, received, total, done: true, verified: expected?.algorithm });
  return received;
}

/** Hard-link a cached file into the staging directory (a copy where links are not possible). */
async function reuse(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Staging and retired directories that killed pulls of this revision left behind. */
async function removeStale(parent: string, name: string): Promise<void> {
  const pattern = new RegExp(`^\\.${name.replace(/[.]/g, '\\.')}\\.(?:staging|old)-(\\d+)-[0-9a-f]+$`);
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    const pid = Number(pattern.exec(entry)?.[1]);
    if (pid && !isRunning(pid)) await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/**
 * Replace `dir` with `staging`. Two renames (a directory cannot replace a non-empty one in one
 * step); if the second fails, the first is undone.
 */
async function swapIn(staging: string, dir: string, tag: string): Promise<void> {
  const retired = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
  let moved = false;
  try {
    await rename(dir, retired);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await rename(staging, dir);
  } catch (err) {
    if (moved) await rename(retired, dir).catch(() => {});
    throw err;
  }
  if (moved) await rm(retired, { recursive: true, force: true });
}

/**
 * Download `repoId` at `revision` (the ONNX graph and its external data, tokenizer.json, configs and
 * sentence-transformers pooling/normalize files), check every file against the hash the hub
 * reports, and write `manifest.json` inferred from them (see inferManifest). Files already cached
 * for the same commit are kept; an existing manifest.json is kept too (so hand edits survive)
 * unless the commit changed or `force` is set. The new directory is assembled beside the old one
 * and replaces it only when complete: a failed pull leaves the cache as it was. Returns the directory.
 */
export async function pullModel(repoId: string, opts: PullOptions = {}): Promise<string> {
  if (!REPO_ID.test(repoId) || repoId.includes('..'))
    throw new HubError(`invalid repository id ${JSON.stringify(repoId)} (expected owner/name)`);
  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = opts.revision ?? 'main';
  const cacheDir = opts.cacheDir ?? process.env.EDGESEARCH_MODELS ?? join(homedir(), '.cache', 'edgesearch', 'models');
  const token = opts.token ?? process.env.HF_TOKEN ?? undefined;
  const report = opts.onProgress ?? (() => {});

  // blobs=true adds each file's size and hash (lfs.sha256 or blobId) to the listing.
  const infoUrl = `${endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}?blobs=true`;
  report(`fetching ${infoUrl}`);
  const { res: infoRes } = await hubFetch(infoUrl, token, `model ${repoId}@${revision}`);
  let info: { sha?: string; siblings?: Sibling[] };
  try {
    info = (await infoRes.json()) as typeof info;
  } catch (err) {
    throw new HubError(`model ${repoId}@${revision}: the hub's answer is not JSON: ${(err as Error).message}`, undefined, infoUrl);
  }
  const siblings = new Map((info.siblings ?? []).filter((s) => typeof s.rfilename === 'string').map((s) => [s.rfilename!, s]));
  const files = [...siblings.keys()];
  if (!files.includes('tokenizer.json'))
    throw new HubError(`model ${repoId}@${revision} has no tokenizer.json (only tokenizer.json tokenizers are supported)`);
  const onnx = chooseOnnxFile(files, opts.file);
  const externalData = files.filter((f) => f === `${onnx}_data` || f === `${onnx}.data` || f.startsWith(`${onnx}_data_`));
  const wanted = [onnx, ...externalData, ...SIDE_FILES.filter((f) => files.includes(f))];
  report(`model ${repoId}@${revision}${info.sha ? ` (commit ${info.sha.slice(0, 12)})` : ''}: ${onnx}`);

  const name = revision.replace(/[^A-Za-z0-9._-]/g, '_');
  const parent = join(cacheDir, repoId.replace('/', '--'));
  const dir = join(parent, name);
  const manifestPath = join(dir, MANIFEST_FILE);
  const previous = readRecord(dir);
  const sameCommit = !opts.force && previous !== undefined && info.sha !== undefined && previous.sha === info.sha;
  const cachedSize = (file: string): number | undefined => {
    const size = previous?.files[file];
    const path = join(dir, file);
    return sameCommit && size !== undefined && existsSync(path) && statSync(path).size === size ? size : undefined;
  };
  const keepManifest = sameCommit && existsSync(manifestPath) && manifestOnnx(manifestPath) === onnx;
  const reportCached = (file: string, size: number) => report(`  ${file} cached`, { file, received: size, total: size, done: true, cached: true });

  // Nothing new: the directory stays as it is.
  if (keepManifest && wanted.every((f) => cachedSize(f) !== undefined)) {
    for (const file of wanted) reportCached(file, cachedSize(file)!);
    report(`kept ${manifestPath}`);
    return dir;
  }

  await mkdir(parent, { recursive: true });
  await removeStale(parent, name);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(parent, `.${name}.staging-${tag}`);
  await mkdir(staging);
  try {
    const record: PullRecord = { repoId, revision, sha: info.sha, files: {} };
    for (const file of wanted) {
      const size = cachedSize(file);
      if (size !== undefined) {
        await reuse(join(dir, file), join(staging, file));
        record.files[file] = size;
        reportCached(file, size);
        continue;
      }
      const sibling = siblings.get(file);
      const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
      const listed = { hash: listedHash(sibling), size: sibling?.lfs?.size ?? sibling?.size };
      record.files[file] = await download(url, join(staging, file), file, token, listed, report);
    }
    await writeFile(join(staging, PULL_RECORD), JSON.stringify(record, null, 2) + '\n');

    if (keepManifest) {
      await copyFile(manifestPath, join(staging, MANIFEST_FILE));
      report(`kept ${manifestPath}`);
    } else {
      const { session } = await createSession(join(staging, onnx), { providers: ['cpu'] });
      let io;
      try {
        io = describeSession(session);
      } finally {
        await session.release();
      }
      const manifest = inferManifest(staging, io, { id: repoId, onnx, log: (m) => report(`note: ${m}`) });
      await writeFile(join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    }
    await swapIn(staging, dir, tag);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    // Messages name the directory the user knows, not the staging one.
    if (err instanceof Error) err.message = err.message.split(staging).join(dir);
    throw err;
  }
  if (!keepManifest) report(`wrote ${manifestPath}`);
  return dir;
}
