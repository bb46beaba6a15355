// The machine a benchmark ran on, read from the machine: CPU model and count, vector extensions,
// memory, the OpenBLAS kernel faiss's matrix products use, Node. Tables quote it so that figures
// from different machines are never mistaken for each other.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ADDON_PATH } from '../gpu-pool/engine/index/native.ts';

/**
 * OpenBLAS picks its kernel by CPU at load time (or from OPENBLAS_CORETYPE) and says which with
 * OPENBLAS_VERBOSE=2: loading the faiss binding in a child process reads it without a C API.
 */
function blasKernel(): string {
  const child = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(ADDON_PATH)})`], {
    env: { ...process.env, OPENBLAS_VERBOSE: '2' },
    encoding: 'utf8',
  });
  if (child.error || child.status !== 0) return `unknown (${child.error?.message ?? child.stderr.split('\n')[0]})`;
  // OpenBLAS writes it to standard output.
  return /Core:\s*(\S+)/.exec(`${child.stdout}${child.stderr}`)?.[1] ?? 'unknown (not a dynamic-arch OpenBLAS)';
}

function vectorExtensions(): string {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    const simd = ['avx512f', 'avx2', 'avx', 'sse4_2'].find((f) => flags.includes(f));
    return simd ?? 'none of sse4_2/avx/avx2/avx512f';
  } catch {
    return 'unknown';
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  simd: string;
  memoryGiB: number;
  blasKernel: string;
  node: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    simd: vectorExtensions(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    blasKernel: blasKernel(),
    node: process.version,
  };
}

/** One line for a result table. */
export function machineLine(extra = ''): string {
  const m = describeMachine();
  return `Machine: ${m.cpu}, ${m.cores} cores (${m.simd}), ${m.memoryGiB} GiB, OpenBLAS kernel ${m.blasKernel}, Node ${m.node}${extra ? `, ${extra}` : ''}.`;
}
