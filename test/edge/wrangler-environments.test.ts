// The edge's deploy environments (wrangler.toml [env.staging], [env.production]): each builds a
// deploy bundle (`wrangler deploy --dry-run --env ENV`, what `wrangler deploy` would upload) with
// both Durable Object bindings, and its vars make a valid edge configuration (with the secrets each
// environment needs), so a deploy cannot fail on a setting the worker would refuse at its first request.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../../edge/config/index.ts';
import { REPO_ROOT } from '../fixtures.ts';
import { WRANGLER, wranglerEnv } from './harness.ts';

const ENVIRONMENTS = ['staging', 'production'] as const;

describe.each(ENVIRONMENTS)('wrangler environment %s', (env) => {
  it('builds the deploy bundle with its Durable Objects, vars and routes (wrangler deploy --dry-run)', async () => {
    const state = await mkdtemp(join(tmpdir(), `es-wrangler-${env}-`));
    try {
      const run = spawnSync(process.execPath, [WRANGLER, 'deploy', '--dry-run', '--env', env, '--outdir', join(state, 'out')], { cwd: REPO_ROOT, env: wranglerEnv(state), encoding: 'utf8', timeout: 120_000 });
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/env\.RATE_LIMITER \(RateLimiter\)\s+Durable Object/);
      expect(run.stdout).toMatch(/env\.CONVERSATIONS \(Conversation\)\s+Durable Object/);
      expect(run.stdout).toMatch(/env\.POOL_ENDPOINTS /);
      expect((await readFile(join(state, 'out', 'index.js'), 'utf8')).length).toBeGreaterThan(10_000);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  }, 180_000);

  it('has vars the edge accepts, given the secrets the runbook lists', async () => {
    const { unstable_getMiniflareWorkerOptions } = await import('wrangler');
    const { workerOptions } = unstable_getMiniflareWorkerOptions(join(REPO_ROOT, 'wrangler.toml'), env);
    const vars = (workerOptions as { bindings?: Record<string, string> }).bindings ?? {};
    expect(vars.POOL_ENDPOINTS).toMatch(/^\[/);
    expect(vars.POOL_ENDPOINTS).not.toMatch(/http:\/\//); // a deployed edge talks https to the pool
    const secrets = { POOL_SIGNING_KEY: 'a-signing-key', API_KEYS: '[]' };
    const config = parseEdgeConfig({ ...vars, ...secrets });
    expect(config).toBeTruthy();
    // Migrations are per environment (not inherited): both classes are created before first use.
    const toml = await readFile(join(REPO_ROOT, 'wrangler.toml'), 'utf8');
    const from = toml.indexOf(`[env.${env}]`);
    const next = ENVIRONMENTS.map((e) => toml.indexOf(`[env.${e}]`)).filter((i) => i > from);
    const section = toml.slice(from, next.length ? Math.min(...next) : undefined);
    const migrations = section.split(`[[env.${env}.migrations]]`).slice(1);
    expect(migrations.map((m) => /new_sqlite_classes = \[(.*)\]/.exec(m)?.[1])).toEqual(['"RateLimiter"', '"Conversation"']);
  });
});
