// Pool readiness for /v1/health (the verdict only) and /v1/admin/health (each router, with why
// it is not ready): each router's /readyz, asked at most once per `ttlMs` per isolate (health
// is public; it must not become a way to multiply requests to the pool).
// Only finished answers are shared: a request never waits on another request's fetch, which
// workerd would cancel.
import type { z } from 'zod';
import type { EndpointHealth } from '../../shared/api/index.ts';
import type { EndpointPicker } from './endpoint-picker.ts';

/** One router as /v1/admin/health reports it. */
export type EndpointReadiness = z.infer<typeof EndpointHealth>;

export class ReadinessProbe {
  private last?: { at: number; ready: Map<string, { ready: boolean; detail?: string }> };

  constructor(
    private readonly picker: EndpointPicker,
    private readonly opts: { ttlMs: number; timeoutMs: number; now?: () => number },
  ) {}

  async check(): Promise<EndpointReadiness[]> {
    const now = (this.opts.now ?? Date.now)();
    if (!this.last || now - this.last.at >= this.opts.ttlMs) {
      const answers = await Promise.all(this.picker.endpoints.map((e) => this.ask(e.url)));
      this.last = { at: now, ready: new Map(this.picker.endpoints.map((e, i) => [e.url, answers[i]])) };
    }
    const ready = this.last.ready;
    return this.picker.states().map((e) => ({ ...e, ...ready.get(e.url)! }));
  }

  private async ask(url: string): Promise<{ ready: boolean; detail?: string }> {
    try {
      const res = await fetch(new URL('/readyz', url).href, { signal: AbortSignal.timeout(this.opts.timeoutMs) });
      if (res.status === 200) {
        await res.body?.cancel();
        return { ready: true };
      }
      const body = (await res.json().catch(() => ({}))) as { reason?: string };
      return { ready: false, detail: body.reason ?? `HTTP ${res.status}` };
    } catch (err) {
      return { ready: false, detail: (err as Error).message };
    }
  }
}
