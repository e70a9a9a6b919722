/**
 * One behaviour suite for every ObjectStore (as restic runs one backend suite against every
 * backend): test/unit/store-conformance.test.ts runs it on memory and disk, the integration
 * project on S3.
 */
import { randomBytes } from 'node:crypto';
import { IntegrityError, NotFoundError } from '../../src/errors';
import type { ObjectStore } from '../../src/store/store';

/**
 * Writes an object under `name` exactly as given, the way another program sharing the store
 * could (a file named with backslashes on disk). The default goes through the store itself.
 */
export type Plant = (store: ObjectStore, name: string, body: Buffer) => Promise<void> | void;

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  return Buffer.concat(await all(store.read(key)));
}

/** Settles to the value, or to the error it failed with. */
async function outcome<T>(p: () => Promise<T>): Promise<T | Error> {
  try {
    return await p();
  } catch (err) {
    return err as Error;
  }
}

/** `make` returns an empty store (its own folder, bucket prefix or instance) for each test. */
export function describeStoreConformance(
  name: string,
  make: () => Promise<ObjectStore> | ObjectStore,
  cleanup?: () => Promise<void> | void,
  plant: Plant = (store, key, body) => store.put(key, body),
): void {
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

    // Issue 15, defect 1: the disk store split listed names on `\`, so an empty file named
    // `orders\0\x.kseg` stood for `orders/0/x.kseg` and prune deleted the real segment.
    it('lists every name as stored; a listed name acts on exactly its own object or is refused', async () => {
      const real = 'c/segments/orders/0/x.kseg';
      const planted = new Map([
        ['c/segments/orders\\0\\x.kseg', Buffer.alloc(0)],
        ['c/segments/x\\..\\..\\y.kseg', Buffer.from('planted')],
        ['c/segments/orders\\0', Buffer.from('planted too')],
      ]);
      await store.put(real, Buffer.from('real'));
      for (const [k, body] of planted) await plant(store, k, body);
      expect((await all(store.list('c'))).sort()).toEqual([real, ...planted.keys()].sort());
      for (const [k, body] of planted) {
        // Either the store acts on that very object, or it refuses the name: never another object.
        const size = await outcome(() => store.size(k));
        if (size instanceof Error) expect(size).toBeInstanceOf(IntegrityError);
        else expect(size).toBe(body.length);
        const got = await outcome(() => store.get(k));
        if (got instanceof Error) expect(got).toBeInstanceOf(IntegrityError);
        else expect(got.equals(body)).toBe(true);
        const deleted = await outcome(() => store.delete(k));
        if (deleted instanceof Error) expect(deleted).toBeInstanceOf(IntegrityError);
        expect((await all(store.list('c'))).includes(k)).toBe(deleted instanceof Error);
      }
      expect((await store.get(real)).toString()).toBe('real');
    });

    it('refuses a key it would have to normalise, on every method, and writes nothing', async () => {
      for (const k of ['', '/c/a', 'c/a/', 'c//a', 'c/./a', 'c/../a', '..', 'c/a\0b']) {
        const attempts: Array<() => Promise<unknown>> = [
          () => store.put(k, Buffer.from('x')),
          () => store.get(k),
          () => store.size(k),
          () => store.delete(k),
          () => store.putIfAbsent(k, Buffer.from('x')),
          async () => {
            const w = store.create(k);
            await w.write(Buffer.from('x'));
            await w.complete();
          },
        ];
        for (const attempt of attempts) expect(await outcome(attempt)).toBeInstanceOf(IntegrityError);
      }
      expect(await all(store.list(''))).toEqual([]);
    });
  });
}
