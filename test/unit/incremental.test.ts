import { recreatedTopicReason } from '../../src/dump/incremental';

const ID_A = 'AAAAAAAAAAAAAAAAAAAAAA';
const ID_B = 'QkJCQkJCQkJCQkJCQkJCQg';

describe('recreatedTopicReason', () => {
  it('a new topic ID means a new topic, whatever the offsets say', () => {
    expect(recreatedTopicReason('b1', { partitionCount: 3, topicId: ID_A }, { partitionCount: 3, topicId: ID_B })).toBe(
      `its topic ID is ${ID_B}, backup b1 read topic ID ${ID_A}`,
    );
  });

  it('the same ID, or an ID missing on either side, falls back to the partition count', () => {
    expect(recreatedTopicReason('b1', { partitionCount: 3, topicId: ID_A }, { partitionCount: 3, topicId: ID_A })).toBeNull();
    expect(recreatedTopicReason('b1', { partitionCount: 3 }, { partitionCount: 3, topicId: ID_B })).toBeNull();
    expect(recreatedTopicReason('b1', { partitionCount: 3, topicId: ID_A }, { partitionCount: 3, topicId: null })).toBeNull();
    expect(recreatedTopicReason('b1', { partitionCount: 3, topicId: ID_A }, { partitionCount: 6, topicId: ID_A })).toBeNull();
    expect(recreatedTopicReason('b1', { partitionCount: 3 }, { partitionCount: 2, topicId: null })).toBe('it has 2 partitions, backup b1 saw 3');
  });
});
