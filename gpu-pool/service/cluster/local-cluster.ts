import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { planShards, type ClusterConfig } from './config.ts';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'edgesearch.js');

export interface LocalClusterOptions {
  /** The index directory to serve (already built). */
  index: string;
  nodes: number;
  replicas: number;
  /** Shards in the index (from its index.json). */
  shards: number;
  /** Where the generated config goes. */
  configPath: string;
  /** First port; nodes take consecutive ports. Default: free ports chosen by the OS. */
  basePort?: number;
  /** Extra config fields (batching, hedgeMs, ...). */
  overrides?: Partial<Omit<z.input<typeof ClusterConfig>, 'nodes' | 'index'>>;
  /** HMAC key; default: a random one. */
  signingKey?: string;
  /** Admin key (hot swaps); default: a random one, different from the signing key. */
  adminKey?: string;
  /** Where node processes' stderr goes (default: dropped). */
  onLog?: (node: string, line: string) => void;
  readyTimeoutMs?: number;
}

export interface LocalNode {
  id: string;
  url: string;
  shards: number[];
  process: ChildProcess;
  exited: Promise<number | null>;
}

export interface LocalCluster {
  nodes: LocalNode[];
  configPath: string;
  signingKey: string;
  adminKey: string;
  /** Sends `signal` to one node (fault injection). */
  kill(id: string, signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM to every node (graceful drain), SIGKILL to those still up after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
/**
 * A port free on 127.0.0.1 now, for a process started next to listen on. Chosen at random below
 * Linux's ephemeral range (32768+), so no outgoing connection can take it in the meantime, never
 * twice by this process, and in a slice of its own per test worker (VITEST_POOL_ID) so parallel
 * test files do not pick the same one; the kernel's choice if none of those is free.
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env.VITEST_POOL_ID);
  const [low, span] = Number.isInteger(worker) && worker >= 1 ? [PORT_LOW + ((worker - 1) % PORT_SLICES) * PORT_SLICE, PORT_SLICE] : [PORT_LOW, PORT_SLICE * PORT_SLICES];
  for (let attempt = 0; attempt < 64; attempt++) {
    const port = low + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    if (await listenable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  return listenOn(0);
}

const PORT_LOW = 20_000;
const PORT_SLICE = 1_500;
const PORT_SLICES = 8;
const handedOut = new Set<number>();

const listenable = (port: number) => listenOn(port).then(() => true, () => false);

function listenOn(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolvePort(bound));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`pool node at ${url} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pool node at ${url} not ready after ${timeoutMs} ms`);
}

/** Starts real pool node processes on loopback, one per node, and waits until all are ready. */
export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const plan = planShards(opts.nodes, opts.shards, opts.replicas);
  const ports: number[] = [];
  for (let i = 0; i < opts.nodes; i++) ports.push(opts.basePort ? opts.basePort + i : await freePort());
  const config = {
    // Every node runs on this machine: each gets its share of the cores. Left to their defaults,
    // onnxruntime and faiss take every core in every node, and the nodes' threads crowd each
    // other out (quick start, 3 nodes on 2 cores, 16 load-test connections through the deploy
    // bundle: 14.5 q/s with the libraries' defaults, 24.6 with one thread each).
    threads: Math.max(1, Math.floor(availableParallelism() / opts.nodes)),
    ...opts.overrides,
    index: resolve(opts.index),
    nodes: plan.map((shards, i) => ({ id: `node${i}`, url: `http://127.0.0.1:${ports[i]}`, shards, router: true })),
  };
  await mkdir(dirname(resolve(opts.configPath)), { recursive: true });
  await writeFile(opts.configPath, `${JSON.stringify(config, null, 2)}\n`);
  const signingKey = opts.signingKey ?? randomBytes(32).toString('hex');
  const keyEnv = opts.overrides?.signingKeyEnv ?? 'EDGESEARCH_POOL_KEY';
  const adminKey = opts.adminKey ?? randomBytes(32).toString('hex');
  const adminKeyEnv = opts.overrides?.adminKeyEnv ?? 'EDGESEARCH_POOL_ADMIN_KEY';
  const nodes: LocalNode[] = config.nodes.map((n) => {
    const child = spawn(process.execPath, [CLI, 'pool', 'serve', '--config', opts.configPath, '--node', n.id], {
      env: { ...process.env, [keyEnv]: signingKey, [adminKeyEnv]: adminKey },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let buffered = '';
    child.stderr!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        opts.onLog?.(n.id, buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { id: n.id, url: n.url, shards: n.shards, process: child, exited };
  });
  const cluster: LocalCluster = {
    nodes,
    configPath: opts.configPath,
    signingKey,
    adminKey,
    async kill(id, signal = 'SIGKILL') {
      const node = nodes.find((n) => n.id === id);
      if (!node) throw new Error(`no node ${id}`);
      node.process.kill(signal);
      await node.exited;
    },
    async stop(graceMs = 10_000) {
      const live = nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
      for (const n of live) n.process.kill('SIGTERM');
      const timer = setTimeout(() => live.forEach((n) => n.process.kill('SIGKILL')), graceMs);
      await Promise.all(live.map((n) => n.exited));
      clearTimeout(timer);
    },
  };
  try {
    await Promise.all(nodes.map((n) => waitReady(n.url, n.process, opts.readyTimeoutMs ?? 180_000)));
  } catch (err) {
    await cluster.stop(1000);
    throw err;
  }
  return cluster;
}

