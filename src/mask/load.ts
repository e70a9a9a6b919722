/**
 * What `--policy FILE` reads before a masked restore plans anything: the policy file, the key
 * it names (environment variable or file), each `keys-from` file, and the provenance the
 * lane will record. The I/O of masking, apart from the pure parts it calls. Relative paths in
 * the policy (a key file, a keys-from file) are taken from the policy file's folder, so a
 * policy and its seed lists can be checked in together and used from anywhere.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors';
import { FAKE_LIBRARY_VERSION } from './fake';
import { loadMaskKey, type MaskKey } from './key';
import { parsePolicy, type MaskPolicy } from './policy';
import { policyProvenance, type MaskingProvenance } from './provenance';
import { parseKeysFile } from './sample';

/** The most bytes a policy file may have: it is reviewed by people. */
export const MAX_POLICY_BYTES = 1024 * 1024;

export interface LoadedMask {
  policy: MaskPolicy;
  key: MaskKey;
  provenance: MaskingProvenance;
  keySets: ReadonlyMap<string, ReadonlySet<string>>;
}

async function readNamed(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`${what} ${path} cannot be read: ${code}`, code === 'ENOENT' ? 'check the path' : 'check its permissions');
  }
}

/** Reads and checks the policy at `file` and everything it names. `env`: where `key: { env }` is looked up. */
export async function loadMask(file: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<LoadedMask> {
  const bytes = await readNamed(file, 'the masking policy');
  if (bytes.length > MAX_POLICY_BYTES)
    throw new UsageError(`the masking policy ${file} is ${bytes.length} bytes, more than ${MAX_POLICY_BYTES}`, 'a policy lists rules, not data');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`the masking policy ${file} is not UTF-8 text`, 'save it as UTF-8');
  }
  const policy = parsePolicy(text, { name: file });
  const base = dirname(file);
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const key = await loadMaskKey(policy, env, (p) => readFile(at(p)));
  const keySets = new Map<string, ReadonlySet<string>>();
  for (const t of policy.topics) {
    const s = t.sample;
    if (s === null || !('keysFrom' in s) || keySets.has(s.keysFrom)) continue;
    keySets.set(s.keysFrom, parseKeysFile(await readNamed(at(s.keysFrom), `keys-from file (${s.at})`), s.keysFrom));
  }
  const provenance = policyProvenance({
    policyName: file,
    policyText: bytes,
    keyFingerprint: key.fingerprint,
    faker: { name: '@faker-js/faker', version: FAKE_LIBRARY_VERSION },
  });
  return { policy, key, provenance, keySets };
}
