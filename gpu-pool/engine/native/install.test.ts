// The install script rebuilds the faiss addons only when what they are built from changed: a
// needless rebuild deletes build/ under every process loading the addon (npx runs the script
// the first time it meets a checkout). Checked on a copy of the build's inputs, and on the
// build in place, which `npm ci` made through this script.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const NATIVE_DIR = new URL('.', import.meta.url).pathname;
const { buildInputs, staleness } = createRequire(import.meta.url)('./install.cjs') as {
  buildInputs(dir: string, avx2?: string): { digest: string; addons: string[] };
  staleness(dir: string, inputs?: { digest: string; addons: string[] }): string | undefined;
};

const work = mkdtempSync(join(tmpdir(), 'es-native-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the addon's inputs with a (fake) build made from them, as the script records one. */
function builtCopy(name: string): string {
  const dir = join(work, name);
  cpSync(join(NATIVE_DIR, 'src'), join(dir, 'src'), { recursive: true });
  cpSync(join(NATIVE_DIR, 'binding.gyp'), join(dir, 'binding.gyp'));
  mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
  writeFileSync(join(dir, 'build', 'Release', 'faiss_node.node'), 'addon');
  writeFileSync(join(dir, 'build', 'edgesearch-build.json'), JSON.stringify({ digest: buildInputs(dir, '').digest }));
  return dir;
}

describe('native install script', () => {
  it('finds a build made from the same inputs current, and names what changed otherwise', () => {
    const dir = builtCopy('same');
    expect(staleness(dir, buildInputs(dir, ''))).toBeUndefined();

    appendFileSync(join(dir, 'src', 'addon.cc'), '\n// edited\n');
    expect(staleness(dir, buildInputs(dir, ''))).toMatch(/sources, binding.gyp, the AVX2 faiss build or the Node ABI changed/);

    const avx2 = builtCopy('avx2');
    // An AVX2 faiss build appearing (scripts/build-faiss) means a second addon to build.
    const fakeAvx2 = join(work, 'faiss-avx2');
    mkdirSync(fakeAvx2, { recursive: true });
    writeFileSync(join(fakeAvx2, 'build.json'), '{"faiss":"1.7.3"}');
    expect(staleness(avx2, buildInputs(avx2, fakeAvx2))).toBe('faiss_node_avx2.node not built');

    const unstamped = builtCopy('unstamped');
    rmSync(join(unstamped, 'build', 'edgesearch-build.json'));
    expect(staleness(unstamped, buildInputs(unstamped, ''))).toBe('no record of what the build was made from');
    rmSync(join(unstamped, 'build', 'Release', 'faiss_node.node'));
    expect(staleness(unstamped, buildInputs(unstamped, ''))).toBe('faiss_node.node not built');
  });

  it('the digest covers every source file and the AVX2 build', () => {
    const dir = builtCopy('digest');
    const base = buildInputs(dir, '').digest;
    writeFileSync(join(dir, 'src', 'new.h'), '#pragma once\n');
    expect(buildInputs(dir, '').digest).not.toBe(base);
    rmSync(join(dir, 'src', 'new.h'));
    expect(buildInputs(dir, '').digest).toBe(base);
  });

  it('finds the build in place current: installing again rebuilds nothing', () => {
    const out = execFileSync(process.execPath, [join(NATIVE_DIR, 'install.cjs'), '--check'], { encoding: 'utf8' });
    expect(out.trim()).toBe('faiss binding: up to date');
  });
});
