// Runs the real CLI in a child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './fixtures.ts';

export const CLI = join(REPO_ROOT, 'bin', 'edgesearch.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts `node args…` from the repository root with the environment `env` (whole, not added to
 * process.env); with `stdin`, writes it to the child's stdin and closes it.
 */
export function startNode(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: opts.env ?? process.env, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  return { child, done };
}

export function runNode(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliResult> {
  return startNode(args, opts).done;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  return startNode([CLI, ...args], { env: { ...process.env, ...env } });
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).done;
}
