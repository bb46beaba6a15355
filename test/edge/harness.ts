// The edge worker in the real Workers runtime for tests and benchmarks: `wrangler dev` bundles
// edge/index.ts and serves it from workerd on loopback, with vars given per run and its
// Durable Object and cache state in a fresh temporary directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import { REPO_ROOT } from '../fixtures.ts';

export interface EdgeServer {
  url: string;
  /** Everything wrangler and the worker printed so far (the worker's console.warn and console.error). */
  output(): string;
  stop(): Promise<void>;
}

export const WRANGLER = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

/** wrangler's environment: no telemetry, no prompts, logs in the run's own state directory. */
export function wranglerEnv(state: string): NodeJS.ProcessEnv {
  return { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', WRANGLER_LOG_PATH: join(state, 'logs') };
}

/**
 * Starts `wrangler dev` with `vars` (overriding wrangler.toml's) and waits until it serves
 * /openapi.json with `readyStatus` (200; a misconfigured edge answers 500).
 */
export async function startEdge(vars: Record<string, string> = {}, opts: { readyStatus?: number } = {}): Promise<EdgeServer> {
  const port = await freePort();
  const state = await mkdtemp(join(tmpdir(), 'es-wrangler-'));
  const args = [WRANGLER, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()), '--persist-to', state, '--log-level', 'warn'];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const dev: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: wranglerEnv(state),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  dev.stdout!.on('data', (d: Buffer) => (output += d));
  dev.stderr!.on('data', (d: Buffer) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (dev.exitCode === null && dev.signalCode === null && dev.pid) {
      const exited = new Promise((r) => dev.once('exit', r));
      process.kill(-dev.pid, 'SIGTERM');
      const timer = setTimeout(() => dev.pid && process.kill(-dev.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(state, { recursive: true, force: true });
  };
  // --log-level warn hides the "Ready" line, so readiness is polled.
  const until = Date.now() + 90_000;
  for (;;) {
    if (dev.exitCode !== null) throw new Error(`wrangler dev exited with ${dev.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/openapi.json`);
      await res.arrayBuffer();
      if (res.status === (opts.readyStatus ?? 200)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      await stop();
      throw new Error(`wrangler dev did not serve in 90 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, output: () => output, stop };
}

export interface TestKey {
  key: string;
  entry: { id: string; sha256: string; scopes: string[]; rate?: { perSecond: number; burst: number } };
}

/** A random API key and the hashed entry API_KEYS holds for it. */
export function testKey(id: string, scopes: string[], rate?: { perSecond: number; burst: number }): TestKey {
  const key = `es_test_${randomBytes(16).toString('hex')}`;
  return { key, entry: { id, sha256: createHash('sha256').update(key).digest('hex'), scopes, ...(rate ? { rate } : {}) } };
}

/**
 * The edge as Cloudflare would run it, without wrangler dev's development proxies: the bundle
 * `wrangler deploy --dry-run` builds, served by workerd through Miniflare (wrangler's local
 * runtime) with the bindings of wrangler.toml. For latency benchmarks; tests use startEdge.
 */
export async function startEdgeBundle(vars: Record<string, string> = {}): Promise<EdgeServer> {
  const state = await mkdtemp(join(tmpdir(), 'es-workerd-'));
  const outdir = join(state, 'bundle');
  const build = spawnSync(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--outdir', outdir], { cwd: REPO_ROOT, env: wranglerEnv(state), encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${build.stdout}${build.stderr}`);
  const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
  const { Log, LogLevel, Miniflare } = await import('miniflare');
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(REPO_ROOT, 'wrangler.toml'));
  let output = '';
  class CapturedLog extends Log {
    override log(message: string): void {
      output += `${message}\n`;
    }
  }
  const mf = new Miniflare({
    ...(workerOptions as object),
    modules: true,
    modulesRoot: outdir,
    scriptPath: join(outdir, 'index.js'),
    bindings: { ...((workerOptions as { bindings?: Record<string, unknown> }).bindings ?? {}), ...vars },
    host: '127.0.0.1',
    port: await freePort(),
    defaultPersistRoot: state,
    // A local-development shim (it strips CF-Connecting-IP from outgoing requests, which
    // Cloudflare does itself); it adds a hop to every fetch that production does not have.
    stripCfConnectingIp: false,
    log: new CapturedLog(LogLevel.WARN),
  } as ConstructorParameters<typeof Miniflare>[0]);
  const url = (await mf.ready).origin;
  return {
    url,
    output: () => output,
    async stop() {
      await mf.dispose();
      await rm(state, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until the edge has printed something matching `pattern` (its log goes through wrangler's
 * output, a little after the response), and returns that output.
 */
export async function waitForOutput(edge: EdgeServer, pattern: RegExp | string, timeoutMs = 5000): Promise<string> {
  const until = Date.now() + timeoutMs;
  const found = () => (typeof pattern === 'string' ? edge.output().includes(pattern) : pattern.test(edge.output()));
  while (!found()) {
    if (Date.now() > until) throw new Error(`the edge did not log ${pattern} within ${timeoutMs} ms; it printed:\n${edge.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return edge.output();
}

/**
 * An HTTP server on a free loopback port that reads each request's body whole and then calls
 * `handle`; a handler that throws resets the connection. For pool stand-ins in edge tests.
 */
export async function startBodyServer(handle: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => Promise<void>): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks)).catch(() => res.destroy()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A loopback HTTP proxy to `target` that holds each request `delayMs` before forwarding it: a slow pool. */
export async function startDelayProxy(target: string, delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const out = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        out.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
