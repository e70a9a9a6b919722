/**
 * The two module replacements kbak's private kafkajs copy gets in production (kafkajs.ts
 * applies them when it loads the copy; no other kafkajs in the process is touched):
 *
 * - request framing: every request is framed (size, API key and version, correlation and
 *   client id; protocol/request.ts) in one buffer of its exact size. kafkajs copied every
 *   request body twice into zero-filled buffers grown by doubling, a Produce request of a
 *   few hundred KiB included. A body built with room for the frame in front of it (the
 *   lean producer's, marked with FRAME_ROOM) is framed in place, without any copy.
 * - admins hand out their cluster: kafkajs keeps its cluster (brokers, coordinators,
 *   metadata) inside the admin closure; group commits (client/group-commit.ts) need it, so
 *   every admin of the copy carries it under ADMIN_CLUSTER.
 *
 * Tests load a second copy with further, test-only patches on top of these
 * (test/support/kafkajs-copy.ts); kbak never loads those.
 */
import { requestFrameBytes, writeRequestFrame } from '../protocol/request';
import type { Transforms } from './private-kafkajs';

export const REQUEST_FRAME = 'src/protocol/request';
export const ADMIN_MODULE = 'src/admin/index';

/**
 * On a request body's Encoder: bytes left free at the start of its buffer for the request
 * frame, which is then written there instead of copying the body behind it.
 */
export const FRAME_ROOM: unique symbol = Symbol.for('kbak.frameRoom');

export const ADMIN_CLUSTER: unique symbol = Symbol.for('kbak.adminCluster');

/**
 * The part of kafkajs's Encoder (src/protocol/encoder.js, untyped) that framing reads: its
 * buffer and how much of it is written. FRAME_ROOM is kbak's own mark.
 */
export interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
  [FRAME_ROOM]?: number;
}
/** kafkajs's Encoder class, as loadKafkajsModule('src/protocol/encoder') returns it. */
export interface KafkajsEncoderClass {
  prototype: object;
}

/** A kafkajs Encoder that already holds `buf` (no copy): what kafkajs's framing code expects. */
export function filledEncoder(Encoder: KafkajsEncoderClass, buf: Buffer): KafkajsEncoder {
  const e = Object.create(Encoder.prototype) as KafkajsEncoder;
  e.buf = buf;
  e.offset = buf.length;
  return e;
}

/** What kafkajs passes its request framing function (src/protocol/request.js). */
interface FramedRequest {
  correlationId: number;
  clientId: string | null | undefined;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<KafkajsEncoder> };
}

/** Frames requests in one exact buffer, or in place behind FRAME_ROOM (see above). */
export function requestFramePatch(): Transforms {
  return {
    [REQUEST_FRAME]: (_original, load) => {
      const Encoder = load('src/protocol/encoder') as KafkajsEncoderClass;
      return async ({ correlationId, clientId, request: { apiKey, apiVersion, encode } }: FramedRequest): Promise<KafkajsEncoder> => {
        const payload = await encode();
        const id = clientId === null || clientId === undefined ? null : Buffer.from(String(clientId), 'utf8');
        const frame = requestFrameBytes(id);
        const room = payload[FRAME_ROOM];
        const inPlace = room === frame;
        const body: Buffer = payload.buf.subarray(room ?? 0, payload.offset);
        const buf = inPlace ? payload.buf.subarray(0, payload.offset) : Buffer.allocUnsafe(frame + body.length);
        const pos = writeRequestFrame(buf, body.length, apiKey, apiVersion, correlationId, id);
        if (!inPlace) body.copy(buf, pos);
        return filledEncoder(Encoder, buf);
      };
    },
  };
}

/** Makes every admin of the copy carry its cluster under ADMIN_CLUSTER. */
export function adminClusterPatch(): Transforms {
  return {
    [ADMIN_MODULE]: (createAdmin) => (opts: { cluster: unknown }) => {
      const admin = (createAdmin as (o: { cluster: unknown }) => object)(opts);
      Object.defineProperty(admin, ADMIN_CLUSTER, { value: opts.cluster, enumerable: false });
      return admin;
    },
  };
}

/** What production's copy is loaded with. */
export function productionPatches(): Transforms {
  return { ...requestFramePatch(), ...adminClusterPatch() };
}
