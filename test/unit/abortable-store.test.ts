/**
 * The store a cancellable call works on (src/store/abortable.ts): before the abort it is the
 * store; after it, nothing new starts, and only what the call wrote itself may be deleted.
 */
import { InterruptedError } from '../../src/errors';
import { abortableStore } from '../../src/store/abortable';
import { MemoryStore } from '../../src/store/memory';

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const i of items) out.push(i);
  return out;
}

describe('abortableStore', () => {
  it('passes everything through until the signal aborts', async () => {
    const inner = new MemoryStore();
    const store = abortableStore(inner, new AbortController().signal);
    await store.put('a/x', Buffer.from('1'));
    expect(await store.putIfAbsent('a/y', Buffer.from('2'))).toBe(true);
    const w = store.create('a/z');
    await w.write(Buffer.from('3'));
    await w.complete();
    expect((await all(store.list('a'))).sort()).toEqual(['a/x', 'a/y', 'a/z']);
    expect(Buffer.concat(await all(store.read('a/z'))).toString()).toBe('3');
    expect(await store.size('a/x')).toBe(1);
    expect(store.location).toBe(inner.location);
  });

  it('after the abort refuses every new operation with InterruptedError', async () => {
    const inner = new MemoryStore();
    await inner.put('a/x', Buffer.from('1'));
    const controller = new AbortController();
    const store = abortableStore(inner, controller.signal);
    controller.abort('SIGTERM');
    await expect(store.put('a/n', Buffer.from('n'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(store.putIfAbsent('a/n', Buffer.from('n'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(store.get('a/x')).rejects.toBeInstanceOf(InterruptedError);
    await expect(all(store.read('a/x'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(all(store.list('a'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(store.size('a/x')).rejects.toBeInstanceOf(InterruptedError);
    await expect(store.check()).rejects.toBeInstanceOf(InterruptedError);
    expect(() => store.create('a/n')).toThrow(InterruptedError);
    // Someone else's object stays: deleting is undoing, and this call did not write it.
    await expect(store.delete('a/x')).rejects.toBeInstanceOf(InterruptedError);
    expect(await all(inner.list(''))).toEqual(['a/x']);
  });

  it('after the abort still deletes what the call wrote and aborts its open writer; an upload cannot complete', async () => {
    const inner = new MemoryStore();
    await inner.put('locks/theirs.json', Buffer.from('{}'));
    const controller = new AbortController();
    const store = abortableStore(inner, controller.signal);
    await store.put('locks/mine.json', Buffer.from('{}'));
    // Lost the race for a name: the object is another holder's, never this call's to delete.
    expect(await store.putIfAbsent('locks/theirs.json', Buffer.from('{}'))).toBe(false);
    const done = store.create('seg/1');
    await done.write(Buffer.from('x'));
    await done.complete();
    const open = store.create('seg/2');
    await open.write(Buffer.from('y'));
    controller.abort();
    await expect(open.write(Buffer.from('z'))).rejects.toBeInstanceOf(InterruptedError);
    await expect(open.complete()).rejects.toBeInstanceOf(InterruptedError);
    await open.abort();
    await store.delete('locks/mine.json');
    await store.delete('seg/1');
    await expect(store.delete('locks/theirs.json')).rejects.toBeInstanceOf(InterruptedError);
    expect(await all(inner.list(''))).toEqual(['locks/theirs.json']);
  });

  it('a read or listing running when the signal aborts ends at its next chunk', async () => {
    const inner = new MemoryStore();
    for (const k of ['p/1', 'p/2', 'p/3']) await inner.put(k, Buffer.from(k));
    const controller = new AbortController();
    const store = abortableStore(inner, controller.signal);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const k of store.list('p')) {
          seen.push(k);
          controller.abort();
        }
      })(),
    ).rejects.toBeInstanceOf(InterruptedError);
    expect(seen).toHaveLength(1);
  });
});
