/**
 * A sharded dump (issue 21): N `kbak dump --shard I/N --backup-id ID` processes, as the pods of
 * a Kubernetes Indexed Job, make one backup that is record for record the one a single
 * `kbak dump` makes — read with the independent decoder (format-decoder.ts, FORMAT.md alone),
 * never kbak's reader. A shard killed mid-write and rerun alone still completes it; a shard
 * that never runs leaves no listed backup; a shard started with another plan is refused.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBackupsOnDisk } from '../support/format-decoder';
import { runKbak, startKbak } from '../support/kbak-cli';
import { kcatProduce } from '../support/peers';
import { createTopic, produce, TRACE_HEADERS, type TestRecord } from '../support/produce';
import { downloadS3, listS3 } from '../support/s3-objects';
import {
  backupIdAt,
  backupDifferences,
  decodeBackup,
  describeFailure,
  fileDigest,
  filesUnder,
  freshBackupId,
  listedBackupIds,
  runShards,
  shardArgs,
  type DecodedBackup,
} from '../support/sharded-dump';
import { stackEnv, testKafka, uniqueName } from '../support/stack';
import { newDestination } from '../support/stores';

jest.setTimeout(300_000);

const kafka = testKafka('kbak-dump-sharded-test');
const SHARDS = 3;
/** The partition big enough to kill its shard while it writes (largest: shard 0 takes it, see assignShards). */
const BIG = 2;
const BIG_RECORDS = 20_000;
const TOPIC_CONFIGS = { 'retention.ms': '1209600000', 'max.message.bytes': '2000000' };

const dirs: string[] = [];
function tempDir(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `kbak-sharded-${label}-`));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Records with keys, null keys and values, and the hard headers, into `partition` (kafkajs: uncompressed batches). */
function plainRecords(partition: number, n: number, tag: string): TestRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    partition,
    key: i % 7 === 3 ? null : Buffer.from(`${tag}-k${i % 50}`),
    value: i % 11 === 5 ? null : Buffer.from(`${tag} p${partition} #${i} ${'v'.repeat(i % 300)}`),
    headers: i % 3 === 0 ? TRACE_HEADERS(i) : [],
    timestamp: String(Date.now() - 60_000 + i),
  }));
}

/** `n` key:value lines for kcat, values of `bytes` random base64 (incompressible). */
function randomLines(n: number, bytes: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => `${tag}-${i}:${randomBytes((bytes * 3) / 4).toString('base64')}`);
}

async function setGroupOffsets(groupId: string, topic: string, offsets: Record<number, number>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: Object.entries(offsets).map(([p, o]) => ({ partition: Number(p), offset: String(o) })) });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Six partitions of unequal sizes: uncompressed batches (kafkajs) and gzip/snappy/lz4/zstd
 * batches (kcat), one large partition, one empty.
 */
async function fillTopic(topic: string, scale: number): Promise<void> {
  await createTopic(kafka, topic, 6, TOPIC_CONFIGS);
  const sizes: Record<number, number> = { 0: 300, 1: 40, 4: 120, 5: 700 };
  await produce(
    kafka,
    topic,
    Object.entries(sizes).flatMap(([p, n]) => plainRecords(Number(p), Math.ceil(n * scale), topic)),
  );
  const codecs: Array<[number, string]> = [
    [0, 'gzip'],
    [1, 'snappy'],
    [4, 'lz4'],
    [5, 'zstd'],
    [0, 'zstd'],
  ];
  for (const [p, codec] of codecs)
    kcatProduce(topic, p, randomLines(50, 200, `${codec}${p}`), { codec, headers: { traceparent: `00-${codec}-01`, dup: 'one' } });
  kcatProduce(topic, BIG, randomLines(Math.ceil(BIG_RECORDS * scale), 1024, 'big'), { codec: 'lz4', headers: { b3: 'big' } });
  // Partition 3 stays empty.
}

let topic: string;
let other: string;
let cluster: string;
let single: DecodedBackup;
const base = (dest: string, t = topic): string[] => ['--topic', t, '--to', dest, '--segment-bytes', '65536', '--quiet'];

beforeAll(async () => {
  topic = uniqueName('sharded');
  other = uniqueName('sharded-other');
  await fillTopic(topic, 1);
  await createTopic(kafka, other, 2);
  await setGroupOffsets(uniqueName('billing'), topic, { 0: 150, [BIG]: 5000, 5: 1 });
  await setGroupOffsets(uniqueName('audit'), topic, { 1: 40, 4: 0 });
  // The reference: one process, the same options.
  const ref = tempDir('single');
  const r = await runKbak(['dump', ...base(ref)]);
  expect(describeFailure(r)).toBeNull();
  single = decodeBackup(ref);
  cluster = single.cluster;
  // The reference itself must hold what was produced, or comparing with it proves little.
  expect(single.records.get(`${topic}/${BIG}`)).toHaveLength(BIG_RECORDS);
  expect(single.records.get(`${topic}/3`)).toHaveLength(0);
  expect(single.records.get(`${topic}/0`)).toHaveLength(400);
  expect(single.records.get(`${topic}/0`)!.some((rec) => rec.headers.length === 10 && rec.key === null)).toBe(true);
}, 600_000);

/** The writer tags of a backup's segments (`<first offset>-<writer tag>.kseg`): one per process that wrote. */
function writerTags(b: DecodedBackup): Set<string> {
  const tags = new Set<string>();
  for (const t of b.manifest.topics as Array<{ partitions: Array<{ segments: Array<{ key: string }> }> }>)
    for (const p of t.partitions) for (const s of p.segments) tags.add(/-([^/]+)\.kseg$/.exec(s.key)![1]!);
  return tags;
}

const planDir = (dest: string, id: string): string => join(dest, cluster, 'plans', id);

describe('three shards started at once', () => {
  let dest: string;
  let id: string;

  it('make the backup a single process makes, record for record', async () => {
    dest = tempDir('three');
    id = freshBackupId();
    const results = await runShards(base(dest), SHARDS, id);
    for (const r of results) expect(describeFailure(r)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([id]);
    const sharded = decodeBackup(dest, id);
    expect(sharded.cluster).toBe(cluster); // the cluster ID names the folder, as for one process
    expect(backupDifferences(single, sharded)).toEqual([]);
    expect(sharded.manifest.incremental).toBe(false);
    // Every shard wrote its own partitions: three writers, where one process has one.
    expect(writerTags(single).size).toBe(1);
    expect(writerTags(sharded).size).toBe(SHARDS);
    // Finalised: the plan and the partial manifests are gone (the disk store leaves empty folders).
    expect(filesUnder(planDir(dest, id))).toEqual([]);
  });

  it('a shard rerun after the backup is complete has nothing to do', async () => {
    const manifest = join(dest, cluster, id, 'manifest.json');
    const before = fileDigest(manifest);
    const segments = filesUnder(join(dest, cluster, 'segments'));
    const r = await startKbak(shardArgs(base(dest), 1, SHARDS, id)).done;
    expect(describeFailure(r)).toBeNull();
    expect(fileDigest(manifest)).toBe(before);
    expect(filesUnder(join(dest, cluster, 'segments'))).toEqual(segments);
    expect(await listedBackupIds(dest)).toEqual([id]);
    expect(filesUnder(planDir(dest, id))).toEqual([]);
  });
});

describe('a shard killed while it writes', () => {
  /**
   * Starts the shards; SIGKILLs shard 0 once its first segment of the largest partition (which
   * assignShards gives shard 0) is written; returns the others' results after checking the kill.
   */
  async function killShardZero(dest: string, id: string, others: readonly number[]): Promise<void> {
    const bigDir = join(dest, cluster, 'segments', topic, String(BIG));
    const run = startKbak(shardArgs(base(dest), 0, SHARDS, id));
    const rest = runShards(base(dest), SHARDS, id, others);
    let segmentsAtKill = -1;
    const poll = setInterval(() => {
      const written = existsSync(bigDir) ? readdirSync(bigDir).filter((n) => n.endsWith('.kseg')).length : 0;
      if (written > 0 && segmentsAtKill < 0) {
        segmentsAtKill = written;
        run.child.kill('SIGKILL');
      }
    }, 5);
    const killed = await run.done;
    clearInterval(poll);
    // Otherwise the shard finished before it could be killed (make BIG_RECORDS larger).
    expect(killed.signal ?? `exit ${killed.code}: ${killed.stderr}`).toBe('SIGKILL');
    expect(segmentsAtKill).toBeGreaterThan(0);
    for (const r of await rest) expect(describeFailure(r)).toBeNull();
  }

  async function rerunCompletes(dest: string, id: string): Promise<void> {
    expect(await listedBackupIds(dest)).toEqual([]);
    expect(listBackupsOnDisk(dest)).toEqual([]);
    const partials = filesUnder(planDir(dest, id));
    expect(partials).toEqual(expect.arrayContaining(['plan.json', 'shard-1.json', 'shard-2.json']));
    expect(partials).not.toContain('shard-0.json');

    const rerun = await startKbak(shardArgs(base(dest), 0, SHARDS, id)).done;
    expect(describeFailure(rerun)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([id]);
    expect(backupDifferences(single, decodeBackup(dest, id))).toEqual([]);
    expect(filesUnder(planDir(dest, id))).toEqual([]);
  }

  it('all started at once: the others finish, no backup is listed, and the killed shard rerun alone completes the same backup', async () => {
    const dest = tempDir('kill');
    const id = freshBackupId();
    await killShardZero(dest, id, [1, 2]);
    await rerunCompletes(dest, id);
  });

  it('killed after the others finished: its rerun alone completes the same backup', async () => {
    const dest = tempDir('kill-last');
    const id = freshBackupId();
    for (const r of await runShards(base(dest), SHARDS, id, [1, 2])) expect(describeFailure(r)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([]);
    await killShardZero(dest, id, []);
    await rerunCompletes(dest, id);
  });
});

describe('two copies of one shard at once (a pod replaced while the old one still runs)', () => {
  it('make one backup, the same', async () => {
    const dest = tempDir('twice');
    const id = freshBackupId();
    const results = await Promise.all([runShards(base(dest), SHARDS, id), runShards(base(dest), SHARDS, id, [1])]);
    for (const r of results.flat()) expect(describeFailure(r)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([id]);
    const b = decodeBackup(dest, id);
    expect(backupDifferences(single, b)).toEqual([]);
    // The copy that lost removed its segments: the pool holds exactly what the manifest names.
    const named = (b.manifest.topics as Array<{ partitions: Array<{ segments: Array<{ key: string }> }> }>).flatMap((t) =>
      t.partitions.flatMap((p) => p.segments.map((sg) => sg.key)),
    );
    expect(filesUnder(join(dest, cluster, 'segments')).map((f) => `segments/${f}`)).toEqual([...named].sort());
    expect(filesUnder(planDir(dest, id))).toEqual([]);
  });
});

describe('a shard that never runs', () => {
  it('leaves no listed backup; --finalize refuses naming it; once it runs the backup is complete', async () => {
    const dest = tempDir('missing');
    const id = freshBackupId();
    for (const r of await runShards(base(dest), SHARDS, id, [0, 1])) expect(describeFailure(r)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([]);
    expect(listBackupsOnDisk(dest)).toEqual([]);
    const partials = filesUnder(planDir(dest, id));
    expect(partials).toEqual(expect.arrayContaining(['plan.json', 'shard-0.json', 'shard-1.json']));
    expect(partials).not.toContain('shard-2.json');

    const fin = await runKbak(['dump', '--finalize', '--backup-id', id, '--to', dest, '--quiet']);
    expect(fin.code).not.toBe(0);
    expect(fin.code).not.toBe(70);
    const lines = fin.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/shard/i);
    expect(lines[0]).toMatch(/\b2\b/);
    expect(await listedBackupIds(dest)).toEqual([]);
    expect(filesUnder(planDir(dest, id))).toEqual(partials);

    const last = await startKbak(shardArgs(base(dest), 2, SHARDS, id)).done;
    expect(describeFailure(last)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([id]);
    expect(backupDifferences(single, decodeBackup(dest, id))).toEqual([]);
  });

  it('--finalize completes the backup by hand once every partial is there', async () => {
    const dest = tempDir('finalize');
    const id = freshBackupId();
    for (const r of await runShards(base(dest), SHARDS, id)) expect(describeFailure(r)).toBeNull();
    // The last shard finalised already; --finalize of a complete backup changes nothing.
    const manifest = join(dest, cluster, id, 'manifest.json');
    const before = fileDigest(manifest);
    const fin = await runKbak(['dump', '--finalize', '--backup-id', id, '--to', dest, '--quiet']);
    expect(describeFailure(fin)).toBeNull();
    expect(fileDigest(manifest)).toBe(before);
    expect(await listedBackupIds(dest)).toEqual([id]);
  });
});

describe('a partial manifest that does not check', () => {
  it('is refused when the backup is finalised (exit 5, no backup); deleting it and rerunning its shard completes the backup', async () => {
    const t = uniqueName('sharded-bad');
    await createTopic(kafka, t, 2);
    await produce(kafka, t, [...plainRecords(0, 5, t), ...plainRecords(1, 7, t)]);
    const dest = tempDir('bad-partial');
    const id = freshBackupId();
    expect(describeFailure(await startKbak(shardArgs(base(dest, t), 0, 2, id)).done)).toBeNull();
    // Shard 0's partial claims one record more than its segments hold.
    const partial = join(planDir(dest, id), 'shard-0.json');
    const json = JSON.parse(readFileSync(partial, 'utf8')) as { partitions: Array<{ records: number }> };
    expect(json.partitions).toHaveLength(1);
    json.partitions[0]!.records += 1;
    writeFileSync(partial, JSON.stringify(json));

    const last = await startKbak(shardArgs(base(dest, t), 1, 2, id)).done;
    expect(describeFailure(last, 5)).toBeNull();
    expect(last.stderr.trim().split('\n')).toHaveLength(1);
    expect(last.stderr).toContain('shard 0');
    expect(await listedBackupIds(dest)).toEqual([]);

    rmSync(partial);
    expect(describeFailure(await startKbak(shardArgs(base(dest, t), 0, 2, id)).done)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([id]);
    const b = decodeBackup(dest, id);
    expect([b.records.get(`${t}/0`)!.length, b.records.get(`${t}/1`)!.length]).toEqual([5, 7]);
  });
});

describe('a shard started with another plan', () => {
  let dest: string;
  let id: string;
  let plan: string;
  let planFiles: string[];
  let segments: string[];

  beforeAll(async () => {
    dest = tempDir('mismatch');
    id = freshBackupId();
    const first = await startKbak(shardArgs(base(dest), 2, SHARDS, id)).done;
    expect(describeFailure(first)).toBeNull();
    plan = fileDigest(join(planDir(dest, id), 'plan.json'));
    planFiles = filesUnder(planDir(dest, id));
    segments = filesUnder(join(dest, cluster, 'segments'));
  });

  const untouched = async (): Promise<void> => {
    expect(fileDigest(join(planDir(dest, id), 'plan.json'))).toBe(plan);
    expect(filesUnder(planDir(dest, id))).toEqual(planFiles);
    expect(filesUnder(join(dest, cluster, 'segments'))).toEqual(segments);
    expect(await listedBackupIds(dest)).toEqual([]);
  };

  it('another --topic is refused with exit 2 and one line naming the topic', async () => {
    const r = await startKbak(shardArgs(base(dest, other), 1, SHARDS, id)).done;
    expect(describeFailure(r, 2)).toBeNull();
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/topic/i);
    expect(lines[0]!.includes(topic) || lines[0]!.includes(other)).toBe(true);
    await untouched();
  });

  it('another shard count is refused with exit 2 and one line naming both counts', async () => {
    const r = await startKbak(shardArgs(base(dest), 1, 2, id)).done;
    expect(describeFailure(r, 2)).toBeNull();
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/shard/i);
    expect(lines[0]).toMatch(/\b3\b/);
    expect(lines[0]).toMatch(/\b2\b/);
    await untouched();
  });
});

describe('an incremental sharded dump', () => {
  it('continues each partition from the previous backup: it holds the old and the new records', async () => {
    const t = uniqueName('sharded-inc');
    await fillTopic(t, 0.05);
    const group = uniqueName('inc-group');
    await setGroupOffsets(group, t, { 0: 3, 5: 10 });
    const dest = tempDir('inc');
    const first = freshBackupId();
    for (const r of await runShards(base(dest, t), SHARDS, first)) expect(describeFailure(r)).toBeNull();
    const old = decodeBackup(dest, first);

    // More records in some partitions (one of them the empty one), none in others, and moved group offsets.
    await produce(kafka, t, [...plainRecords(0, 30, `${t}-more`), ...plainRecords(3, 12, `${t}-more`)]);
    kcatProduce(t, 5, randomLines(25, 300, 'more5'), { codec: 'zstd' });
    await setGroupOffsets(group, t, { 0: 20, 3: 12 });

    const second = freshBackupId();
    for (const r of await runShards([...base(dest, t), '--incremental'], SHARDS, second)) expect(describeFailure(r)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([first, second]);
    const inc = decodeBackup(dest, second);
    expect(inc.manifest.incremental).toBe(true);
    for (const [k, p] of inc.partitions) expect(`${k} ${p.basedOn}`).toBe(`${k} ${first}`);

    // The reference: a full single-process dump of the topic now.
    const ref = tempDir('inc-single');
    expect(describeFailure(await runKbak(['dump', ...base(ref, t)]))).toBeNull();
    const now = decodeBackup(ref);
    expect(backupDifferences(now, inc)).toEqual([]);
    // The comparison can fail: the first backup is not the second.
    expect(backupDifferences(old, inc).length).toBeGreaterThan(0);
    expect(inc.records.get(`${t}/3`)).toHaveLength(12);
    expect(inc.records.get(`${t}/0`)!.length).toBe(old.records.get(`${t}/0`)!.length + 30);
    // Continued, not re-read: every segment of the first backup is in the second.
    const keys = (b: DecodedBackup): string[] =>
      (b.manifest.topics as Array<{ partitions: Array<{ segments: Array<{ key: string }> }> }>).flatMap((x) =>
        x.partitions.flatMap((p) => p.segments.map((s) => s.key)),
      );
    expect(keys(inc)).toEqual(expect.arrayContaining(keys(old)));
    expect(keys(inc).length).toBeGreaterThan(keys(old).length);
    // The first backup is unchanged.
    expect(backupDifferences(old, decodeBackup(dest, first))).toEqual([]);
  });
});

describe('three shards into S3, as the pods of an Indexed Job run them', () => {
  it('take their index from JOB_COMPLETION_INDEX and the backup ID from the CronJob Job name, and make the backup a single process makes', async () => {
    const { dest } = newDestination('s3', 'sharded');
    // A CronJob names its Jobs <cronjob>-<scheduled time in minutes since the epoch>.
    const minutes = Math.floor(Date.now() / 60_000);
    const id = backupIdAt(new Date(minutes * 60_000));
    const results = await Promise.all(
      Array.from(
        { length: SHARDS },
        (_, i) =>
          startKbak(['dump', ...base(dest), '--shard', String(SHARDS)], { JOB_COMPLETION_INDEX: String(i), KBAK_JOB_NAME: `nightly-dump-${minutes}` }).done,
      ),
    );
    for (const r of results) expect(describeFailure(r)).toBeNull();
    expect(await listedBackupIds(dest)).toEqual([id]);
    const prefix = dest.slice(`s3://${stackEnv().s3Bucket}/`.length);
    expect((await listS3(prefix)).filter((k) => k.startsWith(`${cluster}/plans/`))).toEqual([]);
    const local = tempDir('s3copy');
    await downloadS3(prefix, local);
    const sharded = decodeBackup(local, id);
    expect(backupDifferences(single, sharded)).toEqual([]);
    expect(writerTags(sharded).size).toBe(SHARDS);
  });
});
