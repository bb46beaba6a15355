import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ResultFrame, WireQuery } from '../../../shared/protocol/index.ts';
import { importSigningKey } from '../../../shared/protocol/index.ts';
import { postFrame, type PostedFrame } from './post-frame.ts';

/** A Node client of pool routers: tests, benchmarks and tools use it; edges have their own. */
export class PoolClient {
  // Load tests keep hundreds of requests in flight; queueing them here would hide the server's latency.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  private readonly endpoint: URL;

  private constructor(
    url: string,
    private readonly key: CryptoKey,
  ) {
    this.endpoint = new URL('/v1/batch', url);
  }

  static async create(url: string, signingKey: string): Promise<PoolClient> {
    return new PoolClient(url, await importSigningKey(signingKey));
  }

  /** Sends one search frame; resolves with whatever frame the router answers (result or error). */
  post(queries: WireQuery[], opts: { deadlineMs?: number; batchId?: string; signal?: AbortSignal } = {}): Promise<PostedFrame> {
    const frame = { v: 1 as const, type: 'search' as const, batchId: opts.batchId ?? randomUUID(), deadline: Date.now() + (opts.deadlineMs ?? 5000), queries };
    return postFrame(this.endpoint, frame, { key: this.key, agent: this.agent, signal: opts.signal });
  }

  /** Sends one search frame and returns its result frame; an error frame becomes an exception. */
  async search(queries: WireQuery[], opts: { deadlineMs?: number } = {}): Promise<ResultFrame> {
    const { status, frame } = await this.post(queries, opts);
    if (frame.type === 'error') throw Object.assign(new Error(`pool answered ${status} ${frame.code}: ${frame.message}`), { code: frame.code, status });
    if (frame.type !== 'result') throw new Error(`pool answered a ${frame.type} frame to a search`);
    return frame;
  }

  close(): void {
    this.agent.destroy();
  }
}
