import http from 'node:http';
import type { Frame } from '../../shared/protocol/index.ts';
import { decodeFrame, encodeFrame, signatureHeaders } from '../../shared/protocol/index.ts';

export interface PostedFrame {
  status: number;
  frame: Frame;
  headers: http.IncomingHttpHeaders;
}

/** The peer could not be reached, or answered something that is not a frame. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'unreachable' | 'aborted' | 'bad-frame',
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** POSTs one signed msgpack frame to `endpoint` (…/v1/batch) and decodes the frame it answers. */
export async function postFrame(endpoint: URL, frame: Frame, opts: { key: CryptoKey; agent?: http.Agent; signal?: AbortSignal; headers?: Record<string, string> }): Promise<PostedFrame> {
  const body = encodeFrame(frame);
  const headers = {
    'content-type': 'application/msgpack',
    'content-length': String(body.byteLength),
    ...(await signatureHeaders(opts.key, body)),
    ...opts.headers,
  };
  const { status, bytes, resHeaders } = await new Promise<{ status: number; bytes: Uint8Array; resHeaders: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request(endpoint, { method: 'POST', headers, agent: opts.agent, signal: opts.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks), resHeaders: res.headers }));
      res.on('error', (err) => reject(new TransportError(err.message, 'unreachable')));
    });
    req.on('error', (err) => reject(new TransportError(`${endpoint.host}: ${err.message}`, opts.signal?.aborted ? 'aborted' : 'unreachable')));
    req.end(body);
  });
  try {
    return { status, frame: decodeFrame(bytes), headers: resHeaders };
  } catch (err) {
    throw new TransportError(`${endpoint.host} answered HTTP ${status} with an unreadable body: ${(err as Error).message}`, 'bad-frame', status);
  }
}
