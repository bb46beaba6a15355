import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** Whether the request came over loopback (the node's own machine). */
export function fromLoopback(req: http.IncomingMessage): boolean {
  const addr = req.socket.remoteAddress ?? '';
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

/**
 * Who may read `/metrics` and the detail of `/readyz`: with a token configured, callers that
 * present it as a bearer token; without one, loopback callers only. (Status codes of
 * `/healthz` and `/readyz` stay public: orchestrators probe them.)
 */
export function operatorAccess(token: string | undefined): (req: http.IncomingMessage) => boolean {
  if (token === undefined || token === '') return fromLoopback;
  const expected = Buffer.from(`Bearer ${token}`);
  return (req) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
