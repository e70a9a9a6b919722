/**
 * The first look at the bootstrap brokers (src/kafka/transport/probe.ts) against local TCP
 * servers that answer as a Kafka listener, a TLS listener (its alert to a plaintext request)
 * or nobody: the verdict and the number of connection attempts. The stack's real listeners
 * are test/integration/connect-errors.test.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { apiVersionsRequest, probeBrokers, readFirstBytes } from '../../src/kafka/transport/probe';

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

/** A server that answers the first bytes it gets with `reply(request)`; counts connections. */
async function server(reply: (req: Buffer) => Buffer): Promise<{ address: string; connections: () => number }> {
  let connections = 0;
  const s = createServer((sock: Socket) => {
    connections++;
    sock.once('data', (d: Buffer) => sock.end(reply(d)));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return { address: `127.0.0.1:${(s.address() as { port: number }).port}`, connections: () => connections };
}

async function closedAddress(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return `127.0.0.1:${port}`;
}

/** A Kafka response frame: size, then the request's correlation id (bytes 8..12 of the request). */
const kafkaAnswer = (req: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 6]), req.subarray(8, 12), Buffer.from([0, 0])]);
/** What a TLS listener sends to bytes that are not a ClientHello: a fatal alert record. */
const tlsAlert = (): Buffer => Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]);

describe('readFirstBytes', () => {
  it('tells a Kafka answer to our correlation id, a TLS record, and too little to say', () => {
    const req = apiVersionsRequest(7, 'c');
    expect(req.readInt16BE(4)).toBe(18);
    expect(readFirstBytes(kafkaAnswer(req), 7)).toBe('kafka');
    expect(readFirstBytes(kafkaAnswer(req), 8)).toBe('unknown');
    expect(readFirstBytes(tlsAlert(), 7)).toBe('tls');
    expect(readFirstBytes(Buffer.from([0, 0]), 7)).toBe('more');
  });
});

describe('probeBrokers', () => {
  it('a Kafka listener: no problem, one connection', async () => {
    const k = await server(kafkaAnswer);
    const r = await probeBrokers({ brokers: [k.address], tls: false, clientId: 't' });
    expect(r).toEqual({ attempts: 1, error: null });
    expect(k.connections()).toBe(1);
  });

  it('a TLS listener spoken to in plaintext: "add --tls", from its alert', async () => {
    const t = await server(tlsAlert);
    const r = await probeBrokers({ brokers: [t.address], tls: false, clientId: 't' });
    expect(r.attempts).toBe(1);
    expect(r.error?.message).toBe(`Kafka at ${t.address} speaks TLS, and kbak connected in plaintext`);
    expect(r.error?.hint).toMatch(/^add --tls/);
    expect(r.error?.exitCode).toBe(4);
    expect(r.error?.retriable).toBe(false);
  });

  it('a Kafka listener spoken to with TLS: "drop --tls", from the plaintext answer', async () => {
    const k = await server(kafkaAnswer);
    const r = await probeBrokers({ brokers: [k.address], tls: true, clientId: 't' });
    expect(r.attempts).toBe(2);
    expect(r.error?.message).toBe(`Kafka at ${k.address} speaks plaintext, and kbak connected with TLS`);
    expect(r.error?.hint).toMatch(/^drop --tls/);
  });

  it('every address refusing: each asked once per round, one error after the last round', async () => {
    const a = await closedAddress();
    const b = await closedAddress();
    const r = await probeBrokers({ brokers: [a, b], tls: false, clientId: 't' }, [1, 1]);
    expect(r.attempts).toBe(6);
    expect(r.error?.message).toMatch(new RegExp(`^cannot reach Kafka at ${a},${b}: connection refused \\(6 attempts`));
    expect(r.error?.retriable).toBe(false);
  });

  it('an address whose host does not resolve is named as such, beside a refusing one', async () => {
    const a = await closedAddress();
    // .invalid never resolves (RFC 2606); without DNS the lookup fails the other way (EAI_AGAIN).
    const r = await probeBrokers({ brokers: [a, 'kbak-probe.invalid:9092'], tls: false, clientId: 't' }, [1]);
    expect(r.attempts).toBe(4);
    expect(r.error?.message).toMatch(/: connection refused, host (not found|name lookup failed) \(4 attempts/);
  });

  it('one refusing address and one Kafka: goes ahead, no error', async () => {
    const a = await closedAddress();
    const k = await server(kafkaAnswer);
    const r = await probeBrokers({ brokers: [a, k.address], tls: false, clientId: 't' }, [1]);
    expect(r).toEqual({ attempts: 2, error: null });
  });

  it('a listener that closes without a word, in plaintext and in TLS: left to kafkajs', async () => {
    const mute = await server(() => Buffer.alloc(0));
    expect((await probeBrokers({ brokers: [mute.address], tls: false, clientId: 't' })).error).toBeNull();
    expect((await probeBrokers({ brokers: [mute.address], tls: true, clientId: 't' })).error).toBeNull();
  });
});
