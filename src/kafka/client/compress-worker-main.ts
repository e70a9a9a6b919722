/**
 * The compression worker's thread (compress-worker.ts): compresses the records of a shared
 * buffer and writes the result back over them when it fits, else returns it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { codecs } from '../protocol/codecs';
import type { CompressReply, CompressRequest } from './compress-worker';

const port = parentPort;
if (port === null) throw new Error('compress-worker-main runs only as a worker thread');

/**
 * This thread allocates almost nothing on the JavaScript heap, so V8 would rarely collect,
 * and the codecs' output buffers (lz4-napi's live outside V8's accounting) piled up: 200 MiB
 * over a 200 MiB restore. A minor collection every few batches frees those already copied
 * (after every batch it cost a tenth of this thread's time).
 */
const COLLECT_EVERY = 4;
let sinceCollect = 0;
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as (opts?: { type?: 'minor' | 'major' }) => void;

/**
 * Posts a reply; compressed bytes that did not fit in place are moved, not copied, when their
 * buffer is theirs alone: a codec's fresh output (gzip, snappy, zstd). Never a slice of a
 * shared buffer (Buffer.allocUnsafe's pool: moving it would detach its neighbours), and not
 * lz4-napi's output, whose memory is external to V8 and cannot be moved (postMessage throws
 * before sending anything): that one is copied.
 */
function post(reply: CompressReply): void {
  const data = 'data' in reply ? reply.data : null;
  if (data !== null && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) {
    try {
      port!.postMessage(reply, [data.buffer]);
      return;
    } catch {
      /* not transferable: copied below */
    }
  }
  port!.postMessage(reply);
}

port.on('message', (m: CompressRequest) => {
  void (async (): Promise<CompressReply> => {
    try {
      const buf = Buffer.from(m.sab);
      const out = await codecs[m.codec].compress(buf.subarray(m.start, m.end));
      if (out.length <= m.room) {
        out.copy(buf, m.start);
        return { id: m.id, length: out.length };
      }
      return { id: m.id, data: out };
    } catch (err) {
      return { id: m.id, error: err instanceof Error ? err.message : String(err) };
    }
  })().then((reply) => {
    post(reply);
    if (++sinceCollect >= COLLECT_EVERY) {
      sinceCollect = 0;
      collect({ type: 'minor' });
    }
  });
});
