/**
 * FORMAT.md "Settled for version 2": each rule a reader MUST enforce, checked on a crafted
 * copy of the v2 vector against both kbak's reader (openBackup: exit 5, one line naming the
 * field) and the independent decoder written from FORMAT.md alone
 * (test/support/format-decoder.ts); and the inputs the settled rules say to accept, which
 * both must still read.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBackups, openBackup } from '../../src/backup/catalog';
import { cutTime } from '../../src/backup/manifest';
import { IntegrityError } from '../../src/errors';
import { DiskStore } from '../../src/store/disk';
import { aclBinding } from '../support/acl-binding';
import { listBackupsOnDisk, verifyBackupOnDisk } from '../support/format-decoder';
import { CLUSTER, copyVector, FULL, INCREMENTAL, type Forged } from '../support/hostile-manifests';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A copy of the v2 vector whose incremental manifest's text `edit` rewrites. */
function craftedText(edit: (text: string) => string | Buffer, backupId = INCREMENTAL): string {
  const root = copyVector(mkdtempSync(join(tmpdir(), 'kbak-settled-')));
  roots.push(root);
  const path = join(root, CLUSTER, backupId, 'manifest.json');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  return root;
}
const crafted = (edit: (m: Forged) => void, backupId = INCREMENTAL): string =>
  craftedText((t) => {
    const m = JSON.parse(t) as Forged;
    edit(m);
    return JSON.stringify(m, null, 2);
  }, backupId);

async function kbakRefuses(root: string, backupId: string): Promise<IntegrityError> {
  try {
    await openBackup(new DiskStore(root), backupId);
  } catch (err) {
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).exitCode).toBe(5);
    expect((err as Error).message).not.toContain('\n');
    return err as IntegrityError;
  }
  throw new Error('kbak accepted the manifest');
}

const LANE_TEMPLATES = { topic: '{lane}.{topic}', subject: '{lane}.{subject}', group: '{lane}.{group}' };
const MASKING = { policy: 'pii', policySha256: 'a'.repeat(64), keyFingerprint: '0123456789abcdef', faker: '@faker-js/faker@9.9.0' };
const ACL = aclBinding({});
const part = (m: Forged, p: number): Forged => m.topics[0].partitions[p];
const SEG = (p: number, off: string, id: string, n: string): string => `segments/orders/${p}/${off.padStart(20, '0')}-${id}-${n}.kseg`;

describe('settled for version 2: what a reader refuses (kbak and the independent decoder alike)', () => {
  const refused: Array<[string, (m: Forged) => void, RegExp]> = [
    ['15: startedAt that is no time', (m) => (m.startedAt = 'x'), /invalid at startedAt: expected a calendar-valid UTC time/],
    ['15: completedAt on a day that does not exist (2026-02-29)', (m) => (m.completedAt = '2026-02-29T12:00:00.000Z'), /invalid at completedAt/],
    ['15: cut.since at hour 24', (m) => (m.cut.since = '2026-11-26T24:00:00.000Z'), /invalid at cut\.since/],
    [
      '14: startedAt another instant than the backup ID',
      (m) => (m.startedAt = '2099-01-01T00:00:00.000Z'),
      /startedAt 2099-01-01T00:00:00\.000Z is not the instant of backup ID 20261127T120000000Z/,
    ],
    ['8: basedOn that is no backup ID', (m) => (part(m, 0).basedOn = 'yesterday'), /invalid at topics\.0\.partitions\.0\.basedOn/],
    ['8: basedOn on a day that does not exist', (m) => (part(m, 0).basedOn = '20261131T120000000Z'), /invalid at topics\.0\.partitions\.0\.basedOn/],
    ['8: basedOn not earlier than the backup', (m) => (part(m, 0).basedOn = INCREMENTAL), /basedOn 20261127T120000000Z is not earlier than the backup/],
    ['7: incremental false while a partition has basedOn', (m) => (m.incremental = false), /incremental is false but some partition has a basedOn/],
    [
      '5: a partition without basedOn whose log start passed its start',
      (m) => (part(m, 1).basedOn = null),
      /logStartOffset 4 is above startOffset 0 in a partition with no basedOn/,
    ],
    [
      '6: gaps in a partition without basedOn',
      (m) => {
        part(m, 1).basedOn = null;
        part(m, 1).logStartOffset = '0';
      },
      /orders\/1: has gaps but no basedOn/,
    ],
    [
      '2: a segment key outside segments/ (a lock)',
      (m) => (part(m, 0).segments[0].key = 'locks/orders/0/x.kseg'),
      /the key is neither segments\/orders\/0\/<name>\.kseg nor/,
    ],
    ['2: a segment key naming another backup’s manifest', (m) => (part(m, 0).segments[0].key = `${FULL}/manifest.json`), /the key is neither/],
    ['2: a segment key of another partition', (m) => (part(m, 0).segments[0].key = SEG(1, '0', FULL, '00000001')), /the key is neither segments\/orders\/0\//],
    [
      '2: a v1 segment key of a backup that is not earlier',
      (m) => (part(m, 0).segments[0].key = '20261128T120000000Z/topics/orders/0/00000000000000000000.kseg'),
      /names the v1 backup folder 20261128T120000000Z, which is not an earlier backup ID/,
    ],
    ['12: one segment key named twice', (m) => (part(m, 0).segments[1].key = part(m, 0).segments[0].key), /the key is named twice in the manifest/],
    ['16: a non-canonical int64', (m) => (part(m, 0).endOffset = '05'), /invalid at topics\.0\.partitions\.0\.endOffset/],
    ['18: an unknown schema ID beyond u32', (m) => (m.stats.unknownSchemaIds = [4294967296]), /invalid at stats\.unknownSchemaIds\.0/],
    [
      '19: a committed offset on a topic name Kafka does not allow',
      (m) => (m.consumerGroups[0].offsets[0].topic = 'a/b'),
      /invalid at consumerGroups\.0\.offsets\.0\.topic/,
    ],
    ['22: a lane that is not an object', (m) => (m.lane = 'feature-x'), /invalid at lane/],
    ['22: a lane name kbak would not accept', (m) => (m.lane = { name: 'Feature_X', templates: LANE_TEMPLATES }), /invalid at lane\.name/],
    ['22: a lane name over 40 characters', (m) => (m.lane = { name: 'x'.repeat(41), templates: LANE_TEMPLATES }), /invalid at lane\.name/],
    ['22: a lane without templates', (m) => (m.lane = { name: 'feature-x' }), /invalid at lane\.templates/],
    ['22: an empty template', (m) => (m.lane = { name: 'feature-x', templates: { ...LANE_TEMPLATES, group: '' } }), /invalid at lane\.templates\.group/],
    ['23: acls that is not an array', (m) => (m.acls = { 0: ACL }), /invalid at acls:/],
    ['23: a binding of another resource type', (m) => (m.acls = [{ ...ACL, resourceType: 'CLUSTER' }]), /invalid at acls\.0\.resourceType/],
    ['23: an empty resource name', (m) => (m.acls = [ACL, { ...ACL, resourceName: '' }]), /invalid at acls\.1\.resourceName/],
    ['23: a resource name over 255 characters', (m) => (m.acls = [{ ...ACL, resourceName: 'o'.repeat(256) }]), /invalid at acls\.0\.resourceName/],
    ['23: the MATCH pattern type (a filter, not a binding)', (m) => (m.acls = [{ ...ACL, patternType: 'MATCH' }]), /invalid at acls\.0\.patternType/],
    ['23: a principal over 1 024 characters', (m) => (m.acls = [{ ...ACL, principal: `User:${'a'.repeat(1020)}` }]), /invalid at acls\.0\.principal/],
    ['23: an empty host', (m) => (m.acls = [{ ...ACL, host: '' }]), /invalid at acls\.0\.host/],
    ['23: an operation Kafka does not name', (m) => (m.acls = [{ ...ACL, operation: 'ANY' }]), /invalid at acls\.0\.operation/],
    ['23: a permission other than ALLOW or DENY', (m) => (m.acls = [{ ...ACL, permissionType: 'ANY' }]), /invalid at acls\.0\.permissionType/],
    [
      '23: a binding without its host',
      (m) => {
        const { host: _host, ...rest } = ACL;
        m.acls = [rest];
      },
      /invalid at acls\.0\.host/,
    ],
    [
      '23: the same binding twice',
      (m) => (m.acls = [ACL, { ...ACL, operation: 'WRITE' }, { ...ACL }]),
      /invalid at acls\.2: the same ACL binding is listed twice/,
    ],
    [
      '23: more than 10 000 bindings',
      (m) => (m.acls = Array.from({ length: 10_001 }, (_, i) => ({ ...ACL, principal: `User:u${i}` }))),
      /invalid at acls: more than 10000 ACL bindings/,
    ],
    ['24: a cut.time that is no time', (m) => (m.cut.time = '2026-11-27T12:00:00Z'), /invalid at cut\.time/],
    ['24: a cut.time on hour 24', (m) => (m.cut.time = '2026-11-27T24:00:00.000Z'), /invalid at cut\.time/],
    ['24: a cut.time before startedAt', (m) => (m.cut.time = '2026-11-27T11:59:59.999Z'), /cut\.time 2026-11-27T11:59:59\.999Z is before startedAt/],
    ['24: a cut.time after completedAt', (m) => (m.cut.time = '2026-11-27T12:00:00.501Z'), /cut\.time 2026-11-27T12:00:00\.501Z is after completedAt/],
    ['25: a masking that is not an object', (m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: 'pii' }), /invalid at lane\.masking/],
    [
      '25: a masking without its faker',
      (m) => {
        const { faker: _faker, ...rest } = MASKING;
        m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: rest };
      },
      /invalid at lane\.masking\.faker/,
    ],
    [
      '25: an empty policy name',
      (m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: { ...MASKING, policy: '' } }),
      /invalid at lane\.masking\.policy/,
    ],
    [
      '25: a policySha256 in uppercase',
      (m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: { ...MASKING, policySha256: 'A'.repeat(64) } }),
      /invalid at lane\.masking\.policySha256/,
    ],
    [
      '25: a key fingerprint of 32 hex digits (the whole HMAC half, not its first 8 bytes)',
      (m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: { ...MASKING, keyFingerprint: '0'.repeat(32) } }),
      /invalid at lane\.masking\.keyFingerprint/,
    ],
    [
      '25: a faker over 100 characters',
      (m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: { ...MASKING, faker: `x@${'1'.repeat(99)}` } }),
      /invalid at lane\.masking\.faker/,
    ],
  ];

  it.each(refused)('%s', async (_name, edit, message) => {
    const root = crafted(edit);
    expect((await kbakRefuses(root, INCREMENTAL)).message).toMatch(message);
    expect(() => verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: INCREMENTAL })).toThrow();
  });

  const refusedText: Array<[string, (t: string) => string | Buffer, RegExp]> = [
    [
      '17: a duplicate key (the later one would win in JSON.parse)',
      (t) => t.replace('"startedAt":', '"startedAt": "2099-01-01T00:00:00.000Z",\n  "startedAt":'),
      /has the key "startedAt" twice in one object at \(root\)/,
    ],
    [
      '17: a duplicate key spelled with an escape',
      (t) => t.replace('"records": 5,', '"records": 5,\n "rec\\u006frds": 5,'),
      /has the key "records" twice in one object at topics\.0\.partitions\.0/,
    ],
    ['7 (settled v1): a byte-order mark', (t) => `\ufeff${t}`, /is not valid JSON/],
    [
      'invalid UTF-8 in a string',
      (t) => Buffer.concat([Buffer.from(t.slice(0, t.indexOf('kbak') + 1)), Buffer.from([0xff]), Buffer.from(t.slice(t.indexOf('kbak') + 1))]),
      /is not valid UTF-8/,
    ],
  ];

  it.each(refusedText)('%s', async (_name, edit, message) => {
    const root = craftedText(edit);
    expect((await kbakRefuses(root, INCREMENTAL)).message).toMatch(message);
    expect(() => verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: INCREMENTAL })).toThrow();
  });

  it('1: a cluster folder outside the key-component syntax is refused, its manifest and all', async () => {
    const evil = 'evil\nok';
    const root = crafted((m) => (m.cluster.name = evil), FULL);
    renameSync(join(root, CLUSTER), join(root, evil));
    expect((await kbakRefuses(root, FULL)).message).toMatch(/(cluster folder "evil\\nok"|backup folder "evil\\nok\/20261126T120000000Z") is not a safe key/);
    expect(() => verifyBackupOnDisk(root, { cluster: evil, backupId: FULL })).toThrow(/not a key component/);
  });

  it('15: a backup folder whose ID matches the pattern but names no real instant is listed, and refused by both readers', async () => {
    for (const id of ['20261130T240000000Z', '20260229T120000000Z']) {
      const root = crafted((m) => (m.backupId = id), FULL);
      renameSync(join(root, CLUSTER, FULL), join(root, CLUSTER, id));
      expect((await listBackups(new DiskStore(root))).map((b) => b.backupId)).toContain(id);
      expect(listBackupsOnDisk(root).map((b) => b.backupId)).toContain(id);
      expect((await kbakRefuses(root, id)).message).toMatch(/invalid at backupId: expected a calendar-valid backup ID/);
      expect(() => verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: id })).toThrow(/not a calendar-valid backup ID/);
    }
  });
});

describe('settled for version 2: what a reader accepts', () => {
  const accepted: Array<[string, (m: Forged) => void]> = [
    [
      '6: touching gaps ([2, 3) then [3, 4))',
      (m) => {
        part(m, 1).gaps = [
          { startOffset: '2', endOffset: '3' },
          { startOffset: '3', endOffset: '4' },
        ];
      },
    ],
    ['6: gaps need not agree with logStartOffset', (m) => (part(m, 1).logStartOffset = '1')],
    [
      '14: subjects, groups and schemas in any order',
      (m) => {
        m.subjects = [{ subject: 'z-value', compatibility: null }, ...m.subjects];
        m.consumerGroups = [{ groupId: 'zz', offsets: [] }, ...m.consumerGroups];
      },
    ],
    ['14: schemaRegistry null while schemas carried from the base remain', (m) => (m.schemaRegistry = null)],
    [
      '19: a committed offset on a partition the backup does not hold',
      (m) => m.consumerGroups[0].offsets.push({ topic: 'payments', partition: 9, offset: '-5', metadata: null }),
    ],
    ['fields a later writer may add, at any level', (m) => Object.assign(part(m, 0).segments[0], { checksumAlgorithm: 'sha256', extra: { nested: [1, 2] } })],
    [
      '22: a lane snapshot’s lane, templates not checked against the names',
      (m) => (m.lane = { name: 'feature-x', templates: { ...LANE_TEMPLATES, topic: '{topic}' } }),
    ],
    [
      '23: bindings of every kind, in any order, on resources the backup does not hold',
      (m) =>
        (m.acls = [
          { ...ACL, resourceType: 'GROUP', resourceName: 'no-such-group', patternType: 'PREFIXED', operation: 'DESCRIBE_TOKENS', permissionType: 'DENY' },
          { ...ACL, resourceName: '*', host: '10.0.0.1', principal: `User:${'a'.repeat(1019)}` },
          { ...ACL, resourceName: 'o'.repeat(255), operation: 'ALL' },
        ]),
    ],
    ['23: no bindings ([]: captured, none apply)', (m) => (m.acls = [])],
    ['23: 10 000 bindings', (m) => (m.acls = Array.from({ length: 10_000 }, (_, i) => ({ ...ACL, principal: `User:u${i}` })))],
    ['24: a cut.time equal to startedAt', (m) => (m.cut.time = m.startedAt)],
    ['24: a cut.time equal to completedAt', (m) => (m.cut.time = m.completedAt)],
    ['25: a masked lane', (m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: MASKING })],
    ['25: a lane whose masking is null', (m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: null })],
  ];

  it.each(accepted)('%s', async (_name, edit) => {
    const root = crafted(edit);
    await expect(openBackup(new DiskStore(root), INCREMENTAL)).resolves.toBeDefined();
    expect(() => verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: INCREMENTAL })).not.toThrow();
  });

  it('2: a v2 manifest may name an earlier v1 backup’s segments as <backupId>/topics/…', async () => {
    const root = crafted((m) => {
      part(m, 0).segments[0].key = `${FULL}/topics/orders/0/00000000000000000000.kseg`;
    });
    cpSync(
      join(root, CLUSTER, 'segments', 'orders', '0', `00000000000000000000-${FULL}-00000001.kseg`),
      join(root, CLUSTER, FULL, 'topics', 'orders', '0', '00000000000000000000.kseg'),
    );
    const b = await openBackup(new DiskStore(root), INCREMENTAL);
    expect(b.storeKey(b.manifest.topics[0]!.partitions[0]!.segments[0]!)).toBe(`${CLUSTER}/${FULL}/topics/orders/0/00000000000000000000.kseg`);
    expect(verifyBackupOnDisk(root, { cluster: CLUSTER, backupId: INCREMENTAL }).get('orders/0')).toHaveLength(5);
  });

  it('23, 24, 25: absent fields read as stated: acls not captured, cut.time as startedAt, masking as none', async () => {
    const root = crafted((m) => (m.lane = { name: 'feature-x', templates: LANE_TEMPLATES }));
    const b = await openBackup(new DiskStore(root), INCREMENTAL);
    expect(b.manifest.acls).toBeUndefined();
    expect(b.manifest.cut.time).toBeUndefined();
    expect(cutTime(b.manifest)).toBe(b.manifest.startedAt);
    expect(b.manifest.lane?.masking).toBeUndefined();
    const withAll = crafted((m) => {
      m.cut.time = '2026-11-27T12:00:00.250Z';
      m.acls = [ACL];
      m.lane = { name: 'feature-x', templates: LANE_TEMPLATES, masking: MASKING };
    });
    const c = await openBackup(new DiskStore(withAll), INCREMENTAL);
    expect(cutTime(c.manifest)).toBe('2026-11-27T12:00:00.250Z');
    expect(c.manifest.acls).toEqual([ACL]);
    expect(c.manifest.lane?.masking).toEqual(MASKING);
  });

  it('9, 10, 22, 23, 24: a v1 manifest ignores v2 fields it does not have (incremental, basedOn, gaps, topicId, lane, acls, cut.time)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kbak-settled-v1-'));
    roots.push(root);
    cpSync(join(__dirname, '..', 'vectors', 'backup-v1'), root, { recursive: true });
    const path = join(root, 'sample', '20261125T120000000Z', 'manifest.json');
    const m = JSON.parse(readFileSync(path, 'utf8')) as Forged;
    m.incremental = 'yes';
    m.topics[0].topicId = 'not an id';
    m.topics[0].partitions[0].basedOn = 42;
    m.topics[0].partitions[0].gaps = [{ startOffset: '3', endOffset: '5' }];
    m.lane = { name: 'Not A Lane' };
    m.acls = 'not captured';
    m.cut.time = 'not a time';
    writeFileSync(path, JSON.stringify(m));
    const b = await openBackup(new DiskStore(root), '20261125T120000000Z');
    expect(b.manifest.incremental).toBe(false);
    expect(b.manifest).not.toHaveProperty('lane');
    expect(b.manifest).not.toHaveProperty('acls');
    expect(b.manifest.cut).not.toHaveProperty('time');
    expect(b.manifest.topics[0]).not.toHaveProperty('topicId');
    expect(b.manifest.topics[0]!.partitions[0]).toMatchObject({ basedOn: null, gaps: [] });
    expect(verifyBackupOnDisk(root, { cluster: 'sample', backupId: '20261125T120000000Z' }).get('orders/0')).toHaveLength(4);
  });
});
