// What `npm pack` publishes: only built JavaScript and type declarations (with package.json and
// the README), every export of package.json among them; and the tarball installs into an empty
// project, whose code imports the package and calls a real edge, and whose TypeScript compiles
// against the package's types alone.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, testKey, type EdgeServer } from '../../test/edge/harness.ts';
import { REPO_ROOT } from '../../test/fixtures.ts';

const PACKAGE_DIR = join(REPO_ROOT, 'packages', 'client');
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });

let work: string;
let tarball: string;
let packed: string[];
let edge: EdgeServer;
const key = testKey('packed', ['search']);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'es-client-pack-'));
  // prepack builds dist/ first, as a publish would.
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], PACKAGE_DIR)) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info!.filename);
  packed = info!.files.map((f) => f.path).sort();
  // No pool behind it: health and a search still answer, the search with the API's 503.
  edge = await startEdge({ POOL_ENDPOINTS: 'http://127.0.0.1:9', POOL_SIGNING_KEY: 'k', API_KEYS: JSON.stringify([key.entry]) });
}, 300_000);
afterAll(async () => {
  await edge?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm pack of @edgesearch/client', () => {
  it('holds only built files and types, and every file package.json exports', async () => {
    const strays = packed.filter((p) => !['package.json', 'README.md', 'LICENSE'].includes(p) && !/^dist\/.+\.(js|d\.ts)$/.test(p));
    expect(strays, 'files that are neither built code nor types').toEqual([]);
    expect(packed.filter((p) => /\.test\.|codegen|runtimes\//.test(p))).toEqual([]);
    const pkg = JSON.parse(await readFile(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; default: string }>; bin?: Record<string, string> };
    const targets = Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : [e.types, e.default]));
    for (const target of [...targets, ...Object.values(pkg.bin ?? {})]) expect(packed, target).toContain(target.replace(/^\.\//, ''));
    // Every module has its declarations.
    for (const js of packed.filter((p) => p.endsWith('.js'))) expect(packed, `${js}'s types`).toContain(js.replace(/\.js$/, '.d.ts'));
  });

  it('installs into an empty project that imports it, calls the edge, and type-checks against it', async () => {
    const project = join(work, 'project');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    npm(['install', '--offline', '--no-audit', '--no-fund', tarball], project);
    const main = [
      "import { API_VERSION, EdgeSearchError, createClient } from '@edgesearch/client';",
      'const [endpoint, key] = process.argv.slice(2);',
      'const client = createClient({ endpoint, apiKey: key, retry: false });',
      'const health = await client.health();',
      'const errorOf = (p) => p.then(() => null, (e) => (e instanceof EdgeSearchError ? { status: e.status, code: e.code, retryable: e.retryable } : String(e)));',
      "const down = await errorOf(client.search({ query: 'statins', mode: 'bm25' }));",
      "const badKey = await errorOf(createClient({ endpoint, apiKey: 'es_wrong' }).search({ query: 'x' }));",
      'console.log(JSON.stringify({ API_VERSION, health, down, badKey }));',
    ].join('\n');
    await writeFile(join(project, 'main.mjs'), main);
    const printed = execFileSync(process.execPath, ['main.mjs', edge.url, key.key], { cwd: project, encoding: 'utf8' });
    expect(JSON.parse(printed)).toEqual({
      API_VERSION: '1',
      health: { edge: 'ok', pool: 'down' },
      down: { status: 503, code: 'pool_unavailable', retryable: true },
      badKey: { status: 401, code: 'unauthorized', retryable: false },
    });

    // The declarations are complete: a consumer's strict TypeScript compiles (and a wrong field does not).
    const typed = [
      "import { createClient, type Hit, type SearchRequest } from '@edgesearch/client';",
      "const req: SearchRequest = { query: 'q', mode: 'bm25', k: 3, params: { k1: 1.2 } };",
      "const hits: Hit[] = (await createClient({ endpoint: 'http://x' }).search(req)).hits;",
      'export const first: string | undefined = hits[0]?.span?.text;',
    ].join('\n');
    await writeFile(join(project, 'typed.ts'), typed);
    await writeFile(join(project, 'wrong.ts'), "import type { SearchRequest } from '@edgesearch/client';\nexport const req: SearchRequest = { query: 'q', mode: 'fuzzy' };\n");
    const tsc = async (file: string) => {
      const compilerOptions = { noEmit: true, strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [] };
      await writeFile(join(project, `tsconfig.${file}.json`), JSON.stringify({ compilerOptions, files: [file] }));
      return execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', `tsconfig.${file}.json`], { cwd: project, encoding: 'utf8', stdio: 'pipe' });
    };
    await expect(tsc('typed.ts')).resolves.toBeDefined();
    const wrong = await tsc('wrong.ts').then(() => 'compiled', (e: { stdout: string }) => e.stdout);
    expect(wrong).toMatch(/"fuzzy"/);
  });
});
