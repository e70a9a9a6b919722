/**
 * The fake masking actions of issue 19 (`email`, `name`, `phone`, `address`, `ip`, `uuid`):
 * realistic values for services that validate input, seeded per value by the keyed HMAC of
 * the input, so the same input always gives the same fake (in every topic, run and lane) and
 * nobody without the key can tell which input a fake came from.
 *
 * The values come from @faker-js/faker, pinned EXACTLY in package.json: its word lists and
 * algorithms change between versions, and with them every fake. FAKE_LIBRARY_VERSION goes
 * into a lane's provenance record so a reseed with another version is visible. Only its
 * English locale is loaded (`@faker-js/faker/locale/en`: ~60 ms to require, against ~250 ms
 * for the package root, which loads every locale). Version 9 is used, not 10: 10 is ES
 * modules only, and kbak is CommonJS.
 *
 * Fakes are NOT 1:1: two customers may get the same fake name or e-mail (names repeat in real
 * life too). A field that joins rely on needs `fpe` (src/mask/fpe.ts) or `hash`.
 *
 * Choices: e-mails use the reserved example.com/.net/.org domains (RFC 2606), so a test system
 * that sends mail never reaches a real person; IPs keep their family (IPv4 → IPv4, IPv6 →
 * IPv6); phones keep the input's shape (below); UUIDs are version 4.
 */
import type { Faker, Randomizer } from '@faker-js/faker';
import fakerPackage from '@faker-js/faker/package.json';
import { isIPv6 } from 'node:net';
import { formatUuid, keyedDigest, setUuidV4Bits } from './hash';

/** The exact version of the fake-data library, for the lane's provenance record. */
export const FAKE_LIBRARY_VERSION: string = fakerPackage.version;

export type FakeKind = 'email' | 'name' | 'phone' | 'address' | 'ip' | 'uuid';
export const FAKE_KINDS: readonly FakeKind[] = ['email', 'name', 'phone', 'address', 'ip', 'uuid'];

/** The 32 bytes that seed the fake of `input` for `kind` (the kind is in the HMAC input: kinds are unrelated). */
function seedOf(key: Buffer, kind: FakeKind, input: string): Buffer {
  return keyedDigest(key, `fake:${kind}`, input);
}

/**
 * faker's own generator (a Mersenne Twister) costs ~60 µs to seed, more than everything else
 * a fake does; one fake per field of every record cannot afford that. So kbak's faker instance
 * (the en locale's definitions, built with the `faker.constructor` so the package root and its
 * other locales are never loaded) draws from sfc32, a small fast generator (PractRand's "small
 * fast chaotic", 128-bit state), seeded by the first 16 bytes of the HMAC. Determinism then
 * rests on this generator and the pinned faker version together.
 */
class Sfc32 implements Randomizer {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 1;
  seed(seed: number | number[]): void {
    const w = Array.isArray(seed) ? seed : [seed];
    [this.a, this.b, this.c, this.d] = [w[0] ?? 0, w[1] ?? 0, w[2] ?? 0, w[3] ?? 1];
    for (let i = 0; i < 12; i++) this.next(); // mix the seed in before the first draw
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
}

let seeded: Faker | undefined;
/**
 * kbak's faker, built on the first fake: loading faker's English locale costs every process that
 * loads the mask (a restore does, masked or not) ~20 ms even compiled from the cache.
 */
function kbakFaker(): Faker {
  if (seeded === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
    const { faker } = require('@faker-js/faker/locale/en') as typeof import('@faker-js/faker/locale/en');
    const FakerClass = faker.constructor as typeof Faker;
    seeded = new FakerClass({ locale: faker.rawDefinitions, randomizer: new Sfc32() });
  }
  return seeded;
}

/** Seeds kbak's faker with the HMAC and draws synchronously, so no other draw comes in between. */
function draw<T>(seed: Buffer, fn: (f: Faker) => T): T {
  const f = kbakFaker();
  f.seed([seed.readInt32BE(0), seed.readInt32BE(4), seed.readInt32BE(8), seed.readInt32BE(12)]);
  return fn(f);
}

export function fakeEmail(key: Buffer, input: string): string {
  return draw(seedOf(key, 'email', input), (f) => f.internet.exampleEmail()).toLowerCase();
}

export function fakeName(key: Buffer, input: string): string {
  return draw(seedOf(key, 'name', input), (f) => `${f.person.firstName()} ${f.person.lastName()}`);
}

/** A street address on one line: `4821 Maple Avenue, Springfield, OR 97477`. */
export function fakeAddress(key: Buffer, input: string): string {
  return draw(
    seedOf(key, 'address', input),
    (f) => `${f.location.streetAddress()}, ${f.location.city()}, ${f.location.state({ abbreviated: true })} ${f.location.zipCode('#####')}`,
  );
}

/** An IP address of the input's family: IPv6 for an IPv6 input, IPv4 for anything else. */
export function fakeIp(key: Buffer, input: string): string {
  return draw(seedOf(key, 'ip', input), (f) => (isIPv6(input) ? f.internet.ipv6() : f.internet.ipv4()));
}

/** A version-4 UUID (RFC 9562 variant) for any input (a UUID or not): the first 122 bits of the seed. */
export function fakeUuid(key: Buffer, input: string): string {
  return formatUuid(setUuidV4Bits(Buffer.from(seedOf(key, 'uuid', input).subarray(0, 16))));
}

/**
 * Phones keep the input's shape: every digit is replaced by a seeded digit and every other
 * character (`+`, spaces, brackets, dashes, `x` of an extension) stays, so `+1 (415) 555-0100`
 * becomes `+7 (302) 918-2243` and a national `020 7946 0958` keeps its leading trunk 0. The
 * first digit stays zero or non-zero as it was: E.164 (`+` then 1–9) stays E.164. Only the
 * digits are drawn, so no word list is involved and the length is exact.
 */
export function fakePhone(key: Buffer, input: string): string {
  const seed = seedOf(key, 'phone', input);
  // one byte per digit (b % 10: digits 0–5 are 26/256 likely, 6–9 25/256, harmless in a fake);
  // 64 bytes for inputs over 32 characters, repeating past 64 digits (no phone number is that long)
  const bytes = seed.length >= input.length ? seed : Buffer.concat([seed, keyedDigest(key, 'fake:phone:more', input)]);
  let first = true;
  let i = 0;
  return Array.from(input, (ch) => {
    if (ch < '0' || ch > '9') return ch;
    const b = bytes[i++ % bytes.length]!;
    let d: number;
    if (first) d = ch === '0' ? 0 : 1 + (b % 9);
    else d = b % 10;
    first = false;
    return String(d);
  }).join('');
}

const FAKERS: Record<FakeKind, (key: Buffer, input: string) => string> = {
  email: fakeEmail,
  name: fakeName,
  phone: fakePhone,
  address: fakeAddress,
  ip: fakeIp,
  uuid: fakeUuid,
};

/** The fake of `input` for `kind`. */
export function fake(key: Buffer, kind: FakeKind, input: string): string {
  return FAKERS[kind](key, input);
}
