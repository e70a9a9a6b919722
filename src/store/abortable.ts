/**
 * A store as one cancellable library call sees it (src/util/interrupt.ts): once the call's
 * AbortSignal aborts, nothing new starts (no write, read, listing, size or check, and a
 * running read or listing ends at its next chunk), so a stopped dump can no longer write its
 * manifest and a stopped prune deletes nothing more. What the call wrote itself it may still
 * undo: its lock objects and its segments can be deleted and an open writer aborted, which
 * is how a stopped run releases its locks and cleans up after itself.
 */
import { interruptedBy } from '../util/interrupt';
import type { ObjectStore, ObjectWriter } from './store';

export function abortableStore(store: ObjectStore, signal: AbortSignal): ObjectStore {
  /** Keys this call wrote or began to write (a PUT may land before its answer does). */
  const written = new Set<string>();
  const refuseIfAborted = (): void => {
    if (signal.aborted) throw interruptedBy(signal);
  };
  async function* untilAborted<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
    refuseIfAborted();
    for await (const item of items) {
      refuseIfAborted();
      yield item;
    }
  }
  return {
    get location() {
      return store.location;
    },
    async put(key, body) {
      refuseIfAborted();
      written.add(key);
      await store.put(key, body);
    },
    create(key): ObjectWriter {
      refuseIfAborted();
      written.add(key);
      const w = store.create(key);
      return {
        write: async (chunk) => {
          refuseIfAborted();
          await w.write(chunk);
        },
        complete: async () => {
          refuseIfAborted();
          await w.complete();
        },
        abort: () => w.abort(),
      };
    },
    async get(key, maxBytes) {
      refuseIfAborted();
      return store.get(key, maxBytes);
    },
    read: (key) => untilAborted(store.read(key)),
    list: (prefix) => untilAborted(store.list(prefix)),
    async delete(key) {
      if (!written.has(key)) refuseIfAborted();
      await store.delete(key);
    },
    async putIfAbsent(key, body) {
      refuseIfAborted();
      const known = written.has(key);
      written.add(key);
      const created = await store.putIfAbsent(key, body);
      // Someone else's object: never ours to delete after an abort.
      if (!created && !known) written.delete(key);
      return created;
    },
    async size(key) {
      refuseIfAborted();
      return store.size(key);
    },
    async check() {
      refuseIfAborted();
      await store.check();
    },
  };
}
