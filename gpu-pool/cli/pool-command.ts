import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIndex } from '../engine/writer/index.ts';
import { nodeConfig, readClusterConfig, startLocalCluster } from '../service/cluster/index.ts';
import { sendSwap, signSwap } from '../service/pool-client/index.ts';
import { rollout } from '../service/rollout/index.ts';
import { PoolNode } from '../service/server/index.ts';
import { readIndexManifest } from '../engine/shard/index.ts';
import { intArg } from './index.ts';

/** Resolves on SIGINT/SIGTERM: the process then shuts down gracefully. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export function poolServeCommand(cmd: Command): Command {
  return cmd
    .description('run one pool node: the shards the cluster config gives it, and the router role (POST /v1/batch, /healthz, /readyz, /metrics)')
    .requiredOption('--config <file>', 'cluster config (JSON)')
    .requiredOption('--node <id>', 'which node of the config this process is')
    .option('--port <n>', 'listen port (default: the port of the node url)', intArg('--port', 0))
    .option('--host <addr>', 'listen address (default: the host of the node url)')
    .action(async (o) => {
      const config = await readClusterConfig(o.config);
      const node = await PoolNode.start({ config, nodeId: o.node, port: o.port, host: o.host });
      const signal = await untilSignal();
      node.log.info('shutting down', { signal });
      await node.close();
    });
}

export function poolSwapCommand(cmd: Command): Command {
  return cmd
    .description('hot-swap one shard of a running node to a newer version of its index (signed with $EDGESEARCH_POOL_ADMIN_KEY)')
    .requiredOption('--config <file>', 'cluster config (JSON): where the node is')
    .requiredOption('--node <id>', 'the node to swap')
    .requiredOption('--shard <n>', 'shard number', intArg('--shard', 0))
    .requiredOption('--dir <dir>', "the new shard directory, under the node's index root (relative paths are taken from the root)")
    .action(async (o) => {
      const config = await readClusterConfig(o.config);
      const node = nodeConfig(config, o.node, o.config);
      const secret = process.env[config.adminKeyEnv];
      if (!secret) throw new Error(`no admin key: set ${config.adminKeyEnv} (the operators' key; not the signing key edges hold)`);
      const res = await sendSwap(node.url, await signSwap(secret, node.id, { shard: o.shard, dir: o.dir }));
      const text = await res.text();
      if (!res.ok) throw new Error(`${node.id} refused the swap (HTTP ${res.status}): ${text}`);
      process.stdout.write(`${text}\n`);
    });
}

export function poolRolloutCommand(cmd: Command): Command {
  return cmd
    .description('roll a running cluster forward to a new published index version, one replica of each shard at a time; rolls back every swapped replica on the first failure (admin key in $EDGESEARCH_POOL_ADMIN_KEY)')
    .requiredOption('--config <file>', 'cluster config (JSON): the nodes and which shards each holds')
    .requiredOption('--index <dir>', "the new index version (a published index directory under the nodes' index root; relative paths are taken from the root when they do not exist here)")
    .option('--parallel <n>', 'shards moved at once (each one replica at a time)', intArg('--parallel'), 1)
    .option('--ready-timeout <ms>', "how long a swapped replica has to list the new version on /readyz", intArg('--ready-timeout'), 60_000)
    .action(async (o) => {
      const config = await readClusterConfig(o.config);
      const adminKey = process.env[config.adminKeyEnv];
      if (!adminKey) throw new Error(`no admin key: set ${config.adminKeyEnv} (the operators' key; not the signing key edges hold)`);
      const signingKey = process.env[config.signingKeyEnv];
      if (!signingKey) throw new Error(`no signing key: set ${config.signingKeyEnv} (probe queries are signed with it)`);
      const index = existsSync(resolve(o.index)) ? resolve(o.index) : o.index;
      const result = await rollout({
        config,
        index,
        adminKey,
        signingKey,
        metricsToken: process.env[config.metricsTokenEnv] || undefined,
        parallel: o.parallel,
        readyTimeoutMs: o.readyTimeout,
        log: (line) => process.stderr.write(line),
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_CORPUS = resolve(process.env.EDGESEARCH_SHARED ?? join(REPO, '..', 'shared'), 'data', 'scifact', 'beir');
const DEFAULT_MODEL = join(REPO, 'models', 'use-lite');

export function poolClusterCommand(cmd: Command): Command {
  return cmd
    .description('start a local pool cluster on loopback (real processes); builds the index first when --index does not exist')
    .option('--nodes <n>', 'node processes', intArg('--nodes'), 3)
    .option('--shards <n>', 'shards (used when building the index)', intArg('--shards'), 4)
    .option('--replicas <n>', 'copies of each shard', intArg('--replicas'), 2)
    .requiredOption('--index <dir>', 'index directory (built here if missing)')
    .option('--corpus <path>', 'corpus for a new index', DEFAULT_CORPUS)
    .option('--model <dir>', 'model for a new index', DEFAULT_MODEL)
    .option('--factory <key>', 'faiss factory key for a new index', 'Flat')
    .option('--base-port <n>', 'first port (nodes take consecutive ports)', intArg('--base-port'), 7700)
    .option('--max-batch <n>', 'dynamic batching: max batch size', intArg('--max-batch'))
    .option('--conversational-model <dir>', 'mode conversational: the conversation encoder (an `edgesearch convdr train` output distilled from the index\'s model)')
    .option('--config <file>', 'where to write the cluster config (default: beside the index)')
    .action(async (o, command: Command) => {
      const index = resolve(o.index);
      if (!existsSync(join(index, 'index.json'))) {
        process.stderr.write(`building ${index} (${o.shards} shards, ${o.factory}, BM25) from ${o.corpus}\n`);
        await buildIndex({ corpus: o.corpus, model: o.model, factory: o.factory, shards: o.shards, bm25: true, out: index });
      }
      const manifest = await readIndexManifest(index);
      if (manifest.shards.length !== o.shards && command.getOptionValueSource('shards') === 'cli') {
        throw new Error(`${index} has ${manifest.shards.length} shards, --shards says ${o.shards}; build another index or drop --shards`);
      }
      const configPath = resolve(o.config ?? `${index}.cluster.json`);
      const signingKey = process.env.EDGESEARCH_POOL_KEY;
      const adminKey = process.env.EDGESEARCH_POOL_ADMIN_KEY;
      const cluster = await startLocalCluster({
        index,
        nodes: o.nodes,
        replicas: o.replicas,
        shards: manifest.shards.length,
        configPath,
        basePort: o.basePort,
        signingKey,
        adminKey,
        overrides: {
          ...(o.maxBatch ? { batching: { maxBatchSize: o.maxBatch } } : {}),
          ...(o.conversationalModel ? { conversationalModel: resolve(o.conversationalModel) } : {}),
        },
        onLog: (node, line) => process.stderr.write(`[${node}] ${line}\n`),
      });
      process.stdout.write(`pool cluster ready: ${cluster.nodes.length} nodes, ${manifest.shards.length} shards x ${o.replicas} replicas, index ${manifest.version}\n`);
      for (const n of cluster.nodes) process.stdout.write(`  ${n.id}  ${n.url}  shards ${n.shards.join(',')}\n`);
      process.stdout.write(`config: ${configPath}\n${signingKey ? 'signing key: $EDGESEARCH_POOL_KEY' : `signing key (export EDGESEARCH_POOL_KEY=...): ${cluster.signingKey}`}\n${adminKey ? 'admin key: $EDGESEARCH_POOL_ADMIN_KEY' : `admin key, for \`pool swap\` (export EDGESEARCH_POOL_ADMIN_KEY=...): ${cluster.adminKey}`}\nCtrl-C stops every node.\n`);
      const stopped = Promise.race(cluster.nodes.map((n) => n.exited.then((code) => ({ n, code }))));
      const outcome = await Promise.race([untilSignal().then(() => undefined), stopped]);
      if (outcome) process.stderr.write(`node ${outcome.n.id} exited (${outcome.code}); stopping the cluster\n`);
      await cluster.stop();
    });
}
