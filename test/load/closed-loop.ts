// Closed-loop load: `clients` loops each send one-query frames back to back until `durationMs`
// or `maxQueries` is reached. Bounded in count and time; loopback only.
import type { WireQuery } from '../../shared/protocol/index.ts';
import type { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';

export interface LoadSample {
  query: WireQuery;
  ok: boolean;
  /** Error code for a failed query (overloaded, deadline, unreachable, ...). */
  code?: string;
  latencyMs: number;
  /** The top doc ids, for correctness checks. */
  ids?: string[];
  partial?: number[];
  /** The router's own time for the frame (timings.totalMs), for answered queries. */
  serverMs?: number;
  at: number;
}

/** Sends one one-query frame and classifies the outcome; `t0` is the run's start (for `at`). */
export async function sendQuery(client: PoolClient, query: WireQuery, deadlineMs: number, t0: number): Promise<LoadSample> {
  const t = performance.now();
  const at = t - t0;
  try {
    const { frame } = await client.post([query], { deadlineMs });
    const latencyMs = performance.now() - t;
    if (frame.type === 'error') return { query, ok: false, code: frame.code, latencyMs, at };
    if (frame.type !== 'result') return { query, ok: false, code: `unexpected ${frame.type}`, latencyMs, at };
    const r = frame.results[0];
    if (r.error) return { query, ok: false, code: r.error.code, latencyMs, at };
    return { query, ok: true, latencyMs, ids: r.hits.map((h) => h.docId), partial: r.partial?.missingShards, serverMs: frame.timings.totalMs, at };
  } catch (err) {
    return { query, ok: false, code: (err as { code?: string }).code ?? 'transport', latencyMs: performance.now() - t, at };
  }
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
  return closedLoopWith((i, t0) => sendQuery(client, opts.query(i), opts.deadlineMs ?? 5000, t0), opts);
}

/** The same loop over any sender (the edge's HTTP API, for one): `send(i, t0)` sends the i-th query. */
export async function closedLoopWith(send: (i: number, t0: number) => Promise<LoadSample>, opts: { clients: number; durationMs: number; maxQueries?: number }): Promise<{ samples: LoadSample[]; seconds: number }> {
  const samples: LoadSample[] = [];
  const t0 = performance.now();
  const end = t0 + opts.durationMs;
  let next = 0;
  const loop = async () => {
    while (performance.now() < end && (opts.maxQueries === undefined || next < opts.maxQueries)) {
      samples.push(await send(next++, t0));
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, loop));
  return { samples, seconds: (performance.now() - t0) / 1000 };
}

/** Throughput and latency of the answered queries, and what the failed ones failed with. */
export function summarizeLoad(samples: LoadSample[], seconds: number): { qps: number; p50: number; p95: number; p99: number; failed: number; codes: string[] } {
  const ok = samples.filter((s) => s.ok).map((s) => s.latencyMs);
  const codes = [...new Set(samples.filter((s) => !s.ok).map((s) => s.code ?? '?'))];
  return { qps: ok.length / seconds, p50: percentile(ok, 50), p95: percentile(ok, 95), p99: percentile(ok, 99), failed: samples.length - ok.length, codes };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
