/**
 * `kbak recover` between two real clusters: a backup of the primary stack (A) recovered into a
 * second stack (B: its own Kafka, registry and S3, test/support/second-stack.ts). Both are read
 * with kcat and Kafka's and the registry's own APIs, not with kbak: the same records per
 * partition (keys, headers, timestamps; values with their schema ID mapped to B's), the groups at
 * the translated offsets over transaction markers, the configs. Then the refusals against B: a
 * topic with records, a group with offsets, `--keep-schema-ids` against B's Apicurio.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes } from 'kafkajs';
import { Kafka, logLevel, type Admin } from '../support/kafkajs-copy';
import { runKbak, type CliResult } from '../support/kbak-cli';
import { createTopic, produce, TRACE_HEADERS } from '../support/produce';
import { secondStack, type StackEndpoints } from '../support/second-stack';
import { stackEnv, testKafka, uniqueName, waitForLastStable } from '../support/stack';

jest.setTimeout(300_000);

const kafkaA = testKafka('kbak-recover-clusters-test');
const adminA = kafkaA.admin();
let b: StackEndpoints;
let kafkaB: Kafka;
let adminB: Admin;
const dirs: string[] = [];

beforeAll(async () => {
  b = await secondStack();
  kafkaB = new Kafka({ clientId: 'kbak-recover-clusters-test', brokers: b.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  adminB = kafkaB.admin();
  await Promise.all([adminA.connect(), adminB.connect()]);
});

afterAll(async () => {
  await Promise.all([adminA.disconnect(), adminB.disconnect()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function store(): string {
  const d = mkdtempSync(join(tmpdir(), 'kbak-recover-ab-'));
  dirs.push(d);
  return d;
}

/** kbak against cluster B (its brokers and registry), reading backups from `dir`. */
function recoverIntoB(dir: string, ...args: string[]): Promise<CliResult> {
  return runKbak(['recover', '--source', dir, ...args], { KBAK_BROKERS: b.brokers.join(','), KBAK_SCHEMA_REGISTRY_URL: b.registryUrl });
}

const ok = (r: CliResult): CliResult => {
  if (r.code !== 0) throw new Error(`kbak exited ${r.code}: ${r.stderr}`);
  return r;
};

interface Rec {
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<[string, string | null]>;
}

/** Every committed record of one partition read by kcat from the given brokers, bytes exact. */
function kcatAt(brokers: string[], topic: string, partition: number): Rec[] {
  const common = ['-C', '-b', brokers.join(','), '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed'];
  const json = execFileSync('kcat', [...common, '-J'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 })
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { offset: number; ts: number; headers?: Array<string | null> });
  const raw = execFileSync('kcat', [...common, '-f', '%o %K %S\n%k%s\n'], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  let p = 0;
  return json.map((j) => {
    const eol = raw.indexOf(0x0a, p);
    const [, keyLen, valueLen] = raw.toString('utf8', p, eol).split(' ').map(Number) as [number, number, number];
    p = eol + 1;
    const key = keyLen < 0 ? null : Buffer.from(raw.subarray(p, p + keyLen));
    p += Math.max(0, keyLen);
    const value = valueLen < 0 ? null : Buffer.from(raw.subarray(p, p + valueLen));
    p += Math.max(0, valueLen) + 1;
    const headers: Array<[string, string | null]> = [];
    for (let i = 0; i + 1 < (j.headers?.length ?? 0); i += 2) headers.push([j.headers![i]!, j.headers![i + 1] ?? null]);
    return { offset: BigInt(j.offset), timestamp: BigInt(j.ts), key, value, headers };
  });
}

async function registerAvro(registryUrl: string, subject: string, namespace: string): Promise<number> {
  const res = await fetch(`${registryUrl}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'Order', namespace, fields: [{ name: 'n', type: 'string' }] }) }),
  });
  if (!res.ok) throw new Error(`registering under ${subject}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

async function subjects(registryUrl: string): Promise<string[]> {
  return (await (await fetch(`${registryUrl}/subjects`)).json()) as string[];
}

function framed(schemaId: number, text: string): Buffer {
  const s = Buffer.from(text);
  const head = Buffer.alloc(6);
  head.writeUInt32BE(schemaId, 1);
  head.writeUInt8(s.length * 2, 5);
  return Buffer.concat([head, s]);
}

async function topicConfigsOn(admin: Admin, topic: string): Promise<Record<string, string>> {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  const out: Record<string, string> = {};
  for (const e of res.resources[0]!.configEntries) if ((e as unknown as { configSource?: number }).configSource === 1) out[e.configName] = e.configValue;
  return out;
}

describe('kbak recover from cluster A into cluster B', () => {
  const topic = uniqueName('ab-orders');
  const group = uniqueName('ab-billing');
  const txGroup = uniqueName('ab-tx');
  const dir = store();
  let schemaIdA: number;

  beforeAll(async () => {
    const ns = `kbak.test.ab${Date.now()}`;
    // A's ID for the schema past every ID B has handed out, so that it is free in B and B (which
    // hands out its own next ID) cannot give the same number by chance: distinct throwaway schemas in A.
    const bProbe = await registerAvro(b.registryUrl, `${topic}-probe`, `${ns}.probe`);
    for (let i = 0; i < 5000; i++) if ((await registerAvro(stackEnv().registryUrl, `${topic}-pad${i}`, `${ns}.pad${i}`)) > bProbe + 10) break;
    schemaIdA = await registerAvro(stackEnv().registryUrl, `${topic}-value`, ns);
    await createTopic(kafkaA, topic, 3, { 'retention.ms': String(3650 * 86_400_000), 'cleanup.policy': 'delete' });
    const base = Date.now() - 200 * 86_400_000;
    await produce(
      kafkaA,
      topic,
      Array.from({ length: 240 }, (_, i) => ({
        partition: i % 3,
        key: i % 9 === 0 ? null : Buffer.from(`order-${i}`),
        value: framed(schemaIdA, `n${i}`),
        headers: TRACE_HEADERS(i),
        timestamp: String(base + ((i * 7919) % 500) * 60_000),
      })),
    );
    // Transactions on partition 0: committed and aborted batches leave markers and aborted records in A.
    const producer = kafkaA.producer({ transactionalId: uniqueName('kbak-ab-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (const [i, commit] of [
      [0, true],
      [1, false],
      [2, true],
    ] as const) {
      const tx = await producer.transaction();
      await tx.send({
        topic,
        messages: Array.from({ length: 4 }, (_, k) => ({ partition: 0, key: Buffer.from(`tx${i}-${k}`), value: framed(schemaIdA, `t${i}${k}`) })),
      });
      if (commit) await tx.commit();
      else await tx.abort();
    }
    await producer.disconnect();
    const end = (await adminA.fetchTopicOffsets(topic)).find((o) => o.partition === 0)!.high;
    await waitForLastStable(adminA, topic, 0, end);
    await adminA.setOffsets({ groupId: group, topic, partitions: [0, 1, 2].map((p) => ({ partition: p, offset: String(30 + p) })) });
    // Partition 0 offsets past the first marker: 80 plain records, then tx0 at 80-83 + marker 84, tx1 (aborted) 85-88 + 89, tx2 90-93 + 94.
    await adminA.setOffsets({ groupId: txGroup, topic, partitions: [{ partition: 0, offset: '89' }] });
    ok(await runKbak(['dump', '--topic', topic, '--to', dir, '--quiet']));
  });

  it('recovers every record into B as kcat reads it from A, schema IDs mapped to B’s registry, groups translated, configs set', async () => {
    const r = ok(await recoverIntoB(dir, '-o', 'json', '--quiet'));
    const summary = JSON.parse(r.stdout) as { inPlace: boolean; records: number; idMap: Record<string, number> };
    expect(summary.inPlace).toBe(false);
    const latest = (await (await fetch(`${b.registryUrl}/subjects/${topic}-value/versions/latest`)).json()) as { id: number };
    expect(summary.idMap[String(schemaIdA)]).toBe(latest.id);
    for (const p of [0, 1, 2]) {
      const a = kcatAt(stackEnv().brokers, topic, p);
      const bb = kcatAt(b.brokers, topic, p);
      expect(bb.map((x) => [x.key, x.headers, x.timestamp])).toEqual(a.map((x) => [x.key, x.headers, x.timestamp]));
      for (let i = 0; i < a.length; i++) {
        // The value keeps every byte but the schema ID, which names B's registration.
        expect(bb[i]!.value!.readUInt32BE(1)).toBe(latest.id);
        expect(bb[i]!.value!.subarray(5)).toEqual(a[i]!.value!.subarray(5));
      }
      // The group resumes at the same record: B's committed offset is A's records before the source offset.
      const committed = (await adminB.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions.find((x) => x.partition === p)!.offset;
      expect(BigInt(committed)).toBe(BigInt(a.filter((x) => x.offset < BigInt(30 + p)).length));
      // Offsets in B start where B's log starts, dense: no markers, no aborted records.
      expect(bb.map((x) => x.offset)).toEqual(bb.map((_, i) => BigInt(i)));
    }
    const a0 = kcatAt(stackEnv().brokers, topic, 0);
    const tx = (await adminB.fetchOffsets({ groupId: txGroup, topics: [topic] }))[0]!.partitions[0]!.offset;
    expect(BigInt(tx)).toBe(BigInt(a0.filter((x) => x.offset < 89n).length));
    expect(await topicConfigsOn(adminB, topic)).toMatchObject({ 'retention.ms': String(3650 * 86_400_000), 'cleanup.policy': 'delete' });
  });

  it('refuses (exit 6, nothing written) a topic in B that holds records, and a group with offsets on an empty one', async () => {
    const again = await recoverIntoB(dir);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain(`topic "${topic}" exists on the target with`);

    const empty = `${topic}-empty`;
    await createTopic(kafkaB, empty, 3);
    await adminB.setOffsets({ groupId: group, topic: empty, partitions: [{ partition: 1, offset: '0' }] });
    const refused = await recoverIntoB(dir, '--rename', `${topic}=${empty}`);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain(`consumer group "${group}" already has a committed offset on ${empty}/1`);
    expect((await adminB.fetchTopicOffsets(empty)).every((o) => o.high === '0')).toBe(true);
  });

  it('refuses a subject in B that lacks the backup’s schema, and with --new-versions one whose compatibility rejects it, without relaxing it', async () => {
    const target = `${topic}-nv`;
    const subject = `${target}-value`;
    // B's subject holds another schema of the same record name, under BACKWARD compatibility: the backup's schema changes a field's type.
    const other = { type: 'record', name: 'Order', namespace: `kbak.test.nv${Date.now()}`, fields: [{ name: 'n', type: 'long' }] };
    const reg = await fetch(`${b.registryUrl}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(other) }),
    });
    expect(reg.ok).toBe(true);
    const cfg = await fetch(`${b.registryUrl}/config/${subject}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'FULL' }),
    });
    expect(cfg.ok).toBe(true);
    const versions = async (): Promise<number[]> => (await (await fetch(`${b.registryUrl}/subjects/${subject}/versions`)).json()) as number[];
    const compat = async (): Promise<string> =>
      ((await (await fetch(`${b.registryUrl}/config/${subject}`)).json()) as { compatibilityLevel: string }).compatibilityLevel;

    const refused = await recoverIntoB(dir, '--rename', `${topic}=${target}`);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain(`subject "${subject}" exists in the target registry (versions 1) without the backup's schema`);
    const relaxed = await recoverIntoB(dir, '--rename', `${topic}=${target}`, '--new-versions');
    expect(relaxed.code).toBe(6);
    expect(relaxed.stderr).toContain(`is incompatible with subject ${subject} under its compatibility level`);
    expect(await versions()).toEqual([1]);
    expect(await compat()).toBe('FULL');
    expect((await adminB.listTopics()).includes(target)).toBe(false);
  });

  it('--keep-schema-ids against B’s Apicurio: refused before any record, no topic and no subject left', async () => {
    const target = `${topic}-ids`;
    // Apicurio answers a schema it holds with the ID it gave it (B's, from the recovery above), not the one asked for.
    const bNow = ((await (await fetch(`${b.registryUrl}/subjects/${topic}-value/versions/latest`)).json()) as { id: number }).id;
    expect(bNow).not.toBe(schemaIdA);
    const before = await subjects(b.registryUrl);
    const r = await recoverIntoB(dir, '--rename', `${topic}=${target}`, '--keep-schema-ids');
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`does not keep schema IDs in IMPORT mode: asked for ID ${schemaIdA}, it assigned ${bNow}`);
    expect(await adminB.listTopics()).not.toContain(target);
    expect(await subjects(b.registryUrl)).toEqual(before);
  });
});
