// Training on fewer vectors than faiss recommends: faiss's warning (one per k-means run, thousands
// for OPQ) is silenced and ours is printed once, and silencing changes nothing that training makes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TrainingClustering } from './index.ts';
import { trainingDataWarning } from './training-warning.ts';

const CHILD = fileURLToPath(new URL('./train-child.ts', import.meta.url));
const FAISS_WARNING = /WARNING clustering \d+ points to \d+ centroids: please provide at least \d+ training points/g;

interface ChildResult {
  stderr: string;
  out: { clusterings: TrainingClustering[]; roundTrip: number[]; distances: number[]; labels: number[] };
}

function train(factoryKey: string, mode: 'quiet' | 'faiss', n: number, d: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, factoryKey, mode, String(n), String(d)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_NUM_THREADS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ stderr, out: JSON.parse(stdout) }) : reject(new Error(`child exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

const count = (s: string, re: RegExp) => s.match(re)?.length ?? 0;

describe('training on a small sample', () => {
  // 600 vectors: short of 39 x 256 for every PQ (and OPQ's PQ) and of 39 x 16 for IVF16.
  const N = 600;
  // np: polysemous training would take minutes.
  for (const key of ['OPQ8,IVF16,PQ8np', 'HNSW16_PQ8np']) {
    it(`${key}: no faiss warning, ours once with the count; same trained index as with faiss's warnings`, async () => {
      const [quiet, loud] = await Promise.all([train(key, 'quiet', N, 32), train(key, 'faiss', N, 32)]);

      // With faiss's warnings on, faiss prints one per k-means run that the binding lists: the
      // walk of the index structure finds every clustering training runs.
      const runs = quiet.out.clusterings.reduce((sum, c) => sum + c.runs, 0);
      expect(runs).toBeGreaterThan(0);
      expect(count(loud.stderr, FAISS_WARNING)).toBe(runs);

      expect(count(quiet.stderr, FAISS_WARNING)).toBe(0);
      const ours = quiet.stderr.split('\n').filter((l) => l.startsWith('warning: '));
      expect(ours).toHaveLength(1);
      expect(ours[0]).toContain(`training on ${N} vectors, fewer than the ${39 * 256} (39 per centroid x 256 centroids)`);
      expect(ours[0]).toContain(`printed ${runs} times`);
      expect(quiet.stderr.trim()).toBe(ours[0]);

      // Same process set-up and code path, so any difference would come from silencing; a
      // tolerance only for the last bits of float arithmetic.
      expect(quiet.out.roundTrip).toHaveLength(loud.out.roundTrip.length);
      quiet.out.roundTrip.forEach((v, i) => expect(Math.abs(v - loud.out.roundTrip[i])).toBeLessThan(1e-5));
      expect(quiet.out.labels).toEqual(loud.out.labels);
      quiet.out.distances.forEach((v, i) => expect(Math.abs(v - loud.out.distances[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
    });
  }

  it('lists the clusterings of OPQ + IVF-PQ: M per OPQ alternation, the coarse quantizer, M for the PQ', async () => {
    const { out } = await train('OPQ8,IVF16,PQ8np', 'quiet', N, 32);
    expect(out.clusterings).toEqual([
      { what: "OPQ rotation's PQ", centroids: 256, minPointsPerCentroid: 39, runs: 3 * 8 },
      { what: 'IVF coarse quantizer', centroids: 16, minPointsPerCentroid: 39, runs: 1 },
      { what: 'PQ sub-quantizers', centroids: 256, minPointsPerCentroid: 39, runs: 8 },
    ]);
  });
});

describe('trainingDataWarning', () => {
  const ivf: TrainingClustering = { what: 'IVF coarse quantizer', centroids: 256, minPointsPerCentroid: 39, runs: 1 };
  const pq: TrainingClustering = { what: 'PQ sub-quantizers', centroids: 16, minPointsPerCentroid: 39, runs: 4 };

  it('is silent with enough points for every clustering', () => {
    expect(trainingDataWarning(39 * 256, [ivf, pq])).toBeUndefined();
  });

  it('names the largest requirement and counts only the runs that are short', () => {
    const m = trainingDataWarning(1000, [ivf, pq])!;
    expect(m).toContain(`fewer than the ${39 * 256} (39 per centroid x 256 centroids)`);
    expect(m).toContain('IVF coarse quantizer: 256 centroids');
    expect(m).not.toContain('PQ sub-quantizers'); // 1000 >= 39 x 16
    expect(m).toContain('printed 1 times');
  });
});
