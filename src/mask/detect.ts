/**
 * Which leaf fields look personal (issue 19, `kbak policy init`): by the field's name (word
 * lists over the last path segment, split at camelCase and `_`/`-`/space boundaries) and by
 * sampled values (validator.js: e-mail, IP, IBAN, card with its Luhn check, identity numbers,
 * international phone numbers). A finding comes with a suggested action the field's type can
 * take, so the starter policy it feeds parses and plans as written.
 *
 * The evidence text never contains a sampled value: it is shown to a reviewer and committed
 * with the policy, and the samples are production data.
 *
 * Pure: samples come from the caller; nothing here reads Kafka or the disk.
 */
import isCreditCard from 'validator/lib/isCreditCard';
import isEmail from 'validator/lib/isEmail';
import isIBAN from 'validator/lib/isIBAN';
import isIdentityCard from 'validator/lib/isIdentityCard';
import isIP from 'validator/lib/isIP';
import isISO8601 from 'validator/lib/isISO8601';
import isMobilePhone from 'validator/lib/isMobilePhone';
import isTaxID from 'validator/lib/isTaxID';
import { leafMasker, LeafRefusal, type LeafKind, type LeafType, type LeafValue } from './leaf';
import { parseFieldPath, PathSyntaxError } from './path';
import type { FieldAction } from './policy';

export const PERSONAL_KINDS = ['email', 'phone', 'name', 'address', 'ip', 'iban', 'card', 'national-id', 'birth-date'] as const;
export type PersonalKind = (typeof PERSONAL_KINDS)[number];

export interface Detection {
  kind: PersonalKind;
  by: 'name' | 'values';
  /** Why, for the reviewer: "field name" or "37 of 50 sampled values look like e-mail addresses". Never a value. */
  evidence: string;
  /** An action the field's type accepts (checked with leafMasker). */
  suggested: FieldAction;
}

/** Fewer non-null string samples than this say nothing about a field. */
export const MIN_VALUE_SAMPLES = 3;
/** A kind is reported by values when at least this share of the non-null string samples match it. */
export const VALUE_SHARE = 0.5;
/** Longer values are not tested: no kind here is longer, and validators stay linear on short input. */
const MAX_TESTED_CHARS = 320;

// ---------------------------------------------------------------------------------------------
// By name

/**
 * Per kind, the token sequences that mark it (a field matches when its tokens contain one of
 * them, contiguous). Kinds are tried in this order: `email_address` is an e-mail, `ip_address`
 * an IP, `id_card` an identity number, before the generic `address` and `card` words.
 */
const NAME_WORDS: ReadonlyArray<[PersonalKind, readonly string[]]> = [
  ['email', ['email', 'e mail', 'mail', 'emailaddress', 'mailaddress']],
  ['ip', ['ip', 'ipv 4', 'ipv 6', 'ipaddr', 'ipaddress', 'remote addr', 'client addr']],
  ['iban', ['iban', 'bank account', 'account iban']],
  [
    'national-id',
    ['ssn', 'nino', 'nin', 'passport', 'national id', 'nationalid', 'tax id', 'taxid', 'tin', 'social security', 'id card', 'identity card', 'identity number'],
  ],
  ['card', ['pan', 'cc', 'ccnum', 'ccnumber', 'cardnumber', 'creditcard', 'card number', 'card no', 'card num', 'credit card']],
  ['birth-date', ['birth', 'birthdate', 'birthday', 'dob', 'dateofbirth', 'born']],
  ['phone', ['phone', 'mobile', 'msisdn', 'tel', 'telephone', 'cell', 'cellphone', 'fax', 'phonenumber', 'mobilephone']],
  ['name', ['surname', 'firstname', 'lastname', 'fullname', 'forename', 'givenname', 'familyname', 'middlename', 'maidenname']],
  ['address', ['address', 'street', 'city', 'zip', 'zipcode', 'postcode', 'postalcode', 'postal code', 'addr', 'address line', 'housenumber', 'house number']],
];

/** `name` with one of these before it is a person's name (first_name, customerName). */
const PERSON_QUALIFIERS = new Set([
  'first',
  'last',
  'full',
  'given',
  'family',
  'middle',
  'maiden',
  'nick',
  'customer',
  'user',
  'contact',
  'person',
  'holder',
  'owner',
  'display',
  'legal',
  'real',
  'recipient',
  'sender',
  'billing',
  'shipping',
  'patient',
  'employee',
  'account',
]);
/** `address` after one of these is not a place (mac_address, wallet_address). */
const NOT_PLACES = new Set([
  'mac',
  'wallet',
  'btc',
  'eth',
  'contract',
  'memory',
  'hw',
  'hardware',
  'ble',
  'bluetooth',
  'node',
  'broker',
  'listen',
  'bind',
  'server',
  'host',
]);
/** A bare `card` is a card number only as the field's last word (payment_card, not card_type). */
const CARD_LAST = 'card';

/**
 * The words of a field name: `dateOfBirth`, `date_of_birth`, `IPAddress`, `e-mail` → lower-case
 * tokens; digits are words of their own (`email2`, `address_line1`, `ipv4` → ipv 4).
 */
export function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .replace(/(\d)([A-Za-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t !== '');
}

const PHRASES: ReadonlyArray<[PersonalKind, ReadonlyArray<readonly string[]>]> = NAME_WORDS.map(([kind, words]) => [kind, words.map((w) => w.split(' '))]);

function containsPhrase(tokens: readonly string[], phrase: readonly string[]): boolean {
  for (let i = 0; i + phrase.length <= tokens.length; i++) {
    if (phrase.every((p, j) => tokens[i + j] === p)) return true;
  }
  return false;
}

/** The last field name of a path (`customer.email` → email, `emails[*]` → emails, `["e-mail"]` → e-mail). */
function lastFieldName(path: string): string {
  try {
    const steps = parseFieldPath(path);
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      if (s.kind === 'field') return s.name;
    }
    return '';
  } catch (e) {
    if (!(e instanceof PathSyntaxError)) throw e;
    return path; // not policy syntax: the text itself is the best name there is
  }
}

function kindByName(path: string): PersonalKind | null {
  const tokens = nameTokens(lastFieldName(path));
  if (tokens.length === 0) return null;
  for (const [kind, phrases] of PHRASES) {
    if (kind === 'address') {
      const at = tokens.findIndex((t) => t === 'address' || t === 'addr');
      if (at > 0 && NOT_PLACES.has(tokens[at - 1]!)) continue;
    }
    if (phrases.some((p) => containsPhrase(tokens, p))) return kind;
    if (kind === 'card' && tokens[tokens.length - 1] === CARD_LAST) return kind;
    if (kind === 'name') {
      const at = tokens.lastIndexOf('name');
      if (at === 0 && tokens.length === 1) return kind;
      if (at > 0 && PERSON_QUALIFIERS.has(tokens[at - 1]!)) return kind;
    }
  }
  return null;
}

/**
 * The field types a kind can live in: an e-mail is a string, a phone number or a card number
 * may be an integer, an IP a 4- or 16-byte value or an integer, a birth date a day or
 * timestamp number. `email_count` (an int) and `is_mobile` (a boolean) are not personal.
 */
const STRINGS: readonly LeafKind[] = ['string'];
const NUMBERS: readonly LeafKind[] = ['int32', 'int64', 'uint32', 'uint64', 'safe-int'];
const PLAUSIBLE_TYPES: Record<PersonalKind, readonly LeafKind[]> = {
  email: STRINGS,
  name: STRINGS,
  address: STRINGS,
  iban: STRINGS,
  phone: [...STRINGS, ...NUMBERS],
  card: [...STRINGS, ...NUMBERS],
  'national-id': [...STRINGS, ...NUMBERS],
  ip: [...STRINGS, ...NUMBERS, 'bytes', 'fixed'],
  'birth-date': [...STRINGS, ...NUMBERS],
};

// ---------------------------------------------------------------------------------------------
// By values

/** US social security numbers as written (AAA-GG-SSSS): area not 000, 666 or 9xx, group and serial not zero. */
const US_SSN = /^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/;
/** Identity-card locales whose numbers carry a check character: bare order ids rarely pass them. */
const ID_CARD_LOCALES = ['ES', 'IT', 'zh-CN'] as const;

function isNationalId(v: string): boolean {
  if (US_SSN.test(v)) return true;
  // A US EIN only in its written form (12-3456789): nine bare digits are as likely an order id.
  if (/^\d{2}-\d{7}$/.test(v) && isTaxID(v, 'en-US')) return true;
  return ID_CARD_LOCALES.some((l) => isIdentityCard(v, l));
}

/** An international number (+ and the country code), spaces, dots, dashes and brackets aside. National forms look like order ids. */
function isPhone(v: string): boolean {
  if (!v.startsWith('+')) return false;
  const compact = v.replace(/[\s().-]/g, '');
  return compact.length <= 20 && isMobilePhone(compact, 'any', { strictMode: true });
}

/** Value tests in the order ties are broken; birth dates are found by name only (any date field would match by value). */
const VALUE_TESTS: ReadonlyArray<{ kind: PersonalKind; test: (v: string) => boolean; looksLike: string }> = [
  { kind: 'email', test: (v) => isEmail(v), looksLike: 'e-mail addresses' },
  { kind: 'card', test: (v) => /^[\d -]+$/.test(v) && isCreditCard(v), looksLike: 'card numbers (Luhn-valid)' },
  { kind: 'iban', test: (v) => isIBAN(v), looksLike: 'IBANs' },
  { kind: 'ip', test: (v) => isIP(v), looksLike: 'IP addresses' },
  { kind: 'national-id', test: isNationalId, looksLike: 'national identity or tax numbers' },
  { kind: 'phone', test: isPhone, looksLike: 'international phone numbers' },
];

function kindByValues(samples: readonly LeafValue[]): { kind: PersonalKind; evidence: string } | null {
  const strings = samples.filter((s): s is string => typeof s === 'string');
  if (strings.length < MIN_VALUE_SAMPLES) return null;
  const counts = VALUE_TESTS.map(() => 0);
  for (const raw of strings) {
    const v = raw.trim();
    // A date or time (order timestamps, expiry dates) is never one of the kinds above.
    if (v === '' || v.length > MAX_TESTED_CHARS || isISO8601(v)) continue;
    const i = VALUE_TESTS.findIndex((t) => t.test(v));
    if (i >= 0) counts[i]!++;
  }
  let best = -1;
  for (let i = 0; i < counts.length; i++) if (counts[i]! >= strings.length * VALUE_SHARE && (best < 0 || counts[i]! > counts[best]!)) best = i;
  if (best < 0) return null;
  const t = VALUE_TESTS[best]!;
  return { kind: t.kind, evidence: `${counts[best]} of ${strings.length} sampled values look like ${t.looksLike}` };
}

// ---------------------------------------------------------------------------------------------
// Suggested actions

const FIRST_CHOICE: Record<PersonalKind, FieldAction> = {
  email: { kind: 'fake', fake: 'email' },
  phone: { kind: 'fake', fake: 'phone' },
  name: { kind: 'fake', fake: 'name' },
  address: { kind: 'fake', fake: 'address' },
  ip: { kind: 'fake', fake: 'ip' },
  card: { kind: 'partial', first: 0, last: 4 },
  iban: { kind: 'hash' },
  'national-id': { kind: 'hash' },
  'birth-date': { kind: 'redact' },
};

/** Only checked for whether an action binds to a type; never used to mask. */
const PROBE_KEY = Buffer.alloc(32);

/**
 * The kind's action if every given type takes it, else hash, else redact, else null (keep is
 * no suggestion). Several types: one path in several schema versions, which one rule covers.
 */
export function suggestAction(kind: PersonalKind, ...types: readonly LeafType[]): FieldAction | null {
  for (const action of [FIRST_CHOICE[kind], { kind: 'hash' } as const, { kind: 'redact' } as const]) {
    if (types.every((type) => !(leafMasker(action, type, PROBE_KEY) instanceof LeafRefusal))) return action;
  }
  return null;
}

/**
 * Whether a leaf field looks personal: by its name first (a reviewer trusts a name more than a
 * statistic), then by its sampled values. Null when neither says so or the type can take no
 * masking action.
 */
export function detectPersonal(field: { path: string; type: LeafType }, samples: readonly LeafValue[]): Detection | null {
  const byName = kindByName(field.path);
  let found: { kind: PersonalKind; by: Detection['by']; evidence: string } | null = null;
  if (byName !== null && PLAUSIBLE_TYPES[byName].includes(field.type.kind)) found = { kind: byName, by: 'name', evidence: 'field name' };
  else if (field.type.kind === 'string') {
    const v = kindByValues(samples);
    if (v !== null) found = { ...v, by: 'values' };
  }
  if (found === null) return null;
  const suggested = suggestAction(found.kind, field.type);
  return suggested === null ? null : { kind: found.kind, by: found.by, evidence: found.evidence, suggested };
}
