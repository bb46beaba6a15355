// `edgesearch pool config`: writes a cluster config from the topology (nodes × shards × replicas),
// with the same shard assignment the local cluster uses (`planShards`). A Kubernetes pod runs it
// at start-up from the numbers in its ConfigMap (infra/k8s), so those numbers are the only place
// the topology is written down; the output depends on the arguments alone (deterministic).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readIndexManifest } from '../engine/shard/index.ts';
import { ConfigError, parseClusterConfig, planShards } from '../service/cluster/index.ts';
import { intArg } from './index.ts';

export interface PoolConfigOptions {
  nodes: number;
  shards: number;
  replicas: number;
  /** Node url with `{i}` for the node's ordinal, e.g. http://pool-{i}.pool-headless:7700. */
  urlTemplate: string;
  /** Node id with `{i}` for the ordinal (default `node{i}`, as the local cluster names them). */
  idTemplate?: string;
  /** The index directory the nodes serve (written as an absolute path). */
  index: string;
  indexRoot?: string;
  /** Other cluster config fields (batching, http, encoder, threads, ...), from a JSON file. */
  base?: Record<string, unknown>;
  threads?: number;
}

const fill = (template: string, i: number) => template.replaceAll('{i}', String(i));

/** The cluster config (JSON value) for a topology; validated against the config schema. */
export function poolConfig(o: PoolConfigOptions): Record<string, unknown> {
  if (!o.urlTemplate.includes('{i}')) throw new ConfigError(`--url-template must contain {i} (the node's ordinal), got "${o.urlTemplate}"`);
  const idTemplate = o.idTemplate ?? 'node{i}';
  if (!idTemplate.includes('{i}')) throw new ConfigError(`--id-template must contain {i} (the node's ordinal), got "${idTemplate}"`);
  for (const owned of ['nodes', 'index', 'indexRoot']) {
    if (o.base && owned in o.base) throw new ConfigError(`--base must not set "${owned}": pool config writes it from its arguments`);
  }
  const plan = planShards(o.nodes, o.shards, o.replicas);
  const config: Record<string, unknown> = {
    ...o.base,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    index: resolve(o.index),
    ...(o.indexRoot !== undefined ? { indexRoot: resolve(o.indexRoot) } : {}),
    nodes: plan.map((shards, i) => ({ id: fill(idTemplate, i), url: fill(o.urlTemplate, i), shards, router: true })),
  };
  parseClusterConfig(config, 'the generated cluster config', '/');
  return config;
}

export function poolConfigCommand(cmd: Command): Command {
  return cmd
    .description('write a cluster config for N nodes, S shards and R replicas (the shard assignment of `pool cluster`): what a Kubernetes pod runs before `pool serve`')
    .requiredOption('--nodes <n>', 'node processes (a StatefulSet\'s replicas)', intArg('--nodes'))
    .requiredOption('--shards <n>', 'shards in the index', intArg('--shards'))
    .requiredOption('--replicas <n>', 'copies of each shard, on different nodes', intArg('--replicas'))
    .requiredOption('--url-template <url>', 'node url, {i} = node ordinal (e.g. http://pool-{i}.pool-headless:7700)')
    .option('--id-template <id>', 'node id, {i} = node ordinal', 'node{i}')
    .requiredOption('--index <dir>', 'index directory the nodes serve; when it holds an index.json, its shard count must be --shards')
    .option('--index-root <dir>', 'directory hot swaps may load new versions from (default: the parent of --index)')
    .option('--base <file>', 'JSON file with the other cluster config fields (batching, http, encoder, threads, ...)')
    .option('--threads <n>', 'ONNX and faiss threads per node (overrides --base)', intArg('--threads'))
    .requiredOption('--out <file>', 'where to write the config (replaced atomically)')
    .action(async (o) => {
      let base: Record<string, unknown> | undefined;
      if (o.base) {
        try {
          base = JSON.parse(await readFile(o.base, 'utf8'));
        } catch (err) {
          throw new ConfigError(`--base ${o.base}: ${(err as Error).message}`);
        }
        if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new ConfigError(`--base ${o.base}: not a JSON object`);
      }
      if (existsSync(join(resolve(o.index), 'index.json'))) {
        const have = (await readIndexManifest(resolve(o.index))).shards.length;
        if (have !== o.shards) throw new ConfigError(`${o.index} has ${have} shards, --shards says ${o.shards}`);
      }
      const config = poolConfig({ nodes: o.nodes, shards: o.shards, replicas: o.replicas, urlTemplate: o.urlTemplate, idTemplate: o.idTemplate, index: o.index, indexRoot: o.indexRoot, base, threads: o.threads });
      const out = resolve(o.out);
      await mkdir(dirname(out), { recursive: true });
      const tmp = `${out}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`);
      await rename(tmp, out);
      const nodes = config.nodes as { id: string; shards: number[] }[];
      process.stderr.write(`${out}: ${nodes.length} nodes, ${o.shards} shards x ${o.replicas} replicas (${nodes.map((n) => `${n.id}: ${n.shards.join(',') || '-'}`).join('; ')})\n`);
    });
}
