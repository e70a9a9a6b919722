/**
 * Lanes as owned objects, against the real broker, registry and S3-free disk backups:
 * many partitions, lane topic configs that hold (old and future timestamps), the ledger's
 * ownership refusals, lane delete / gc, and SIGKILLs. Lane contents are read back with
 * kcat (librdkafka), the ledger too, never with kbak's reader.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry as SchemaRegistryLib, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Admin, Consumer, Message } from '../support/kafkajs-copy';
import { orderedHeaders } from '../support/kafkajs-wire-patch';
import { RegistryClient } from '../../src/schema/registry-client';
import { runKbak, startKbak, type CliResult } from '../support/kbak-cli';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const kafka = testKafka('kbak-lanes-test');
const ledger = uniqueName('__kbak_lanes_test');
const dest = mkdtempSync(join(tmpdir(), 'kbak-lanes-'));
let admin: Admin;
let registry: RegistryClient;

const wide = uniqueName('wide');
const orders = uniqueName('orders');
const billing = uniqueName('billing');
const WIDE_PARTITIONS = 120;

interface KcatRecord {
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

/** Every record of a topic, read by kcat (librdkafka), by partition then offset. */
function kcat(topic: string): KcatRecord[] {
  let out: string;
  try {
    out = execFileSync('kcat', ['-C', '-b', stackEnv().brokers[0]!, '-t', topic, '-o', 'beginning', '-e', '-q', '-J'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // A topic that does not exist (yet) has no records.
    if (/Unknown topic or partition/.test(String((err as { stderr?: string }).stderr))) return [];
    throw err;
  }
  return out
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as KcatRecord)
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** The ledger as kcat sees it: last record per key, tombstones remove. */
function kcatLedger(): Map<
  string,
  {
    topics: Array<{ name: string; id: string | null; pending: boolean }>;
    subjects: Array<{ name: string }>;
    groups: Array<{ name: string }>;
    state: string;
    expiresAt: string | null;
    failure?: { at: string; reason: string } | null;
    intent?: { id: string; holder: { pid: number } } | null;
  }
> {
  const m = new Map();
  for (const r of kcat(ledger)) {
    // Claims (`<lane>/claim/<id>`, LEDGER.md) are not lanes.
    if (r.key?.includes('/')) continue;
    if (r.payload === null) m.delete(r.key);
    else m.set(r.key, JSON.parse(r.payload));
  }
  return m;
}

const kb = (...args: string[]): Promise<CliResult> => runKbak([...args, '--ledger-topic', ledger]);
const restoreArgs = (lane: string, ...extra: string[]): string[] => ['restore', '--lane', lane, '--source', dest, '--quiet', ...extra];
const laneName = (): string => uniqueName('ln').slice(0, 30);
const oneLine = (r: CliResult): string => {
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr.trim();
};

async function topics(): Promise<Set<string>> {
  return new Set(await admin.listTopics());
}

async function produce(topic: string, messages: Message[]): Promise<void> {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) await p.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
  } finally {
    await p.disconnect();
  }
}

beforeAll(async () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
  admin = kafka.admin();
  await admin.connect();
  registry = new RegistryClient({ url: stackEnv().registryUrl });
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: wide, numPartitions: WIDE_PARTITIONS, replicationFactor: 1 },
      { topic: orders, numPartitions: 2, replicationFactor: 1 },
    ],
  });
  const baggage = (i: number): string => (i % 3 === 0 ? 'userId=alice,lane=baseline' : i % 3 === 1 ? 'userId=bob' : 'not baggage at all');
  const wideMessages: Message[] = [];
  for (let i = 0; i < WIDE_PARTITIONS * 2; i++) {
    wideMessages.push({
      partition: i % WIDE_PARTITIONS,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      headers: orderedHeaders([
        { key: 'traceparent', value: Buffer.from(`00-${String(i).padStart(32, '0')}-00f067aa0ba902b7-01`) },
        { key: 'baggage', value: Buffer.from(baggage(i)) },
      ]),
    });
  }
  await produce(wide, wideMessages);
  const lib = new SchemaRegistryLib({ host: stackEnv().registryUrl });
  const { id } = await lib.register(
    { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Order', namespace: 'kbak.lanes', fields: [{ name: 'n', type: 'int' }] }) },
    { subject: `${orders}-value` },
  );
  const orderMessages: Message[] = [];
  for (let i = 0; i < 20; i++) orderMessages.push({ partition: i % 2, key: Buffer.from(`o${i}`), value: await lib.encode(id, { n: i }) });
  await produce(orders, orderMessages);
  await admin.setOffsets({
    groupId: billing,
    topic: orders,
    partitions: [
      { partition: 0, offset: '4' },
      { partition: 1, offset: '6' },
    ],
  });
  const dump = await runKbak(['dump', '--topic', wide, '--topic', orders, '--to', dest, '--quiet']);
  if (dump.code !== 0) throw new Error(`dump failed: ${dump.stderr}`);
});

afterAll(async () => {
  await admin.disconnect();
  rmSync(dest, { recursive: true, force: true });
});

describe('many partitions and routing', () => {
  it(`restores a ${WIDE_PARTITIONS}-partition topic into a new lane, with the lane in each record's baggage`, async () => {
    const lane = laneName();
    const r = await kb(...restoreArgs(lane, '--topic', wide, '--lane-baggage', 'lane', '--json'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { records: number; laneTopics: string[]; laneGroups: string[]; baggageLeftAlone: number; ledgerTopic: string };
    expect(summary).toMatchObject({ records: WIDE_PARTITIONS * 2, laneTopics: [`${lane}.${wide}`], laneGroups: [], ledgerTopic: ledger });
    const source = kcat(wide);
    const laneRecords = kcat(`${lane}.${wide}`);
    expect(laneRecords).toHaveLength(source.length);
    let leftAlone = 0;
    for (const [i, s] of source.entries()) {
      const l = laneRecords[i]!;
      expect([l.partition, l.offset, l.ts, l.key, l.payload]).toEqual([s.partition, s.offset, s.ts, s.key, s.payload]);
      const [tpKey, tpValue, bKey, bValue] = s.headers!;
      const expected = bValue === 'userId=alice,lane=baseline' ? `userId=alice,lane=${lane}` : bValue === 'userId=bob' ? `userId=bob,lane=${lane}` : bValue;
      if (expected === bValue) leftAlone++;
      expect(l.headers).toEqual([tpKey, tpValue, bKey, expected]);
    }
    expect(leftAlone).toBe((WIDE_PARTITIONS * 2) / 3);
    expect(summary.baggageLeftAlone).toBe(leftAlone);
    const entry = kcatLedger().get(lane)!;
    expect(entry.state).toBe('ready');
    expect(entry.topics).toEqual([{ name: `${lane}.${wide}`, source: wide, id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), pending: false }]);
  });

  it('validates the lane name and templates before anything else', async () => {
    const r = await kb('restore', '--lane', 'Feature_X', '--source', join(dest, 'no-such-dir'));
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatch(/^kbak: lane name "Feature_X" is invalid/);
    const t = await kb('restore', '--lane', 'ok', '--topic-template', '{topic}', '--source', join(dest, 'no-such-dir'));
    expect(t.code).toBe(2);
    expect(oneLine(t)).toContain('--topic-template "{topic}" has no {lane} placeholder');
  });
});

describe('lane topic configs', () => {
  it("keeps records with old timestamps through the broker's retention check, and accepts future-dated ones", async () => {
    const aged = uniqueName('aged');
    const future = uniqueName('future');
    const week = '604800000';
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: aged, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: week }] },
        { topic: future, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.after.max.ms', value: '9223372036854775807' }] },
      ],
    });
    const now = Date.now();
    const day = 86_400_000;
    // The recent record keeps the source segment alive; the lanes get only the old ones (--until).
    await produce(aged, [
      ...Array.from({ length: 10 }, (_, i) => ({ key: `old${i}`, value: `v${i}`, timestamp: String(now - 30 * day + i) })),
      { key: 'new', value: 'new', timestamp: String(now) },
    ]);
    await produce(
      future,
      Array.from({ length: 3 }, (_, i) => ({ key: `f${i}`, value: `f${i}`, timestamp: String(now + 2 * 3_600_000 + i) })),
    );
    // The backup must not carry the relaxed bound: the lane gets it from kbak, not from the source.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: future, configEntries: [{ name: 'cleanup.policy', value: 'delete' }] }] });
    const dest2 = mkdtempSync(join(tmpdir(), 'kbak-lanes-aged-'));
    try {
      expect((await runKbak(['dump', '--topic', aged, '--topic', future, '--to', dest2, '--quiet'])).code).toBe(0);
      const until = new Date(now - day).toISOString();
      const kept = laneName();
      const lost = laneName();
      const args = (lane: string, ...extra: string[]): string[] => [
        'restore',
        '--lane',
        lane,
        '--source',
        dest2,
        '--topic',
        aged,
        '--until',
        until,
        '--quiet',
        ...extra,
      ];
      expect((await kb(...args(kept))).code).toBe(0);
      expect((await kb(...args(lost, '--lane-retention', 'source'))).code).toBe(0);
      const futureLane = laneName();
      const f = await kb('restore', '--lane', futureLane, '--source', dest2, '--topic', future, '--quiet', '--json');
      expect(f.stderr).toBe('');
      expect(f.code).toBe(0);
      expect(kcat(`${futureLane}.${future}`).map((r) => r.ts)).toEqual([0, 1, 2].map((i) => now + 2 * 3_600_000 + i));

      // The lane restored with the source's 7-day retention loses its 30-day-old records at
      // the broker's next retention check (every 2 s on the test stack); the default lane does not.
      const deadline = Date.now() + 90_000;
      for (;;) {
        const [o] = await admin.fetchTopicOffsets(`${lost}.${aged}`);
        if (o!.low === o!.high) break;
        if (Date.now() > deadline) throw new Error(`retention did not run on ${lost}.${aged}: ${JSON.stringify(o)}`);
        await new Promise((res) => setTimeout(res, 500));
      }
      const keptRecords = kcat(`${kept}.${aged}`);
      expect(keptRecords.map((r) => [r.key, r.ts])).toEqual(Array.from({ length: 10 }, (_, i) => [`old${i}`, now - 30 * day + i]));
      const cfg = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: `${kept}.${aged}`, configNames: ['retention.ms', 'retention.bytes', 'message.timestamp.type'] }],
      });
      expect(Object.fromEntries(cfg.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]))).toEqual({
        'retention.ms': '-1',
        'retention.bytes': '-1',
        'message.timestamp.type': 'CreateTime',
      });
    } finally {
      rmSync(dest2, { recursive: true, force: true });
      // Future-dated segments make the broker warn at every retention check (every 2 s here).
      const futureTopics = [...(await topics())].filter((t) => t.endsWith(future));
      await admin.deleteTopics({ topics: futureTopics }).catch(() => undefined);
    }
  });
});

describe('ownership', () => {
  it('refuses a pre-existing subject, a pre-existing group and --replace on a topic recreated by someone else', async () => {
    const lane = laneName();
    const laneSubject = `${lane}.${orders}-value`;
    const laneGroup = `${lane}.${billing}`;
    const lib = new SchemaRegistryLib({ host: stackEnv().registryUrl });
    await lib.register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'string' }] }) },
      { subject: laneSubject },
    );
    const subj = await kb(...restoreArgs(lane, '--topic', orders));
    expect(subj.code).toBe(6);
    expect(oneLine(subj)).toContain(`subject "${laneSubject}" exists but lane ${lane} did not create it`);
    expect(await registry.subjectVersions(laneSubject)).toEqual([1]);
    expect((await topics()).has(`${lane}.${orders}`)).toBe(false);
    await registry.deleteSubject(laneSubject);

    await admin.setOffsets({ groupId: laneGroup, topic: orders, partitions: [{ partition: 0, offset: '1' }] });
    const grp = await kb(...restoreArgs(lane, '--topic', orders));
    expect(grp.code).toBe(6);
    expect(oneLine(grp)).toContain(`consumer group "${laneGroup}" exists but lane ${lane} did not create it`);
    expect((await admin.fetchOffsets({ groupId: laneGroup, topics: [orders] }))[0]!.partitions.find((p) => p.partition === 0)!.offset).toBe('1');
    await admin.deleteGroups([laneGroup]);

    const ok = await kb(...restoreArgs(lane, '--topic', orders, '--json'));
    expect(ok.code).toBe(0);
    // Someone deletes the lane topic and creates their own under the same name.
    await admin.deleteTopics({ topics: [`${lane}.${orders}`] });
    for (let i = 0; i < 100 && (await topics()).has(`${lane}.${orders}`); i++) await new Promise((r) => setTimeout(r, 200));
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${lane}.${orders}`, numPartitions: 2, replicationFactor: 1 }] });
    await produce(`${lane}.${orders}`, [{ partition: 0, key: 'theirs', value: 'theirs' }]);
    for (const mode of ['--replace', '--resume']) {
      const r = await kb(...restoreArgs(lane, '--topic', orders, mode));
      expect(r.code).toBe(6);
      expect(oneLine(r)).toContain(`topic "${lane}.${orders}" was recreated by someone else`);
    }
    expect(kcat(`${lane}.${orders}`).map((x) => x.key)).toEqual(['theirs']);
  });
});

describe('lane lifecycle', () => {
  it("lane delete removes exactly the lane's objects, reports groups with active members as partial, and is idempotent", async () => {
    const lane = laneName();
    const r = await kb(...restoreArgs(lane, '--topic', orders, '--json'));
    expect(r.code).toBe(0);
    const laneTopic = `${lane}.${orders}`;
    const laneSubject = `${laneTopic}-value`;
    const laneGroup = `${lane}.${billing}`;
    const foreign = `${lane}.foreign`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: foreign, numPartitions: 1, replicationFactor: 1 }] });
    expect(await registry.subjectVersions(laneSubject)).toEqual([1]);

    const listed = await kb('lane', 'list', '--json');
    const lanes = (JSON.parse(listed.stdout) as { lanes: Array<{ lane: string; records: number; topics: number; subjects: number; groups: number }> }).lanes;
    expect(lanes.find((l) => l.lane === lane)).toMatchObject({ records: 20, topics: 1, subjects: 1, groups: 1 });

    const dry = await kb('lane', 'delete', lane, '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ topics: [laneTopic], subjects: [laneSubject], groups: [laneGroup] });
    expect(await kb('lane', 'delete', lane).then((x) => x.code)).toBe(2); // --yes is required

    // An active member keeps the group: the delete is partial (exit 7) and the lane stays in the ledger with it.
    const consumer: Consumer = kafka.consumer({ groupId: laneGroup });
    await consumer.connect();
    await consumer.subscribe({ topic: laneTopic });
    await consumer.run({ eachMessage: async () => undefined });
    for (let i = 0; i < 100; i++) {
      const d = await admin.describeGroups([laneGroup]);
      if (d.groups[0]!.members.length > 0) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const part = await kb('lane', 'delete', lane, '--yes');
    await consumer.disconnect();
    expect(part.code).toBe(7);
    expect(oneLine(part)).toContain(`consumer group ${laneGroup} has 1 active members`);
    expect((await topics()).has(laneTopic)).toBe(false);
    expect(kcatLedger().get(lane)).toMatchObject({ state: 'deleting', topics: [], subjects: [], groups: [{ name: laneGroup }] });

    const done = await kb('lane', 'delete', lane, '--yes', '--json');
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ complete: true, deleted: { groups: [laneGroup] } });
    const after = await topics();
    expect(after.has(laneTopic)).toBe(false);
    expect(after.has(foreign)).toBe(true);
    expect(after.has(orders)).toBe(true);
    expect(await registry.subjectVersions(laneSubject)).toEqual([]);
    expect((await registry.subjects()).includes(`${orders}-value`)).toBe(true);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(laneGroup);
    expect(kcatLedger().has(lane)).toBe(false);

    // Gone: a second delete is "not found" (3), unless the script says that is fine.
    const again = await kb('lane', 'delete', lane, '--yes');
    expect(again.code).toBe(3);
    const ignored = await kb('lane', 'delete', lane, '--yes', '--ignore-not-found');
    expect(ignored.code).toBe(0);
    expect(ignored.stdout).toContain('nothing to delete');
  });

  it('lane gc deletes the expired lane and keeps the live one', async () => {
    const expired = laneName();
    const live = laneName();
    expect((await kb(...restoreArgs(expired, '--topic', orders, '--ttl', '1s'))).code).toBe(0);
    expect((await kb(...restoreArgs(live, '--topic', orders, '--ttl', '72h'))).code).toBe(0);
    await new Promise((res) => setTimeout(res, 1500));
    const gc = await kb('lane', 'gc', '--json');
    expect(gc.stderr).toBe('');
    expect(gc.code).toBe(0);
    expect((JSON.parse(gc.stdout) as { deleted: string[] }).deleted).toContain(expired);
    const names = await topics();
    expect(names.has(`${expired}.${orders}`)).toBe(false);
    expect(names.has(`${live}.${orders}`)).toBe(true);
    expect(kcat(`${live}.${orders}`)).toHaveLength(20);
    const l = kcatLedger();
    expect(l.has(expired)).toBe(false);
    expect(l.get(live)!.expiresAt).not.toBeNull();
    expect((await kb('lane', 'gc')).code).toBe(0); // nothing left to collect: still fine
  });
});

describe('SIGKILL', () => {
  /** Every lane-named topic, subject and group that exists is in the lane's ledger entry. */
  async function nothingUnowned(lane: string): Promise<void> {
    const entry = kcatLedger().get(lane);
    const names = [...(await topics())].filter((t) => t.startsWith(`${lane}.`));
    for (const t of names) expect(entry?.topics.map((x) => x.name)).toContain(t);
    const subjects = (await registry.subjects()).filter((s) => s.startsWith(`${lane}.`));
    for (const s of subjects) expect(entry?.subjects.map((x) => x.name)).toContain(s);
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${lane}.`));
    for (const g of groups) expect(entry?.groups.map((x) => x.name)).toContain(g);
  }

  async function nothingLeft(lane: string): Promise<void> {
    expect([...(await topics())].filter((t) => t.startsWith(`${lane}.`))).toEqual([]);
    expect((await registry.subjects()).filter((s) => s.startsWith(`${lane}.`))).toEqual([]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${lane}.`))).toEqual([]);
    expect(kcatLedger().has(lane)).toBe(false);
  }

  /** Starts kbak and SIGKILLs it as soon as `when` holds (or lets it finish). Returns whether it was killed. */
  async function killWhen(args: string[], when: () => Promise<boolean>): Promise<boolean> {
    const { child, done } = startKbak([...args, '--ledger-topic', ledger]);
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited && !(await when())) await new Promise((res) => setTimeout(res, 20));
    const killed = !exited;
    child.kill('SIGKILL');
    await done;
    return killed;
  }

  it('a restore killed at any point leaves nothing unowned; a delete killed half-way finishes on rerun', async () => {
    const lane = laneName();
    const laneTopic = `${lane}.${orders}`;
    const seen: string[] = [];
    // Kill points in the order a restore reaches them: ledger intent, subject registered, topic created, group seeded.
    const points: Array<() => Promise<boolean>> = [
      async () => kcatLedger().has(lane),
      async () => (await registry.subjectVersions(`${laneTopic}-value`)).length > 0,
      async () => (await topics()).has(laneTopic),
      async () => (await admin.listGroups()).groups.some((g) => g.groupId === `${lane}.${billing}`),
    ];
    for (const point of points) {
      const killed = await killWhen(restoreArgs(lane, '--resume'), point);
      await nothingUnowned(lane);
      const exists = (await topics()).has(laneTopic);
      seen.push(`${killed ? 'killed' : 'finished'}:${kcatLedger().get(lane)?.state ?? 'no entry'}/${exists ? kcat(laneTopic).length : 'no topic'}`);
    }
    console.log(`after each killed restore (ledger state/lane records): ${seen.join(', ')}`);
    const finished = await kb(...restoreArgs(lane, '--resume', '--json'));
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    expect(kcat(`${lane}.${orders}`)).toHaveLength(20);
    await nothingUnowned(lane);

    // Kill points of a delete: lane topic gone (subjects, groups, ledger entry still there), then subject gone.
    const deletePoints: Array<() => Promise<boolean>> = [
      async () => !(await topics()).has(laneTopic),
      async () => (await registry.subjectVersions(`${laneTopic}-value`)).length === 0,
    ];
    for (const point of deletePoints) {
      const killed = await killWhen(['lane', 'delete', lane, '--yes'], point);
      await nothingUnowned(lane);
      seen.push(`${killed ? 'killed' : 'finished'}:${kcatLedger().get(lane)?.state ?? 'no entry'}/${(await topics()).has(laneTopic) ? 'topic' : 'no topic'}`);
    }
    console.log(`after each killed delete: ${seen.slice(points.length).join(', ')}`);
    // The last killed delete may have finished before its kill point was seen: then the lane is gone.
    const rerun = await kb('lane', 'delete', lane, '--yes', '--ignore-not-found');
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    await nothingLeft(lane);
  });
});

/**
 * A schema registry in front of the stack's: schema registrations (POST .../versions) go to
 * `onRegister`, which may answer them or `forward` them; everything else passes through.
 */
async function registryProxy(onRegister: (req: IncomingMessage, res: ServerResponse, forward: () => void) => void): Promise<{ url: string; server: Server }> {
  const upstream = new URL(stackEnv().registryUrl);
  const server = createServer((req, res) => {
    const forward = (): void => {
      const up = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: `${upstream.pathname.replace(/\/$/, '')}${req.url}`, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (req.method === 'POST' && /\/subjects\/[^/]+\/versions$/.test(req.url ?? '')) onRegister(req, res, forward);
    else forward();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * Answers 404 (Confluent's "subject not found") to every schema registration: a restore fails
 * after its intent, at the registration, with nothing a preflight could foresee.
 */
const refusingRegistry = (): Promise<{ url: string; server: Server }> =>
  registryProxy((req, res) => {
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 40401, message: 'Subject not found.' }));
  });

/**
 * Holds every schema registration until `release()`: `held` resolves when the first arrives,
 * when the restore has its intent on the ledger and is in its prepare phase (registrations
 * come after the intent, see refusingRegistry), so it holds the lane for as long as the test likes.
 */
async function holdingRegistry(): Promise<{ url: string; server: Server; held: Promise<void>; release(): void }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const held = new Promise<void>((r) => (arrived = r));
  const { url, server } = await registryProxy((req, _res, forward) => {
    arrived();
    // A killed restore's request is not forwarded: its upstream request would never end.
    void gate.then(() => {
      if (!req.destroyed) forward();
    });
  });
  const close = server.close.bind(server);
  // Keep-alive connections would keep the test process alive after close().
  server.close = (cb?: (err?: Error) => void) => {
    server.closeAllConnections();
    return close(cb);
  };
  return { url, server, held, release };
}

/** Resolves once the registry holds the restore's registration; fails with the restore's stderr if it ends first. */
async function heldOrEnded(held: Promise<void>, done: Promise<CliResult>): Promise<void> {
  const first = await Promise.race([held.then(() => null), done]);
  if (first !== null) throw new Error(`the restore ended before its first schema registration: exit ${first.code}, ${first.stderr}`);
}

describe('failed lanes', () => {
  it('a restore that fails after its intent leaves the lane failed with the reason, and lane delete removes it', async () => {
    const lane = laneName();
    const { url, server } = await refusingRegistry();
    try {
      const r = await kb(...restoreArgs(lane, '--topic', orders, '--schema-registry-url', url));
      expect(r.code).toBe(4);
      const reason = oneLine(r);
      expect(reason).toContain('HTTP 404');
    } finally {
      server.close();
    }
    const entry = kcatLedger().get(lane)!;
    expect(entry.state).toBe('failed');
    expect(entry.intent).toBeNull();
    expect(entry.failure!.reason).toMatch(/^schema registry POST \/subjects\/.+\/versions at \S+ failed: HTTP 404/);
    expect(entry.failure!.reason).not.toMatch(/[\n\r]/);
    // Nothing but the ledger's claims and the entry: the restore stopped before the lane topic.
    expect((await topics()).has(`${lane}.${orders}`)).toBe(false);

    const listed = await kb('lane', 'list', '--json');
    expect(
      (JSON.parse(listed.stdout) as { lanes: Array<{ lane: string; state: string; failure: string; next: string }> }).lanes.find((l) => l.lane === lane),
    ).toMatchObject({
      state: 'failed',
      failure: entry.failure!.reason,
      next: `resume it with kbak restore --lane ${lane} --resume (same backup), or remove it with kbak lane delete ${lane} --yes`,
    });
    const text = await kb('lane', 'list');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`lane ${lane} failed: ${entry.failure!.reason}; resume it with kbak restore --lane ${lane} --resume`);
    const described = await kb('lane', 'describe', lane);
    // lane describe's facts table (src/cli/lane-view.ts): the effective state, the reason and the next step.
    expect(described.stdout.split('\n').slice(0, 4)).toEqual([
      `lane ${lane}`,
      expect.stringMatching(/^ {2}state +failed$/),
      expect.stringMatching(new RegExp(`^ {2}failed +${entry.failure!.reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)),
      expect.stringMatching(new RegExp(`^ {2}next +resume it with kbak restore --lane ${lane} --resume`)),
    ]);

    const del = await kb('lane', 'delete', lane, '--yes');
    expect(del.stderr).toBe('');
    expect(del.code).toBe(0);
    expect(kcatLedger().has(lane)).toBe(false);
  });

  it('a killed restore shows failed at once on its host, lane gc reports it, and --resume finishes it', async () => {
    const lane = laneName();
    // Killed while held at its first schema registration: after its intent, before the lane is ready.
    const registry = await holdingRegistry();
    const { child, done } = startKbak([...restoreArgs(lane, '--topic', orders, '--schema-registry-url', registry.url), '--ledger-topic', ledger]);
    try {
      await heldOrEnded(registry.held, done);
      child.kill('SIGKILL');
      await done;
    } finally {
      registry.release();
      registry.server.close();
    }
    const raw = kcatLedger().get(lane)!;
    expect(raw.state).toBe('restoring');
    expect(raw.intent!.holder.pid).toBe(child.pid);
    const listed = await kb('lane', 'list', '--json');
    const row = (JSON.parse(listed.stdout) as { lanes: Array<{ lane: string; state: string; failure: string }> }).lanes.find((l) => l.lane === lane)!;
    expect(row.state).toBe('failed');
    expect(row.failure).toContain(`its process ${child.pid} on`);
    const gc = await kb('lane', 'gc', '--json');
    expect(gc.code).toBe(0);
    expect((JSON.parse(gc.stdout) as { failed: string[] }).failed).toContain(lane);
    // Not expired: gc leaves it (and its entry) alone.
    expect(kcatLedger().get(lane)).toMatchObject({ state: 'restoring', intent: { holder: { pid: child.pid } } });
    const resumed = await kb(...restoreArgs(lane, '--topic', orders, '--resume'));
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(kcatLedger().get(lane)).toMatchObject({ state: 'ready', intent: null, failure: null });
    expect(kcat(`${lane}.${orders}`)).toHaveLength(20);
  });
});

describe('one restore per lane', () => {
  it('of two restores of one lane started together exactly one exits 8, naming the other, and every record is in the lane once', async () => {
    const lane = laneName();
    // Both start together; the one that wins the claim is held at its first schema registration
    // (after its claim and intent) until the other has ended, so the two runs overlap however
    // slowly either starts (on a loaded machine one could otherwise finish before the other
    // begins, and the late one would meet a finished lane, exit 6, instead of a running one).
    const registry = await holdingRegistry();
    let results: CliResult[] = [];
    let runs: Array<ReturnType<typeof startKbak>> = [];
    try {
      runs = [0, 1].map(() => startKbak([...restoreArgs(lane, '--topic', orders, '--schema-registry-url', registry.url), '--ledger-topic', ledger]));
      const first = await Promise.race(runs.map((r) => r.done));
      expect(first.code).toBe(8);
      registry.release();
      results = await Promise.all(runs.map((r) => r.done));
    } finally {
      registry.release();
      registry.server.close();
    }
    const codes = results.map((r) => r.code).sort();
    expect(codes).toEqual([0, 8]);
    const loser = results.find((r) => r.code === 8)!;
    const winnerPid = runs[results.findIndex((r) => r.code === 0)]!.child.pid;
    expect(oneLine(loser)).toMatch(new RegExp(`^kbak: lane ${lane} is being restored by restore --lane ${lane} on .+ \\(pid ${winnerPid}\\) since \\S+Z \\(`));
    const source = kcat(orders);
    const laneRecords = kcat(`${lane}.${orders}`);
    expect(laneRecords).toHaveLength(source.length);
    expect(laneRecords.map((r) => `${r.partition}/${r.key}`).sort()).toEqual(source.map((r) => `${r.partition}/${r.key}`).sort());
    expect(kcatLedger().get(lane)).toMatchObject({ state: 'ready', intent: null });
    // The winner withdrew its claim once done, and so did the loser if it got as far as claiming
    // (it may have seen the winner's claim before writing one): no claim of the lane is left.
    const claims = new Map<string, string | null>();
    for (const r of kcat(ledger)) if (r.key?.startsWith(`${lane}/claim/`)) claims.set(r.key, r.payload);
    expect(claims.size).toBeGreaterThanOrEqual(1);
    expect(claims.size).toBeLessThanOrEqual(2);
    expect([...claims.values()].every((v) => v === null)).toBe(true);
  });

  it('lane delete refuses a lane a restore is running on (exit 8) and leaves it to the restore', async () => {
    const lane = laneName();
    const registry = await holdingRegistry();
    try {
      const { done } = startKbak([...restoreArgs(lane, '--topic', orders, '--schema-registry-url', registry.url), '--ledger-topic', ledger]);
      // Held at its first registration: the restore is running, its heartbeat recent: it holds the lane.
      await heldOrEnded(registry.held, done);
      expect(kcatLedger().get(lane)?.state).toBe('restoring');
      const del = await kb('lane', 'delete', lane, '--yes');
      expect(del.code).toBe(8);
      expect(oneLine(del)).toContain(`lane ${lane} is being restored by restore --lane ${lane} on `);
      registry.release();
      const restored = await done;
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);
    } finally {
      registry.release();
      registry.server.close();
    }
    expect(kcat(`${lane}.${orders}`)).toHaveLength(20);
    expect(kcatLedger().get(lane)).toMatchObject({ state: 'ready', intent: null });
  });
});

describe('subjects and groups owned by more than their names', () => {
  it('refuses a subject deleted and re-created by someone else after a killed run, and lane delete leaves it alone', async () => {
    const lane = laneName();
    const laneTopic = `${lane}.${orders}`;
    const laneSubject = `${laneTopic}-value`;
    // Killed once the lane topic exists: the subject's registration (version and ID) is recorded by then.
    const { child, done } = startKbak([...restoreArgs(lane, '--topic', orders), '--ledger-topic', ledger]);
    while (!(await topics()).has(laneTopic)) await new Promise((res) => setTimeout(res, 20));
    child.kill('SIGKILL');
    await done;
    const recorded = kcatLedger().get(lane)!.subjects as unknown as Array<{ name: string; versions: number[]; ids: number[] }>;
    expect(recorded).toEqual([{ name: laneSubject, source: `${orders}-value`, versions: [1], ids: [expect.any(Number)] }]);
    // Someone else deletes the subject for good and registers their own schema under it.
    await registry.deleteSubject(laneSubject);
    const lib = new SchemaRegistryLib({ host: stackEnv().registryUrl });
    const { id: theirs } = await lib.register(
      { type: SchemaType.AVRO, schema: JSON.stringify({ type: 'record', name: 'Theirs', fields: [{ name: 'y', type: 'long' }] }) },
      { subject: laneSubject },
    );
    expect(theirs).not.toBe(recorded[0]!.ids[0]);
    const r = await kb(...restoreArgs(lane, '--topic', orders, '--resume'));
    expect(r.code).toBe(6);
    expect(oneLine(r)).toMatch(new RegExp(`subject "${laneSubject}" .*lane ${lane} registered: re-created by someone else`));
    // Left alone is a safety refusal (exit 6, README's lane table), after the result is printed.
    const del = await kb('lane', 'delete', lane, '--yes', '--json');
    expect(del.code).toBe(6);
    expect(oneLine(del)).toContain(laneSubject);
    expect((JSON.parse(del.stdout) as { leftAlone: Array<{ name: string }> }).leftAlone.map((x) => x.name)).toEqual([laneSubject]);
    expect(await registry.subjectVersions(laneSubject)).toEqual([1]);
    expect((await registry.subjectVersion(laneSubject, 1))!.id).toBe(theirs);
    await registry.deleteSubject(laneSubject);
  });

  it('lane delete keeps a lane group that holds offsets on a foreign topic, with those offsets', async () => {
    const lane = laneName();
    const laneGroup = `${lane}.${billing}`;
    expect((await kb(...restoreArgs(lane, '--topic', orders))).code).toBe(0);
    // The lane group also consumes a topic the lane does not own.
    await admin.setOffsets({ groupId: laneGroup, topic: orders, partitions: [{ partition: 1, offset: '3' }] });
    // Left alone is a safety refusal (exit 6, README's lane table), after the result is printed.
    const del = await kb('lane', 'delete', lane, '--yes', '--json');
    expect(del.code).toBe(6);
    expect(oneLine(del)).toContain(`consumer group "${laneGroup}" also holds offsets on topics lane ${lane} does not own (${orders})`);
    const result = JSON.parse(del.stdout) as { deleted: { groups: string[] }; leftAlone: Array<{ name: string; reason: string }>; complete: boolean };
    expect(result.deleted.groups).toEqual([]);
    expect(result.leftAlone).toEqual([
      { name: laneGroup, reason: expect.stringContaining(`also holds offsets on topics lane ${lane} does not own (${orders})`) },
    ]);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(laneGroup);
    const kept = await admin.fetchOffsets({ groupId: laneGroup, topics: [orders] });
    expect(kept[0]!.partitions.find((p) => p.partition === 1)!.offset).toBe('3');
    expect((await topics()).has(`${lane}.${orders}`)).toBe(false);
    expect(kcatLedger().has(lane)).toBe(false);
    await admin.deleteGroups([laneGroup]);
  });
});
