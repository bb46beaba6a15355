import type http from 'node:http';
import { z } from 'zod';
import { NODE_HEADER, NONCE_HEADER, NonceCache, ProtocolError, SIGNATURE_HEADER, TIMESTAMP_HEADER, checkSignatureHeaders, verifyAdminRequest } from '../../../shared/protocol/index.ts';
import type { Logger, RateLimitedLogger } from '../logging/index.ts';
import { ADMIN_SWAP_PATH } from '../pool-client/index.ts';
import { SwapRefused, type ShardHost } from '../shard-host/index.ts';
import { readBody, type BodyBudget } from './body-budget.ts';
import { header } from './incoming.ts';

const MAX_SWAP_BODY = 64 * 1024;

const SwapRequest = z.strictObject({
  shard: z.number().int().nonnegative(),
  /** A shard directory under the node's index root (relative paths are taken from the root). */
  dir: z.string().min(1).max(4096),
});

export interface AdminSwapOptions {
  nodeId: string;
  /** The admin key; undefined turns every admin request away. */
  key: CryptoKey | undefined;
  windowMs: number;
  verify: boolean;
  budget: BodyBudget;
  host: () => ShardHost | undefined;
  log: Logger;
  limitedLog: RateLimitedLogger;
}

export interface AdminAnswer {
  status: number;
  body: unknown;
}

/**
 * `POST /v1/admin/swap`: load a new version of one shard and serve it. Only with the admin key,
 * signed for this node, method and path, once (nonce); only from under the index root and only
 * to a newer version of the served index (the shard host checks that). Refusals say what kind
 * of refusal it was, never what the file system said: the log has the detail.
 */
export class AdminSwap {
  /** Nonces of accepted requests, kept until their timestamps leave the window. */
  private readonly nonces = new NonceCache();

  constructor(private readonly opts: AdminSwapOptions) {}

  handle(req: http.IncomingMessage, requestId: string): Promise<AdminAnswer> {
    return swapRequest(req, this.opts, this.nonces, requestId);
  }
}

async function swapRequest(req: http.IncomingMessage, opts: AdminSwapOptions, nonces: NonceCache, requestId: string): Promise<AdminAnswer> {
  const remote = req.socket.remoteAddress;
  if (!opts.key) return { status: 403, body: { error: { code: 'forbidden', message: 'admin requests are disabled on this node (no admin key configured)' } } };
  const headers = {
    timestamp: header(req, TIMESTAMP_HEADER),
    signature: header(req, SIGNATURE_HEADER),
    nonce: header(req, NONCE_HEADER),
    node: header(req, NODE_HEADER),
  };
  const early = checkSignatureHeaders(headers, { windowMs: opts.windowMs });
  if (!early.ok) return unauthorized(opts, remote, early.reason);
  const read = await readBody(req, MAX_SWAP_BODY, opts.budget);
  if (!read.ok) return read.refused === 'too-large' ? { status: 413, body: { error: { code: 'too-large', message: `body larger than ${MAX_SWAP_BODY} bytes` } } } : overloaded();
  try {
    const verdict = await verifyAdminRequest(opts.key, { method: 'POST', path: ADMIN_SWAP_PATH, node: opts.nodeId }, headers, read.body, nonces, { windowMs: opts.windowMs });
    if (!verdict.ok) return unauthorized(opts, remote, verdict.reason);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(read.body));
    } catch {
      return badRequest('body is not JSON');
    }
    const parsed = SwapRequest.safeParse(json);
    if (!parsed.success) return badRequest(`expected {"shard": <int>, "dir": "<shard directory under the index root>"} (${parsed.error.issues[0].path.join('.') || 'body'}: ${parsed.error.issues[0].message})`);
    const { shard, dir } = parsed.data;
    opts.log.info('swap requested', { requestId, remote, nonce: headers.nonce, shard, dir });
    const host = opts.host();
    if (!host) return { status: 503, body: { error: { code: 'not-ready', message: 'the node has not loaded its shards yet' } } };
    try {
      const swapped = await host.swap(shard, dir, { verify: opts.verify });
      opts.log.info('shard swapped', { requestId, remote, shard, ...swapped });
      return { status: 200, body: { shard, ...swapped } };
    } catch (err) {
      if (err instanceof SwapRefused) {
        opts.log.warn('swap refused', { requestId, remote, shard, dir, reason: err.publicReason, detail: err.detail });
        return { status: 403, body: { error: { code: 'swap-refused', message: `swap refused: ${err.publicReason}`, requestId } } };
      }
      if (err instanceof ProtocolError && err.code === 'unknown-shard') return { status: 404, body: { error: { code: 'unknown-shard', message: err.message } } };
      opts.log.error('swap failed', { requestId, remote, shard, dir, err });
      return { status: 500, body: { error: { code: 'swap-failed', message: `the swap failed; the node's log has the detail (request id ${requestId})`, requestId } } };
    }
  } finally {
    read.release();
  }
}

function unauthorized(opts: AdminSwapOptions, remote: string | undefined, reason: string): AdminAnswer {
  opts.limitedLog.warn(`admin/${remote}/${reason}`, 'admin request refused', { remote, reason });
  return { status: 401, body: { error: { code: 'unauthorized', message: 'unauthorized' } } };
}

function overloaded(): AdminAnswer {
  return { status: 503, body: { error: { code: 'overloaded', message: 'too many request bodies in flight; retry later' } } };
}

function badRequest(message: string): AdminAnswer {
  return { status: 400, body: { error: { code: 'bad-request', message } } };
}
