/**
 * Connection mistakes reported at once and the right way round (transport/probe.ts): a
 * closed port, a TLS listener spoken to in plaintext (the stack's SASL_SSL and mTLS
 * listeners), a plaintext listener spoken to with TLS. A TCP proxy in front of each listener
 * counts the connections: the probe's own, and none from kafkajs's retries. What is asserted
 * is the exit code, the words, the flag named and the number of connections, never seconds
 * (the timings are in the note).
 */
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../src/errors';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { runKbak } from '../support/kbak-cli';
import { stackEnv } from '../support/stack';

let dir: string;
const proxies: FaultProxy[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbak-connect-'));
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  rmSync(dir, { recursive: true, force: true });
});

function stackVar(name: string): string {
  const v = stackEnv().env[name];
  if (!v) throw new Error(`${name} is missing from .stack/env: restart the stack with this branch's scripts/stack/up.sh`);
  return v;
}

async function proxyTo(broker: string): Promise<FaultProxy> {
  const i = broker.lastIndexOf(':');
  const p = await startFaultProxy(broker.slice(0, i), Number(broker.slice(i + 1)));
  proxies.push(p);
  return p;
}

/** A port nobody listens on: bound by the kernel, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const dump = (extra: string[], env: Record<string, string | undefined> = {}) =>
  runKbak(['dump', '--topic', 'connect-errors', '--to', join(dir, 'b'), '--quiet', ...extra], { KBAK_TLS: undefined, KBAK_TLS_CA: undefined, ...env });

describe('the first look at the bootstrap brokers', () => {
  it('connection refused: one line after a few attempts, exit 4, not the retry budget of an established connection', async () => {
    const port = await closedPort();
    const r = await dump(['--brokers', `127.0.0.1:${port}`]);
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(r.stderr.trim()).toBe(
      `kbak: cannot reach Kafka at 127.0.0.1:${port}: connection refused (4 attempts over 2 s) (check the broker addresses and that the brokers are up; see --brokers / KBAK_BROKERS)`,
    );
  });

  it.each([
    ['SASL_SSL', 'KBAK_SECURE_BROKERS'],
    ['mTLS', 'KBAK_SECURE_MTLS_BROKERS'],
  ])('plaintext against the %s listener: "speaks TLS", add --tls, from one connection', async (_name, variable) => {
    const proxy = await proxyTo(stackVar(variable));
    const r = await dump(['--brokers', proxy.address]);
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(r.stderr.trim()).toBe(
      `kbak: Kafka at ${proxy.address} speaks TLS, and kbak connected in plaintext (add --tls (with --tls-ca for a private CA), or use the plaintext listener; see --tls, --tls-ca, --tls-cert, --tls-key)`,
    );
    // The probe's ApiVersions request drew a TLS alert; kafkajs never connected.
    expect(proxy.connections).toBe(1);
  });

  it('TLS against the plaintext listener: "speaks plaintext", drop --tls, from two connections', async () => {
    const proxy = await proxyTo(stackVar('KBAK_BROKERS'));
    const r = await dump(['--brokers', proxy.address, '--tls', '--tls-ca', stackVar('KBAK_SECURE_TLS_CA')]);
    expect(r.code).toBe(ExitCode.SERVICE);
    expect(r.stderr.trim()).toBe(
      `kbak: Kafka at ${proxy.address} speaks plaintext, and kbak connected with TLS (drop --tls (--tls-ca and --tls-cert turn it on too, and KBAK_TLS), or use the TLS listener; see --tls, --tls-ca, --tls-cert, --tls-key)`,
    );
    // The TLS handshake that got no TLS answer, then the ApiVersions request Kafka answered.
    expect(proxy.connections).toBe(2);
  });

  it('the right protocol goes ahead: plaintext to the plaintext listener reaches the topic lookup', async () => {
    const proxy = await proxyTo(stackVar('KBAK_BROKERS'));
    const r = await dump(['--brokers', proxy.address]);
    // The phase after connecting: the topic does not exist (exit 3), so the probe let kafkajs through.
    expect(r.code).toBe(ExitCode.NOT_FOUND);
    expect(r.stderr).toMatch(/connect-errors/);
    expect(proxy.connections).toBeGreaterThan(1);
  });
});
