/**
 * The restore's preflight (src/restore/preflight.ts) on the in-memory cluster and store:
 * every refusal comes before the ledger topic, a ledger record or a lane topic exists, for a
 * real run and a dry run alike. MemoryKafka models ACLs as denied operations; the registry is
 * a local HTTP server answering as an Apicurio root does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openBackup } from '../../src/backup/catalog';
import { ExitCode, KbakError, ServiceError, UsageError } from '../../src/errors';
import { MemoryKafka } from '../../src/kafka/memory';
import { DEFAULT_LEDGER_TOPIC } from '../../src/lane/ledger';
import { silentLogger } from '../../src/output/logger';
import type { RestorePlan } from '../../src/restore/plan';
import { checkSources } from '../../src/restore/preflight';
import { RestoreRun, type RestoreOptions } from '../../src/restore/restore';
import { RegistryClient } from '../../src/schema/registry-client';
import { MemoryStore } from '../../src/store/memory';
import { dumpTopics, laneOptions } from '../support/memory-backup';

const logger = silentLogger();

async function seeded(): Promise<{ kafka: MemoryKafka; store: MemoryStore }> {
  const kafka = new MemoryKafka();
  await kafka.createTopics([{ topic: 'orders', partitions: 2, replicationFactor: 1, configs: {} }]);
  for (let i = 0; i < 6; i++)
    kafka.append('orders', i % 2, [{ timestamp: BigInt(1_700_000_000_000 + i), key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: [] }]);
  const store = new MemoryStore();
  await dumpTopics(kafka, store, ['orders']);
  return { kafka, store };
}

const opts = (over: Partial<RestoreOptions> = {}): RestoreOptions => laneOptions('pf', over);

async function refusal(p: Promise<unknown>): Promise<KbakError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KbakError);
  return err as KbakError;
}

/** Nothing written: no ledger topic, no lane topic, no produce, no creation. */
function expectUntouched(kafka: MemoryKafka): void {
  expect(kafka.topics.has(DEFAULT_LEDGER_TOPIC)).toBe(false);
  expect([...kafka.topics.keys()].filter((t) => t.startsWith('pf.'))).toEqual([]);
  expect(kafka.calls).not.toContain('createTopics');
  expect(kafka.calls).not.toContain('producer');
  expect(kafka.calls).not.toContain('send');
}

describe('restore preflight: Kafka rights', () => {
  for (const dry of [false, true]) {
    const run = (r: RestoreRun) => (dry ? r.dryRun() : r.run());
    const label = dry ? 'dry run' : 'restore';

    it(`${label}: refuses when the principal may not create the lane topics (exit 4, not retriable), before the ledger`, async () => {
      const { kafka, store } = await seeded();
      kafka.deniedOperations.add('CREATE:pf.orders');
      kafka.calls.splice(0);
      const err = await refusal(run(new RestoreRun({ kafka, backup: await openBackup(store, 'latest'), registry: null, logger }, opts())));
      expect(err).toBeInstanceOf(ServiceError);
      expect(err.exitCode).toBe(ExitCode.SERVICE);
      expect(err.retriable).toBe(false);
      expect(err.message).toBe('Kafka denies creating the lane topics pf.orders (TOPIC_AUTHORIZATION_FAILED): the restore stopped before writing anything');
      expect(err.hint).toBe(
        'grant the principal kbak connects as CREATE on these topics (a prefixed ACL on "pf." covers every topic of the lane) or on the cluster, or connect as one that has it',
      );
      expect(kafka.calls).toContain('validateCreateTopics');
      expectUntouched(kafka);
    });

    it(`${label}: refuses when the ledger topic is missing and may not be created`, async () => {
      const { kafka, store } = await seeded();
      kafka.deniedOperations.add(`CREATE:${DEFAULT_LEDGER_TOPIC}`);
      kafka.calls.splice(0);
      const err = await refusal(run(new RestoreRun({ kafka, backup: await openBackup(store, 'latest'), registry: null, logger }, opts())));
      expect(err.exitCode).toBe(ExitCode.SERVICE);
      expect(err.message).toContain(`creating the lane ledger topic ${DEFAULT_LEDGER_TOPIC} (TOPIC_AUTHORIZATION_FAILED)`);
      expectUntouched(kafka);
    });

    it(`${label}: refuses when the principal may read but not write the existing ledger`, async () => {
      const { kafka, store } = await seeded();
      await kafka.createTopics([{ topic: DEFAULT_LEDGER_TOPIC, partitions: 1, replicationFactor: 1, configs: {} }]);
      kafka.deniedOperations.add(`WRITE:${DEFAULT_LEDGER_TOPIC}`);
      kafka.calls.splice(0);
      const err = await refusal(run(new RestoreRun({ kafka, backup: await openBackup(store, 'latest'), registry: null, logger }, opts())));
      expect(err.message).toContain(`WRITE on the lane ledger topic ${DEFAULT_LEDGER_TOPIC}`);
      expect(err.hint).toContain(`READ and WRITE on topic ${DEFAULT_LEDGER_TOPIC}`);
      expect(kafka.topics.get(DEFAULT_LEDGER_TOPIC)!.partitions[0]!.records).toHaveLength(0);
      expect(kafka.calls).not.toContain('createTopics');
      expect(kafka.calls).not.toContain('producer');
    });
  }

  it('replace: refuses a lane topic the principal may not delete, leaving its records', async () => {
    const { kafka, store } = await seeded();
    const backup = await openBackup(store, 'latest');
    await new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run();
    kafka.deniedOperations.add('DELETE:pf.orders');
    const err = await refusal(new RestoreRun({ kafka, backup, registry: null, logger }, opts({ mode: 'replace' })).run());
    expect(err.message).toContain('DELETE on lane topic pf.orders (needed to replace it)');
    expect(kafka.topics.get('pf.orders')!.partitions.flatMap((p) => p.records)).toHaveLength(6);
  });

  it('passes with every right: the restore writes the lane', async () => {
    const { kafka, store } = await seeded();
    kafka.deniedOperations.add('CREATE:elsewhere');
    kafka.calls.splice(0);
    const s = await new RestoreRun({ kafka, backup: await openBackup(store, 'latest'), registry: null, logger }, opts()).run();
    expect(s.records).toBe(6);
    expect(kafka.calls.indexOf('validateCreateTopics')).toBeLessThan(kafka.calls.indexOf('createTopics'));
  });
});

describe('restore preflight: the store', () => {
  it('refuses a backup whose segment is gone, before anything is written', async () => {
    const { kafka, store } = await seeded();
    const backup = await openBackup(store, 'latest');
    const seg = backup.manifest.topics[0]!.partitions[0]!.segments[0]!;
    await store.delete(backup.storeKey(seg));
    kafka.calls.splice(0);
    const err = await refusal(new RestoreRun({ kafka, backup, registry: null, logger }, opts()).run());
    // A damaged backup, as when its records are read (issue 15: a corrupt backup exits 5 everywhere).
    expect(err.exitCode).toBe(ExitCode.CORRUPT);
    expect(err.message).toContain(backup.storeKey(seg));
    expectUntouched(kafka);
  });

  it('refuses a backup whose manifest was removed since it was opened', async () => {
    const { kafka, store } = await seeded();
    const backup = await openBackup(store, 'latest');
    for await (const k of store.list('')) if (k.endsWith('manifest.json')) await store.delete(k);
    const err = await refusal(new RestoreRun({ kafka, backup, registry: null, logger }, opts()).dryRun());
    expect(err.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(err.message).toMatch(/is no longer in/);
  });
});

describe('restore preflight: the registry', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  beforeAll(async () => {
    // An Apicurio server: its Confluent-compatible API under /apis/ccompat/v7 only; RESTEASY's 404 elsewhere.
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url?.startsWith('/apis/ccompat/v7/schemas/types')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('["AVRO","PROTOBUF","JSON"]');
        return;
      }
      if (req.url?.startsWith('/apis/ccompat/v7/subjects/')) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No subject","error_code":40401}');
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          detail: `NotFoundException: RESTEASY003210: Could not find resource for full path: http://x${req.url}`,
          title: `RESTEASY003210: Could not find resource for full path: http://x${req.url}`,
          status: 404,
          name: 'NotFoundException',
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** A plan that needs the registry (one subject) and reads no segment. */
  const planWithSubject = {
    topics: [],
    registrations: [],
    subjects: [{ source: 'orders-value', lane: 'pf.orders-value', compatibility: null }],
  } as unknown as RestorePlan;

  it('refuses an Apicurio root URL (exit 2) naming the URL to use', async () => {
    const { store } = await seeded();
    const backup = await openBackup(store, 'latest');
    const err = await refusal(checkSources(backup, planWithSubject, new RegistryClient({ url })));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(ExitCode.USAGE);
    expect(err.message).toBe(
      `the schema registry URL ${url} is not a Confluent-compatible API (HTTP 404 on GET /schemas/types), but ${url}/apis/ccompat/v7 answers: an Apicurio registry`,
    );
    expect(err.hint).toBe(`use ${url}/apis/ccompat/v7: Apicurio serves the Confluent-compatible API under /apis/ccompat/v7`);
    expect(err.options).toEqual(['registry.url']);
  });

  it("refuses Apicurio's native API path the same way, and leaves a plan without subjects alone", async () => {
    const { store } = await seeded();
    const backup = await openBackup(store, 'latest');
    const err = await refusal(checkSources(backup, planWithSubject, new RegistryClient({ url: `${url}/apis/registry/v2` })));
    expect(err.hint).toBe(`use ${url}/apis/ccompat/v7: Apicurio serves the Confluent-compatible API under /apis/ccompat/v7`);
    const before = seen.length;
    await checkSources(backup, { ...planWithSubject, subjects: [] }, new RegistryClient({ url }));
    expect(seen.length).toBe(before);
  });

  it('a wrong path that is not Apicurio-shaped: the 404 in one line with what to do (exit 4)', async () => {
    const { store } = await seeded();
    const backup = await openBackup(store, 'latest');
    const err = await refusal(checkSources(backup, planWithSubject, new RegistryClient({ url: `${url}/registry` })));
    expect(err).toBeInstanceOf(ServiceError);
    expect(err.exitCode).toBe(ExitCode.SERVICE);
    expect(err.message).toBe(
      `schema registry GET /schemas/types at ${url}/registry failed: HTTP 404: RESTEASY003210: Could not find resource for full path: http://x/registry/schemas/types`,
    );
    expect(err.hint).toMatch(/for Apicurio, the URL ends with \/apis\/ccompat\/v7/);
    expect(err.oneLine()).not.toContain('\n');
  });

  it('passes with the compatibility path', async () => {
    const registry = new RegistryClient({ url: `${url}/apis/ccompat/v7` });
    await expect(registry.check()).resolves.toBeUndefined();
  });
});
