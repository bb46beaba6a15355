// Closed-loop load: `clients` loops each send one-query frames back to back until `durationMs`
// or `maxQueries` is reached. Bounded in count and time; loopback only.
import type { WireQuery } from '../../shared/protocol/index.ts';
import type { PoolClient } from '../../gpu-pool/pool-client/index.ts';

export interface LoadSample {
  query: WireQuery;
  ok: boolean;
  /** Error code for a failed query (overloaded, deadline, unreachable, ...). */
  code?: string;
  latencyMs: number;
  /** The top doc ids, for correctness checks. */
  ids?: string[];
  partial?: number[];
  at: number;
}

export interface LoadOptions {
  clients: number;
  durationMs: number;
  maxQueries?: number;
  deadlineMs?: number;
  /** The i-th query sent (cycled by the caller's choice). */
  query: (i: number) => WireQuery;
}

export async function closedLoop(client: PoolClient, opts: LoadOptions): Promise<{ samples: LoadSample[]; seconds: number }> {
  const samples: LoadSample[] = [];
  const t0 = performance.now();
  const end = t0 + opts.durationMs;
  let next = 0;
  const loop = async () => {
    while (performance.now() < end && (opts.maxQueries === undefined || next < opts.maxQueries)) {
      const query = opts.query(next++);
      const t = performance.now();
      try {
        const { frame } = await client.post([query], { deadlineMs: opts.deadlineMs ?? 5000 });
        const latencyMs = performance.now() - t;
        if (frame.type === 'result') {
          const r = frame.results[0];
          samples.push(r.error ? { query, ok: false, code: r.error.code, latencyMs, at: t - t0 } : { query, ok: true, latencyMs, ids: r.hits.map((h) => h.docId), partial: r.partial?.missingShards, at: t - t0 });
        } else if (frame.type === 'error') samples.push({ query, ok: false, code: frame.code, latencyMs, at: t - t0 });
        else samples.push({ query, ok: false, code: `unexpected ${frame.type}`, latencyMs, at: t - t0 });
      } catch (err) {
        samples.push({ query, ok: false, code: (err as { code?: string }).code ?? 'transport', latencyMs: performance.now() - t, at: t - t0 });
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, loop));
  return { samples, seconds: (performance.now() - t0) / 1000 };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
