/**
 * One behaviour suite for every ObjectStore (as restic runs one backend suite against every
 * backend): test/unit/store-conformance.test.ts runs it on memory and disk, the integration
 * project on S3.
 */
import { randomBytes } from 'node:crypto';
import { NotFoundError } from '../../src/errors';
import type { ObjectStore } from '../../src/store/store';

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  return Buffer.concat(await all(store.read(key)));
}

/** `make` returns an empty store (its own folder, bucket prefix or instance) for each test. */
export function describeStoreConformance(name: string, make: () => Promise<ObjectStore> | ObjectStore, cleanup?: () => Promise<void> | void): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let store: ObjectStore;
    beforeEach(async () => {
      store = await make();
      await store.check();
    });
    if (cleanup) afterAll(cleanup);

    it('put then get and read return the same bytes; put overwrites', async () => {
      const body = randomBytes(1000);
      await store.put('c/b/manifest.json', body);
      expect((await store.get('c/b/manifest.json')).equals(body)).toBe(true);
      expect((await readAll(store, 'c/b/manifest.json')).equals(body)).toBe(true);
      await store.put('c/b/manifest.json', Buffer.from('second'));
      expect((await store.get('c/b/manifest.json')).toString()).toBe('second');
    });

    it('keeps an empty object distinct from a missing one', async () => {
      await store.put('c/empty', Buffer.alloc(0));
      expect(await store.get('c/empty')).toHaveLength(0);
      await expect(store.get('c/missing')).rejects.toBeInstanceOf(NotFoundError);
      await expect(readAll(store, 'c/missing')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('makes a streamed object visible only once complete, in chunk order', async () => {
      const w = store.create('c/b/topics/t/0/00000000000000000000.kseg');
      const chunks = [randomBytes(700 * 1024), randomBytes(10), randomBytes(900 * 1024)];
      for (const c of chunks) await w.write(c);
      expect(await all(store.list('c/b'))).toEqual([]);
      await w.complete();
      expect(await all(store.list('c/b'))).toEqual(['c/b/topics/t/0/00000000000000000000.kseg']);
      expect((await readAll(store, 'c/b/topics/t/0/00000000000000000000.kseg')).equals(Buffer.concat(chunks))).toBe(true);
    });

    it('leaves nothing behind for an aborted object', async () => {
      const w = store.create('c/b/aborted.kseg');
      await w.write(randomBytes(1024));
      await w.abort();
      expect(await all(store.list(''))).toEqual([]);
      await expect(store.get('c/b/aborted.kseg')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('lists keys under a folder only, never a sibling that shares a string prefix', async () => {
      for (const k of ['a/b/1', 'a/b/x/2', 'a/bc/3', 'a/4', 'z/5']) await store.put(k, Buffer.from(k));
      expect((await all(store.list('a/b'))).sort()).toEqual(['a/b/1', 'a/b/x/2']);
      expect((await all(store.list('a'))).sort()).toEqual(['a/4', 'a/b/1', 'a/b/x/2', 'a/bc/3']);
      expect((await all(store.list(''))).sort()).toEqual(['a/4', 'a/b/1', 'a/b/x/2', 'a/bc/3', 'z/5']);
      expect(await all(store.list('nothing-here'))).toEqual([]);
    });

    it('putIfAbsent creates a key only once (the lock rule), size reports bytes or null', async () => {
      expect(await store.putIfAbsent('c/locks/l.json', Buffer.from('first'))).toBe(true);
      expect(await store.putIfAbsent('c/locks/l.json', Buffer.from('second!'))).toBe(false);
      expect((await store.get('c/locks/l.json')).toString()).toBe('first');
      expect(await store.size('c/locks/l.json')).toBe(5);
      expect(await store.size('c/locks/missing.json')).toBeNull();
      expect(await all(store.list('c/locks'))).toEqual(['c/locks/l.json']);
      await store.delete('c/locks/l.json');
      expect(await store.putIfAbsent('c/locks/l.json', Buffer.from('again'))).toBe(true);
    });

    it('deletes a key, and deleting a missing key is not an error', async () => {
      await store.put('d/1', Buffer.from('x'));
      await store.delete('d/1');
      await store.delete('d/1');
      await expect(store.get('d/1')).rejects.toBeInstanceOf(NotFoundError);
      expect(await all(store.list('d'))).toEqual([]);
    });
  });
}
