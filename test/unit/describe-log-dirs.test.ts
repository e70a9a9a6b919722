/**
 * DescribeLogDirs v1 (protocol/describe-log-dirs.ts) against byte layouts written by hand from
 * Kafka's DescribeLogDirsRequest.json / DescribeLogDirsResponse.json (v1: int32 array counts,
 * int16-length strings, no tagged fields), and one broker's answer read as sizes
 * (client/log-dir-sizes.ts's replicaSizes).
 */
import { largestReplicaSizes, replicaSizes, speaksDescribeLogDirsV1 } from '../../src/kafka/client/log-dir-sizes';
import {
  decodeDescribeLogDirsResponse,
  DescribeLogDirsResponseError,
  encodeDescribeLogDirsRequest,
  type DescribeLogDirsResponse,
} from '../../src/kafka/protocol/describe-log-dirs';
import { partitionKey } from '../../src/model/partition-key';

/** Hex with spaces and comments (`# ...` to the end of a line) as bytes. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');

/** A response with two log dirs: /d1 holds orders-0 (and a future replica of orders-1), /d2 is offline. */
const RESPONSE = hex(`
  00 00 00 07                      # throttle_time_ms 7
  00 00 00 02                      # results: 2
    00 00                          #   error_code 0
    00 03 2f 64 31                 #   log_dir "/d1"
    00 00 00 01                    #   topics: 1
      00 06 6f 72 64 65 72 73      #     name "orders"
      00 00 00 02                  #     partitions: 2
        00 00 00 00                #       partition_index 0
        00 00 00 01 00 00 00 10    #       partition_size 2^32 + 16
        00 00 00 00 00 00 00 03    #       offset_lag 3
        00                         #       is_future_key false
        00 00 00 01                #       partition_index 1
        00 00 00 00 00 00 04 00    #       partition_size 1024
        ff ff ff ff ff ff ff ff    #       offset_lag -1
        01                         #       is_future_key true
    00 38                          #   error_code 56 (KAFKA_STORAGE_ERROR)
    00 03 2f 64 32                 #   log_dir "/d2"
    00 00 00 00                    #   topics: 0
`);

describe('DescribeLogDirs v1 request', () => {
  it('encodes topics with their partitions as the spec lays them out', () => {
    expect(
      encodeDescribeLogDirsRequest([
        { topic: 'ab', partitions: [0, 2] },
        { topic: 'é', partitions: [] },
      ]).toString('hex'),
    ).toBe(
      hex(`
        00 00 00 02                                # topics: 2
          00 02 61 62                              #   "ab"
          00 00 00 02  00 00 00 00  00 00 00 02    #   partitions [0, 2]
          00 02 c3 a9                              #   "é" (2 bytes of UTF-8)
          00 00 00 00                              #   partitions []
      `).toString('hex'),
    );
  });

  it('encodes null (every partition) as count -1 and no topics as count 0', () => {
    expect(encodeDescribeLogDirsRequest(null).toString('hex')).toBe('ffffffff');
    expect(encodeDescribeLogDirsRequest([]).toString('hex')).toBe('00000000');
  });

  it('refuses a topic name its int16 length cannot carry', () => {
    expect(() => encodeDescribeLogDirsRequest([{ topic: 'x'.repeat(0x8000), partitions: [0] }])).toThrow(/32768 bytes is too long/);
  });
});

describe('DescribeLogDirs v1 response', () => {
  it('decodes every field of a hand-built response, 64-bit sizes exact', () => {
    expect(decodeDescribeLogDirsResponse(RESPONSE)).toEqual({
      throttleTimeMs: 7,
      results: [
        {
          errorCode: 0,
          logDir: '/d1',
          topics: [
            {
              name: 'orders',
              partitions: [
                { partition: 0, size: 2n ** 32n + 16n, offsetLag: 3n, isFuture: false },
                { partition: 1, size: 1024n, offsetLag: -1n, isFuture: true },
              ],
            },
          ],
        },
        { errorCode: 56, logDir: '/d2', topics: [] },
      ],
    });
  });

  it('refuses every truncation of a response with a clear error naming the byte', () => {
    for (let n = 0; n < RESPONSE.length; n++) {
      const cut = () => decodeDescribeLogDirsResponse(RESPONSE.subarray(0, n));
      expect(cut).toThrow(DescribeLogDirsResponseError);
      expect(cut).toThrow(/^DescribeLogDirs response truncated/);
    }
  });

  it('refuses bytes past the end', () => {
    expect(() => decodeDescribeLogDirsResponse(Buffer.concat([RESPONSE, Buffer.from([0])]))).toThrow(/1 bytes past its end/);
  });

  it.each([
    ['log dirs', hex('00000000 7fffffff')],
    ['topics', hex('00000000 00000001 0000 0000 7fffffff')],
    ['partitions', hex('00000000 00000001 0000 0000 00000001 0000 7fffffff')],
  ])('refuses a %s count of 2^31-1 with 10 bytes left before reading any element', (what, head) => {
    const payload = Buffer.concat([head, Buffer.alloc(10)]);
    const read = jest.spyOn(Buffer.prototype, 'readInt16BE');
    try {
      expect(() => decodeDescribeLogDirsResponse(payload)).toThrow(
        new RegExp(`^DescribeLogDirs response truncated: 2147483647 ${what} at byte \\d+ need at least \\d+ bytes, 10 are left$`),
      );
      // The count is refused as read: no element of it was looked at. The int16 reads are those of
      // the layers above it (a log dir's error code and path length, a topic's name length).
      const before = what === 'log dirs' ? 0 : what === 'topics' ? 2 : 3;
      expect(read.mock.calls.length).toBe(before);
    } finally {
      read.mockRestore();
    }
  });

  it('refuses negative counts and null strings, which v1 responses do not have', () => {
    expect(() => decodeDescribeLogDirsResponse(hex('00000000 ffffffff'))).toThrow(/negative log dirs count \(-1\) at byte 4/);
    expect(() => decodeDescribeLogDirsResponse(hex('00000000 00000001 0000 ffff 00000000'))).toThrow(/null log dir at byte 10/);
  });
});

describe("one broker's log dirs as partition sizes", () => {
  const resp = (results: DescribeLogDirsResponse['results']): DescribeLogDirsResponse => ({ throttleTimeMs: 0, results });
  const part = (partition: number, size: bigint, isFuture = false) => ({ partition, size, offsetLag: 0n, isFuture });
  const asked = new Set([partitionKey('orders', 0), partitionKey('orders', 1), partitionKey('orders', 2)]);

  it('gives the asked partitions, skipping future replicas, offline dirs and names not asked for; the larger of two copies', () => {
    const sizes = replicaSizes(
      resp([
        { errorCode: 0, logDir: '/d1', topics: [{ name: 'orders', partitions: [part(0, 100n), part(1, 900n, true)] }] },
        { errorCode: 56, logDir: '/d2', topics: [] },
        {
          errorCode: 0,
          logDir: '/d3',
          topics: [
            { name: 'orders', partitions: [part(1, 40n), part(0, 150n), part(7, 5n)] },
            { name: 'other', partitions: [part(0, 1n)] },
          ],
        },
      ]),
      asked,
    );
    expect(sizes).toEqual(
      new Map([
        [partitionKey('orders', 0), 150n],
        [partitionKey('orders', 1), 40n],
      ]),
    );
  });

  it('reads no log dirs, or CLUSTER_AUTHORIZATION_FAILED on one, as "not said" (null)', () => {
    expect(replicaSizes(resp([]), asked)).toBeNull();
    expect(
      replicaSizes(
        resp([
          { errorCode: 0, logDir: '/d1', topics: [{ name: 'orders', partitions: [part(0, 1n)] }] },
          { errorCode: 31, logDir: '/d2', topics: [] },
        ]),
        asked,
      ),
    ).toBeNull();
  });

  it("takes each partition's largest replica over the brokers (not their sum); null when one broker does not say", () => {
    const broker = (sizes: Array<[number, bigint]>) =>
      resp([{ errorCode: 0, logDir: '/d', topics: [{ name: 'orders', partitions: sizes.map(([p, size]) => part(p, size)) }] }]);
    const three = [
      broker([
        [0, 500n],
        [1, 70n],
      ]),
      broker([
        [0, 480n],
        [2, 9n],
      ]),
      broker([
        [1, 90n],
        [2, 8n],
      ]),
    ];
    expect(largestReplicaSizes(three, asked)).toEqual(
      new Map([
        [partitionKey('orders', 0), 500n],
        [partitionKey('orders', 1), 90n],
        [partitionKey('orders', 2), 9n],
      ]),
    );
    expect(largestReplicaSizes([...three, resp([])], asked)).toBeNull();
  });

  it("throws another error code of a log dir as Kafka's error", () => {
    expect(() => replicaSizes(resp([{ errorCode: 42, logDir: '/d1', topics: [] }]), asked)).toThrow(expect.objectContaining({ type: 'INVALID_REQUEST' }));
  });

  it('asks only brokers that speak v1; the others (none before Kafka 1.1, one that dropped v1) do not say', () => {
    expect(speaksDescribeLogDirsV1({ 35: { minVersion: 0, maxVersion: 4 } })).toBe(true);
    expect(speaksDescribeLogDirsV1({ 35: { minVersion: 1, maxVersion: 1 } })).toBe(true);
    expect(speaksDescribeLogDirsV1({ 35: { minVersion: 0, maxVersion: 0 } })).toBe(false);
    expect(speaksDescribeLogDirsV1({ 35: { minVersion: 2, maxVersion: 4 } })).toBe(false);
    expect(speaksDescribeLogDirsV1({ 3: { minVersion: 0, maxVersion: 12 } })).toBe(false);
    expect(speaksDescribeLogDirsV1(null)).toBe(false);
  });
});
