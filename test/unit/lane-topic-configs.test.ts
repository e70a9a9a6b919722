import { laneTopicConfigs, NO_BOUND, parseDurationMs, parseLaneRetention } from '../../src/lane/topic-configs';

const base = { retention: { kind: 'forever' as const }, replicationFactor: 1, targetMinInsyncReplicas: 1 };

describe('laneTopicConfigs', () => {
  it('keeps seed data forever by default and relaxes timestamps', () => {
    const r = laneTopicConfigs({
      ...base,
      source: { 'retention.ms': '604800000', 'retention.bytes': '1073741824', 'cleanup.policy': 'delete', 'segment.bytes': '1048576' },
    });
    expect(r.configs).toEqual({
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'cleanup.policy': 'delete',
      'segment.bytes': '1048576',
      'message.timestamp.type': 'CreateTime',
      'message.timestamp.before.max.ms': NO_BOUND,
      'message.timestamp.after.max.ms': NO_BOUND,
    });
    expect(r.adjustments).toEqual([]);
  });

  it('keeps the source retention with --lane-retention source, sets a duration otherwise', () => {
    expect(laneTopicConfigs({ ...base, retention: { kind: 'source' }, source: { 'retention.ms': '1000' } }).configs['retention.ms']).toBe('1000');
    expect(laneTopicConfigs({ ...base, retention: { kind: 'source' }, source: {} }).configs['retention.ms']).toBeUndefined();
    const d = laneTopicConfigs({ ...base, retention: { kind: 'duration', ms: 259_200_000 }, source: { 'retention.bytes': '5' } }).configs;
    expect(d['retention.ms']).toBe('259200000');
    expect(d['retention.bytes']).toBe('-1');
  });

  it('turns LogAppendTime into CreateTime and says so', () => {
    const r = laneTopicConfigs({ ...base, source: { 'message.timestamp.type': 'LogAppendTime', 'message.timestamp.after.max.ms': '3600000' } });
    expect(r.configs['message.timestamp.type']).toBe('CreateTime');
    expect(r.configs['message.timestamp.after.max.ms']).toBe(NO_BOUND);
    expect(r.adjustments).toEqual([expect.stringContaining('message.timestamp.type=LogAppendTime changed to CreateTime')]);
  });

  it('lowers min.insync.replicas above the lane replication factor, from the topic or the target default', () => {
    const own = laneTopicConfigs({ ...base, replicationFactor: 1, source: { 'min.insync.replicas': '2' } });
    expect(own.configs['min.insync.replicas']).toBe('1');
    expect(own.adjustments[0]).toMatch(/^min.insync.replicas=2 lowered to 1/);
    const target = laneTopicConfigs({ ...base, replicationFactor: 2, targetMinInsyncReplicas: 3, source: {} });
    expect(target.configs['min.insync.replicas']).toBe('2');
    expect(target.adjustments[0]).toMatch(/min.insync.replicas=3 \(target default\) lowered to 2/);
    const fine = laneTopicConfigs({ ...base, replicationFactor: 3, targetMinInsyncReplicas: 2, source: { 'min.insync.replicas': '2' } });
    expect(fine.configs['min.insync.replicas']).toBe('2');
    expect(fine.adjustments).toEqual([]);
    expect(laneTopicConfigs({ ...base, targetMinInsyncReplicas: null, source: {} }).configs['min.insync.replicas']).toBeUndefined();
  });

  it('drops configs Kafka 4 removed and tiered storage, with a reason', () => {
    const r = laneTopicConfigs({
      ...base,
      source: { 'message.format.version': '2.8', 'message.timestamp.difference.max.ms': '1000', 'remote.storage.enable': 'true', 'local.retention.ms': '5' },
    });
    expect(Object.keys(r.configs)).not.toEqual(expect.arrayContaining(['message.format.version']));
    expect(r.configs['remote.storage.enable']).toBeUndefined();
    expect(r.configs['message.timestamp.difference.max.ms']).toBeUndefined();
    expect(r.adjustments).toHaveLength(4);
    expect(r.adjustments[0]).toBe('message.format.version=2.8 dropped (removed in Kafka 4)');
  });

  it('does not modify its input', () => {
    const source = { 'retention.ms': '1' };
    laneTopicConfigs({ ...base, source });
    expect(source).toEqual({ 'retention.ms': '1' });
  });
});

describe('parseLaneRetention', () => {
  it('accepts source, forever and durations', () => {
    expect(parseLaneRetention(undefined)).toEqual({ kind: 'forever' });
    expect(parseLaneRetention('forever')).toEqual({ kind: 'forever' });
    expect(parseLaneRetention('source')).toEqual({ kind: 'source' });
    expect(parseLaneRetention('72h')).toEqual({ kind: 'duration', ms: 72 * 3_600_000 });
    expect(parseLaneRetention('2w')).toEqual({ kind: 'duration', ms: 14 * 86_400_000 });
  });
  it('refuses anything else with a usage error', () => {
    for (const bad of ['', '0h', '-1', '72', '1y', '1.5h', 'sourc']) expect(() => parseLaneRetention(bad)).toThrow(/--lane-retention/);
    expect(parseDurationMs('10x')).toBeNull();
  });
});
