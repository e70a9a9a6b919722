/**
 * What a long command leaves on stderr when it completes. Piped (a CronJob's log): one final
 * JSON summary line, from dump and restore alike. On a terminal: the completion once (the
 * summary on stdout), not a log line and the summary both. kbak's own JSON is parsed here; the
 * counts are checked against what was produced, not against another kbak run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KBAK_BIN, runKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { runInPty } from '../support/pty';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const kafka = testKafka('kbak-progress-lines');
let topic: string;
let dir: string;
const RECORDS = 120;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbak-progress-'));
  topic = uniqueName('progress');
  await createTopic(kafka, topic, 2);
  await produce(
    kafka,
    topic,
    Array.from({ length: RECORDS }, (_, i) => ({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: Buffer.from(`v${i}`),
      headers: [],
      timestamp: String(Date.now()),
    })),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jsonLines = (stderr: string): Array<Record<string, unknown>> =>
  stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('piped, every long command ends with one JSON summary line', () => {
  it('dump, restore of its backup, verify, lane snapshot, lane delete', async () => {
    const dest = join(dir, 'piped');
    const dump = await runKbak(['dump', '--topic', topic, '--to', dest], { KBAK_LOG_LEVEL: 'info' });
    expect(dump.code).toBe(0);
    const dumpLines = jsonLines(dump.stderr);
    const dumpLast = dumpLines.at(-1)!;
    const backupId = (dumpLast.summary as { backupId: string }).backupId;
    expect(dumpLast.msg).toBe(`backup ${backupId} complete`);
    expect(dumpLast.summary).toMatchObject({ records: RECORDS });
    expect(dumpLines.filter((l) => /complete/.test(String(l.msg)))).toHaveLength(1);

    const lane = uniqueName('pl').toLowerCase();
    const restore = await runKbak(['restore', '--source', dest, '--lane', lane], { KBAK_LOG_LEVEL: 'info' });
    expect(restore.code).toBe(0);
    const restoreLast = jsonLines(restore.stderr).at(-1)!;
    expect(restoreLast).toMatchObject({ level: 30, app: 'kbak', msg: `lane ${lane} restored from backup ${backupId}` });
    expect(restoreLast.summary).toMatchObject({ lane, backupId, records: RECORDS });

    const verify = await runKbak(['verify', 'latest', '--source', dest], { KBAK_LOG_LEVEL: 'info' });
    expect(verify.code).toBe(0);
    expect(jsonLines(verify.stderr).at(-1)).toMatchObject({ level: 30, msg: 'verify complete: 1 of 1 backup ok', verified: 1 });

    const snapshot = await runKbak(['lane', 'snapshot', lane, '--to', join(dir, 'snap')], { KBAK_LOG_LEVEL: 'info' });
    expect(snapshot.code).toBe(0);
    const snapLast = jsonLines(snapshot.stderr).at(-1)!;
    expect(snapLast.msg).toMatch(new RegExp(`^lane ${lane} snapshot lane-${lane}/\\d{8}T\\d{9}Z complete$`));
    expect(snapLast.summary).toMatchObject({ lane });

    const del = await runKbak(['lane', 'delete', lane, '--yes'], { KBAK_LOG_LEVEL: 'info' });
    expect(del.code).toBe(0);
    const delLast = jsonLines(del.stderr).at(-1)!;
    expect(delLast).toMatchObject({ level: 30, msg: `lane ${lane} deleted` });
    expect(delLast.result).toMatchObject({ lane, complete: true });
  });
});

describe('on a terminal', () => {
  it('dump shows its completion once', async () => {
    const dest = join(dir, 'tty');
    const r = await runInPty([process.execPath, KBAK_BIN, 'dump', '--topic', topic, '--to', dest], { columns: 120, env: stackEnv().env });
    expect(r.code).toBe(0);
    const ids = [...r.output.matchAll(/backup (\d{8}T\d{9}Z) complete/g)].map((m) => m[1]);
    expect(ids).toHaveLength(1);
  });
});
