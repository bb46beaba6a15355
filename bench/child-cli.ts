// Runs the real CLI as a child process for benchmarks: wall time and the child's peak RSS
// (GNU time reports it on stderr).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/fixtures.ts';

const cli = join(REPO_ROOT, 'bin', 'edgesearch.js');

export interface TimedRun {
  seconds: number;
  peakRssMB: number;
  stdout: string;
}

export function timedCli(args: string[]): TimedRun {
  const t = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', 'PEAKRSS %M', process.execPath, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) {
    process.stderr.write(run.stderr ?? '');
    throw new Error(`edgesearch ${args.join(' ')} exited with ${run.status ?? run.signal}`);
  }
  const m = /PEAKRSS (\d+)/.exec(run.stderr);
  return { seconds: (performance.now() - t) / 1000, peakRssMB: m ? Number(m[1]) / 1024 : NaN, stdout: run.stdout };
}
