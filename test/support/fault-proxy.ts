/**
 * A TCP fault proxy for outage tests, on 127.0.0.1 only: forwards to one upstream and can
 * add latency, reset every open connection, refuse new ones (server down), or swallow
 * traffic without answering (a hung server). Modes change at any time, mid-transfer.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type FaultMode =
  /** Forward everything (after latencyMs). */
  | 'pass'
  /** Reset open connections and every new one: the server is down. */
  | 'refuse'
  /** Accept and read, never forward or answer: the server hangs. */
  | 'blackhole';

export interface FaultProxy {
  readonly port: number;
  /** host:port of the proxy. */
  readonly address: string;
  /** Bytes forwarded client→upstream so far (to trigger faults mid-upload). */
  readonly bytesUp: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections reset on arrival because the mode was 'refuse'. */
  readonly refused: number;
  setMode(mode: FaultMode): void;
  /** Delay of every forwarded chunk, both directions. */
  setLatency(ms: number): void;
  /** Resets (TCP RST) every open connection now; the mode stays as it is. */
  resetAll(): void;
  /** Resolves once at least n bytes went upstream. */
  waitForBytesUp(n: number, timeoutMs?: number): Promise<void>;
  /**
   * Runs `action` (a fault: setMode, resetAll, another proxy's setMode) the moment at least n
   * bytes went upstream, inside the forwarding of the chunk that crosses n: the fault lands
   * while the client is still sending, however late the test's own timers run (polling for
   * the count and then switching let a fast run finish its upload in between). Resolves
   * after it ran.
   */
  whenBytesUp(n: number, action: () => void, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamHost: string, upstreamPort: number): Promise<FaultProxy> {
  let mode: FaultMode = 'pass';
  let latencyMs = 0;
  let bytesUp = 0;
  let connections = 0;
  let refused = 0;
  const open = new Set<Socket>();
  const triggers: Array<{ n: number; run: () => void }> = [];
  const fire = (): void => {
    for (const t of triggers.filter((x) => bytesUp >= x.n)) {
      triggers.splice(triggers.indexOf(t), 1);
      t.run();
    }
  };
  const reset = (s: Socket): void => {
    if (!s.destroyed) s.resetAndDestroy();
  };

  // Chunks are delayed with one timer each; equal delays fire in insertion order, so the
  // byte stream stays in order as long as the latency does not drop mid-connection.
  const pipe = (from: Socket, to: Socket, up: boolean): void => {
    from.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') return;
      const send = (): void => {
        if (to.destroyed || mode === 'blackhole') return;
        if (up) bytesUp += chunk.length;
        to.write(chunk);
        if (up) fire();
      };
      if (latencyMs > 0) setTimeout(send, latencyMs);
      else send();
    });
    from.on('end', () => {
      const end = (): void => {
        if (!to.destroyed) to.end();
      };
      if (latencyMs > 0) setTimeout(end, latencyMs);
      else end();
    });
    from.on('error', () => reset(to));
    from.on('close', () => {
      open.delete(from);
      if (latencyMs > 0) setTimeout(() => to.destroy(), latencyMs + 1);
      else to.destroy();
    });
  };

  const server: Server = createServer((client) => {
    connections++;
    open.add(client);
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      refused++;
      reset(client);
      return;
    }
    if (mode === 'blackhole') {
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect({ host: upstreamHost, port: upstreamPort });
    open.add(upstream);
    upstream.on('error', () => reset(client));
    pipe(client, upstream, true);
    pipe(upstream, client, false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    address: `127.0.0.1:${port}`,
    get bytesUp() {
      return bytesUp;
    },
    get connections() {
      return connections;
    },
    get refused() {
      return refused;
    },
    setMode(m) {
      mode = m;
      if (m === 'refuse') for (const s of [...open]) reset(s);
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    resetAll() {
      for (const s of [...open]) reset(s);
    },
    async waitForBytesUp(n, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (bytesUp < n) {
        if (Date.now() > deadline) throw new Error(`fault proxy: only ${bytesUp} of ${n} bytes went upstream within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    whenBytesUp(n, action, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          triggers.splice(triggers.indexOf(trigger), 1);
          reject(new Error(`fault proxy: only ${bytesUp} of ${n} bytes went upstream within ${timeoutMs} ms`));
        }, timeoutMs);
        const trigger = {
          n,
          run: (): void => {
            clearTimeout(timer);
            action();
            resolve();
          },
        };
        triggers.push(trigger);
        fire();
      });
    },
    close() {
      for (const s of [...open]) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
