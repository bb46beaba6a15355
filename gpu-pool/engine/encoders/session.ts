// Create an onnxruntime session, trying execution providers in order and falling back to the
// next with a logged warning (onnxruntime-node's CPU build cannot load 'cuda': it falls back).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { providerName, type ExecutionProvider } from './manifest.ts';

/** Providers that onnxruntime loads from a shared library installed beside its binding. */
const PROVIDER_LIBRARIES: Record<string, string> = {
  cuda: 'onnxruntime_providers_cuda',
  tensorrt: 'onnxruntime_providers_tensorrt',
};

/**
 * The provider library that would have to be installed for `provider`, when it is missing (null when
 * present or when the provider is not loaded from a library). Checked before trying, because a failed
 * load makes onnxruntime print a multi-line error to stderr that no session option silences.
 */
export function missingProviderLibrary(provider: string): string | null {
  const lib = PROVIDER_LIBRARIES[provider];
  if (!lib) return null;
  let binDir: string;
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    binDir = join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
  const file = process.platform === 'win32' ? `${lib}.dll` : process.platform === 'darwin' ? `lib${lib}.dylib` : `lib${lib}.so`;
  const path = join(binDir, file);
  return existsSync(path) ? null : path;
}

export interface SessionConfig {
  /** Tried in order; a provider with options is passed to onnxruntime as it is. */
  providers: ExecutionProvider[];
  intraOpThreads?: number;
  interOpThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  extra?: Record<string, unknown>;
  log?: (msg: string) => void;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** The execution provider that worked. */
  provider: string;
}

export async function createSession(onnxPath: string, cfg: SessionConfig): Promise<OpenedSession> {
  if (cfg.providers.length === 0) throw new Error('no execution providers given');
  const failures: string[] = [];
  for (let i = 0; i < cfg.providers.length; i++) {
    const spec = cfg.providers[i];
    const provider = providerName(spec);
    const next = i + 1 < cfg.providers.length ? providerName(cfg.providers[i + 1]) : undefined;
    const last = next === undefined;
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [spec as ort.InferenceSession.ExecutionProviderConfig],
      // Keep onnxruntime's own error print-out quiet while probing providers that may be absent.
      logSeverityLevel: last ? 2 : 4,
    };
    if (cfg.intraOpThreads) options.intraOpNumThreads = cfg.intraOpThreads;
    if (cfg.interOpThreads) options.interOpNumThreads = cfg.interOpThreads;
    if (cfg.graphOptimizationLevel) options.graphOptimizationLevel = cfg.graphOptimizationLevel;
    if (cfg.extra) options.extra = cfg.extra;
    const missing = missingProviderLibrary(provider);
    if (missing) {
      failures.push(`${provider}: not installed (${missing} is missing)`);
      if (!last) cfg.log?.(`execution provider '${provider}' not installed (no ${missing}); falling back to '${next}'`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(onnxPath, options);
      return { session, provider };
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0];
      failures.push(`${provider}: ${msg}`);
      if (!last) cfg.log?.(`execution provider '${provider}' unavailable (${msg}); falling back to '${next}'`);
    }
  }
  throw new Error(`cannot create an onnxruntime session for ${onnxPath}:\n  ${failures.join('\n  ')}`);
}

/** Input and output names of a session, and the declared output shapes. */
export interface OnnxIo {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputTypes: Record<string, string>;
  outputShapes: Record<string, readonly (number | string)[]>;
}

export function describeSession(session: ort.InferenceSession): OnnxIo {
  const inputTypes: Record<string, string> = {};
  const outputShapes: Record<string, readonly (number | string)[]> = {};
  for (const m of session.inputMetadata ?? []) if (m.isTensor) inputTypes[m.name] = m.type;
  for (const m of session.outputMetadata ?? []) if (m.isTensor) outputShapes[m.name] = m.shape;
  return { inputNames: session.inputNames, outputNames: session.outputNames, inputTypes, outputShapes };
}

/** A tensor as plain data: what crosses a thread boundary. */
export interface TensorData {
  type: 'int32' | 'int64' | 'float32';
  data: Int32Array | BigInt64Array | Float32Array;
  dims: readonly number[];
}

/**
 * What an encoder needs from onnxruntime: the graph's inputs and outputs, and a run of one
 * output. Implemented on the calling thread (`sessionRunner`) and on a worker thread
 * (`openWorkerRunner`, session-thread.ts), because onnxruntime-node runs inference
 * synchronously on the thread that calls it.
 */
export interface OnnxRunner {
  readonly io: OnnxIo;
  /** The execution provider that worked. */
  readonly provider: string;
  run(feeds: Record<string, TensorData>, output: string): Promise<TensorData>;
  release(): Promise<void>;
}

export function sessionRunner({ session, provider }: OpenedSession): OnnxRunner {
  return {
    io: describeSession(session),
    provider,
    async run(feeds, output) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) tensors[name] = new ort.Tensor(t.type, t.data, t.dims);
      const out = (await session.run(tensors, [output]))[output];
      try {
        if (out.type !== 'float32' && out.type !== 'int32' && out.type !== 'int64') throw new Error(`output ${output} is ${out.type}, not a float32/int32/int64 tensor`);
        // Copied: the tensor's memory belongs to onnxruntime and goes with dispose().
        const data = out.data as Float32Array | Int32Array | BigInt64Array;
        return { type: out.type, data: data.slice(), dims: [...out.dims] };
      } finally {
        out.dispose?.();
      }
    },
    release: () => session.release(),
  };
}
