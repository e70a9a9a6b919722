/**
 * A reverse proxy on 127.0.0.1 that enforces HTTP basic auth in front of the stack's schema
 * registry (which runs without auth), so tests can check kbak's registry credentials against
 * a server that actually refuses wrong ones.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AuthProxy {
  /** The registry URL through the proxy (same path as the upstream URL). */
  url: string;
  /** Requests that arrived without the right credentials. */
  refused: number;
  close(): Promise<void>;
}

export async function startAuthProxy(upstreamUrl: string, user: string, password: string): Promise<AuthProxy> {
  const upstream = new URL(upstreamUrl);
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const state = { refused: 0 };
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      state.refused++;
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="registry"' });
      res.end(JSON.stringify({ error_code: 40101, message: 'Unauthorized' }));
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const up = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
