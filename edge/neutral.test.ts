// Workers code only: nothing under edge/ (tests aside) or shared/api may use Node built-ins or
// generate code, or the bundle would not run in workerd.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../test/fixtures.ts';
import { expectRuntimeNeutral } from '../test/runtime-neutral.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.includes('.test-') ? [path] : [];
  });
}

const files = [...sources(join(REPO_ROOT, 'edge')), ...sources(join(REPO_ROOT, 'shared', 'api'))].map((f) => relative(REPO_ROOT, f));

describe('edge runtime neutrality', () => {
  it('finds the sources', () => {
    expect(files).toEqual(expect.arrayContaining(['edge/index.ts', 'edge/api/app.ts', 'edge/pool/pool-transport.ts', 'shared/api/schemas.ts']));
  });

  it.each(files)('%s uses Web APIs only', (file) => {
    const code = readFileSync(join(REPO_ROOT, file), 'utf8');
    expectRuntimeNeutral(
      file,
      code,
      (spec) =>
        (spec.startsWith('.') && !spec.includes('gpu-pool')) ||
        ['zod', 'msgpackr', 'hono', '@edgesearch/client', '@edgesearch/client/mcp'].includes(spec) ||
        spec.startsWith('hono/') ||
        // the MCP server of edge/mcp: the SDK's Web-standard transport and the code-free validator
        ['@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js', '@modelcontextprotocol/sdk/validation/cfworker'].includes(spec),
    );
  });
});
