/**
 * The request frame kbak writes around a request body itself: the size, then Kafka's
 * request header v1 (API key, version, correlation id, client id). transport/patches.ts
 * frames every request of kbak's kafkajs copy with it, in one buffer of its exact size, or
 * in place when the body was built with room for the frame in front of it (the lean
 * producer's requests). Flexible versions (request header v2) add an empty tagged-field
 * section, which their bodies start with (metadata.ts). Pure.
 *
 *   size int32 (bytes after this field), api_key int16, api_version int16,
 *   correlation_id int32, client_id nullable string (int16 length, -1 = null)
 */

/** Request header v1 bytes after the size: API key, version, correlation id, client id. */
export const requestHeaderBytes = (clientId: Buffer | null): number => 2 + 2 + 4 + 2 + (clientId?.length ?? 0);

/** Bytes of the whole frame in front of a body: the size field and the header. */
export const requestFrameBytes = (clientId: Buffer | null): number => 4 + requestHeaderBytes(clientId);

/**
 * Writes the frame of a `bodyBytes`-byte body at the start of `buf` (requestFrameBytes
 * bytes); returns where the body goes.
 */
export function writeRequestFrame(buf: Buffer, bodyBytes: number, apiKey: number, apiVersion: number, correlationId: number, clientId: Buffer | null): number {
  let pos = buf.writeInt32BE(requestHeaderBytes(clientId) + bodyBytes, 0);
  pos = buf.writeInt16BE(apiKey, pos);
  pos = buf.writeInt16BE(apiVersion, pos);
  pos = buf.writeInt32BE(correlationId, pos);
  pos = buf.writeInt16BE(clientId === null ? -1 : clientId.length, pos);
  if (clientId !== null) pos += clientId.copy(buf, pos);
  return pos;
}
