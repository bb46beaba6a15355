// A loopback TCP proxy that holds every byte sent towards its target for `delayMs` before
// forwarding it (answers flow back at once): a replica made slow on purpose, so that tests do not
// depend on how fast the machine happens to be.
import net from 'node:net';

export interface DelayProxy {
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startDelayProxy(targetPort: number, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    // Equal delays keep the order: Node fires timers of one duration first in, first out.
    const pending = new Set<NodeJS.Timeout>();
    const later = (fn: () => void) => {
      const t = setTimeout(() => {
        pending.delete(t);
        fn();
      }, delayMs);
      pending.add(t);
    };
    client.on('data', (chunk) => later(() => upstream.write(chunk)));
    client.on('end', () => later(() => upstream.end()));
    upstream.pipe(client);
    const teardown = () => {
      for (const t of pending) clearTimeout(t);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    // A caller that gives up (a hedge won, the request was aborted) closes its side: drop what
    // was held back and the upstream connection with it, as a real network would.
    client.on('close', teardown).on('error', teardown);
    upstream.on('close', teardown).on('error', teardown);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
