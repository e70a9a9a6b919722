/**
 * A masked restore (issue 19) without a broker: plain JSON values (no registry) through the
 * whole restore into the in-memory cluster. What a masked lane holds, how a sample closes up
 * and still translates group offsets, that a resume after a crash gives exactly what a fresh
 * masked restore gives (the actions are deterministic), fail closed, and the provenance in the
 * lane ledger. The formats have suites of their own; the real stack has masked-restore.test.ts.
 */
import { openBackup } from '../../src/backup/catalog';
import { ExitCode, SafetyError, ServiceError, UnmaskableRecordError } from '../../src/errors';
import type { KafkaRecord } from '../../src/kafka/adapter';
import { MemoryKafka } from '../../src/kafka/memory';
import { readLedger } from '../../src/lane/kafka-ops';
import { DEFAULT_LEDGER_TOPIC } from '../../src/lane/ledger';
import { FAKE_LIBRARY_VERSION } from '../../src/mask/fake';
import { MaskKey } from '../../src/mask/key';
import { parsePolicy } from '../../src/mask/policy';
import { policyProvenance } from '../../src/mask/provenance';
import { silentLogger } from '../../src/output/logger';
import { RestoreRun, type RestoreMask, type RestoreOptions } from '../../src/restore/restore';
import { MemoryStore } from '../../src/store/memory';
import { dumpTopics, laneOptions } from '../support/memory-backup';

const logger = silentLogger();
const KEY = new MaskKey(Buffer.alloc(32, 9));
const POLICY_TEXT = `version: 1
key: { env: KBAK_MASK_KEY, encoding: base64 }
topics:
  - match: users
    value:
      - { path: email, action: fake, fake: email }
      - { path: name, action: hash }
    key: { action: fpe }
    headers:
      - { name: traceparent, action: keep }
      - { name: ".*", action: drop }
    sample: { fraction: 0.5, by: key }
`;

function mask(over: Partial<RestoreMask> = {}): RestoreMask {
  return {
    policy: parsePolicy(POLICY_TEXT, { name: 'seed.yaml' }),
    key: KEY,
    provenance: policyProvenance({
      policyName: 'seed.yaml',
      policyText: POLICY_TEXT,
      keyFingerprint: KEY.fingerprint,
      faker: { name: '@faker-js/faker', version: FAKE_LIBRARY_VERSION },
    }),
    unlistedCopy: false,
    onUndecodable: 'stop',
    keySets: new Map(),
    ...over,
  };
}

const N = 60;
const valueOf = (i: number): string => `{ "id": ${i},  "email": "user${i}@corp.example", "name": "Name ${i}", "note": "kept 1.0" }`;

/** `users`: 2 partitions of JSON values keyed by user id, a tracing header and one to drop; a group in the middle. */
function source(extra?: (k: MemoryKafka) => void): MemoryKafka {
  const k = new MemoryKafka();
  k.topics.set('users', { partitions: [], replicationFactor: 1, configs: {} });
  k.topics.get('users')!.partitions.push({ records: [], logStart: 0n, next: 0n }, { records: [], logStart: 0n, next: 0n });
  for (let i = 0; i < N; i++) {
    k.append('users', i % 2, [
      {
        timestamp: BigInt(1_600_000_000_000 + i),
        key: Buffer.from(`user-${String(i).padStart(6, '0')}`),
        value: Buffer.from(valueOf(i)),
        headers: [
          { key: 'traceparent', value: Buffer.from(`00-${String(i).padStart(32, '0')}-${'1'.repeat(16)}-01`) },
          { key: 'x-user', value: Buffer.from(`user${i}@corp.example`) },
        ],
      },
    ]);
  }
  extra?.(k);
  void k.commitGroupOffsets('svc', 'users', [
    { partition: 0, offset: 15n },
    { partition: 1, offset: 30n },
  ]);
  return k;
}

async function backupOf(kafka: MemoryKafka) {
  const store = new MemoryStore();
  await dumpTopics(kafka, store, ['users']);
  return openBackup(store, 'latest');
}

const opts = (lane: string, over: Partial<RestoreOptions> = {}): RestoreOptions => laneOptions(lane, { mask: mask(), ...over });
const laneRecords = (k: MemoryKafka, topic: string, p: number): KafkaRecord[] => k.topics.get(topic)!.partitions[p]!.records;
const text = (r: KafkaRecord): string =>
  `${r.key?.toString() ?? ''}|${r.value?.toString() ?? ''}|${r.headers.map((h) => `${h.key}=${h.value?.toString() ?? ''}`).join(',')}`;

describe('a masked restore into the in-memory cluster', () => {
  it('masks the covered fields, keeps every other byte, closes up the sample and translates group offsets over it', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    const summary = await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fx')).run();
    expect(summary.records + summary.sampledOut).toBe(N);
    expect(summary.sampledOut).toBeGreaterThan(N / 5);
    expect(summary.records).toBeGreaterThan(N / 5);
    expect(summary.masking).toEqual(mask().provenance);
    for (const p of [0, 1]) {
      const src = laneRecords(kafka, 'users', p);
      const dst = laneRecords(kafka, 'fx.users', p);
      // Dense lane offsets: the records left out leave no gap.
      expect(dst.map((r) => r.offset)).toEqual(dst.map((_, i) => BigInt(i)));
      for (const r of dst) {
        const body = r.value!.toString();
        const id = (JSON.parse(body) as { id: number }).id;
        const s = src.find((x) => (JSON.parse(x.value!.toString()) as { id: number }).id === id)!;
        expect(r.timestamp).toBe(s.timestamp);
        // Every byte but the masked tokens: the spacing and the number text stay.
        expect(body).toMatch(new RegExp(`^\\{ "id": ${id},  "email": "[^"]+", "name": "[^"]+", "note": "kept 1\\.0" \\}$`));
        expect(text(r)).not.toContain(`user${id}@corp.example`);
        expect(text(r)).not.toContain(`Name ${id}`);
        expect(r.key!.toString()).not.toBe(s.key!.toString());
        expect(r.key!.toString()).toMatch(/^[0-9A-Za-z]{4}-[0-9A-Za-z]{6}$/);
        expect(r.headers.map((h) => h.key)).toEqual(['traceparent']);
        expect(r.headers[0]!.value!.equals(s.headers[0]!.value!)).toBe(true);
      }
    }
    // A group committed at source offset c lands where the first kept record at or after c is.
    const committed = await kafka.fetchGroupOffsets('fx.svc', ['fx.users']);
    for (const [p, c] of [
      [0, 15n],
      [1, 30n],
    ] as const) {
      const src = laneRecords(kafka, 'users', p);
      const keptBefore = laneRecords(kafka, 'fx.users', p).filter((r) => {
        const id = (JSON.parse(r.value!.toString()) as { id: number }).id;
        return src.find((x) => (JSON.parse(x.value!.toString()) as { id: number }).id === id)!.offset < c;
      }).length;
      expect(committed.find((x) => x.partition === p)!.offset).toBe(BigInt(keptBefore));
    }
  });

  it('resumes after a crash mid-write to exactly what a fresh masked restore writes', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    kafka.failNext('send', { after: 2 });
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fx', { concurrency: 1 })).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    const resumed = await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fx', { mode: 'resume' })).run();
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fy')).run();
    for (const p of [0, 1]) expect(laneRecords(kafka, 'fx.users', p).map(text)).toEqual(laneRecords(kafka, 'fy.users', p).map(text));
    expect(resumed.records + resumed.skippedExisting + resumed.sampledOut).toBe(N);
  });

  it('refuses to resume a masked lane without its policy and key, or an unmasked one with a policy (exit 6, nothing written)', async () => {
    const kafka = source();
    const backup = await backupOf(kafka);
    kafka.failNext('send', { after: 2 });
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fx', { concurrency: 1 })).run().catch(() => undefined);
    const before = laneRecords(kafka, 'fx.users', 0).length + laneRecords(kafka, 'fx.users', 1).length;
    const unmasked = await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fx', { mode: 'resume', mask: null })).run().catch((e: unknown) => e);
    expect(unmasked).toBeInstanceOf(SafetyError);
    expect((unmasked as Error).message).toMatch(/^lane fx was restored masked with policy seed\.yaml .*; this resume would continue it unmasked$/);
    const otherKey = new MaskKey(Buffer.alloc(32, 10));
    const rekeyed = await new RestoreRun(
      { kafka, backup, registry: null, logger },
      opts('fx', { mode: 'resume', mask: mask({ key: otherKey, provenance: { ...mask().provenance, keyFingerprint: otherKey.fingerprint } }) }),
    )
      .run()
      .catch((e: unknown) => e);
    expect(rekeyed).toBeInstanceOf(SafetyError);
    expect(laneRecords(kafka, 'fx.users', 0).length + laneRecords(kafka, 'fx.users', 1).length).toBe(before);
    // The same policy and key resume it.
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fx', { mode: 'resume' })).run();
  });

  it('fails closed on a record it cannot mask (exit 6, naming where), or leaves it out with on-undecodable drop', async () => {
    const kafka = source((k) =>
      k.append('users', 1, [{ timestamp: 1_600_000_000_999n, key: Buffer.from('user-000777'), value: Buffer.from('not json'), headers: [] }]),
    );
    const backup = await backupOf(kafka);
    // Sampled by key: the bad record's key is kept by the sample or not; keys-from makes sure it is.
    const keep = mask({
      policy: parsePolicy(POLICY_TEXT.replace('sample: { fraction: 0.5, by: key }', 'sample: { keys-from: k.txt, by: key }'), { name: 'seed.yaml' }),
      keySets: new Map([['k.txt', new Set(['user-000777', 'user-000001'])]]),
    });
    const err = await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fx', { mask: keep })).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnmaskableRecordError);
    expect((err as UnmaskableRecordError).exitCode).toBe(ExitCode.SAFETY);
    expect((err as Error).message).toMatch(/^record users\/1 at offset 30 cannot be masked: /);
    expect(laneRecords(kafka, 'fx.users', 1).some((r) => r.value?.toString() === 'not json')).toBe(false);

    const dropped = await new RestoreRun({ kafka, backup, registry: null, logger }, opts('fz', { mask: { ...keep, onUndecodable: 'drop' } })).run();
    expect(dropped).toMatchObject({ records: 1, undecodableDropped: 1, sampledOut: N - 1 });
  });

  it('records the policy, its SHA-256, the key fingerprint and the faker version in the lane ledger, never the key', async () => {
    const kafka = source();
    await new RestoreRun({ kafka, backup: await backupOf(kafka), registry: null, logger }, opts('fx')).run();
    const entry = (await readLedger(kafka, DEFAULT_LEDGER_TOPIC)).entries.get('fx')!;
    expect(entry.origin.policy).toEqual({
      policy: 'seed.yaml',
      policySha256: mask().provenance.policySha256,
      keyFingerprint: KEY.fingerprint,
      faker: `@faker-js/faker@${FAKE_LIBRARY_VERSION}`,
    });
    const raw = kafka.topics.get(DEFAULT_LEDGER_TOPIC)!.partitions.flatMap((p) => p.records.map((r) => r.value?.toString('latin1') ?? ''));
    for (const form of [KEY.bytes().toString('base64'), KEY.bytes().toString('hex'), KEY.bytes().toString('latin1')])
      expect(raw.join('\n')).not.toContain(form);
  });
});
