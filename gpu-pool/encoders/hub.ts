// pullModel: download an ONNX model repository from the Hugging Face hub (or any server that
// speaks its two URLs) into a local cache directory and write its manifest.json.
//   GET {endpoint}/api/models/{repo}/revision/{revision}  → {sha, siblings: [{rfilename}]}
//   GET {endpoint}/{repo}/resolve/{revision}/{path}       → the file (often via a redirect)
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
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

async function hubFetch(url: string, token: string | undefined, what: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new HubError(`${what}: network error reaching ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, undefined, url);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw statusError(res.status, url, what);
  }
  return res;
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

async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Stream one file to `<dest>.<pid>.<rand>.tmp`, check its size, fsync, rename into place. Returns its size. */
async function download(
  url: string,
  dest: string,
  file: string,
  token: string | undefined,
  report: (message: string, p?: PullProgress) => void,
): Promise<number> {
  const res = await hubFetch(url, token, `download of ${file}`);
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
    await fh.sync();
    await fh.close();
    await rename(tmp, dest);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    if (err instanceof HubError) throw err;
    const msg = (err as Error).message;
    throw new HubError(`download of ${file} from ${url} failed: ${msg === 'terminated' ? 'the connection closed before the end' : msg}`, undefined, url);
  }
  report(`  ${file} done (${mb(received)} MB)`, { file, received, total, done: true });
  return received;
}

/**
 * Download `repoId` at `revision` (the ONNX graph and its external data, tokenizer.json, configs and
 * sentence-transformers pooling/normalize files) and write `manifest.json` inferred from them (see
 * inferManifest). Files already cached for the same commit are kept; an existing manifest.json is
 * kept too (so hand edits survive) unless the commit changed or `force` is set. Returns the directory.
 */
export async function pullModel(repoId: string, opts: PullOptions = {}): Promise<string> {
  if (!REPO_ID.test(repoId) || repoId.includes('..'))
    throw new HubError(`invalid repository id ${JSON.stringify(repoId)} (expected owner/name)`);
  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = opts.revision ?? 'main';
  const cacheDir = opts.cacheDir ?? process.env.EDGESEARCH_MODELS ?? join(homedir(), '.cache', 'edgesearch', 'models');
  const token = opts.token ?? process.env.HF_TOKEN ?? undefined;
  const report = opts.onProgress ?? (() => {});

  const infoUrl = `${endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`;
  report(`fetching ${infoUrl}`);
  const infoRes = await hubFetch(infoUrl, token, `model ${repoId}@${revision}`);
  let info: { sha?: string; siblings?: { rfilename?: string }[] };
  try {
    info = (await infoRes.json()) as typeof info;
  } catch (err) {
    throw new HubError(`model ${repoId}@${revision}: the hub's answer is not JSON: ${(err as Error).message}`, undefined, infoUrl);
  }
  const files = (info.siblings ?? []).map((s) => s.rfilename).filter((f): f is string => typeof f === 'string');
  if (!files.includes('tokenizer.json'))
    throw new HubError(`model ${repoId}@${revision} has no tokenizer.json (only tokenizer.json tokenizers are supported)`);
  const onnx = chooseOnnxFile(files, opts.file);
  const externalData = files.filter((f) => f === `${onnx}_data` || f === `${onnx}.data` || f.startsWith(`${onnx}_data_`));
  const wanted = [onnx, ...externalData, ...SIDE_FILES.filter((f) => files.includes(f))];
  report(`model ${repoId}@${revision}${info.sha ? ` (commit ${info.sha.slice(0, 12)})` : ''}: ${onnx}`);

  const dir = join(cacheDir, repoId.replace('/', '--'), revision.replace(/[^A-Za-z0-9._-]/g, '_'));
  await mkdir(dir, { recursive: true });
  const previous = readRecord(dir);
  const sameCommit = !opts.force && previous !== undefined && info.sha !== undefined && previous.sha === info.sha;
  const record: PullRecord = { repoId, revision, sha: info.sha, files: {} };
  for (const file of wanted) {
    const dest = join(dir, file);
    const size = previous?.files[file];
    if (sameCommit && size !== undefined && existsSync(dest) && statSync(dest).size === size) {
      record.files[file] = size;
      report(`  ${file} cached`, { file, received: size, total: size, done: true, cached: true });
      continue;
    }
    const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
    record.files[file] = await download(url, dest, file, token, report);
  }
  await writeAtomic(join(dir, PULL_RECORD), JSON.stringify(record, null, 2) + '\n');

  const manifestPath = join(dir, MANIFEST_FILE);
  if (sameCommit && existsSync(manifestPath) && manifestOnnx(manifestPath) === onnx) {
    report(`kept ${manifestPath}`);
    return dir;
  }
  const { session } = await createSession(join(dir, onnx), { providers: ['cpu'] });
  let io;
  try {
    io = describeSession(session);
  } finally {
    await session.release();
  }
  const manifest = inferManifest(dir, io, { id: repoId, onnx, log: (m) => report(`note: ${m}`) });
  await writeAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  report(`wrote ${manifestPath}`);
  return dir;
}
