/**
 * `kbak restore --policy` (issue 19, README "Seeding from production") as a user runs it:
 * real broker and registry, the built CLI, the masking key in KBAK_MASK_KEY. Topics in Avro,
 * JSON Schema, Protobuf and plain JSON carry e-mails, names, card numbers and ids in nested
 * fields, arrays, maps, keys and headers; one backup of them is restored into lanes with a
 * policy, and the lanes are read back by kcat (raw bytes) and decoded with the lane subjects'
 * schemas from the registry, never with kbak's reader.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import * as protobuf from 'protobufjs';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { kcatReadBytes, type KcatBytesRecord } from '../support/kcat';
import type { Admin } from '../support/kafkajs-copy';
import { createTopic, produce, type TestRecord } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const kafka = testKafka('kbak-masked-restore-test');
const registry = new SchemaRegistry({ host: stackEnv().registryUrl });

/**
 * An idempotent admin call on a fresh client, tried again on a fresh client when it has not
 * answered within 30 s: in this file's runs kafkajs's group calls (setOffsets, fetchOffsets)
 * now and then hung for minutes, which failed the whole file by timeout.
 */
async function withAdmin<R>(fn: (admin: Admin) => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    const admin = kafka.admin();
    let timer: NodeJS.Timeout | undefined;
    try {
      await admin.connect();
      return await Promise.race([
        fn(admin),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('admin call did not answer in 30 s')), 30_000))),
      ]);
    } catch (err) {
      if (attempt >= 4) throw err;
    } finally {
      clearTimeout(timer);
      void admin.disconnect().catch(() => undefined);
    }
  }
}
let dir: string;
let dest: string;

/** A fresh 32-byte key per run, as `openssl rand -base64 32` gives it. */
const KEY = randomBytes(32);
const KEY_B64 = KEY.toString('base64');
const KEY_HEX = KEY.toString('hex');
const LEDGER = uniqueName('mr-ledger');
const GROUP = uniqueName('mr-group');

const T = {
  customers: uniqueName('mr-customers'),
  orders: uniqueName('mr-orders'),
  events: uniqueName('mr-events'),
  profiles: uniqueName('mr-profiles'),
  plain: uniqueName('mr-plain'),
  bad: uniqueName('mr-bad'),
};
const MAIN_TOPICS = [T.customers, T.orders, T.events, T.profiles, T.plain];
const LANE = uniqueName('mr').slice(0, 24);

/** Every CLI run of the file: the key must appear in none of their outputs. */
const runs: Array<{ args: string[]; r: CliResult }> = [];

async function kb(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const r = await runKbak(args, { KBAK_MASK_KEY: KEY_B64, KBAK_LEDGER_TOPIC: LEDGER, KBAK_LOG_LEVEL: 'warn', ...env });
  runs.push({ args, r });
  return r;
}

function oneLine(r: CliResult): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

const rand = (n: number): string => randomBytes(n).toString('hex');
const digits = (n: number): string =>
  Array.from(randomBytes(n), (b) => String(b % 10))
    .join('')
    .replace(/^0/, '7');
/** In the one corrupt record of topic bad: never in a lane. */
const BAD_MARKER = `LEAKMARK-${rand(8)}`;

// ---------------------------------------------------------------------------------------------
// Source data
// ---------------------------------------------------------------------------------------------

const CUSTOMER_SCHEMA = {
  type: 'record',
  name: 'Customer',
  namespace: 'kbak.mr',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'email', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'phone', type: ['null', 'string'], default: null },
    {
      name: 'cards',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Card',
          fields: [
            { name: 'number', type: 'string' },
            { name: 'exp', type: 'string' },
          ],
        },
      },
    },
    { name: 'attrs', type: { type: 'map', values: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'createdAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'tier', type: { type: 'enum', name: 'Tier', symbols: ['BRONZE', 'SILVER', 'GOLD'] } },
  ],
};

const ORDER_SCHEMA = {
  type: 'record',
  name: 'Order',
  namespace: 'kbak.mr',
  fields: [
    { name: 'orderId', type: 'string' },
    {
      name: 'customer',
      type: {
        type: 'record',
        name: 'CustomerRef',
        fields: [
          { name: 'id', type: 'string' },
          { name: 'email', type: 'string' },
        ],
      },
    },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Item',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'card', type: 'string' },
          ],
        },
      },
    },
    { name: 'total', type: 'double' },
  ],
};

const EVENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: {
    user: { type: 'object', properties: { email: { type: 'string' }, name: { type: 'string' } } },
    tags: { type: 'array', items: { type: 'string' } },
    n: { type: 'integer' },
  },
};

const PROFILE_PROTO = `syntax = "proto3";
package kbak.mr;
message Profile {
  message Address { string street = 1; string city = 2; }
  string user_id = 1;
  Address address = 2;
  repeated string phones = 3;
  oneof contact { string email = 4; string handle = 5; }
  map<string, string> labels = 6;
  int64 seq = 7;
}
`;
const profileType = protobuf.parse(PROFILE_PROTO).root.lookupType('kbak.mr.Profile');

interface Customer {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  cards: Array<{ number: string; exp: string }>;
  attrs: Record<string, string>;
  note: string | null;
  createdAt: number;
  tier: string;
}
interface Order {
  orderId: string;
  customer: { id: string; email: string };
  items: Array<{ sku: string; card: string }>;
  total: number;
}

/** Per topic, the source records as produced (partition, in order), and their decoded values. */
const customers: Array<{ partition: number; value: Customer; headers: Array<{ key: string; value: string }> }> = [];
const orders: Array<{ partition: number; value: Order; headers: Array<{ key: string; value: string }> }> = [];
/** Source values of fields the policy masks with hash, fpe, redact, null or a fake (and full card numbers, which partial hides). */
const secrets = new Set<string>();
/** The committed offsets of GROUP on orders, per partition. */
const committed = new Map<number, bigint>();
const CUSTOMER_COUNT = 100;
const TIERS = ['BRONZE', 'SILVER', 'GOLD'];

function headersFor(email: string): Array<{ key: string; value: string }> {
  const other = `other-${rand(6)}`;
  secrets.add(other);
  return [
    { key: 'traceparent', value: `00-${rand(16)}-${rand(8)}-01` },
    { key: 'x-user-email', value: email },
    { key: 'other', value: other },
  ];
}

const wire = (h: Array<{ key: string; value: string }>): TestRecord['headers'] => h.map((x) => ({ key: x.key, value: Buffer.from(x.value) }));

function policyText(opts: { customersName?: boolean; badEntry?: boolean } = {}): string {
  const headers = `    headers:
      - { name: traceparent, action: keep }
      - { name: "x-user-.*", action: hash }
      - { name: ".*", action: drop }`;
  return `version: 1
key: { env: KBAK_MASK_KEY, encoding: base64 }
topics:
  - match: "${T.customers}"
    key: { action: fpe }
    value:
      - { path: id, action: fpe }
      - { path: email, action: fake, fake: email }
${opts.customersName === false ? '' : '      - { path: name, action: fake, fake: name }\n'}      - { path: phone, action: hash }
      - { path: "cards[*].number", action: partial, keep: last4 }
      - { path: "attrs{*}", action: redact }
      - { path: note, action: null }
${headers}
    sample: { fraction: 0.5, by: key }
  - match: "${T.orders}"
    key: { action: fpe }
    value:
      - { path: customer.id, action: fpe }
      - { path: customer.email, action: fake, fake: email }
      - { path: "items[*].card", action: partial, keep: last4 }
${headers}
    sample: { fraction: 0.5, by: customer.id }
  - match: "${T.events}"
    value:
      - { path: user.email, action: fake, fake: email }
      - { path: user.name, action: hash }
      - { path: "tags[*]", action: redact }
${headers}
  - match: "${T.profiles}"
    value:
      - { path: user_id, action: fpe }
      - { path: address.street, action: fake, fake: address }
      - { path: "phones[*]", action: hash }
      - { path: email, action: fake, fake: email }
      - { path: handle, action: redact }
      - { path: "labels{*}", action: hash }
${headers}
  - match: "${T.plain}"
    value:
      - { path: contact.email, action: fake, fake: email }
      - { path: secret, action: hash }
${headers}
${
  opts.badEntry === false
    ? ''
    : `  - match: "${T.bad}"
    value:
      - { path: email, action: hash }
`
}`;
}

let policyFile: string;
const lanesToClean: string[] = [];

function writePolicy(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** The Confluent frame of a Protobuf payload of the file's first message (message indexes [0]: one 0 byte). */
function protoFramed(id: number, body: Uint8Array): Buffer {
  const idBuf = Buffer.alloc(4);
  idBuf.writeUInt32BE(id);
  return Buffer.concat([Buffer.from([0]), idBuf, Buffer.from([0]), Buffer.from(body)]);
}

function avroSchemaIdOf(payload: Buffer): number {
  expect(payload[0]).toBe(0);
  return payload.readUInt32BE(1);
}

beforeAll(async () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  dir = mkdtempSync(join(tmpdir(), 'kbak-masked-'));
  dest = join(dir, 'backups');
  await createTopic(kafka, T.customers, 2);
  await createTopic(kafka, T.orders, 2);
  for (const t of [T.events, T.profiles, T.plain, T.bad]) await createTopic(kafka, t, 1);

  const cust = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(CUSTOMER_SCHEMA) }, { subject: `${T.customers}-value` });
  const ord = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_SCHEMA) }, { subject: `${T.orders}-value` });
  const ev = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(EVENT_SCHEMA) }, { subject: `${T.events}-value` });
  const prof = await registry.register({ type: SchemaType.PROTOBUF, schema: PROFILE_PROTO }, { subject: `${T.profiles}-value` });
  const badSchema = { type: 'record', name: 'Bad', namespace: 'kbak.mr', fields: [{ name: 'email', type: 'string' }] };
  const bad = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(badSchema) }, { subject: `${T.bad}-value` });

  const base = Date.now() - 600_000;
  // customers: 100 customers, every fifth written twice (an update with the same key)
  const ids: string[] = [];
  const emails: string[] = [];
  for (let c = 0; c < CUSTOMER_COUNT; c++) {
    ids.push(`C${digits(12)}`);
    emails.push(`real.person.${rand(5)}@corp-mail.test`);
  }
  const custRecords: TestRecord[] = [];
  const customerOrder = [...ids.keys(), ...ids.keys()].filter((c, i) => i < CUSTOMER_COUNT || c % 5 === 0);
  for (const [i, c] of customerOrder.entries()) {
    const value: Customer = {
      id: ids[c]!,
      email: emails[c]!,
      name: `Quillon Vexmarch ${rand(4)}`,
      phone: c % 7 === 0 ? null : `+4415${digits(8)}`,
      cards: Array.from({ length: 1 + (c % 3) }, () => ({ number: `4${digits(15)}`, exp: `0${1 + (c % 9)}/2${c % 10}` })),
      attrs: { [`k${c}`]: `attr-${rand(6)}`, '10': `attr-${rand(6)}`, '2': `attr-${rand(6)}` },
      note: c % 4 === 0 ? null : `note-${rand(8)}`,
      createdAt: base + i,
      tier: TIERS[c % 3]!,
    };
    for (const s of [value.id, value.email, value.name, value.phone, value.note, ...Object.values(value.attrs), ...value.cards.map((k) => k.number)]) {
      if (s !== null) secrets.add(s);
    }
    const headers = headersFor(value.email);
    customers.push({ partition: c % 2, value, headers });
    custRecords.push({
      partition: c % 2,
      key: Buffer.from(value.id),
      value: await registry.encode(cust.id, value),
      headers: wire(headers),
      timestamp: String(base + i),
    });
  }
  await produce(kafka, T.customers, custRecords);

  const orderRecords: TestRecord[] = [];
  for (let i = 0; i < 200; i++) {
    const c = (i * 37) % CUSTOMER_COUNT;
    const value: Order = {
      orderId: `order-${i}-${rand(3)}`,
      customer: { id: ids[c]!, email: emails[c]! },
      items: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ sku: `sku-${i}-${j}`, card: `5${digits(15)}` })),
      total: i * 1.25,
    };
    for (const it of value.items) secrets.add(it.card);
    const headers = headersFor(value.customer.email);
    orders.push({ partition: c % 2, value, headers });
    orderRecords.push({
      partition: c % 2,
      key: Buffer.from(value.customer.id),
      value: await registry.encode(ord.id, value),
      headers: wire(headers),
      timestamp: String(base + 1000 + i),
    });
  }
  await produce(kafka, T.orders, orderRecords);

  const eventRecords: TestRecord[] = [];
  for (let n = 0; n < 30; n++) {
    const value = { user: { email: `ev.${rand(5)}@corp-mail.test`, name: `Ysolde Brackenridge ${rand(4)}` }, tags: [`tag-${rand(5)}`, `tag-${rand(5)}`], n };
    for (const s of [value.user.email, value.user.name, ...value.tags]) secrets.add(s);
    eventRecords.push({
      partition: 0,
      key: Buffer.from(`ev-${n}`),
      value: await registry.encode(ev.id, value),
      headers: wire(headersFor(value.user.email)),
      timestamp: String(base + 2000 + n),
    });
  }
  await produce(kafka, T.events, eventRecords);

  const profileRecords: TestRecord[] = [];
  for (let seq = 0; seq < 30; seq++) {
    const contact = seq % 2 === 0 ? { email: `pr.${rand(5)}@corp-mail.test` } : { handle: `handle-${rand(5)}` };
    const value = {
      userId: `U${digits(10)}`,
      address: { street: `${seq} Quantock Lane ${rand(3)}`, city: `City${seq}` },
      phones: [`+3361${digits(8)}`, `+3362${digits(8)}`],
      ...contact,
      labels: { a: `label-${rand(5)}`, b: `label-${rand(5)}` },
      seq,
    };
    for (const s of [value.userId, value.address.street, ...value.phones, ...Object.values(contact), ...Object.values(value.labels)]) secrets.add(s);
    profileRecords.push({
      partition: 0,
      key: Buffer.from(`pr-${seq}`),
      value: protoFramed(prof.id, profileType.encode(profileType.fromObject(value)).finish()),
      headers: wire(headersFor(`hdr.${rand(5)}@corp-mail.test`)),
      timestamp: String(base + 3000 + seq),
    });
  }
  await produce(kafka, T.profiles, profileRecords);

  const plainRecords: TestRecord[] = [];
  for (let seq = 0; seq < 30; seq++) {
    const email = `pl.${rand(5)}@corp-mail.test`;
    const secret = `s3cr3t-${rand(6)}`;
    secrets.add(email).add(secret);
    plainRecords.push({
      partition: 0,
      key: Buffer.from(`pl-${seq}`),
      value: Buffer.from(`{"seq": ${seq}, "contact": {"email": "${email}", "city": "Lyon"},\n  "secret": "${secret}", "amount": 1.50}`),
      headers: wire(headersFor(email)),
      timestamp: String(base + 4000 + seq),
    });
  }
  await produce(kafka, T.plain, plainRecords);

  // bad: 5 records, the third framed with the topic's schema ID but corrupt Avro bytes
  // (a string length of -1), carrying a marker that must never reach a lane.
  const badRecords: TestRecord[] = [];
  for (let i = 0; i < 5; i++) {
    const value =
      i === 2
        ? Buffer.concat([(await registry.encode(bad.id, { email: 'x' })).subarray(0, 5), Buffer.from([0x01]), Buffer.from(BAD_MARKER)])
        : await registry.encode(bad.id, { email: `bad.${rand(5)}@corp-mail.test` });
    badRecords.push({ partition: 0, key: Buffer.from(`bad-${i}`), value, headers: [], timestamp: String(base + 5000 + i) });
  }
  await produce(kafka, T.bad, badRecords);

  // A consumer group committed in the middle of orders.
  const ordOffsets = await withAdmin((a) => a.fetchTopicOffsets(T.orders));
  for (const o of ordOffsets) committed.set(o.partition, BigInt(o.high) / 2n + 1n);
  await withAdmin((a) =>
    a.setOffsets({
      groupId: GROUP,
      topic: T.orders,
      partitions: [...committed].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
    }),
  );

  const d = await kb(['dump', ...Object.values(T).flatMap((t) => ['--topic', t]), '--to', dest, '--name', 'mr', '--quiet']);
  if (d.code !== 0) throw new Error(`dump failed: ${d.stderr}`);
  policyFile = writePolicy('p.yaml', policyText());
  const r = await kb(['restore', '--lane', LANE, '--source', dest, '--policy', policyFile, ...MAIN_TOPICS.flatMap((t) => ['--topic', t]), '--json']);
  if (r.code !== 0) throw new Error(`masked restore failed (${r.code}): ${r.stderr}`);
  lanesToClean.push(LANE);
}, 240_000);

afterAll(async () => {
  for (const lane of lanesToClean) await runKbak(['lane', 'delete', lane, '--yes'], { KBAK_LEDGER_TOPIC: LEDGER }).catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------------------------

async function readAll(topic: string): Promise<Map<number, KcatBytesRecord[]>> {
  const offsets = await withAdmin((a) => a.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, kcatReadBytes(topic, o.partition)]));
}

const laneTopic = (t: string, lane = LANE): string => `${lane}.${t}`;
const cache = new Map<string, Map<number, KcatBytesRecord[]>>();
async function lane(t: string): Promise<Map<number, KcatBytesRecord[]>> {
  if (!cache.has(t)) cache.set(t, await readAll(laneTopic(t)));
  return cache.get(t)!;
}
async function source(t: string): Promise<Map<number, KcatBytesRecord[]>> {
  if (!cache.has(`src:${t}`)) cache.set(`src:${t}`, await readAll(t));
  return cache.get(`src:${t}`)!;
}

async function laneSchemaId(t: string): Promise<number> {
  return registry.getLatestSchemaId(`${LANE}.${t}-value`);
}

/** A lane value decoded with its lane subject's schema (the frame must name that schema). */
async function decodeLane<V>(t: string, payload: Buffer): Promise<V> {
  expect(avroSchemaIdOf(payload)).toBe(await laneSchemaId(t));
  return (await registry.decode(payload)) as V;
}

/** The Profile message of the lane subject's own schema (the registry's text, parsed by protobufjs). */
async function laneProfileType(): Promise<protobuf.Type> {
  const res = await fetch(`${stackEnv().registryUrl}/subjects/${encodeURIComponent(`${LANE}.${T.profiles}-value`)}/versions/latest`);
  expect(res.status).toBe(200);
  const { schema } = (await res.json()) as { schema: string };
  return protobuf.parse(schema).root.lookupType('kbak.mr.Profile');
}

/** Lane records with the source record each came from (matched by an untouched unique field). */
async function pairs<V>(
  t: string,
  field: (v: V) => string,
): Promise<Array<{ partition: number; lane: KcatBytesRecord; src: KcatBytesRecord; srcIndex: number; lv: V; sv: V }>> {
  const src = await source(t);
  const bySrc = new Map<string, { rec: KcatBytesRecord; partition: number; index: number; sv: V }>();
  for (const [p, list] of src) {
    for (const [index, rec] of list.entries()) {
      const sv = (await registry.decode(rec.value!)) as V;
      bySrc.set(field(sv), { rec, partition: p, index, sv });
    }
  }
  const out = [];
  for (const [p, list] of await lane(t)) {
    for (const rec of list) {
      const lv = await decodeLane<V>(t, rec.value!);
      const s = bySrc.get(field(lv));
      if (s === undefined) throw new Error(`lane ${t} record ${p}/${rec.offset} matches no source record`);
      out.push({ partition: p, lane: rec, src: s.rec, srcIndex: s.index, lv, sv: s.sv });
    }
  }
  return out;
}

/** `restore --dry-run --policy` of topic customers (plus `extra`), into a lane that is never created. */
function dryRun(policy: string, env: Record<string, string | undefined> = {}, extra: string[] = []): Promise<CliResult> {
  return kb(['restore', '--lane', 'mr-dry', '--source', dest, '--policy', policy, '--dry-run', '--topic', T.customers, ...extra], env);
}

const headerValue = (r: KcatBytesRecord, name: string): Buffer | null | undefined => r.headers.find((h) => h.key === name)?.value;

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('kbak restore --policy (masked lane, read back by kcat)', () => {
  it('1. no source value of a hashed, fpe-d, redacted, nulled or faked field is anywhere in the lane topics (keys, values, header values)', async () => {
    expect(secrets.size).toBeGreaterThan(1000);
    let scanned = 0;
    for (const t of MAIN_TOPICS) {
      // Every key, value and header value of the lane topic, 0-separated (no source value holds a 0 byte).
      const blobs = [...(await lane(t)).values()]
        .flat()
        .flatMap((r) => [r.key, r.value, ...r.headers.map((h) => h.value)].filter((b): b is Buffer => b !== null));
      scanned += blobs.length;
      const all = Buffer.concat(blobs.flatMap((b) => [b, Buffer.from([0])]));
      const found = [...secrets].filter((x) => all.includes(x));
      expect({ topic: laneTopic(t), found }).toEqual({ topic: laneTopic(t), found: [] });
    }
    // every lane record's key, value and two header values were scanned
    const laneRecords = (await Promise.all(MAIN_TOPICS.map(async (t) => [...(await lane(t)).values()].flat().length))).reduce((a, b) => a + b, 0);
    expect(laneRecords).toBeGreaterThan(200);
    expect(scanned).toBe(4 * laneRecords);
    // The scan can find: the source topics hold every one of the values.
    const srcBlob = Buffer.concat(
      await Promise.all(
        MAIN_TOPICS.map(async (t) =>
          Buffer.concat(
            [...(await source(t)).values()]
              .flat()
              .flatMap((r) => [r.key ?? Buffer.alloc(0), r.value ?? Buffer.alloc(0), ...r.headers.map((h) => h.value ?? Buffer.alloc(0))]),
          ),
        ),
      ),
    );
    for (const s of secrets) expect(srcBlob.includes(s)).toBe(true);
  });

  it('2. a masked customer id is equal across orders and customers, and a masked key equals its masked id (every lane payload decodes with its lane subject)', async () => {
    const cust = await pairs<Customer>(T.customers, (v) => String(v.createdAt));
    const ord = await pairs<Order>(T.orders, (v) => v.orderId);
    const masked = new Map<string, string>();
    for (const c of cust) {
      expect(c.lv.id).not.toBe(c.sv.id);
      expect(c.lv.id).toHaveLength(c.sv.id.length);
      const prev = masked.get(c.sv.id);
      if (prev !== undefined) expect(c.lv.id).toBe(prev);
      masked.set(c.sv.id, c.lv.id);
      expect(c.lane.key!.toString('utf8')).toBe(c.lv.id);
    }
    // 1:1: distinct customers stay distinct
    expect(new Set(masked.values()).size).toBe(masked.size);
    let joined = 0;
    for (const o of ord) {
      expect(masked.get(o.sv.customer.id)).toBe(o.lv.customer.id);
      expect(o.lane.key!.toString('utf8')).toBe(o.lv.customer.id);
      joined++;
    }
    expect(joined).toBeGreaterThan(0);
    // JSON Schema and Protobuf lane payloads decode with their lane subjects' schemas too.
    for (const r of [...(await lane(T.events)).values()].flat()) {
      const v = await decodeLane<{ n: number }>(T.events, r.value!);
      expect(typeof v.n).toBe('number');
    }
    const laneProfile = await laneProfileType();
    let profiles = 0;
    for (const r of [...(await lane(T.profiles)).values()].flat()) {
      expect(avroSchemaIdOf(r.value!)).toBe(await laneSchemaId(T.profiles));
      const v = laneProfile.toObject(laneProfile.decode(protoBody(r.value!)), { longs: String }) as { seq: string; userId: string };
      expect(v.userId).toMatch(/^[0-9A-Za-z]{11}$/);
      profiles++;
    }
    expect(profiles).toBe(30);
  });

  it('3. fields, partitions, order and timestamps the policy does not touch equal the source; headers kept, hashed or dropped as the rules say', async () => {
    const cust = await pairs<Customer>(T.customers, (v) => String(v.createdAt));
    const ord = await pairs<Order>(T.orders, (v) => v.orderId);
    for (const set of [cust, ord] as Array<Array<{ partition: number; lane: KcatBytesRecord; src: KcatBytesRecord; srcIndex: number }>>) {
      const lastIndex = new Map<number, number>();
      for (const x of set) {
        // same partition as the source, in source order, same timestamp
        expect(x.partition).toBe(sourcePartitionOf(x.src, set === cust ? T.customers : T.orders));
        expect(x.srcIndex).toBeGreaterThan(lastIndex.get(x.partition) ?? -1);
        lastIndex.set(x.partition, x.srcIndex);
        expect(x.lane.timestamp).toBe(x.src.timestamp);
        checkHeaders(x.lane, x.src);
      }
    }
    for (const { lv, sv } of cust) {
      expect(lv.createdAt).toBe(sv.createdAt);
      expect(lv.tier).toBe(sv.tier);
      expect(lv.cards.map((c) => c.exp)).toEqual(sv.cards.map((c) => c.exp));
      expect(lv.cards.map((c) => c.number)).toEqual(sv.cards.map((c) => `${'*'.repeat(c.number.length - 4)}${c.number.slice(-4)}`));
      expect(Object.keys(lv.attrs)).toEqual(Object.keys(sv.attrs));
      expect(lv.note).toBeNull();
      expect(lv.phone === null).toBe(sv.phone === null);
      expect(lv.email).toMatch(/@/);
      expect(lv.email).not.toBe(sv.email);
      expect(lv.name).not.toBe(sv.name);
    }
    for (const { lv, sv } of ord) {
      expect(lv.total).toBe(sv.total);
      expect(lv.items.map((i) => i.sku)).toEqual(sv.items.map((i) => i.sku));
      expect(lv.items.map((i) => i.card)).toEqual(sv.items.map((i) => `${'*'.repeat(i.card.length - 4)}${i.card.slice(-4)}`));
    }
    // events, profiles, plain: not sampled, record for record
    for (const t of [T.events, T.profiles, T.plain]) {
      const src = await source(t);
      const ln = await lane(t);
      expect([...ln.keys()]).toEqual([...src.keys()]);
      for (const [p, list] of src) {
        const l = ln.get(p)!;
        expect(l.length).toBe(list.length);
        for (const [i, s] of list.entries()) {
          const d = l[i]!;
          expect(d.timestamp).toBe(s.timestamp);
          expect(d.key).toEqual(s.key);
          checkHeaders(d, s);
          if (t === T.events) {
            const sv = (await registry.decode(s.value!)) as { n: number; tags: string[]; user: { email: string; name: string } };
            const lv = await decodeLane<typeof sv>(t, d.value!);
            expect(lv.n).toBe(sv.n);
            expect(lv.tags).toHaveLength(sv.tags.length);
            expect(lv.user.name).toHaveLength(sv.user.name.length);
          } else if (t === T.profiles) {
            const sv = profileType.toObject(profileType.decode(protoBody(s.value!)), { longs: String }) as Record<string, unknown>;
            const lt = await laneProfileType();
            const lv = lt.toObject(lt.decode(protoBody(d.value!)), { longs: String }) as Record<string, unknown>;
            expect(lv.seq).toBe(sv.seq);
            expect((lv.address as { city: string }).city).toBe((sv.address as { city: string }).city);
            expect(Object.keys(lv.labels as object).sort()).toEqual(Object.keys(sv.labels as object).sort());
            expect((lv.phones as string[]).length).toBe((sv.phones as string[]).length);
            expect('email' in lv).toBe('email' in sv);
            expect('handle' in lv).toBe('handle' in sv);
          } else {
            // plain JSON edited in place: the text outside the masked strings is byte-equal
            const shape = (b: Buffer): string =>
              b
                .toString('utf8')
                .replace(/"email": "[^"]*"/, '"email": ?')
                .replace(/"secret": "[^"]*"/, '"secret": ?');
            expect(shape(d.value!)).toBe(shape(s.value!));
          }
        }
      }
    }
  });

  it('4. the sample keeps about half the customers, the same customers in orders and customers', async () => {
    const cust = await pairs<Customer>(T.customers, (v) => String(v.createdAt));
    const ord = await pairs<Order>(T.orders, (v) => v.orderId);
    const kept = new Set(cust.map((c) => c.sv.id));
    expect(kept.size).toBeGreaterThanOrEqual(25);
    expect(kept.size).toBeLessThanOrEqual(75);
    // a customer's records are all kept or all left out
    for (const c of customers) expect(cust.some((x) => x.sv.createdAt === c.value.createdAt)).toBe(kept.has(c.value.id));
    // lane orders' customers ⊆ lane customers, by masked id
    const laneCustomerIds = new Set(cust.map((c) => c.lv.id));
    for (const o of ord) expect(laneCustomerIds.has(o.lv.customer.id)).toBe(true);
    // exactly the orders whose source customer is kept
    const laneOrderIds = new Set(ord.map((o) => o.sv.orderId));
    for (const o of orders) expect(laneOrderIds.has(o.value.orderId)).toBe(kept.has(o.value.customer.id));
    expect(laneOrderIds.size).toBeGreaterThan(0);
    expect(laneOrderIds.size).toBeLessThan(orders.length);
  });

  it('5. the group lands on the lane offset of the first kept record at or after its committed source offset', async () => {
    const ord = await pairs<Order>(T.orders, (v) => v.orderId);
    const res = await withAdmin((a) => a.fetchOffsets({ groupId: `${LANE}.${GROUP}`, topics: [laneTopic(T.orders)] }));
    const laneOffsets = new Map(res[0]!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    expect(committed.size).toBe(2);
    for (const [p, c] of committed) {
      const below = ord.filter((o) => o.partition === p && o.src.offset < c).length;
      expect(laneOffsets.get(p)).toBe(BigInt(below));
      // and that is not just the source offset: records were left out below it
      expect(BigInt(below)).toBeLessThan(c);
    }
  });

  it('6. fail closed: a corrupt record stops the restore naming topic, partition and offset; --on-undecodable drop leaves it out and counts it', async () => {
    const stopLane = uniqueName('mrs').slice(0, 24);
    lanesToClean.push(stopLane);
    const stop = await kb(['restore', '--lane', stopLane, '--source', dest, '--policy', policyFile, '--topic', T.bad]);
    expect(stop.code).toBe(6);
    const line = oneLine(stop);
    expect(line).toContain(T.bad);
    expect(line).toContain(`record ${T.bad}/0 at offset 2 cannot be masked`);
    if ((await withAdmin((a) => a.listTopics())).includes(laneTopic(T.bad, stopLane))) {
      for (const r of kcatReadBytes(laneTopic(T.bad, stopLane), 0)) {
        expect(r.key?.toString()).not.toBe('bad-2');
        expect(r.value?.includes(BAD_MARKER)).toBe(false);
      }
    }
    const dropLane = uniqueName('mrd').slice(0, 24);
    lanesToClean.push(dropLane);
    const drop = await kb(['restore', '--lane', dropLane, '--source', dest, '--policy', policyFile, '--topic', T.bad, '--on-undecodable', 'drop', '--json']);
    expect(drop.code).toBe(0);
    expect((JSON.parse(drop.stdout) as { undecodableDropped: number }).undecodableDropped).toBe(1);
    const got = kcatReadBytes(laneTopic(T.bad, dropLane), 0);
    expect(got.map((r) => r.key?.toString())).toEqual(['bad-0', 'bad-1', 'bad-3', 'bad-4']);
    for (const r of got) expect(r.value!.includes(BAD_MARKER)).toBe(false);
  });

  it('7. provenance: describe and list show the policy, its SHA-256, the key fingerprint and the faker version; an unmasked lane shows none', async () => {
    const d = await kb(['lane', 'describe', LANE, '--json']);
    expect(d.code).toBe(0);
    const origin = (JSON.parse(d.stdout) as { origin: { policy: Record<string, string> | null } }).origin;
    expect(origin.policy).not.toBeNull();
    expect(origin.policy!.policySha256).toBe(createHash('sha256').update(readFileSync(policyFile)).digest('hex'));
    expect(origin.policy!.keyFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(KEY_HEX).not.toContain(origin.policy!.keyFingerprint);
    expect(origin.policy!.faker).toBe('@faker-js/faker@9.9.0');
    const plainLane = uniqueName('mru').slice(0, 24);
    lanesToClean.push(plainLane);
    expect((await kb(['restore', '--lane', plainLane, '--source', dest, '--topic', T.events, '--quiet'])).code).toBe(0);
    const l = await kb(['lane', 'list', '--json']);
    expect(l.code).toBe(0);
    const { lanes } = JSON.parse(l.stdout) as { lanes: Array<{ lane: string; masking: Record<string, string> | null }> };
    const masked = lanes.find((x) => x.lane === LANE)!;
    const unmasked = lanes.find((x) => x.lane === plainLane)!;
    expect(masked).toBeDefined();
    expect(unmasked).toBeDefined();
    expect(masked.masking).toEqual(origin.policy);
    expect(unmasked.masking).toBeNull();
  });

  it('8. bad inputs: one line, exit 2, naming the problem', async () => {
    const base = policyText({ badEntry: false });
    const cases: Array<{ what: string; text?: string; env?: Record<string, string | undefined>; extra?: string[]; expect: RegExp[] }> = [
      { what: 'path not in the schema', text: base.replace('path: phone,', 'path: phonee,'), expect: [/phonee/, new RegExp(T.customers), /schema/] },
      {
        what: 'null on a non-nullable field',
        text: base.replace('{ path: phone, action: hash }', '{ path: phone, action: hash }\n      - { path: tier, action: null }'),
        expect: [/tier/, /null/],
      },
      { what: 'missing key variable', env: { KBAK_MASK_KEY: undefined }, expect: [/KBAK_MASK_KEY/] },
      { what: 'short key', env: { KBAK_MASK_KEY: randomBytes(16).toString('base64') }, expect: [/has 16 bytes; 32 are needed/] },
      { what: 'invalid regex', text: base.replace(`match: "${T.events}"`, 'match: "([a-z"'), expect: [/regular expression|regex/i, /\(\[a-z/] },
      { what: 'fraction above 1', text: base.replace('fraction: 0.5, by: key', 'fraction: 1.5, by: key'), expect: [/fraction/, /1\.5/] },
      { what: 'fraction 0', text: base.replace('fraction: 0.5, by: key', 'fraction: 0, by: key'), expect: [/fraction/] },
      { what: 'syntax error', text: base.replace('version: 1', 'version: [1'), expect: [/:\d+:\d+/] },
      { what: 'unknown action', text: base.replace('{ path: phone, action: hash }', '{ path: phone, action: hashh }'), expect: [/hashh/] },
    ];
    const wrong: unknown[] = [];
    for (const c of cases) {
      const f = writePolicy(`bad-${c.what.replace(/\W+/g, '-')}.yaml`, c.text ?? base);
      const r = await dryRun(f, c.env ?? {}, c.extra ?? []);
      const lines = r.stderr.trim().split('\n');
      const missed = c.expect.filter((re) => !re.test(lines[0]!)).map(String);
      if (r.code !== 2 || lines.length !== 1 || missed.length > 0 || r.stdout !== '') wrong.push({ what: c.what, code: r.code, stderr: r.stderr, missed });
    }
    expect(wrong).toEqual([]);
    // A topic the policy does not list: refused by default, naming it; --unlisted copy takes it.
    const onlyCustomers = writePolicy('only-customers.yaml', base.split(`  - match: "${T.orders}"`)[0]!);
    const refused = await dryRun(onlyCustomers, {}, ['--topic', T.plain]);
    expect(refused.code).toBe(2);
    expect(oneLine(refused)).toContain(T.plain);
    const copied = await dryRun(onlyCustomers, {}, ['--topic', T.plain, '--unlisted', 'copy']);
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    expect(copied.stdout).toContain(T.plain);
  });

  it('9. --dry-run --policy prints every field with its action and warns about an uncovered personal field by name', async () => {
    const noName = writePolicy('no-name.yaml', policyText({ customersName: false, badEntry: false }));
    const r = await dryRun(noName);
    expect(r.code).toBe(0);
    // every field of the schema, one row each, with the action that applies
    const rows: Array<[string, string]> = [
      ['id', 'fpe'],
      ['email', 'fake email'],
      ['name', 'keep (no rule)'],
      ['phone', 'hash'],
      ['cards[*].number', 'partial last4'],
      ['cards[*].exp', 'keep (no rule)'],
      ['attrs{*}', 'redact'],
      ['note', 'null'],
      ['createdAt', 'keep (no rule)'],
      ['tier', 'keep (no rule)'],
    ];
    const esc = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const [path, action] of rows) expect(r.stdout).toMatch(new RegExp(`^ +${esc(path)} +\\S.* ${esc(action)}$`, 'm'));
    expect(r.stdout).toMatch(/^warning: 1 field no rule masks looks personal/m);
    expect(r.stdout).toMatch(new RegExp(`^ +${esc(T.customers)} value schema \\d+: name looks like`, 'm'));
    // with the rule for name, no warning
    const full = await dryRun(policyFile);
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(/^ +name +string +fake name$/m);
    expect(full.stdout).not.toMatch(/warning/);
  });

  it('9. kbak policy init --out drafts a policy (personal fields pre-filled) that restore --dry-run --policy accepts once the key is set', async () => {
    const out = join(dir, 'drafted-out.yaml');
    const init = await kb(['policy', 'init', '--source', dest, '--topic', T.customers, '--out', out]);
    expect(init.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^ +- \{ path: email, action: fake, fake: email \}$/m);
    expect(text).toMatch(/^ +- \{ path: name, action: fake, fake: name \}$/m);
    expect(text).not.toContain(KEY_B64);
    const withoutKey = await dryRun(out, { KBAK_MASK_KEY: undefined });
    expect(withoutKey.code).toBe(2);
    expect(oneLine(withoutKey)).toContain('KBAK_MASK_KEY');
    const accepted = await dryRun(out);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/^ +email +string +fake email$/m);
  });

  // `kbak policy init > p.yaml`: the policy on stdout, line by line (a newline inside one stdout line would be escaped).
  it('9. kbak policy init prints (stdout) a policy that restore --dry-run --policy accepts', async () => {
    const init = await kb(['policy', 'init', '--source', dest, '--topic', T.customers]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(T.customers);
    const drafted = writePolicy('drafted.yaml', init.stdout);
    const accepted = await dryRun(drafted);
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
  });

  it('10. lane reset of the masked lane needs --policy with the same policy and key', async () => {
    for (const t of [T.customers, T.orders, T.profiles, T.plain]) await lane(t);
    const noPolicy = await kb(['lane', 'reset', LANE, '--source', dest]);
    expect(noPolicy.code).toBe(6);
    expect(oneLine(noPolicy)).toMatch(/--policy/);
    const ok = await kb(['lane', 'reset', LANE, '--source', dest, '--policy', policyFile]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // the reset lane holds the same masked records, byte for byte, as the first seed (deterministic masking and sample)
    for (const t of [T.customers, T.orders, T.profiles, T.plain]) {
      const seeded = await lane(t);
      const again = await readAll(laneTopic(t));
      const strip = (m: Map<number, KcatBytesRecord[]>) =>
        [...m].map(([p, l]) => [p, l.map((r) => ({ ...r, value: t === T.plain ? r.value : r.value!.subarray(5) }))]);
      expect(strip(again)).toEqual(strip(seeded));
    }
  });

  it('7. the key never appears in any output of any run, nor in the ledger topic', async () => {
    expect(runs.length).toBeGreaterThan(15);
    for (const { args, r } of runs) {
      for (const s of [KEY_B64, KEY_HEX, KEY_B64.slice(0, 16), KEY_HEX.slice(0, 16)]) {
        expect({ args, leaked: r.stdout.includes(s) || r.stderr.includes(s) }).toEqual({ args, leaked: false });
      }
    }
    const ledger = [...(await readAll(LEDGER)).values()].flat();
    expect(ledger.length).toBeGreaterThan(0);
    const blob = Buffer.concat(ledger.flatMap((r) => [r.key ?? Buffer.alloc(0), r.value ?? Buffer.alloc(0)]));
    expect(blob.includes(Buffer.from(KEY_B64.slice(0, 16)))).toBe(false);
    expect(blob.includes(Buffer.from(KEY_HEX.slice(0, 16)))).toBe(false);
    expect(blob.includes(KEY.subarray(0, 12))).toBe(false);
    // the ledger does carry the fingerprint, so the scan reads the right bytes
    expect(blob.toString('utf8')).toMatch(/keyFingerprint/);
  });
});

function sourcePartitionOf(rec: KcatBytesRecord, t: string): number {
  const key = rec.key!.toString('utf8');
  const found = t === T.customers ? customers.find((x) => x.value.id === key) : orders.find((x) => x.value.customer.id === key);
  return found!.partition;
}

/** traceparent kept byte for byte, x-user-email hashed (present, changed), other dropped. */
function checkHeaders(lane: KcatBytesRecord, src: KcatBytesRecord): void {
  expect(lane.headers.map((h) => h.key)).toEqual(['traceparent', 'x-user-email']);
  expect(headerValue(lane, 'traceparent')).toEqual(headerValue(src, 'traceparent'));
  expect(headerValue(lane, 'x-user-email')).not.toEqual(headerValue(src, 'x-user-email'));
  expect(headerValue(lane, 'x-user-email')!.length).toBeGreaterThan(0);
  expect(headerValue(lane, 'other')).toBeUndefined();
}

/** The Protobuf body of a framed payload: after the 5-byte frame and the message indexes. */
function protoBody(payload: Buffer): Buffer {
  let p = 5;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = payload[p++]!;
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (v >>> 1) ^ -(v & 1);
      shift += 7;
    }
  };
  const count = varint();
  for (let i = 0; i < count; i++) varint();
  return payload.subarray(p);
}
