import http from 'node:http';
import type { Frame } from '../../../shared/protocol/index.ts';
import { ANSWER_SIGNATURE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, decodeFrame, encodeFrame, signatureHeaders, verifyAnswer } from '../../../shared/protocol/index.ts';

export interface PostedFrame {
  status: number;
  frame: Frame;
  headers: http.IncomingHttpHeaders;
}

/** The peer could not be reached, or answered something that is not a frame. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: 'unreachable' | 'aborted' | 'bad-frame' | 'unauthenticated',
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * POSTs one signed msgpack frame to `endpoint` (…/v1/batch) and decodes the frame it answers,
 * once its signature shows the node holding the key answered this very request.
 */
export async function postFrame(endpoint: URL, frame: Frame, opts: { key: CryptoKey; agent?: http.Agent; signal?: AbortSignal; headers?: Record<string, string> }): Promise<PostedFrame> {
  const body = encodeFrame(frame);
  const signed = await signatureHeaders(opts.key, body);
  const headers = {
    'content-type': 'application/msgpack',
    'content-length': String(body.byteLength),
    ...signed,
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
  const answerSignature = resHeaders[ANSWER_SIGNATURE_HEADER];
  const verdict = await verifyAnswer(opts.key, { timestamp: signed[TIMESTAMP_HEADER], signature: signed[SIGNATURE_HEADER] }, Array.isArray(answerSignature) ? answerSignature[0] : answerSignature, bytes);
  if (!verdict.ok) throw new TransportError(`${endpoint.host} answered HTTP ${status}, not authenticated: ${verdict.reason}`, 'unauthenticated', status);
  let answer: Frame;
  try {
    answer = decodeFrame(bytes);
  } catch (err) {
    throw new TransportError(`${endpoint.host} answered HTTP ${status} with an unreadable body: ${(err as Error).message}`, 'bad-frame', status);
  }
  const sentId = 'batchId' in frame ? frame.batchId : undefined;
  if (sentId !== undefined && 'batchId' in answer && answer.batchId !== undefined && answer.batchId !== sentId) {
    throw new TransportError(`${endpoint.host} answered batch ${answer.batchId} to batch ${sentId}`, 'bad-frame', status);
  }
  return { status, frame: answer, headers: resHeaders };
}
