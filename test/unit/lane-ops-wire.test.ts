import { retriableFailure as isRetriable } from '../../src/kafka/transport/kafkajs-errors';
import { decodeMetadataResponse, encodeMetadataRequest, OPERATIONS_NOT_ASKED, topicOperations, uuidToString } from '../../src/kafka/protocol/metadata';

const uv = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const str = (s: string): number[] => [...uv(Buffer.byteLength(s) + 1), ...Buffer.from(s)];
const i16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const i32 = (n: number): number[] => [...Buffer.from(Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff))];

describe('Metadata v10-12 on the wire', () => {
  it('encodes the request body behind the request header v2 tagged fields', () => {
    expect([...encodeMetadataRequest(12, ['ab'])]).toEqual([0, 2, ...Array(16).fill(0), 3, 0x61, 0x62, 0, 0, 0, 0]);
    // v10 also carries include_cluster_authorized_operations.
    expect([...encodeMetadataRequest(10, [])]).toEqual([0, 1, 0, 0, 0, 0]);
  });

  it("asks for the topics' authorized operations when told to (include_topic_authorized_operations = 1)", () => {
    expect([...encodeMetadataRequest(12, ['ab'], { authorizedOperations: true })]).toEqual([0, 2, ...Array(16).fill(0), 3, 0x61, 0x62, 0, 0, 1, 0]);
    expect([...encodeMetadataRequest(11, [], { authorizedOperations: true })]).toEqual([0, 1, 0, 1, 0]);
    // v10: allow_auto_topic_creation, include_cluster_authorized_operations, then the topic flag.
    expect([...encodeMetadataRequest(10, [], { authorizedOperations: true })]).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it("reads an authorized-operations bit field as Kafka's AclOperation codes", () => {
    // READ(3) | WRITE(4) | DESCRIBE(8) | DESCRIBE_CONFIGS(10), as a broker answers a principal with read/write ACLs.
    expect(topicOperations((1 << 3) | (1 << 4) | (1 << 8) | (1 << 10))).toEqual(['READ', 'WRITE', 'DESCRIBE', 'DESCRIBE_CONFIGS']);
    // Every topic operation (what a super user gets): 0b1110111111000 = 3576.
    expect(topicOperations(3576)).toEqual(['READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS']);
    expect(topicOperations(0)).toEqual([]);
    expect(topicOperations(OPERATIONS_NOT_ASKED)).toBeNull();
    // Bits of cluster operations (CLUSTER_ACTION = 9, IDEMPOTENT_WRITE = 12) are not topic operations.
    expect(topicOperations((1 << 9) | (1 << 12))).toEqual([]);
  });

  it('decodes topics with their IDs and partition leaders, skipping tagged fields', () => {
    const id = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const payload = Buffer.from([
      1,
      0x05,
      0x01,
      0x7a, // response header tagged fields: one field (tag 5, 1 byte)
      ...i32(0), // throttle
      ...uv(2),
      ...i32(1),
      ...str('localhost'),
      ...i32(9092),
      0,
      0, // one broker, null rack
      ...str('cluster'),
      ...i32(1),
      ...uv(3),
      ...i16(0),
      ...str('fx.orders'),
      ...id,
      0,
      ...uv(3),
      ...i16(0),
      ...i32(0),
      ...i32(1),
      ...i32(7),
      ...uv(2),
      ...i32(1),
      ...uv(2),
      ...i32(1),
      ...uv(1),
      0,
      ...i16(5),
      ...i32(1),
      ...i32(-1),
      ...i32(7),
      ...uv(1),
      ...uv(1),
      ...uv(1),
      0,
      ...i32(-2147483648),
      0,
      ...i16(3),
      ...str('gone'),
      ...Array(16).fill(0),
      0,
      ...uv(1),
      ...i32(0),
      0,
      0,
    ]);
    expect(decodeMetadataResponse(payload)).toEqual([
      {
        name: 'fx.orders',
        errorCode: 0,
        id: uuidToString(id),
        partitions: [
          { partition: 0, leader: 1, errorCode: 0 },
          { partition: 1, leader: -1, errorCode: 5 },
        ],
        authorizedOperations: OPERATIONS_NOT_ASKED,
      },
      { name: 'gone', errorCode: 3, id: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [], authorizedOperations: 0 },
    ]);
    expect(uuidToString(id)).toBe('AAECAwQFBgcICQoLDA0ODw');
    expect(() => decodeMetadataResponse(payload.subarray(0, 40))).toThrow();
  });
});

describe('isRetriable', () => {
  it('retries leadership and coordinator errors, also wrapped or reported per item', () => {
    expect(isRetriable({ type: 'NOT_LEADER_OR_FOLLOWER' })).toBe(true);
    expect(isRetriable({ name: 'KafkaJSProtocolError', retriable: true, type: 'X' })).toBe(true);
    expect(isRetriable({ name: 'KafkaJSNumberOfRetriesExceeded', originalError: { type: 'LEADER_NOT_AVAILABLE' } })).toBe(true);
    expect(isRetriable({ errors: [{ type: 'NOT_CONTROLLER' }, { type: 'REQUEST_TIMED_OUT' }] })).toBe(true);
  });
  it('does not retry the rest', () => {
    expect(isRetriable({ type: 'TOPIC_AUTHORIZATION_FAILED' })).toBe(false);
    expect(isRetriable({ errors: [{ type: 'NOT_CONTROLLER' }, { type: 'INVALID_CONFIG' }] })).toBe(false);
    expect(isRetriable(new Error('boom'))).toBe(false);
    expect(isRetriable(null)).toBe(false);
  });
});
