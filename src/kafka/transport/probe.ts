/**
 * The first look at the bootstrap brokers, before kafkajs connects: the two mistakes kafkajs
 * reports late and the wrong way round. kafkajs retries a failed first connection with the
 * retry budget meant for established ones (~10 s), then says "Closed connection" for a TLS
 * port spoken to in plaintext, or blames the CA for a plaintext port spoken to in TLS.
 *
 * - Every bootstrap address refusing connections (or not resolving): asked again for about
 *   PROBE_REFUSED_BUDGET_MS (a broker restarting comes back), then one error, not retriable.
 * - A listener in the other protocol: a plaintext ApiVersions request, or a TLS handshake,
 *   tells which protocol it speaks; the error names the flag to add or drop.
 *
 * Anything else (an answer in the right protocol, a timeout, a reset we cannot read) is left
 * to kafkajs as before: the probe never fails a connection kafkajs could have made. It costs
 * one short connection to the first broker that accepts.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { KafkaServiceError } from '../adapter';
import { writeRequestFrame, requestFrameBytes } from '../protocol/request';

/** How long all bootstrap addresses may refuse before the run is told. */
export const PROBE_REFUSED_BUDGET_MS = 2000;
/** Waits between rounds of connection attempts while every address refuses (sum < the budget). */
const REFUSED_WAITS_MS = [250, 500, 1000];
/** How long one probe connection may take before the probe gives up and leaves it to kafkajs. */
const PROBE_TIMEOUT_MS = 2000;
const API_VERSIONS = 18;
/** Refused, unresolvable or unroutable: nobody listens there. */
const DOWN = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** How the final error names each reason an address was down. */
const DOWN_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};
/** Why the addresses of one probe run were down, for its message (each run keeps its own). */
type DownReasons = Set<string>;

export type Verdict = 'kafka' | 'tls' | 'down' | 'unknown';

export interface ProbeTarget {
  brokers: readonly string[];
  tls: boolean;
  clientId: string;
}

export interface ProbeResult {
  /** Connection attempts made (for the message and for tests). */
  attempts: number;
  /** The problem found, or null: kafkajs goes ahead. */
  error: KafkaServiceError | null;
}

function hostPort(broker: string): { host: string; port: number } {
  const i = broker.lastIndexOf(':');
  return { host: broker.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(broker.slice(i + 1)) };
}

/** ApiVersions v0, the one request every Kafka listener answers before authentication. */
export function apiVersionsRequest(correlationId: number, clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const buf = Buffer.alloc(requestFrameBytes(id));
  writeRequestFrame(buf, 0, API_VERSIONS, 0, correlationId, id);
  return buf;
}

/**
 * What the first bytes a listener sent back say: a Kafka response frame to our correlation id,
 * a TLS record (alert 0x15 or handshake 0x16, version 3.x), or nothing we know yet. Pure.
 */
export function readFirstBytes(b: Buffer, correlationId: number): 'kafka' | 'tls' | 'more' | 'unknown' {
  if (b.length >= 2 && (b[0] === 0x15 || b[0] === 0x16) && b[1] === 0x03) return 'tls';
  if (b.length < 8) return 'more';
  const size = b.readInt32BE(0);
  return size >= 4 && size < 1 << 20 && b.readInt32BE(4) === correlationId ? 'kafka' : 'unknown';
}

/** One plaintext ApiVersions round trip: 'kafka', 'tls' (a TLS alert came back), 'down' or 'unknown'. */
function plaintextProbe(host: string, port: number, clientId: string, reasons?: DownReasons): Promise<Verdict> {
  const correlationId = 0x6b62616b; // "kbak"
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const socket: Socket = tcpConnect({ host, port });
    const done = (v: Verdict): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('unknown'), PROBE_TIMEOUT_MS);
    socket.once('connect', () => socket.write(apiVersionsRequest(correlationId, clientId)));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const r = readFirstBytes(got, correlationId);
      if (r !== 'more') done(r);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const down = DOWN.has(err.code ?? '');
      if (down) reasons?.add(err.code!);
      done(down ? 'down' : 'unknown');
    });
    socket.once('close', () => done('unknown'));
  });
}

/**
 * One TLS handshake, certificates not checked (kafkajs checks them; here only the protocol
 * matters): 'tls' when a TLS server answered (a finished handshake, or its alert, such as
 * "certificate required" from an mTLS listener), 'down' or 'unknown' otherwise.
 */
function tlsProbe(host: string, port: number, reasons?: DownReasons): Promise<Verdict> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }) });
    const done = (v: Verdict): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('unknown'), PROBE_TIMEOUT_MS);
    socket.once('secureConnect', () => done('tls'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (DOWN.has(code)) reasons?.add(code);
      done(DOWN.has(code) ? 'down' : /ALERT/.test(code) ? 'tls' : 'unknown');
    });
    socket.once('close', () => done('unknown'));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Looks at the bootstrap brokers (see the top of the file). `waits` are the pauses between
 * rounds while every address refuses (tests pass shorter ones).
 */
export async function probeBrokers(target: ProbeTarget, waits: readonly number[] = REFUSED_WAITS_MS): Promise<ProbeResult> {
  let attempts = 0;
  const reasons: DownReasons = new Set();
  const first = target.tls ? (h: string, p: number) => tlsProbe(h, p, reasons) : (h: string, p: number) => plaintextProbe(h, p, target.clientId, reasons);
  for (let round = 0; ; round++) {
    for (const broker of target.brokers) {
      const { host, port } = hostPort(broker);
      if (!host || !Number.isInteger(port)) return { attempts, error: null };
      attempts++;
      const v = await first(host, port);
      if (v === 'down') continue;
      if (target.tls) {
        if (v === 'tls') return { attempts, error: null };
        // No TLS answer: is it a plaintext listener?
        attempts++;
        if ((await plaintextProbe(host, port, target.clientId)) === 'kafka') return { attempts, error: mismatch(broker, 'plaintext') };
        return { attempts, error: null };
      }
      if (v === 'kafka') return { attempts, error: null };
      if (v !== 'tls') {
        attempts++;
        if ((await tlsProbe(host, port)) !== 'tls') return { attempts, error: null };
      }
      return { attempts, error: mismatch(broker, 'tls') };
    }
    if (round >= waits.length) break;
    await sleep(waits[round]!);
  }
  return {
    attempts,
    error: new KafkaServiceError(
      `cannot reach Kafka at ${target.brokers.join(',')}: ${[...reasons].map((r) => DOWN_WORDS[r] ?? r).join(', ') || 'connection refused'} (${attempts} attempts over ${PROBE_REFUSED_BUDGET_MS / 1000} s)`,
      undefined,
      'check the broker addresses and that the brokers are up',
      { options: ['kafka.brokers'], retriable: false },
    ),
  };
}

function mismatch(broker: string, speaks: 'tls' | 'plaintext'): KafkaServiceError {
  return speaks === 'tls'
    ? new KafkaServiceError(
        `Kafka at ${broker} speaks TLS, and kbak connected in plaintext`,
        undefined,
        'add --tls (with --tls-ca for a private CA), or use the plaintext listener',
        { options: ['kafka.tls'], retriable: false },
      )
    : new KafkaServiceError(
        `Kafka at ${broker} speaks plaintext, and kbak connected with TLS`,
        undefined,
        'drop --tls (--tls-ca and --tls-cert turn it on too, and KBAK_TLS), or use the TLS listener',
        { options: ['kafka.tls'], retriable: false },
      );
}
