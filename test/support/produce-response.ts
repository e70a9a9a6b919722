/**
 * A Produce v7 response body for one partition (topic "t", partition 0), written by hand:
 * topic count, name, partition count, partition, error code, base offset; the log append
 * time, log start offset and throttle time stay zero. For fakes of the lean producer's
 * connection (lean-produce*.test.ts).
 */
export function produceResponseV7(errorCode: number, baseOffset = 0n): Buffer {
  const resp = Buffer.alloc(4 + 2 + 1 + 4 + 4 + 2 + 8 + 8 + 8 + 4);
  let p = resp.writeInt32BE(1, 0);
  p = resp.writeInt16BE(1, p);
  p += resp.write('t', p);
  p = resp.writeInt32BE(1, p);
  p = resp.writeInt32BE(0, p);
  p = resp.writeInt16BE(errorCode, p);
  resp.writeBigInt64BE(baseOffset, p);
  return resp;
}
