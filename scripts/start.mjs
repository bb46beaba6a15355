#!/usr/bin/env node
// @ts-check
// `npm start`: the whole service on this machine, in one terminal.
//
//   1. builds the quick-start index if it is missing (SciFact from $EDGESEARCH_SHARED or ../shared,
//      models/use-lite, 4 shards, Flat + BM25: the index `npm run pool:cluster -- ... --index
//      scifact-4` serves), printing the build's progress;
//   2. starts a local pool cluster (`edgesearch pool cluster`: 3 node processes, every one a router)
//      and the edge in workerd (`wrangler dev`), with a fresh API key from `edgesearch edge keygen`,
//      public mode on, and the signing key and settings in a generated env file (a .dev.vars of
//      yours is neither read nor touched);
//   3. waits until every router answers /readyz and the edge /v1/health, then prints the demo
//      page's URL and a curl command with the key;
//   4. on Ctrl-C (SIGINT, SIGTERM, SIGHUP) stops everything: each child runs in a process group of
//      its own (wrangler's workerd, the cluster's nodes), and nothing of the tree is left behind.
//      A second Ctrl-C skips the graceful drain.
//
// Settings (environment): EDGE_PORT (8787), POOL_PORT (7700: the nodes take POOL_PORT..+START_NODES-1),
// START_NODES (3), START_REPLICAS (2), START_SHARDS (4), START_INDEX_LIMIT (index only the first n
// SciFact abstracts; default all 5,183), START_INDEX (the index directory; default scifact-4, or
// scifact-4-first<n> with a limit), START_MODEL (models/use-lite), EDGESEARCH_POOL_KEY (default: a
// random key per run), START_READY_TIMEOUT_S (300).
//
// Plain Node (no TypeScript, no dependencies), so it starts before anything is compiled or loaded.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'bin', 'edgesearch.js');
const WRANGLER = join(REPO, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const ADDON = join(REPO, 'gpu-pool', 'engine', 'native', 'build', 'Release', 'faiss_node.node');
/** The generated settings of the edge (wrangler --env-file): under .wrangler/, which git ignores; one per edge port. */
let ENV_FILE = join(REPO, '.wrangler', 'start', 'edge.env');
/** A path as the user would type it: relative to the repository when inside it. */
const shown = (p) => {
  const r = relative(REPO, p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
};
const EXAMPLE_QUERY = 'statins and dementia risk';

class StartError extends Error {}

// A closed terminal (SIGHUP) or pipe must not crash the shutdown.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

const say = (msg) => safeWrite(process.stdout, `[start] ${msg}\n`);
function safeWrite(stream, text) {
  try {
    stream.write(text);
  } catch {
    // a closed terminal or pipe: nothing to tell anyone
  }
}

function intEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new StartError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function settings() {
  const shared = resolve(process.env.EDGESEARCH_SHARED || join(REPO, '..', 'shared'));
  const nodes = intEnv('START_NODES', 3, 1, 16);
  const shards = intEnv('START_SHARDS', 4, 1, 64);
  const limit = intEnv('START_INDEX_LIMIT', 0, 1, 10_000_000) || undefined;
  const indexName = process.env.START_INDEX || `scifact-${shards}${limit ? `-first${limit}` : ''}`;
  return {
    shared,
    corpus: join(shared, 'data', 'scifact', 'beir'),
    model: resolve(REPO, process.env.START_MODEL || join('models', 'use-lite')),
    index: isAbsolute(indexName) ? indexName : resolve(REPO, indexName),
    limit,
    shards,
    nodes,
    replicas: Math.min(intEnv('START_REPLICAS', 2, 1, 16), nodes),
    edgePort: intEnv('EDGE_PORT', 8787, 1, 65535),
    poolPort: intEnv('POOL_PORT', 7700, 1, 65535 - 15),
    readyTimeoutMs: intEnv('START_READY_TIMEOUT_S', 300, 1, 3600) * 1000,
  };
}

/** Resolves when 127.0.0.1:port can be listened on; rejects with a message naming the setting otherwise. */
function checkPort(port, what, setting) {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', (/** @type {NodeJS.ErrnoException} */ err) => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use (another `npm start`, `wrangler dev` or pool node?)' : `cannot be used (${err.code ?? err.message})`;
      reject(new StartError(`port ${port} (${what}) ${why}; free it or choose another with ${setting}=<port>`));
    });
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolvePort()));
  });
}

async function checkPorts(s) {
  await checkPort(s.edgePort, 'the edge', 'EDGE_PORT');
  for (let i = 0; i < s.nodes; i++) await checkPort(s.poolPort + i, `pool node${i}`, 'POOL_PORT');
}

/** A port the OS picks (wrangler's inspector, which nobody needs to know). */
function anyPort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolvePort(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Children: each in a process group of its own, so stopping one reaches all it started.

/** @type {Set<{name: string, child: import('node:child_process').ChildProcess, exited: Promise<{code: number|null, signal: string|null}>, done: boolean}>} */
const children = new Set();
let stopping = false;
/** While this script polls the edge, wrangler's lines for those requests are not shown. */
let probing = true;
let force = false;

function startChild(name, args, opts = {}) {
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const entry = { name, child, done: false, exited: undefined };
  entry.exited = new Promise((resolveExit) => {
    child.once('error', (err) => {
      entry.done = true;
      resolveExit({ code: null, signal: null, error: err });
    });
    child.once('exit', (code, signal) => {
      entry.done = true;
      resolveExit({ code, signal });
    });
  });
  children.add(entry);
  return entry;
}

/** Forwards a child's output line by line, each line prefixed. */
function forwardLines(stream, out, prefix, onLine) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).replace(/\r$/, '');
      buffered = buffered.slice(nl + 1);
      if (onLine?.(line) === false) continue;
      safeWrite(out, `${prefix}${line}\n`);
    }
  });
  stream.on('end', () => {
    if (buffered && onLine?.(buffered) !== false) safeWrite(out, `${prefix}${buffered}\n`);
  });
}

/** /proc/<pid>/stat: state, parent, process group and start time (Linux); undefined elsewhere or when gone. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), start: f[19] };
  } catch {
    return undefined;
  }
}

const HAVE_PROC = existsSync('/proc/self/stat');

function allProcs() {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(Number(d));
    if (st) out.set(Number(d), st);
  }
  return out;
}

/** Whether any live (not zombie) process is in the group. */
function groupAlive(pgid) {
  if (HAVE_PROC) {
    for (const st of allProcs().values()) if (st.pgid === pgid && st.state !== 'Z' && st.state !== 'X') return true;
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below the given ones (pid → start time), for the ones that left their group. */
function descendants(roots) {
  const out = new Map();
  if (!HAVE_PROC) return out;
  const procs = allProcs();
  const wanted = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, st] of procs) {
      if (!wanted.has(pid) && wanted.has(st.ppid)) {
        wanted.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of wanted) {
    const st = procs.get(pid);
    if (st) out.set(pid, st.start);
  }
  return out;
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone already
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM to the child (pool cluster drains and stops its nodes; wrangler stops workerd), then to
 * the rest of its group if the child is gone but the group is not, SIGKILL at the deadline (or at
 * once on a second Ctrl-C).
 */
async function stopChild(entry, graceMs) {
  const pgid = entry.child.pid;
  if (!pgid || !groupAlive(pgid)) return;
  if (!entry.done) entry.child.kill('SIGTERM');
  else signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let leaderGoneAt = entry.done ? Date.now() : 0;
  let groupTermSent = entry.done;
  while (groupAlive(pgid)) {
    if (force || Date.now() > deadline) {
      signalGroup(pgid, 'SIGKILL');
      const killDeadline = Date.now() + 3000;
      while (groupAlive(pgid) && Date.now() < killDeadline) await sleep(50);
      return;
    }
    if (entry.done && !leaderGoneAt) leaderGoneAt = Date.now();
    if (leaderGoneAt && !groupTermSent && Date.now() - leaderGoneAt > 1500) {
      signalGroup(pgid, 'SIGTERM');
      groupTermSent = true;
    }
    await sleep(100);
  }
}

let stopPromise;
function stopAll() {
  stopPromise ??= (async () => {
    stopping = true;
    const entries = [...children];
    const tree = descendants(entries.map((e) => e.child.pid).filter(Boolean));
    await Promise.all(entries.map((e) => stopChild(e, e.name === 'pool' ? 20_000 : 8_000)));
    // Anything that left its group (setsid) but was below one of ours when the stop began.
    for (const [pid, start] of tree) {
      const st = procStat(pid);
      if (st && st.start === start && st.state !== 'Z') {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    rmSync(ENV_FILE, { force: true });
  })();
  return stopPromise;
}

// Last resort when this process exits for any other reason: no group survives it.
process.on('exit', () => {
  for (const e of children) if (e.child.pid && groupAlive(e.child.pid)) signalGroup(e.child.pid, 'SIGKILL');
  try {
    rmSync(ENV_FILE, { force: true });
  } catch {
    // nothing to remove
  }
});

let interrupted;
let firstSignalAt = 0;
const interruptedPromise = new Promise((resolveSignal) => {
  const onSignal = (signal) => {
    // A terminal's Ctrl-C reaches this process twice (from the terminal, and forwarded by npm):
    // only a second one well after the first means "hurry".
    if (interrupted) {
      if (Date.now() - firstSignalAt > 1000 && !force) {
        force = true;
        say('second interrupt: killing everything now');
      }
      return;
    }
    interrupted = signal;
    firstSignalAt = Date.now();
    resolveSignal(signal);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, onSignal);
});

/** Rejects when `entry` exits before `promise` settles (unless we are stopping). */
function unlessExits(entry, promise, what) {
  return Promise.race([
    promise,
    entry.exited.then(({ code, signal, error }) => {
      if (stopping) return new Promise(() => {});
      throw new StartError(`${what} ${error ? `could not start: ${error.message}` : `exited (${signal ?? `code ${code}`})`}${entry.name === 'edge' ? '' : '; its output is above'}`);
    }),
  ]);
}

/** Races a step against Ctrl-C: resolves to undefined when interrupted. */
async function orInterrupt(promise) {
  return Promise.race([promise, interruptedPromise.then(() => undefined)]);
}

// ---------------------------------------------------------------------------------------------

function preflight(s) {
  if (!existsSync(WRANGLER) || !existsSync(join(REPO, 'node_modules', 'tsx'))) throw new StartError('the npm dependencies are not installed: run scripts/setup first');
  if (!existsSync(ADDON)) throw new StartError(`the faiss binding is not built (${relative(REPO, ADDON)}): run scripts/setup first`);
  if (!existsSync(join(s.model, 'manifest.json')) && !s.model.endsWith('.json')) throw new StartError(`no model at ${s.model} (START_MODEL)`);
}

async function buildIndex(s) {
  if (!existsSync(s.corpus)) throw new StartError(`the SciFact corpus is not at ${s.corpus}: set EDGESEARCH_SHARED to the folder holding data/ and models/`);
  const docs = s.limit ? `the first ${s.limit} SciFact abstracts` : 'SciFact (5,183 abstracts)';
  say(`building the index ${shown(s.index)}: ${docs}, ${shown(s.model)}, ${s.shards} shards, Flat + BM25.`);
  say(s.limit ? 'Progress below.' : 'This happens once and takes a few minutes (progress below); after Ctrl-C, `npm start` again resumes it.');
  const args = [CLI, 'index', 'build', '--corpus', s.corpus, '--model', s.model, '--factory', 'Flat', '--shards', String(s.shards), '--bm25', '--out', s.index];
  if (s.limit) args.push('--limit', String(s.limit));
  const t0 = Date.now();
  const build = startChild('build', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const result = await orInterrupt(build.exited);
  if (!result) return false;
  children.delete(build);
  if (result.error || result.code !== 0) throw new StartError(`the index build failed (${result.error?.message ?? result.signal ?? `code ${result.code}`}); its output is above. \`npm start\` again resumes it`);
  say(`index built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return true;
}

/** `edgesearch edge keygen`: the key (printed once) and its API_KEYS entry. */
async function keygen() {
  const entry = startChild('keygen', [CLI, 'edge', 'keygen', '--id', 'local', '--scopes', 'search,admin']);
  let out = '';
  let err = '';
  entry.child.stdout.on('data', (d) => (out += d));
  entry.child.stderr.on('data', (d) => (err += d));
  const result = await entry.exited;
  children.delete(entry);
  const [key, json] = out.trim().split('\n');
  if (result.code !== 0 || !key || !json) throw new StartError(`edgesearch edge keygen failed (${result.signal ?? `code ${result.code}`}):\n${err}${out}`);
  return { key: key.trim(), entry: JSON.parse(json) };
}

/** `[node0] {"level":"info","msg":"ready",...}` (the nodes' JSON log lines) → `[pool node0] ready`. */
function poolLine(line) {
  const m = /^\[([\w.-]+)\] (\{.*\})$/.exec(line);
  if (!m) return `[pool] ${line}`;
  try {
    const { time: _t, name: _n, node: _node, level, msg, ...rest } = JSON.parse(m[2]);
    const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
    return `[pool ${m[1]}] ${level && level !== 'info' ? `${level}: ` : ''}${msg}${extra}`;
  } catch {
    return `[pool ${m[1]}] ${m[2]}`;
  }
}

function startPool(s, signingKey) {
  const args = [CLI, 'pool', 'cluster', '--index', s.index, '--nodes', String(s.nodes), '--replicas', String(s.replicas), '--base-port', String(s.poolPort)];
  const pool = startChild('pool', args, { env: { ...process.env, EDGESEARCH_POOL_KEY: signingKey } });
  // The cluster's own banner (ready, nodes, keys, "Ctrl-C stops every node") would repeat what is
  // printed below once everything is up; its nodes' log lines go through, tagged with the node.
  forwardLines(pool.child.stdout, process.stdout, '', () => false);
  forwardLines(pool.child.stderr, process.stderr, '', (line) => {
    safeWrite(process.stderr, `${poolLine(line)}\n`);
    return false;
  });
  return pool;
}

async function startEdge(s, routers, signingKey, apiKey) {
  // Single-quoted dotenv values are taken literally (JSON has no single quotes here).
  const vars = {
    POOL_ENDPOINTS: JSON.stringify(routers.map((url) => ({ url }))),
    POOL_SIGNING_KEY: signingKey,
    API_KEYS: JSON.stringify([apiKey.entry]),
    PUBLIC_MODE: 'true',
  };
  await mkdir(dirname(ENV_FILE), { recursive: true });
  await writeFile(ENV_FILE, `# written by scripts/start.mjs for this run (removed when it stops)\n${Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join('\n')}\n`, { mode: 0o600 });
  await chmod(ENV_FILE, 0o600);
  const args = [
    WRANGLER, 'dev',
    '--ip', '127.0.0.1',
    '--port', String(s.edgePort),
    '--inspector-port', String(await anyPort()),
    // With --env-file, wrangler reads neither .dev.vars nor .env: a .dev.vars of yours stays out of it.
    '--env-file', ENV_FILE,
    '--show-interactive-dev-session=false',
  ];
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false',
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'true',
    // Without it, workerd's startup fetches the Request.cf example from workers.cloudflare.com
    // (3 s and a stack trace when offline); the edge only reads cf.continent, a placeholder is fine.
    CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
  };
  const edge = startChild('edge', args, { env });
  // wrangler's banner and bindings table (the settings are listed below once everything is up), and
  // the log lines of this script's own readiness probes.
  const quiet = /^(?:\s*$|[─-]+$| ⛅️ wrangler|Using secrets defined in|Your Worker has access|Binding\s+Resource|env\.\w+ \(|⎔ Starting local server)/;
  const probe = /^\[wrangler:info\] GET \/(?:openapi\.json|v1\/health) \d{3}/;
  const show = (line) => !quiet.test(line) && !(probing && probe.test(line));
  forwardLines(edge.child.stdout, process.stdout, '[edge] ', show);
  forwardLines(edge.child.stderr, process.stderr, '[edge] ', show);
  return edge;
}

async function status(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function waitReady(s, routers, edgeUrl) {
  const deadline = Date.now() + s.readyTimeoutMs;
  let lastRouters = -1;
  let lastEdge = false;
  const t0 = Date.now();
  for (;;) {
    const ready = (await Promise.all(routers.map((r) => status(`${r}/readyz`)))).filter((c) => c === 200).length;
    const edgeUp = (await status(`${edgeUrl}/openapi.json`)) === 200;
    if (ready !== lastRouters && ready > 0) say(`pool: ${ready} of ${routers.length} routers ready (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (edgeUp && !lastEdge) say(`edge: serving on ${edgeUrl} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    lastRouters = ready;
    lastEdge = edgeUp;
    if (ready === routers.length && edgeUp && (await status(`${edgeUrl}/v1/health`)) === 200) return true;
    if (Date.now() > deadline) throw new StartError(`not ready after ${s.readyTimeoutMs / 1000} s (routers ready: ${ready}/${routers.length}, edge ${edgeUp ? 'up' : 'down'}); the output above says why (START_READY_TIMEOUT_S waits longer)`);
    await sleep(250);
  }
}

async function main() {
  const s = settings();
  ENV_FILE = join(REPO, '.wrangler', 'start', `edge-${s.edgePort}.env`);
  preflight(s);
  await checkPorts(s);
  if (!existsSync(join(s.index, 'index.json'))) {
    if (!(await buildIndex(s))) return;
    await checkPorts(s);
  } else {
    say(`index: ${shown(s.index)} (built before; remove it to rebuild)`);
  }
  const routers = Array.from({ length: s.nodes }, (_, i) => `http://127.0.0.1:${s.poolPort + i}`);
  const edgeUrl = `http://127.0.0.1:${s.edgePort}`;
  const signingKey = process.env.EDGESEARCH_POOL_KEY || randomBytes(32).toString('hex');
  const t0 = Date.now();
  say(`starting the pool (${s.nodes} nodes on ports ${s.poolPort}-${s.poolPort + s.nodes - 1}, ${s.replicas} replicas of each shard) and the edge (wrangler dev on port ${s.edgePort})`);
  const pool = startPool(s, signingKey);
  const apiKey = await orInterrupt(unlessExits(pool, keygen(), 'the pool'));
  if (!apiKey) return;
  const edge = await startEdge(s, routers, signingKey, apiKey);
  const ready = await orInterrupt(unlessExits(pool, unlessExits(edge, waitReady(s, routers, edgeUrl), 'the edge (wrangler dev)'), 'the pool'));
  if (!ready) return;
  // wrangler logs each request a little after answering it: let the last probe's line go by unseen.
  await sleep(300);
  probing = false;
  const curl = `curl -s ${edgeUrl}/v1/search -H 'authorization: Bearer ${apiKey.key}' -H 'content-type: application/json' -d '{"query": "${EXAMPLE_QUERY}", "mode": "hybrid", "k": 5}'`;
  safeWrite(
    process.stdout,
    [
      '',
      `edgesearch is running (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      `  demo page:  ${edgeUrl}/`,
      `  pool:       ${routers.join(' ')}  (index ${shown(s.index)})`,
      `  API key:    ${apiKey.key}  (id "${apiKey.entry.id}", scopes ${apiKey.entry.scopes.join(',')}; a new one each start)`,
      `  search:     ${curl}`,
      `  routers:    curl -s ${edgeUrl}/v1/admin/health -H 'authorization: Bearer ${apiKey.key}'`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  // Run until Ctrl-C, or until a part stops on its own (then stop the rest).
  const exitedEarly = await Promise.race([interruptedPromise.then(() => undefined), pool.exited.then((r) => ({ name: 'the pool', ...r })), edge.exited.then((r) => ({ name: 'the edge (wrangler dev)', ...r }))]);
  if (exitedEarly && !interrupted) throw new StartError(`${exitedEarly.name} exited (${exitedEarly.signal ?? `code ${exitedEarly.code}`}); stopping the rest`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  safeWrite(process.stderr, `[start] ${err instanceof StartError ? err.message : (err?.stack ?? String(err))}\n`);
}
if (children.size > 0) {
  const t0 = Date.now();
  const what = [...children].some((e) => e.name === 'build') ? 'the index build (`npm start` again resumes it)' : 'the edge and the pool';
  say(`${interrupted ? `${interrupted}: ` : ''}stopping ${what}`);
  await stopAll();
  say(`stopped (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
} else if (interrupted) {
  say('stopped');
}
process.exit(exitCode);
