/**
 * The summarise phase of a restore (src/restore/summary.ts): per topic and in all, from the
 * plan, the lane topics' actions and each partition's result.
 */
import type { RestorePlan, TopicPlan } from '../../src/restore/plan';
import { summariseRestore } from '../../src/restore/summary';
import type { PartitionJob, PartitionResult } from '../../src/restore/write-partition';
import { SchemaIdMap } from '../../src/schema/register';

const topicPlan = (source: string, partitionCount: number): TopicPlan => ({
  source,
  lane: `l.${source}`,
  partitionCount,
  replicationFactor: 1,
  configs: {},
  configAdjustments: [],
  compression: 'none',
  partitions: [],
});

const job = (source: string, partition: number): PartitionJob => ({
  sourceTopic: source,
  laneTopic: `l.${source}`,
  partition,
  compression: 'none',
  starts: [{ laneStart: 0n, alreadyWritten: 0 }],
  laneLast: null,
  committed: [],
});

const result = (written: number, over: Partial<PartitionResult> = {}): PartitionResult => ({
  written,
  skippedExisting: 0,
  bytes: written * 10,
  idsRewritten: 0,
  baggageLeftAlone: 0,
  laneEnd: BigInt(written),
  groupOffsets: new Map(),
  sampledOut: 0,
  undecodableDropped: 0,
  ...over,
});

describe('summariseRestore', () => {
  it('adds up the partitions per topic and in all, and names what the lane holds', () => {
    const plan = {
      lane: 'l',
      topics: [topicPlan('a', 3), topicPlan('b', 1)],
      subjects: [{ source: 'a-value', lane: 'l.a-value' }],
      groups: [
        { source: 'g', lane: 'l.g', offsets: [] },
        { source: 'h', lane: 'l.h', offsets: [] },
      ],
      warnings: ['w'],
    } as unknown as RestorePlan;
    const jobs = [job('a', 0), job('a', 2), job('b', 0)];
    const results = new Map([
      [jobs[0]!, result(10, { skippedExisting: 4, idsRewritten: 3 })],
      [jobs[1]!, result(5, { baggageLeftAlone: 2 })],
      [jobs[2]!, result(0)],
    ]);
    const ids = new SchemaIdMap(new Map([[9, [{ laneSubject: 'l.a-value', laneVersion: 1, laneId: 77, created: true }]]]));
    const s = summariseRestore({
      plan,
      backup: { backupId: '20261201T000000000Z', cluster: 'prod' },
      actions: new Map([
        ['l.a', 'create'],
        ['l.b', 'resume'],
      ]),
      jobs,
      results,
      registration: { byRegistration: new Map(), byId: new Map(), subjectsRegistered: ['l.a-value'], versionsCreated: 1 },
      ids,
      groups: [
        { source: 'g', lane: 'l.g', offsets: [{ topic: 'l.a', partition: 0, sourceOffset: '5', laneOffset: '3' }] },
        { source: 'h', lane: 'l.h', offsets: [] },
      ],
      groupsDurationMs: 12,
      ledgerTopic: '__kbak_lanes',
      expiresAt: null,
      durationMs: 2000,
      masking: null,
    });
    expect(s.topics).toEqual([
      { source: 'a', lane: 'l.a', action: 'create', partitions: 3, records: 15, skippedExisting: 4 },
      { source: 'b', lane: 'l.b', action: 'resume', partitions: 1, records: 0, skippedExisting: 0 },
    ]);
    expect(s).toMatchObject({
      lane: 'l',
      backupId: '20261201T000000000Z',
      cluster: 'prod',
      topicsCreated: 1,
      partitions: 3,
      records: 15,
      skippedExisting: 4,
      bytes: 150,
      durationMs: 2000,
      recordsPerSecond: 8,
      subjectsRegistered: 1,
      schemaVersionsCreated: 1,
      idsRewritten: 3,
      idMap: { '9': 77 },
      groupsSeeded: 1,
      groupsDurationMs: 12,
      laneTopics: ['l.a', 'l.b'],
      laneSubjects: ['l.a-value'],
      laneGroups: ['l.g', 'l.h'],
      baggageLeftAlone: 2,
      ledgerTopic: '__kbak_lanes',
      expiresAt: null,
      warnings: ['w'],
    });
  });
});
