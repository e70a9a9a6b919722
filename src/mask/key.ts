/**
 * The masking key (docs/masking-policy.md "The key"): read from the environment variable or
 * the file the policy names, decoded as its stated encoding, at least 32 bytes. Only its
 * fingerprint is ever shown or recorded; no message here contains the key or a part of it
 * (nor the text it was decoded from: a mistyped key is still mostly the key).
 */
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { UsageError } from '../errors';
import type { KeyEncoding, MaskPolicy } from './policy';

export const MIN_KEY_BYTES = 32;
/** FORMAT.md settled point 25: the fingerprint is the first 8 bytes of HMAC-SHA-256(key, this). */
const FINGERPRINT_INPUT = 'kbak key fingerprint v1';
const KEY_HINT = `the masking key is ${MIN_KEY_BYTES} or more random bytes, written as base64 (openssl rand -base64 ${MIN_KEY_BYTES}) or hex (openssl rand -hex ${MIN_KEY_BYTES}) as the policy's key.encoding says`;

/** 16 lowercase hex digits that identify a key without revealing it. */
export function keyFingerprint(key: Uint8Array): string {
  return createHmac('sha256', key).update(FINGERPRINT_INPUT).digest().subarray(0, 8).toString('hex');
}

/**
 * A loaded key. The bytes are in a private field, so printing, logging or JSON-encoding the
 * object shows the fingerprint only.
 */
export class MaskKey {
  readonly #bytes: Buffer;
  readonly fingerprint: string;
  constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes);
    this.fingerprint = keyFingerprint(this.#bytes);
  }
  /** The key itself, for the HMAC and FPE code: never for output. */
  bytes(): Buffer {
    return this.#bytes;
  }
  toJSON(): { fingerprint: string } {
    return { fingerprint: this.fingerprint };
  }
  toString(): string {
    return `MaskKey(fingerprint ${this.fingerprint})`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

export type ReadKeyFile = (path: string) => Promise<Uint8Array> | Uint8Array;

/** Loads the key the policy names: from `env` (a variable) or through `readFile` (a file). */
export async function loadMaskKey(policy: Pick<MaskPolicy, 'key'>, env: Readonly<Record<string, string | undefined>>, readFile: ReadKeyFile): Promise<MaskKey> {
  const k = policy.key;
  const named = `named by ${k.at}`;
  let text: string;
  let where: string;
  if (k.from === 'env') {
    const shown = shownName(k.env);
    where = shown === null ? 'environment variable' : `environment variable ${shown}`;
    const v = env[k.env];
    if (v === undefined) throw new UsageError(`the masking key's ${where} (${named}) is not set`, KEY_HINT);
    text = v;
  } else {
    const shown = shownName(k.file);
    where = shown === null ? 'file' : `file ${JSON.stringify(shown)}`;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(k.file);
    } catch (e) {
      // The code only (ENOENT, EACCES): the message of a reader other than fs could quote content.
      const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new UsageError(`the masking key's ${where} (${named}) cannot be read: ${code}`, KEY_HINT);
    }
    text = Buffer.from(bytes).toString('latin1');
  }
  const key = decodeKey(text, k.encoding);
  if (key === null) throw new UsageError(`the masking key in ${where} (${named}) is not ${DESCRIBE[k.encoding]}`, KEY_HINT);
  if (key.length < MIN_KEY_BYTES) {
    throw new UsageError(`the masking key in ${where} (${named}) has ${key.length} byte${key.length === 1 ? '' : 's'}; ${MIN_KEY_BYTES} are needed`, KEY_HINT);
  }
  const loaded = new MaskKey(key);
  key.fill(0);
  return loaded;
}

/**
 * The name of a variable or a file as messages may show it, or null when the name is itself
 * key material (a key pasted where the policy wants a name): that is never shown, the
 * position in the policy says which line.
 */
function shownName(name: string): string | null {
  const decodes = [decodeKey(name, 'base64'), decodeKey(name, 'hex')].some((b) => b !== null && b.length >= MIN_KEY_BYTES);
  return decodes || (name.length >= 40 && /^[A-Za-z0-9+/=_-]+$/.test(name)) ? null : name;
}

const DESCRIBE: Record<KeyEncoding, string> = {
  base64: 'base64 (A-Z, a-z, 0-9, + and /, padded with =)',
  hex: 'hex (an even number of digits 0-9, a-f)',
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * The bytes of `text` in `encoding`, or null when it is not that encoding (strictly: Buffer's
 * own decoders skip what they do not know). Whitespace anywhere is ignored, so a key file may
 * end with a newline or be wrapped (openssl and xxd wrap long output).
 */
function decodeKey(text: string, encoding: KeyEncoding): Buffer | null {
  const compact = text.replace(/[ \t\r\n]+/g, '');
  if (compact.length === 0) return Buffer.alloc(0);
  if (encoding === 'base64') return BASE64.test(compact) ? Buffer.from(compact, 'base64') : null;
  return HEX.test(compact) ? Buffer.from(compact, 'hex') : null;
}
