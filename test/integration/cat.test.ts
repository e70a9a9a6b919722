/**
 * kbak cat on disk and S3: records as JSON lines, offset/limit/partition selection, and
 * --decode of Avro, JSON Schema and Protobuf values with the schemas stored in the backup
 * (the registry's subjects are deleted before cat runs, so nothing can come from it), and
 * `cat -f` compared byte for byte with kcat reading the same records from the broker.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import protobuf from 'protobufjs';
import { execFileSync } from 'node:child_process';
import { KBAK_BIN, runKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';
import { newDestination, type StoreKind } from '../support/stores';

const kafka = testKafka();
let topic: string;
const dests: Record<StoreKind, string> = { disk: '', s3: '' };

beforeAll(async () => {
  topic = uniqueName('cat');
  // 2023-dated records: without this the stack's retention check (every 2 s) deletes them.
  await createTopic(kafka, topic, 2, { 'retention.ms': '-1' });
  const registry = new SchemaRegistry({ host: stackEnv().registryUrl });
  const avro = await registry.register(
    {
      type: SchemaType.AVRO,
      schema: JSON.stringify({
        type: 'record',
        name: 'Order',
        namespace: 'kbak.cat',
        fields: [
          { name: 'id', type: 'int' },
          { name: 'sku', type: 'string' },
        ],
      }),
    },
    { subject: `${topic}-avro` },
  );
  const json = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify({ type: 'object', properties: { note: { type: 'string' } } }) },
    { subject: `${topic}-json` },
  );
  const protoText = 'syntax = "proto3";\npackage kbak.cat;\nmessage Other { string x = 1; }\nmessage Payment { int32 cents = 1; string currency = 2; }\n';
  const proto = await registry.register({ type: SchemaType.PROTOBUF, schema: protoText }, { subject: `${topic}-proto` });
  // Confluent's Protobuf framing, built by hand (the JS registry client omits the message
  // indexes): magic, ID, then indexes [1] (zigzag varints: count 1 → 02, index 1 → 02) for Payment.
  const payment = protobuf.parse(protoText).root.lookupType('kbak.cat.Payment');
  const id = Buffer.alloc(4);
  id.writeUInt32BE(proto.id);
  const protoFramed = Buffer.concat([
    Buffer.from([0]),
    id,
    Buffer.from([0x02, 0x02]),
    Buffer.from(payment.encode(payment.create({ cents: 250, currency: 'EUR' })).finish()),
  ]);
  const values = [await registry.encode(avro.id, { id: 7, sku: 'A-1' }), await registry.encode(json.id, { note: 'hello' }), protoFramed, Buffer.from('plain')];
  await produce(
    kafka,
    topic,
    values.map((value, i) => ({
      partition: 0,
      key: Buffer.from(`k${i}`),
      value,
      headers: [{ key: 'h', value: Buffer.from(String(i)) }],
      timestamp: String(1_700_000_000_000 + i),
    })),
  );
  await produce(kafka, topic, [{ partition: 1, key: null, value: null, headers: [], timestamp: '1700000000100' }]);
  for (const kind of ['disk', 's3'] as const) {
    const { dest } = newDestination(kind, 'cat');
    const r = await runKbak(['dump', '--topic', topic, '--to', dest, '--name', 'ct']);
    expect(r.code).toBe(0);
    dests[kind] = dest;
  }
  // From here on, schemas can only come from the backups.
  for (const s of ['avro', 'json', 'proto']) {
    await fetch(`${stackEnv().registryUrl}/subjects/${topic}-${s}`, { method: 'DELETE' });
    await fetch(`${stackEnv().registryUrl}/subjects/${topic}-${s}?permanent=true`, { method: 'DELETE' });
  }
});

const lines = (stdout: string): Array<Record<string, unknown>> =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.each<StoreKind>(['disk', 's3'])('kbak cat on %s', (kind) => {
  it('prints records as JSON lines, with partition, offset and limit selection', async () => {
    const all = await runKbak(['cat', 'latest', '--source', dests[kind], '--topic', topic]);
    expect(all.code).toBe(0);
    const recs = lines(all.stdout);
    expect(recs.map((r) => [r.partition, r.offset])).toEqual([
      [0, '0'],
      [0, '1'],
      [0, '2'],
      [0, '3'],
      [1, '0'],
    ]);
    expect(recs[3]).toEqual({
      topic,
      partition: 0,
      offset: '3',
      timestamp: '2023-11-14T22:13:20.003Z',
      timestampType: 0,
      keyEncoding: 'text',
      key: 'k3',
      valueEncoding: 'text',
      value: 'plain',
      headers: [{ key: 'h', valueEncoding: 'text', value: '3' }],
    });
    // Confluent-framed Avro: binary, so base64 of the bytes.
    expect(recs[0]).toMatchObject({ keyEncoding: 'text', key: 'k0', valueEncoding: 'base64' });
    expect(Buffer.from(recs[0]!.value as string, 'base64').subarray(0, 1)).toEqual(Buffer.from([0]));
    expect(recs[4]).toMatchObject({ keyEncoding: null, key: null, valueEncoding: null, value: null });
    const some = await runKbak(['cat', 'latest', '--source', dests[kind], '--topic', topic, '--partition', '0', '--from-offset', '1', '--limit', '2']);
    expect(lines(some.stdout).map((r) => r.offset)).toEqual(['1', '2']);
  });

  it('--decode decodes Avro, JSON Schema and Protobuf with the schemas in the backup', async () => {
    const r = await runKbak(['cat', 'latest', '--source', dests[kind], '--topic', topic, '--partition', '0', '--decode']);
    expect(r.code).toBe(0);
    const recs = lines(r.stdout);
    expect(recs[0]).toMatchObject({ valueEncoding: 'avro', value: { id: 7, sku: 'A-1' }, valueSchemaId: expect.any(Number) });
    expect(recs[1]).toMatchObject({ valueEncoding: 'json-schema', value: { note: 'hello' }, valueSchemaId: expect.any(Number) });
    expect(recs[2]).toMatchObject({ valueEncoding: 'protobuf', value: { cents: 250, currency: 'EUR' }, valueSchemaId: expect.any(Number) });
    // Not framed: as without --decode, and the key keeps its shape too (it was {"raw": …} before).
    expect(recs[3]).toMatchObject({ keyEncoding: 'text', key: 'k3', valueEncoding: 'text', value: 'plain' });
    expect(recs[3]).not.toHaveProperty('valueSchemaId');
  });

  it('-f prints the bytes kcat prints for the same records from the broker, with the same format string', () => {
    const format = '%t|%p|%o|%T|%K|%k|%S|%s|%h|%R|%%\\t\\x41\\n';
    for (const partition of [0, 1]) {
      const ours = execFileSync(process.execPath, [KBAK_BIN, 'cat', 'latest', '--source', dests[kind], '--partition', String(partition), '-f', format], {
        env: { ...process.env, ...stackEnv().env },
      });
      const theirs = execFileSync(
        'kcat',
        ['-b', stackEnv().brokers.join(','), '-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', format],
        { timeout: 60_000 },
      );
      expect(theirs.length).toBeGreaterThan(0);
      expect(ours.toString('latin1')).toBe(theirs.toString('latin1'));
    }
  });

  it('names a missing topic', async () => {
    const r = await runKbak(['cat', 'latest', '--source', dests[kind], '--topic', 'nope']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/topic "nope" is not in backup/);
  });
});
