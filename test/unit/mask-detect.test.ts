/**
 * The personal-data detector of `kbak policy init` (src/mask/detect.ts, issue 19): by field
 * name, by sampled values (real-looking values: Luhn-valid test cards, IBANs from the
 * registries' own examples, SSN-shaped numbers), the negatives that must stay unflagged, and
 * suggested actions that the field's type accepts.
 */
import { detectPersonal, nameTokens, suggestAction, type Detection } from '../../src/mask/detect';
import { leafMasker, LeafRefusal, type LeafKind, type LeafType, type LeafValue } from '../../src/mask/leaf';

const t = (kind: LeafKind, extra: Partial<LeafType> = {}): LeafType => ({ kind, nullable: false, label: kind, ...extra });
const STR = t('string');
const detect = (path: string, samples: readonly LeafValue[] = [], type: LeafType = STR): Detection | null => detectPersonal({ path, type }, samples);

describe('nameTokens', () => {
  it.each([
    ['dateOfBirth', ['date', 'of', 'birth']],
    ['date_of_birth', ['date', 'of', 'birth']],
    ['IPAddress', ['ip', 'address']],
    ['customerEmailAddress', ['customer', 'email', 'address']],
    ['e-mail', ['e', 'mail']],
    ['ZIP', ['zip']],
    ['card_number2', ['card', 'number', '2']],
    ['ipv4Address', ['ipv', '4', 'address']],
    ['line2Street', ['line', '2', 'street']],
  ])('%s → %j', (name, tokens) => {
    expect(nameTokens(name)).toEqual(tokens);
  });
});

describe('by field name', () => {
  it.each([
    ['email', 'email'],
    ['customer.email', 'email'],
    ['contactEmail', 'email'],
    ['e_mail', 'email'],
    ['["e-mail"]', 'email'],
    ['mail', 'email'],
    ['emailAddress', 'email'],
    ['email2', 'email'],
    ['phone_2', 'phone'],
    ['address1', 'address'],
    ['address_line1', 'address'],
    ['clientIpv6', 'ip'],
    ['ipv4', 'ip'],
    ['phone', 'phone'],
    ['mobileNumber', 'phone'],
    ['msisdn', 'phone'],
    ['tel', 'phone'],
    ['first_name', 'name'],
    ['lastName', 'name'],
    ['full_name', 'name'],
    ['name', 'name'],
    ['surname', 'name'],
    ['customer.holderName', 'name'],
    ['address', 'address'],
    ['shipping.street', 'address'],
    ['city', 'address'],
    ['zip', 'address'],
    ['postcode', 'address'],
    ['billingAddress', 'address'],
    ['ip', 'ip'],
    ['ip_address', 'ip'],
    ['clientIPAddress', 'ip'],
    ['iban', 'iban'],
    ['card', 'card'],
    ['pan', 'card'],
    ['card_number', 'card'],
    ['cc', 'card'],
    ['payments[*].cardNumber', 'card'],
    ['ssn', 'national-id'],
    ['national_id', 'national-id'],
    ['passport', 'national-id'],
    ['taxId', 'national-id'],
    ['birth_date', 'birth-date'],
    ['dob', 'birth-date'],
    ['dateOfBirth', 'birth-date'],
    ['birthday', 'birth-date'],
  ])('%s is %s', (path, kind) => {
    const d = detect(path);
    expect(d).toMatchObject({ kind, by: 'name', evidence: 'field name' });
  });

  it.each([
    'order_id',
    'sku',
    'total',
    'status',
    'created_at',
    'product_name',
    'topicName',
    'file_name',
    'mac_address',
    'card_type',
    'cardBrand',
    'items[*]',
    'tags{*}',
  ])('%s is not personal', (path) => {
    expect(detect(path)).toBeNull();
  });

  it('ignores names whose type cannot hold the kind (a count of e-mails, a flag named mobile)', () => {
    expect(detect('email_count', [], t('int64'))).toBeNull();
    expect(detect('is_mobile', [], t('boolean'))).toBeNull();
    expect(detect('first_name', [], t('float'))).toBeNull();
    // but a phone number kept as a long, and a birth date as Avro's days since 1970, are
    expect(detect('msisdn', [], t('int64'))).toMatchObject({ kind: 'phone', suggested: { kind: 'hash' } });
    expect(detect('date_of_birth', [], t('int32', { label: 'date' }))).toMatchObject({ kind: 'birth-date', suggested: { kind: 'redact' } });
  });
});

describe('by sampled values', () => {
  const EMAILS = ['ana.silva@example.com', 'j.smith+news@mail.example.org', 'li.wei@corp.example.net', 'o.brien@example.co.uk'];
  const CARDS = ['4111111111111111', '5500005555555559', '378282246310005', '6011111111111117', '4111 1111 1111 1111'];
  const IBANS = ['GB82WEST12345698765432', 'DE89370400440532013000', 'FR1420041010050500013M02606', 'NL91ABNA0417164300', 'GB82 WEST 1234 5698 7654 32'];
  const SSNS = ['078-05-1120', '219-09-9999', '457-55-5462', '123-45-6789'];
  const IPS = ['192.168.1.20', '10.0.0.7', '2001:db8::ff00:42:8329', '::1', '203.0.113.9'];
  const PHONES = ['+14155552671', '+44 7700 900123', '+49 151 12345678', '+33 6 12 34 56 78', '+8613800138000'];
  const ID_CARDS = ['12345678Z', '11010519491231002X', '87654321X'];

  it.each([
    ['email', EMAILS, 'e-mail addresses'],
    ['card', CARDS, 'card numbers (Luhn-valid)'],
    ['iban', IBANS, 'IBANs'],
    ['national-id', SSNS, 'national identity or tax numbers'],
    ['national-id', ID_CARDS, 'national identity or tax numbers'],
    ['ip', IPS, 'IP addresses'],
    ['phone', PHONES, 'international phone numbers'],
  ] as const)('finds %s in a field with a neutral name', (kind, samples, looksLike) => {
    const d = detect('c7', samples);
    expect(d).toMatchObject({ kind, by: 'values', evidence: `${samples.length} of ${samples.length} sampled values look like ${looksLike}` });
  });

  it('needs at least 3 non-null string samples and half of them matching', () => {
    expect(detect('c7', EMAILS.slice(0, 2))).toBeNull();
    expect(detect('c7', [...EMAILS.slice(0, 2), null, null, null])).toBeNull(); // nulls do not count
    expect(detect('c7', [EMAILS[0]!, EMAILS[1]!, 'n/a', 'unknown'])).toMatchObject({
      kind: 'email',
      evidence: '2 of 4 sampled values look like e-mail addresses',
    });
    expect(detect('c7', [EMAILS[0]!, EMAILS[1]!, 'n/a', 'unknown', 'none'])).toBeNull(); // 2 of 5 < 50%
    expect(detect('c7', [EMAILS[0]!, EMAILS[1]!, null, 'x', null])).toMatchObject({ evidence: '2 of 3 sampled values look like e-mail addresses' });
  });

  it('takes the kind most samples match', () => {
    expect(detect('c7', [...IPS, ...EMAILS.slice(0, 3)])).toMatchObject({ kind: 'ip', evidence: '5 of 8 sampled values look like IP addresses' });
  });

  it.each([
    ['order ids', ['ORD-2024-000123', 'ORD-2024-000124', 'ORD-2024-000125', 'ORD-2024-009999']],
    ['numeric order ids', ['100000231', '100000232', '1000000000000001', '4000000000', '123456789']],
    ['SKUs', ['SKU-12345', 'TSHIRT-BLK-XL', 'A1B2C3', 'MUG-0042']],
    ['UUIDs', ['550e8400-e29b-41d4-a716-446655440000', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', '6ba7b810-9dad-11d1-80b4-00c04fd430c8']],
    ['ISO timestamps', ['2024-01-05T10:00:00Z', '2024-01-05T10:00:00.123+01:00', '2023-12-31T23:59:59Z']],
    ['dates', ['2024-01-05', '1990-04-12', '2023-12-31']],
    ['epoch milliseconds as text', ['1704448800000', '1704448800123', '1704448899999']],
    ['national phone numbers (indistinguishable from ids by value)', ['5551234567', '4155552671', '2125550100']],
    ['nine bare digits (an EIN written without its dash)', ['123456789', '987654321', '120000001']],
    ['free text', ['delivered', 'left at the door', 'call before', 'fragile']],
  ])('does not flag %s', (_what, samples) => {
    expect(detect('c7', samples)).toBeNull();
  });

  it('does not test values of non-string fields', () => {
    expect(detect('c7', [4111111111111111n, 4111111111111111n, 4111111111111111n], t('int64'))).toBeNull();
    expect(detect('c7', EMAILS, t('uuid'))).toBeNull();
  });

  it('prefers the name: a field named email holding junk is still an e-mail field', () => {
    expect(detect('email', ['x', 'y', 'z'])).toMatchObject({ kind: 'email', by: 'name' });
  });

  it('never echoes a sampled value, nor a piece of one, in the evidence', () => {
    for (const samples of [EMAILS, CARDS, IBANS, SSNS, IPS, PHONES, ID_CARDS]) {
      const d = detect('c7', samples)!;
      expect(d).not.toBeNull();
      for (const s of samples) for (const piece of s.match(/[A-Za-z0-9]{6,}/g) ?? []) expect(d.evidence).not.toContain(piece);
    }
  });
});

describe('suggested actions', () => {
  it.each([
    ['email', { kind: 'fake', fake: 'email' }],
    ['phone', { kind: 'fake', fake: 'phone' }],
    ['full_name', { kind: 'fake', fake: 'name' }],
    ['street', { kind: 'fake', fake: 'address' }],
    ['ip', { kind: 'fake', fake: 'ip' }],
    ['card_number', { kind: 'partial', first: 0, last: 4 }],
    ['iban', { kind: 'hash' }],
    ['ssn', { kind: 'hash' }],
    ['dob', { kind: 'redact' }],
  ])('%s on a string: %j', (path, suggested) => {
    expect(detect(path)!.suggested).toEqual(suggested);
  });

  it('falls back to what the type takes: hash, then redact', () => {
    expect(detect('card_number', [], t('int64'))!.suggested).toEqual({ kind: 'hash' }); // partial needs a string
    expect(detect('ip', [], t('fixed', { size: 16 }))!.suggested).toEqual({ kind: 'hash' }); // fake ip makes a string
    expect(suggestAction('phone', t('float'))).toEqual({ kind: 'redact' }); // hash of a float keeps too little
    expect(suggestAction('email', t('enum', { symbols: ['ONLY'] }))).toEqual({ kind: 'redact' }); // one symbol: no hash
  });

  it('every suggestion binds to its field type', () => {
    const key = Buffer.alloc(32, 7);
    const types = [STR, t('int32'), t('int64'), t('uint64'), t('safe-int'), t('bytes'), t('fixed', { size: 4 }), t('uuid')];
    const paths = ['email', 'phone', 'name', 'city', 'ip', 'iban', 'card', 'ssn', 'dob'];
    let checked = 0;
    for (const type of types)
      for (const path of paths) {
        const d = detect(path, [], type);
        if (d === null) continue;
        expect(leafMasker(d.suggested, type, key)).not.toBeInstanceOf(LeafRefusal);
        checked++;
      }
    expect(checked).toBeGreaterThan(20);
  });
});
