/**
 * The secret scan for the masking key (issue 19; the CLI-wide scan is
 * test/integration/secrets.test.ts, which needs the stack): every way a key can be mistyped or
 * misplaced with the parts that exist today (loadMaskKey, parsePolicy), with everything they
 * would show collected (the CLI's error line, the message, the hint, JSON and inspect forms) and
 * searched for the key as base64, as hex (either case), as its raw bytes, and for 8-character
 * pieces of each text form (a truncated or mistyped key is still mostly the key).
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { renderError } from '../../src/cli/errors';
import { loadMaskKey, type ReadKeyFile } from '../../src/mask/key';
import { parsePolicy, type MaskPolicy } from '../../src/mask/policy';

/** A fresh key per run, so no fixed text in kbak could pass the scan by chance. */
const KEY = randomBytes(32);
const B64 = KEY.toString('base64');
const HEX = KEY.toString('hex');

/** The forms that must never appear: whole texts, raw bytes (as a reader of stderr would see them), pieces. */
function forms(key: Buffer): string[] {
  const b64 = key.toString('base64');
  const hex = key.toString('hex');
  const pieces = (s: string) => Array.from({ length: s.length - 7 }, (_, i) => s.slice(i, i + 8));
  return [b64, hex, hex.toUpperCase(), key.toString('base64url'), key.toString('latin1'), key.toString('utf8'), ...pieces(b64), ...pieces(hex)];
}
const FORBIDDEN = forms(KEY);

/** Everything an error would show: the CLI's line, the message, the hint, its JSON and inspect forms. */
function shown(err: unknown): string {
  const e = err as Error & { hint?: string };
  return [renderError(err).line, e.message, e.hint ?? '', JSON.stringify(err), inspect(err, { depth: 5 })].join('\n');
}

function leaks(text: string): string[] {
  return FORBIDDEN.filter((f) => f.length > 0 && text.includes(f)).map((f) => JSON.stringify(f.slice(0, 12)));
}

const NAME = 'seed-policy.yaml';
const policy = (key: string): MaskPolicy => parsePolicy(`version: 1\nkey: ${key}\ntopics: [ { match: a } ]\n`, { name: NAME });
const noFile: ReadKeyFile = () => {
  throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
};
const fileOf =
  (content: Buffer | string): ReadKeyFile =>
  () =>
    Buffer.from(content);

async function keyError(p: MaskPolicy, env: Record<string, string>, readFile: ReadKeyFile = noFile): Promise<unknown> {
  return loadMaskKey(p, env, readFile).then(
    () => {
      throw new Error('the key was accepted');
    },
    (e: unknown) => e,
  );
}

function policyError(text: string): unknown {
  try {
    parsePolicy(text, { name: NAME });
  } catch (e) {
    return e;
  }
  throw new Error('the policy was accepted');
}

describe('the masking key never appears in what loadMaskKey and parsePolicy show', () => {
  const env = (encoding: string) => policy(`{ env: KBAK_MASK_KEY, encoding: ${encoding} }`);
  const file = (encoding: string) => policy(`{ file: /secrets/mask.key, encoding: ${encoding} }`);

  it.each<[string, () => Promise<unknown>]>([
    ['a short key (31 bytes) as base64', () => keyError(env('base64'), { KBAK_MASK_KEY: KEY.subarray(0, 31).toString('base64') })],
    ['a short key (31 bytes) as hex', () => keyError(env('hex'), { KBAK_MASK_KEY: KEY.subarray(0, 31).toString('hex') })],
    ['a short key in a file', () => keyError(file('hex'), {}, fileOf(KEY.subarray(0, 31).toString('hex')))],
    ['base64 text where hex is expected', () => keyError(env('hex'), { KBAK_MASK_KEY: B64 })],
    ['hex text where base64 is expected, with a stray character', () => keyError(env('base64'), { KBAK_MASK_KEY: `${HEX}!` })],
    ['base64url text', () => keyError(env('base64'), { KBAK_MASK_KEY: KEY.toString('base64url') })],
    ['a mistyped base64 key', () => keyError(env('base64'), { KBAK_MASK_KEY: `${B64.slice(0, 20)}*${B64.slice(21)}` })],
    ['a base64 key without its padding', () => keyError(env('base64'), { KBAK_MASK_KEY: B64.replace(/=+$/, '') })],
    ['raw key bytes in a file read as base64', () => keyError(file('base64'), {}, fileOf(KEY))],
    ['raw key bytes in a file read as hex', () => keyError(file('hex'), {}, fileOf(KEY))],
    ['the key in another variable', () => keyError(env('base64'), { MASK_KEY: B64 })],
  ])('%s', async (_what, run) => {
    const err = await run();
    expect(renderError(err).exitCode).toBe(2);
    expect(leaks(shown(err))).toEqual([]);
  });

  it.each<[string, string]>([
    ['the key as key.value', `version: 1\nkey: { value: ${B64}, encoding: base64 }\ntopics: [ { match: a } ]\n`],
    ['the key as key.value, in hex', `version: 1\nkey:\n  value: "${HEX}"\n  env: K\n  encoding: hex\ntopics: [ { match: a } ]\n`],
    ['the key in place of the key mapping', `version: 1\nkey: ${B64}\ntopics: [ { match: a } ]\n`],
    ['the key as the encoding', `version: 1\nkey: { env: K, encoding: "${B64}" }\ntopics: [ { match: a } ]\n`],
    ['the key under an unknown field of key', `version: 1\nkey: { env: K, encoding: hex, secret: ${HEX} }\ntopics: [ { match: a } ]\n`],
    ['the key under an unknown top-level field', `version: 1\nkey: { env: K, encoding: hex }\nmasking_key: ${B64}\ntopics: [ { match: a } ]\n`],
    ['the key as a YAML syntax error', `version: 1\nkey: { env: K, encoding: hex, ${B64}\ntopics: [ { match: a } ]\n`],
    ['the key in JSON', JSON.stringify({ version: 1, key: { value: B64, encoding: 'base64' }, topics: [{ match: 'a' }] })],
  ])('parsePolicy refuses %s without echoing it', (_what, text) => {
    const err = policyError(text);
    expect(renderError(err).exitCode).toBe(2);
    expect(leaks(shown(err))).toEqual([]);
  });

  /**
   * A key written where the policy wants the NAME of its variable or file: parsePolicy accepts
   * the text as a name, and loadMaskKey's message names the variable or file it could not use,
   * except a name that is itself key material (key.ts shownName): the policy's position says
   * which line instead.
   */
  it.each<[string, () => Promise<unknown>]>([
    ['the key as the variable name', () => keyError(policy(`{ env: "${B64}", encoding: base64 }`), {})],
    ['the key as the file name', () => keyError(policy(`{ file: "${B64}", encoding: base64 }`), {})],
  ])('%s', async (_what, run) => {
    expect(leaks(shown(await run()))).toEqual([]);
  });

  it('the scan finds the key where it is (the search itself works)', () => {
    expect(leaks(`x ${B64} y`)).toContain(JSON.stringify(B64.slice(0, 12)));
    expect(leaks(`x ${HEX.toUpperCase()} y`).length).toBeGreaterThan(0);
    expect(leaks(`x ${KEY.toString('latin1')} y`).length).toBeGreaterThan(0);
    expect(leaks(`mistyped ${B64.slice(3, 15)}`).length).toBeGreaterThan(0);
    expect(leaks('the masking key has 31 bytes; 32 are needed')).toEqual([]);
  });
});
