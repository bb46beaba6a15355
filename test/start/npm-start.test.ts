// `npm start` as a newcomer meets it: a clean checkout (the files git tracks or would add, nothing
// it ignores: no index, no .dev.vars), node_modules and the built faiss binding borrowed from this
// repository (no npm ci), the shared data from EDGESEARCH_SHARED. It must build its index, start
// the pool and the edge, print the demo page's URL and a curl command whose key works, serve keyless
// searches (public mode), and on Ctrl-C stop, leaving no process, no listening port and no file git
// would pick up. A small index (START_INDEX_LIMIT) keeps it to about a minute.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import { REPO_ROOT, SCIFACT_DIR, SHARED_DIR, requireShared } from '../fixtures.ts';

const LIMIT = 40;
const NODES = 3;

const gitFiles = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' });
const isCheckout = gitFiles.status === 0;
if (!isCheckout) console.warn(`skipping the npm start test: ${REPO_ROOT} is not a git checkout (${gitFiles.error?.message ?? gitFiles.stderr.trim()})`);

/** A copy of the working tree as git sees it (tracked and addable files), staged in a fresh repository. */
function cleanCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'es-start-'));
  for (const file of gitFiles.stdout.split('\0').filter(Boolean)) {
    const from = join(REPO_ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(from, join(dir, file), { verbatimSymlinks: true });
  }
  // What scripts/setup would have installed and built.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'gpu-pool', 'engine', 'native'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'gpu-pool', 'engine', 'native', 'build'), join(dir, 'gpu-pool', 'engine', 'native', 'build'));
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  git('init', '-q');
  writeFileSync(join(dir, '.git', 'info', 'exclude'), '/node_modules\n/gpu-pool/engine/native/build\n');
  git('add', '-A');
  return dir;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A first port with the next n-1 free too. */
async function freePorts(n: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + n > 65535) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = await canListen(base + i);
    if (ok) return base;
  }
}

interface Proc {
  pid: number;
  state: string;
  ppid: number;
  start: string;
}

function procs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), { pid: Number(d), state: f[0], ppid: Number(f[1]), start: f[19] });
    } catch {
      // gone
    }
  }
  return out;
}

/** The live process tree under `root`. */
function tree(root: number): Proc[] {
  const all = procs();
  const ids = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all.values()) if (!ids.has(p.pid) && ids.has(p.ppid)) (ids.add(p.pid), (grew = true));
  }
  return [...ids].map((id) => all.get(id)).filter((p): p is Proc => !!p);
}

/** Live (not zombie) processes whose command line names `dir` or that run in it. */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const p of procs().values()) {
    if (p.pid === process.pid || p.state === 'Z' || p.state === 'X') continue;
    let cmdline = '';
    let cwd = '';
    try {
      cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      cwd = readlinkSync(`/proc/${p.pid}/cwd`);
    } catch {
      continue;
    }
    if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) found.push(`${p.pid} (cwd ${cwd}): ${cmdline}`);
  }
  return found;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number, output: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`${what} within ${timeoutMs / 1000} s; npm start printed:\n${output().slice(-6000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!isCheckout || process.platform !== 'linux')('npm start', () => {
  let dir: string | undefined;
  let npm: ChildProcess | undefined;

  let started: Proc[] = [];

  // Whatever a failed run left: the tree seen while it ran, and anything running in the checkout.
  afterAll(() => {
    const kill = (pid: number) => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    };
    const now = procs();
    if (npm?.pid) for (const p of tree(npm.pid)) kill(p.pid);
    for (const p of started) if (now.get(p.pid)?.start === p.start) kill(p.pid);
    if (dir) for (const line of processesIn(dir)) kill(Number(line.split(' ')[0]));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds the index, serves the demo page and keyed and keyless searches, and stops on Ctrl-C leaving nothing behind', { timeout: 240_000 }, async () => {
    requireShared(SCIFACT_DIR);
    dir = cleanCheckout();
    const edgePort = await freePort();
    const poolPort = await freePorts(NODES);
    const env: NodeJS.ProcessEnv = { ...process.env, EDGESEARCH_SHARED: SHARED_DIR, START_INDEX_LIMIT: String(LIMIT), EDGE_PORT: String(edgePort), POOL_PORT: String(poolPort) };
    for (const k of ['START_INDEX', 'START_NODES', 'START_SHARDS', 'START_REPLICAS', 'START_MODEL', 'EDGESEARCH_POOL_KEY']) delete env[k];

    // A user's own .dev.vars (pointing elsewhere, public mode off) must be neither read nor changed.
    const devVars = "POOL_ENDPOINTS=http://127.0.0.1:9\nPOOL_SIGNING_KEY=someone-elses\nPUBLIC_MODE=false\n";
    writeFileSync(join(dir, '.dev.vars'), devVars);

    const t0 = Date.now();
    // Its own process group, as a terminal runs a command: Ctrl-C goes to the whole group.
    npm = spawn('npm', ['start'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout!.on('data', (d: Buffer) => (output += d));
    npm.stderr!.on('data', (d: Buffer) => (output += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => npm!.once('exit', (code, signal) => r({ code, signal })));
    const running = () => npm!.exitCode === null && npm!.signalCode === null;
    await waitFor('npm start printed "Ctrl-C stops everything."', () => output.includes('Ctrl-C stops everything.') || !running(), 180_000, () => output);
    expect(running(), `npm start exited early:\n${output}`).toBe(true);
    const readyS = (Date.now() - t0) / 1000;
    console.log(`npm start: ready after ${readyS.toFixed(1)} s (index of ${LIMIT} docs built from a clean checkout)`);

    expect(output).toMatch(/building the index scifact-4-first40/);
    expect(output).toMatch(/encode: \d+\/40 docs/); // the build's progress
    const url = /demo page:\s+(\S+)/.exec(output)?.[1];
    expect(url).toBe(`http://127.0.0.1:${edgePort}/`);
    const curl = /search:\s+(curl .+)$/m.exec(output)?.[1];
    expect(curl).toBeDefined();
    const key = /authorization: Bearer (\S+?)'/.exec(curl!)?.[1];
    expect(key).toMatch(/^es_/);

    // The demo page, the printed curl (its key), a keyless search (public mode), a wrong key.
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    await page.text();
    const search = (headers: Record<string, string>) =>
      fetch(new URL('/v1/search', url), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: 'statins and dementia risk', mode: 'hybrid', k: 5 }) });
    let keyed: { hits: unknown[] };
    if (spawnSync('curl', ['--version']).status === 0) {
      const viaCurl = spawnSync('sh', ['-c', curl!], { encoding: 'utf8', timeout: 30_000 });
      expect(viaCurl.status, viaCurl.stderr).toBe(0);
      keyed = JSON.parse(viaCurl.stdout) as { hits: unknown[] };
    } else {
      console.warn('no curl on this machine: the printed command is checked with fetch and its key');
      const res = await search({ authorization: `Bearer ${key}` });
      expect(res.status).toBe(200);
      keyed = (await res.json()) as { hits: unknown[] };
    }
    expect(keyed.hits).toHaveLength(5);
    const keyless = await search({});
    expect(keyless.status).toBe(200);
    expect(((await keyless.json()) as { hits: unknown[] }).hits).toHaveLength(5);
    const wrong = await search({ authorization: 'Bearer es_not-a-key' });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();
    // Every router is behind the edge.
    const admin = await fetch(new URL('/v1/admin/health', url), { headers: { authorization: `Bearer ${key}` } });
    expect(admin.status).toBe(200);
    const health = (await admin.json()) as { pool: string; endpoints: { url: string; ready: boolean }[] };
    expect(health.pool).toBe('ok');
    expect(health.endpoints.map((e) => e.url).sort()).toEqual(Array.from({ length: NODES }, (_, i) => `http://127.0.0.1:${poolPort + i}`));
    const envFile = join(dir, '.wrangler', 'start', `edge-${edgePort}.env`);
    expect(existsSync(envFile)).toBe(true);
    expect(readFileSync(envFile, 'utf8')).toMatch(/^PUBLIC_MODE='true'$/m);
    expect(readFileSync(join(dir, '.dev.vars'), 'utf8')).toBe(devVars);

    // Ctrl-C.
    started = tree(npm.pid!);
    expect(processesIn(dir).length).toBeGreaterThan(NODES); // the scan below sees them while they run
    expect(started.length).toBeGreaterThan(NODES + 3); // npm, the script, the cluster, its nodes, wrangler, workerd
    const tStop = Date.now();
    process.kill(-npm.pid!, 'SIGINT');
    const result = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 40_000))]);
    expect(result, `npm start did not stop within 40 s:\n${output.slice(-4000)}`).not.toBe('timeout');
    console.log(`npm start: stopped ${((Date.now() - tStop) / 1000).toFixed(1)} s after SIGINT`);
    expect(result).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/\[start\] stopped/);

    // Nothing left: no process of the tree (same pid and start time, not a zombie), none running
    // in or from the checkout, no port still taken, no settings file, nothing new for git.
    const now = procs();
    const left = started.filter((p) => {
      const q = now.get(p.pid);
      return q && q.start === p.start && q.state !== 'Z' && q.state !== 'X';
    });
    expect(left.map((p) => `${p.pid} ${readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`)).toEqual([]);
    expect(processesIn(dir)).toEqual([]);
    for (const port of [edgePort, ...Array.from({ length: NODES }, (_, i) => poolPort + i)]) expect(await canListen(port), `port ${port} still taken`).toBe(true);
    expect(existsSync(envFile)).toBe(false);
    expect(readFileSync(join(dir, '.dev.vars'), 'utf8')).toBe(devVars);
    expect(existsSync(join(dir, 'scifact-4-first40', 'index.json'))).toBe(true);
    const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' });
    expect(status.stdout.split('\n').filter((l) => l && !l.startsWith('A  '))).toEqual([]);
  });
});
