// A loopback HTTP proxy in front of a pool node that reads each frame it forwards: it counts
// frames by type (and the query texts of search frames), holds each type back for its own
// delay (a slow pool, or a slow network), and can play an unreachable pool (every connection
// reset) for a while. Answers pass through untouched, signatures included.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeFrame, type FrameType } from '../../shared/protocol/index.ts';

export interface FrameProxy {
  url: string;
  /** Frames forwarded so far, by type (attempts, as the node receives them). */
  readonly frames: Partial<Record<FrameType, number>>;
  /** Query texts of the search frames forwarded, one entry per query. */
  readonly searchedTexts: string[];
  /** ms each frame type is held before it is forwarded (0 when absent). */
  delays: Partial<Record<FrameType, number>>;
  /** While true, every connection is reset at once (open ones too): an unreachable pool. */
  down: boolean;
  close(): Promise<void>;
}

export async function startFrameProxy(target: string, delays: Partial<Record<FrameType, number>> = {}): Promise<FrameProxy> {
  const to = new URL(target);
  const upstream = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const sockets = new Set<Socket>();
  let down = false;
  const state: FrameProxy = {
    url: '',
    frames: {},
    searchedTexts: [],
    delays,
    get down() {
      return down;
    },
    set down(value: boolean) {
      down = value;
      if (down) for (const s of sockets) s.destroy();
    },
    close: async () => {
      upstream.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let type: FrameType | undefined;
      try {
        const frame = decodeFrame(body);
        type = frame.type;
        state.frames[type] = (state.frames[type] ?? 0) + 1;
        if (frame.type === 'search') for (const q of frame.queries) if (q.text !== undefined) state.searchedTexts.push(q.text);
      } catch {
        // Not a frame (a probe of /readyz has no body): forwarded as it is.
      }
      setTimeout(
        () => {
          if (down) return void req.socket.destroy();
          const out = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent: upstream }, (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          });
          out.on('error', () => res.destroy());
          out.end(body);
        },
        type === undefined ? 0 : (state.delays[type] ?? 0),
      );
    });
  });
  server.on('connection', (socket: Socket) => {
    if (down) return void socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
