/**
 * Issue 18 item 7: the first dump of a cluster is stopped with SIGINT (Ctrl-C) after it has
 * completed some segments, so the store holds leftovers and no backup of that cluster. A
 * dry run lists them (and deletes nothing; while the dump still runs, it keeps them); prune
 * then removes exactly them: every other
 * object of the store (another cluster's backup, a file outside the backup layout) stays.
 * The store is read with plain directory listing and the S3 client, not with kbak's reader.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { runKbak, startKbak } from '../support/kbak-cli';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { createTopic, produce } from '../support/produce';
import { s3Client } from '../support/s3-objects';
import { stackEnv, testKafka, uniqueName } from '../support/stack';
import { newDestination, type StoreKind } from '../support/stores';

const kafka = testKafka('kbak-prune-leftovers');
let topic: string;
let small: string;
let s3: FaultProxy;

beforeAll(async () => {
  const url = new URL(stackEnv().s3Endpoint);
  s3 = await startFaultProxy(url.hostname, Number(url.port));
  topic = uniqueName('leftovers');
  small = uniqueName('leftovers-small');
  await createTopic(kafka, topic, 2);
  await createTopic(kafka, small, 1);
  // About 24 MB that does not compress well (6 or so segments): the dump is still writing when it is stopped.
  for (let batch = 0; batch < 12; batch++)
    await produce(
      kafka,
      topic,
      Array.from({ length: 500 }, (_, i) => ({
        partition: i % 2,
        key: Buffer.from(`k${batch}-${i}`),
        value: Buffer.from(randomBytes(3000).toString('base64')),
        headers: [],
        timestamp: String(Date.now()),
      })),
    );
  await produce(kafka, small, [{ partition: 0, key: Buffer.from('k'), value: Buffer.from('v'), headers: [], timestamp: String(Date.now()) }]);
});

afterAll(async () => {
  await s3.close();
});

/** Every object of the store and its size, by plain listing: files under a folder, objects under an S3 prefix. */
async function listing(kind: StoreKind, dest: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (kind === 'disk') {
    for (const e of readdirSync(dest, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const path = join(e.parentPath, e.name);
      const size = statSync(path, { throwIfNoEntry: false })?.size; // a temporary file may be renamed meanwhile
      if (size !== undefined) out.set(relative(dest, path).split('\\').join('/'), size);
    }
    return out;
  }
  const prefix = new URL(dest).pathname.slice(1);
  let token: string | undefined;
  do {
    const page = await s3Client().send(new ListObjectsV2Command({ Bucket: stackEnv().s3Bucket, Prefix: `${prefix}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key!.slice(prefix.length + 1), o.Size!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

const segmentsOf = (objects: Map<string, number>, cluster: string): string[] =>
  [...objects.keys()].filter((k) => k.startsWith(`${cluster}/segments/`) && k.endsWith('.kseg')).sort();

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each<StoreKind>(['disk', 's3'])('prune after an interrupted first dump, on %s', (kind) => {
  it('the dry run lists the leftovers; prune removes exactly them', async () => {
    const { dest, store } = newDestination(kind, 'leftovers');
    // Bystanders: a complete backup of another cluster in the same store, a file outside the backup layout.
    const other = await runKbak(['dump', '--topic', small, '--to', dest, '--name', 'other', '--quiet']);
    expect(other.code).toBe(0);
    await store.put('first/notes/readme.txt', Buffer.from('not a backup'));

    // The first dump of cluster "first", through a slowed S3 (disk: as fast as it goes), stopped once it has completed segments.
    s3.setLatency(kind === 's3' ? 150 : 0);
    const run = startKbak(['dump', '--topic', topic, '--to', dest, '--name', 'first', '--segment-bytes', '65536', '--concurrency', '1', '--quiet'], {
      KBAK_S3_ENDPOINT: `http://${s3.address}`,
    });
    let exited = false;
    void run.done.then(() => (exited = true));
    await waitFor('completed segments', async () => {
      if (exited) throw new Error('the dump ended before it could be stopped');
      return segmentsOf(await listing(kind, dest), 'first').length >= 2;
    });
    if (kind === 's3') {
      // While the dump runs (its lock live), a dry run keeps what it has written.
      const during = await runKbak(['prune', '--keep-last', '1', '--dry-run', '--json', '--name', 'first', '--source', dest]);
      expect(during.code).toBe(0);
      expect(exited).toBe(false);
      const running = JSON.parse(during.stdout) as { leftovers: Array<{ action: string; reason: string }>; deletedObjects: number };
      expect(running.leftovers).toEqual([expect.objectContaining({ action: 'keep', reason: 'its dump is running (live lock)' })]);
      expect(running.deletedObjects).toBe(0);
    }
    run.child.kill('SIGINT');
    const stopped = await run.done;
    s3.setLatency(0);
    expect(stopped.code).toBe(130);
    // Requests the proxy still held when the dump exited (its best-effort deletes) land now: wait until the store is still.
    let before = await listing(kind, dest);
    for (let i = 0; ; i++) {
      if (i === 15) throw new Error('the store kept changing after the dump exited');
      await new Promise((r) => setTimeout(r, 1000));
      const again = await listing(kind, dest);
      if (JSON.stringify([...again]) === JSON.stringify([...before])) break;
      before = again;
    }
    const leftovers = segmentsOf(before, 'first');
    // A stopped dump deletes what it completed, best effort, while it stops: some always remain.
    expect(leftovers.length).toBeGreaterThanOrEqual(1);
    // No manifest, no lock; on disk maybe the temporary file of the segment being written, which no listing shows and prune leaves.
    expect([...before.keys()].filter((k) => k.startsWith('first/') && !leftovers.includes(k) && !k.includes('.kbak-tmp-'))).toEqual(['first/notes/readme.txt']);
    // Every leftover names the stopped dump in its writer tag.
    const writers = new Set(leftovers.map((k) => /-(\d{8}T\d{9}Z)-[0-9a-f]{8}\.kseg$/.exec(k)?.[1]));
    expect(writers.size).toBe(1);
    const [dumpId] = [...writers];
    const bytes = leftovers.reduce((n, k) => n + before.get(k)!, 0);

    const dry = await runKbak(['prune', '--keep-last', '1', '--dry-run', '--json', '--source', dest]);
    expect(dry.code).toBe(0);
    const lines = dry.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { cluster: string; leftovers: unknown[]; deletedObjects: number });
    expect(lines.map((l) => l.cluster)).toEqual(['first', 'other']);
    expect(lines[0]).toMatchObject({
      kept: [],
      removed: [],
      leftovers: [{ dump: dumpId, objects: leftovers.length, bytes, action: 'remove' }],
      deletedObjects: leftovers.length,
      deletedBytes: bytes,
      dryRun: true,
    });
    expect(lines[1]).toMatchObject({ removed: [], leftovers: [], deletedObjects: 0 });
    const table = await runKbak(['prune', '--keep-last', '1', '--dry-run', '--source', dest]);
    expect(table.stdout).toMatch(
      new RegExp(`^first: keeping 0 backups, would remove 0 backups and the leftovers of 1 interrupted dump \\(dry run, nothing deleted\\)\n`),
    );
    expect(table.stdout).toMatch(new RegExp(`\n  would remove  leftovers  ${dumpId}  ${leftovers.length} +`));
    expect(await listing(kind, dest)).toEqual(before);

    const done = await runKbak(['prune', '--keep-last', '1', '--source', dest]);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/^first: keeping 0 backups, removed 0 backups and the leftovers of 1 interrupted dump\n/);
    const after = await listing(kind, dest);
    const expected = new Map(before);
    for (const k of leftovers) expected.delete(k);
    expect(after).toEqual(expected);
    expect([...after.keys()].some((k) => k.startsWith('other/') && k.endsWith('/manifest.json'))).toBe(true);
    expect((await runKbak(['verify', '--all', '--source', dest])).code).toBe(0);
  });
});
