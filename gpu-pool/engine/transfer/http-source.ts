// Pull over HTTP(S) from a static file server: GET with Range to resume.
import http from 'node:http';
import https from 'node:https';
import { NotFoundError, TransferError } from './errors.ts';
import { isLoopbackHost } from './location.ts';
import type { RemoteRead, Source } from './remote.ts';

const MAX_REDIRECTS = 5;

export interface HttpSourceOptions {
  /** Idle socket timeout: a stalled transfer is dropped and retried. */
  timeoutMs?: number;
}

export class HttpSource implements Source {
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(
    private readonly base: URL,
    private readonly opts: HttpSourceOptions = {},
  ) {}

  describe(key: string): string {
    return new URL(key.split('/').map(encodeURIComponent).join('/'), this.base).href;
  }

  read(key: string, start: number): Promise<RemoteRead> {
    return this.get(new URL(this.describe(key)), start, 0);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private get(url: URL, start: number, redirects: number): Promise<RemoteRead> {
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (start > 0) headers.range = `bytes=${start}-`;
    return new Promise<RemoteRead>((resolve, reject) => {
      const req = (secure ? https : http).get(url, { headers, agent: secure ? this.agents.https : this.agents.http, timeout: this.opts.timeoutMs ?? 30_000 }, (res) => {
        const status = res.statusCode ?? 0;
        const drain = () => res.resume();
        if (status >= 300 && status < 400 && res.headers.location) {
          drain();
          if (redirects >= MAX_REDIRECTS) return reject(new TransferError(`${url.href}: more than ${MAX_REDIRECTS} redirects`));
          const next = new URL(res.headers.location, url);
          if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopbackHost(next.hostname))) {
            return reject(new TransferError(`${url.href}: redirected to ${next.href}, which is neither https:// nor http:// on loopback`));
          }
          return this.get(next, start, redirects + 1).then(resolve, reject);
        }
        if (status === 404 || status === 410) {
          drain();
          return reject(new NotFoundError(url.href));
        }
        if (status === 416) {
          drain();
          return reject(new TransferError(`${url.href}: the server holds fewer than ${start} bytes (416 Range Not Satisfiable): the file is shorter than its manifest says`));
        }
        if (status >= 500 || status === 408 || status === 429) {
          drain();
          return reject(new Error(`${url.href}: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
        }
        if (status !== 200 && status !== 206) {
          drain();
          return reject(new TransferError(`${url.href}: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
        }
        let from = 0;
        let total: number | undefined;
        if (status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
          if (!m) {
            drain();
            return reject(new TransferError(`${url.href}: 206 without a usable Content-Range (${res.headers['content-range'] ?? 'none'})`));
          }
          from = Number(m[1]);
          if (m[3] !== '*') total = Number(m[3]);
          if (from !== start) {
            drain();
            return reject(new TransferError(`${url.href}: asked for bytes from ${start}, the server sent from ${from}`));
          }
        } else if (res.headers['content-length'] !== undefined) {
          total = Number(res.headers['content-length']);
        }
        const expectedEnd = res.headers['content-length'] !== undefined ? from + Number(res.headers['content-length']) : undefined;
        resolve({ start: from, total, body: checkedBody(res, url.href, from, expectedEnd), abort: () => req.destroy() });
      });
      req.on('timeout', () => req.destroy(new Error(`${url.href}: no data for ${(this.opts.timeoutMs ?? 30_000) / 1000}s`)));
      req.on('error', reject);
    });
  }
}

/** A body that ends short of its Content-Length (a dropped connection) fails instead of ending quietly. */
async function* checkedBody(res: http.IncomingMessage, url: string, from: number, expectedEnd: number | undefined): AsyncIterable<Uint8Array> {
  let at = from;
  for await (const chunk of res) {
    at += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  if (!res.complete || (expectedEnd !== undefined && at < expectedEnd)) throw new Error(`${url}: connection closed after byte ${at}${expectedEnd !== undefined ? ` of ${expectedEnd}` : ''}`);
}
