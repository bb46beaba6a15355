import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// gpu-pool has two wings: the engine (build, maintain and search an index in one process) and
// the service (router, shard host, server, cluster ...) built on it. The engine never reaches
// into the service or the CLI, tests included, so it can be used and tested on its own.
const HERE = dirname(fileURLToPath(import.meta.url));
const SPECIFIER = /(?:from\s*|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

async function* sources(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'build') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(ts|js|mjs)$/.test(entry.name)) yield path;
  }
}

it('the engine imports nothing from the service or the CLI', async () => {
  const crossings: string[] = [];
  let files = 0;
  for await (const file of sources(join(HERE, 'engine'))) {
    files++;
    for (const [, spec] of (await readFile(file, 'utf8')).matchAll(SPECIFIER)) {
      const target = relative(HERE, resolve(dirname(file), spec));
      if (/^(service|cli)\//.test(target)) crossings.push(`${relative(HERE, file)} imports ${spec}`);
    }
  }
  expect(files).toBeGreaterThan(50);
  expect(crossings).toEqual([]);
});
