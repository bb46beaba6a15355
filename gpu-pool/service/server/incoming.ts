// What a node reads off an incoming request besides its body.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';

/** A header's value (the first, when sent twice). */
export function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's request id when it sent a sane one (edges do), else a fresh one: it ties logs to answers. */
export function requestIdOf(req: http.IncomingMessage): string {
  const given = header(req, 'x-request-id');
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The client closed the connection mid-request: nothing to answer, nothing wrong with the node. */
export function clientGone(req: http.IncomingMessage, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return req.destroyed || code === 'ECONNRESET' || code === 'ECONNABORTED' || (err as Error).message === 'aborted';
}
