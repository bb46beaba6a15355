// A lean HTTP client of the edge's JSON API for load tests and benchmarks: keep-alive sockets
// and http.request, like the pool's own client, so the two are compared on equal terms.
import http from 'node:http';
import type { SearchRequestInput, SearchResponse } from '../../shared/api/index.ts';
import type { WireQuery } from '../../shared/protocol/index.ts';
import type { LoadSample } from './closed-loop.ts';

export class EdgeLoadClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

  constructor(
    private readonly url: string,
    private readonly apiKey: string,
  ) {}

  post(path: string, body: unknown): Promise<{ status: number; json: unknown; headers: http.IncomingHttpHeaders }> {
    const bytes = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        new URL(path, this.url),
        { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': String(bytes.length), authorization: `Bearer ${this.apiKey}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), headers: res.headers });
            } catch {
              reject(new Error(`HTTP ${res.statusCode}: not JSON: ${text.slice(0, 200)}`));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(bytes);
    });
  }

  search(body: SearchRequestInput): Promise<{ status: number; json: unknown; headers: http.IncomingHttpHeaders }> {
    return this.post('/v1/search', body);
  }

  /** One search as a load sample (same shape as the pool's load samples). */
  async sample(body: SearchRequestInput, t0: number): Promise<LoadSample & { cached?: boolean }> {
    const query: WireQuery = { id: '', mode: body.mode ?? 'hybrid', k: body.k ?? 10, text: body.query };
    const t = performance.now();
    const at = t - t0;
    try {
      const { status, json } = await this.search(body);
      const latencyMs = performance.now() - t;
      if (status !== 200) return { query, ok: false, code: `${status} ${(json as { error?: { code?: string } }).error?.code ?? ''}`.trim(), latencyMs, at };
      const r = json as SearchResponse;
      return { query, ok: true, latencyMs, ids: r.hits.map((h) => h.docId), partial: r.partial?.missingShards, serverMs: r.timings.edgeMs, at, cached: r.cached };
    } catch (err) {
      return { query, ok: false, code: `transport: ${(err as Error).message}`, latencyMs: performance.now() - t, at };
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
