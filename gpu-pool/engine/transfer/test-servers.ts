// Real local servers for the transfer tests: a static file server (node:http, with Range) that
// can drop a connection mid-file, an S3-compatible server (s3rver), and a proxy in front of it
// that can drop a connection mid-object.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

export interface SeenRequest {
  path: string;
  range?: string;
}

/** Drop the connection of the first GET of a path ending in `suffix` after `bytes` bytes of its body. */
export interface DropOnce {
  suffix: string;
  bytes: number;
}

export interface TestServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  /** Set before a request to drop it once. */
  drop?: DropOnce;
  close(): Promise<void>;
}

const listen = (server: http.Server) =>
  new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Writes `body` (a stream) to `res`, or only its first `drop` bytes and then destroys the socket. */
function pipeMaybeDropping(body: NodeJS.ReadableStream, res: http.ServerResponse, drop: number | undefined): void {
  if (drop === undefined) {
    body.pipe(res);
    return;
  }
  // Taken now: the response lets go of its socket once the body is destroyed.
  const socket = res.socket;
  let sent = 0;
  body.on('data', (chunk: Buffer) => {
    if (sent >= drop) return;
    const part = chunk.subarray(0, drop - sent);
    sent += part.length;
    res.write(part);
    if (sent >= drop) {
      (body as unknown as { destroy(): void }).destroy();
      // Let the bytes reach the client, then cut the connection without finishing the response.
      setTimeout(() => socket?.destroy(), 20);
    }
  });
  body.on('end', () => res.end());
}

/** A static file server over `root`: GET and HEAD, `Range: bytes=N-` / `bytes=N-M`, 404, 416. */
export async function startStaticServer(root: string): Promise<TestServer> {
  const state: TestServer = { url: '', port: 0, requests: [], close: async () => {} };
  const server = http.createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    state.requests.push({ path, range: req.headers.range });
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep)) return void res.writeHead(403).end();
    let size: number;
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new Error('not a file');
      size = s.size;
    } catch {
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
    let start = 0;
    let end = size - 1;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      start = Number(m[1]);
      if (m[2]) end = Math.min(end, Number(m[2]));
      if (start >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
    }
    if (req.method === 'HEAD' || size === 0) return void res.end();
    let drop: number | undefined;
    if (state.drop && path.endsWith(state.drop.suffix)) {
      drop = state.drop.bytes;
      state.drop = undefined;
    }
    pipeMaybeDropping(createReadStream(file, { start, end }), res, drop);
  });
  state.port = await listen(server);
  state.url = `http://127.0.0.1:${state.port}`;
  state.close = () => closeServer(server);
  return state;
}

export interface TestS3 {
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

/** The SDK's standard variables, with s3rver's fixed credentials. */
export const S3_TEST_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/** s3rver on loopback, storing objects in a temporary directory, with one bucket. */
export async function startS3(bucket = 'indexes'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'es-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A proxy to `upstream` (keeping the Host header, so S3 signatures stay valid) that records requests and can drop one. */
export async function startDroppingProxy(upstream: string): Promise<TestServer> {
  const target = new URL(upstream);
  const state: TestServer = { url: '', port: 0, requests: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    state.requests.push({ path, range: req.headers.range });
    let drop: number | undefined;
    if (req.method === 'GET' && state.drop && path.endsWith(state.drop.suffix)) {
      drop = state.drop.bytes;
      state.drop = undefined;
    }
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      pipeMaybeDropping(upRes, res, drop);
    });
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  state.port = await listen(server);
  state.url = `http://127.0.0.1:${state.port}`;
  state.close = () => closeServer(server);
  return state;
}
