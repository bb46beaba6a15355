// Set on every response: a request id (also named in 5xx messages and the log, so a caller's
// report can be matched to the detail only the log holds) and security headers. The demo page
// sets its own Content-Security-Policy; everything else is JSON, which needs to load nothing.
import type { MiddlewareHandler } from 'hono';
import type { EdgeBindings } from './guards.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/** The CSP of every response that does not set its own: load nothing, be framed nowhere. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export const requestHeaders: MiddlewareHandler<EdgeBindings> = async (c, next) => {
  // Generated here, never taken from the request: a caller must not be able to choose the id
  // its failures are logged under (or make two requests share one).
  const id = crypto.randomUUID();
  c.set('requestId', id);
  await next();
  c.header(REQUEST_ID_HEADER, id);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
  if (!c.res.headers.has('content-security-policy')) c.header('content-security-policy', API_CSP);
};
