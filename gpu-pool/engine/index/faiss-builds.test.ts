// The two faiss builds the binding can load (Debian's libfaiss-dev and scripts/build-faiss's AVX2
// one) must answer alike: each searches the same index file in its own process. Float kernels
// differ in the last bits between builds, so distances agree within a tolerance and labels may
// differ only where two distances are that close.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AVX2_ADDON_PATH, chosenAddon, ADDON_PATH } from './native.ts';

const dir = mkdtempSync(join(tmpdir(), 'es-faiss-builds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = `
import { FaissIndex, setThreads } from ${JSON.stringify(join(import.meta.dirname, 'index.ts'))};
import { faissBuild } from ${JSON.stringify(join(import.meta.dirname, 'native.ts'))};
import { clustered } from ${JSON.stringify(join(import.meta.dirname, 'test-helpers.ts'))};
import { existsSync } from 'node:fs';
setThreads(1);
const [file, key] = process.argv.slice(-2);
const d = 64;
const xb = clustered(4000, d, 40, 11);
const xq = clustered(50, d, 40, 11, 12);
let index;
if (!existsSync(file)) {
  index = FaissIndex.create(d, key, 'ip', { opqIterations: 3 });
  await index.train(xb);
  await index.add(xb);
  await index.writeFile(file);
} else {
  index = await FaissIndex.readFile(file);
}
const r = await index.search(xq, 10, { nprobe: 8, efSearch: 64 });
process.stdout.write(JSON.stringify({ build: faissBuild(), labels: Array.from(r.labels, Number), distances: Array.from(r.distances) }));
`;

function searchWith(build: 'debian' | 'avx2', file: string, key: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, file, key], {
    encoding: 'utf8',
    env: { ...process.env, EDGESEARCH_FAISS: build },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { build: string; labels: number[]; distances: number[] };
}

describe('faiss builds', () => {
  it('EDGESEARCH_FAISS picks the addon, and a bad value or a missing build is a clear error', () => {
    expect(chosenAddon({ EDGESEARCH_FAISS: 'debian' })).toEqual({ build: 'debian', path: ADDON_PATH });
    expect(() => chosenAddon({ EDGESEARCH_FAISS: 'fast' })).toThrow(/EDGESEARCH_FAISS must be "debian" or "avx2", got "fast"/);
    if (existsSync(AVX2_ADDON_PATH)) expect(chosenAddon({ EDGESEARCH_FAISS: 'avx2' }).path).toBe(AVX2_ADDON_PATH);
    else expect(() => chosenAddon({ EDGESEARCH_FAISS: 'avx2' })).toThrow(/run scripts\/build-faiss/);
  });

  const TOLERANCE = 1e-4;
  for (const key of ['Flat', 'IVF32,PQ16np', 'OPQ16,IVF32,PQ16np', 'HNSW16', 'IVF32,PQ8np,RFlat']) {
    it.skipIf(!existsSync(AVX2_ADDON_PATH))(`${key}: the AVX2 build answers as Debian's does, on the same file`, () => {
      const file = join(dir, `${key.replace(/\W+/g, '_')}.faiss`);
      const a = searchWith('debian', file, key);
      const b = searchWith('avx2', file, key);
      expect([a.build, b.build]).toEqual(['debian', 'avx2']);
      for (let i = 0; i < a.labels.length; i++) {
        expect(Math.abs(a.distances[i] - b.distances[i])).toBeLessThanOrEqual(TOLERANCE);
        if (a.labels[i] !== b.labels[i]) {
          // only a near-tie may swap places: the other build's label sits within the tolerance
          const row = Math.floor(i / 10) * 10;
          const j = a.labels.slice(row, row + 10).indexOf(b.labels[i]);
          expect(j).toBeGreaterThanOrEqual(0);
          expect(Math.abs(a.distances[row + j] - a.distances[i])).toBeLessThanOrEqual(TOLERANCE);
        }
      }
    });
  }
});
