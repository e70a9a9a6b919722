/**
 * Record-set compression off the main thread: one worker thread for the process compresses
 * what the producers send (restore's main thread was busy the whole data phase, a fifth of
 * it in lz4). The records live in a SharedArrayBuffer (RecordSetBuilder's), so nothing is
 * copied to the worker; the worker writes the compressed bytes back over the records, where
 * the request will carry them, so the main thread frames the request around them without a
 * copy either. Where no worker can run (the compiled worker file is missing, as under
 * ts-jest, or the worker died), compression runs on the calling thread as before.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { codecs, type CodecName } from '../protocol/codecs';

export interface CompressRequest {
  id: number;
  codec: Exclude<CodecName, 'none'>;
  sab: SharedArrayBuffer;
  start: number;
  end: number;
  /** Bytes from `start` the compressed output may fill in place. */
  room: number;
}

export type CompressReply = { id: number; length: number } | { id: number; data: Uint8Array } | { id: number; error: string };

/** The compressed bytes: in place at buf[start, start + length), or a buffer of their own. */
export type Compressed = { inPlace: true; length: number } | { inPlace: false; data: Buffer };

const WORKER_FILE = join(__dirname, 'compress-worker-main.js');

class CompressWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(r: Compressed): void; reject(e: Error): void }>();
  private nextId = 0;
  broken = false;

  constructor() {
    this.worker = new Worker(WORKER_FILE);
    this.worker.on('message', (m: CompressReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if ('error' in m) p.reject(new Error(m.error));
      else if ('length' in m) p.resolve({ inPlace: true, length: m.length });
      else p.resolve({ inPlace: false, data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength) });
    });
    const fail = (err: Error): void => {
      this.broken = true;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the compression worker exited with code ${code}`)));
    // Only a request in flight keeps the process alive, never the idle worker. After the
    // listeners: adding a 'message' listener refs the worker's port again, and a worker
    // started but never used (a restore that failed early, or sent record objects) kept
    // every process alive after it had finished.
    this.worker.unref();
  }

  compress(codec: Exclude<CodecName, 'none'>, buf: Buffer, start: number, end: number): Promise<Compressed> {
    const id = this.nextId++;
    const req: CompressRequest = {
      id,
      codec,
      sab: buf.buffer as SharedArrayBuffer,
      start: buf.byteOffset + start,
      end: buf.byteOffset + end,
      room: buf.length - start,
    };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage(req);
    });
  }
}

let shared: CompressWorker | null | undefined;

function worker(): CompressWorker | null {
  if (shared === undefined) {
    try {
      shared = process.env.KBAK_COMPRESS_WORKER !== '0' && existsSync(WORKER_FILE) ? new CompressWorker() : null;
    } catch {
      shared = null;
    }
  }
  return shared !== null && !shared.broken ? shared : null;
}

/** Starts the worker ahead of the first batch (its start-up overlaps the restore's set-up). */
export function warmCompressWorker(): void {
  worker();
}

/**
 * Compresses buf[start, end) with `codec`: in the worker when `buf` lives in a
 * SharedArrayBuffer and the worker runs, else on this thread.
 */
export async function compressRecords(codec: Exclude<CodecName, 'none'>, buf: Buffer, start: number, end: number): Promise<Compressed> {
  const w = buf.buffer instanceof SharedArrayBuffer ? worker() : null;
  if (w !== null) {
    try {
      return await w.compress(codec, buf, start, end);
    } catch (err) {
      // A dead worker: this batch and the rest are compressed here. A codec's own error stands.
      if (!w.broken) throw err;
    }
  }
  return { inPlace: false, data: await codecs[codec].compress(buf.subarray(start, end)) };
}

/** Whether compressRecords would use a worker for buffers in SharedArrayBuffers. */
export const compressWorkerAvailable = (): boolean => worker() !== null;
