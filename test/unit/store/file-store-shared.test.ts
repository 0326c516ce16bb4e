// The bounded file store when several processes share its directory (the workers of one --workers cluster, each
// bounded to its share): reads of another's files, and the files found at a start together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStore } from '../../../src/store/file-store.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pixgate-fss-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function onDisk(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
}

async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  for (const n of await readdir(dir)) total += (await stat(join(dir, n))).size;
  return total;
}

/** `n` files of 1000 bytes, the first the least recently used. */
async function fill(dir: string, names: readonly string[]): Promise<void> {
  const writer = createFileStore({ baseDir: dir, fsync: false });
  const t0 = Date.now() / 1000 - 1000;
  for (const [i, name] of names.entries()) {
    await writer.put(name, Buffer.alloc(1000, i), {});
    await utimes(join(dir, name), t0 + i, t0 + i);
  }
}

test('reading files another worker wrote does not count them against the reader\'s share', async (t) => {
  const dir = await tempDir(t);
  const a = createFileStore({ baseDir: dir, maxBytes: 3000, fsync: false });
  const b = createFileStore({ baseDir: dir, maxBytes: 3000, fsync: false });
  await Promise.all([a.ready, b.ready]);
  for (const k of ['a1', 'a2', 'a3']) await a.put(`${k}.png`, Buffer.alloc(1000), {});
  for (let round = 0; round < 3; round++) {
    for (const k of ['a1', 'a2', 'a3']) assert.ok(await b.get(`${k}.png`), `b reads ${k}`);
  }
  for (const k of ['b1', 'b2', 'b3']) await b.put(`${k}.png`, Buffer.alloc(1000), {});
  // Two shares of 3000 bytes: the six files fit, and neither worker evicted the other's.
  assert.deepEqual(await onDisk(dir), ['a1.png', 'a2.png', 'a3.png', 'b1.png', 'b2.png', 'b3.png']);
  assert.deepEqual(b.usage(), { bytes: 3000, files: 3 });
  // Past its share, a worker evicts its own least recently used file.
  await b.put('b4.png', Buffer.alloc(1000), {});
  assert.deepEqual(await onDisk(dir), ['a1.png', 'a2.png', 'a3.png', 'b2.png', 'b3.png', 'b4.png']);
});

test('reading a file still makes it recent for the worker that counts it', async (t) => {
  const dir = await tempDir(t);
  const a = createFileStore({ baseDir: dir, maxBytes: 2000, fsync: false });
  await a.ready;
  await a.put('x.png', Buffer.alloc(1000), {});
  await a.put('y.png', Buffer.alloc(1000), {});
  assert.ok(await a.get('x.png'));
  await a.put('z.png', Buffer.alloc(1000), {});
  assert.deepEqual(await onDisk(dir), ['x.png', 'z.png']);
});

test('workers started together adopt the files they find at their share, so a restart keeps the cache', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, ['f1.png', 'f2.png', 'f3.png', 'f4.png', 'f5.png']);
  const workers = [0, 1].map(() => createFileStore({ baseDir: dir, maxBytes: 3000, adoptedShare: 1 / 2, fsync: false }));
  await Promise.all(workers.map((w) => w.ready));
  // 5000 bytes under a bound of 2 x 3000: nothing is evicted, and each worker counts half of the directory.
  assert.deepEqual(await onDisk(dir), ['f1.png', 'f2.png', 'f3.png', 'f4.png', 'f5.png']);
  for (const w of workers) assert.deepEqual(w.usage(), { bytes: 2500, files: 5 });
});

test('a file counted whole by each worker would be evicted down to one share at start (what adoptedShare avoids)', async (t) => {
  const dir = await tempDir(t);
  await fill(dir, ['f1.png', 'f2.png', 'f3.png', 'f4.png', 'f5.png']);
  const workers = [0, 1].map(() => createFileStore({ baseDir: dir, maxBytes: 3000, fsync: false }));
  await Promise.all(workers.map((w) => w.ready));
  assert.deepEqual(await onDisk(dir), ['f3.png', 'f4.png', 'f5.png']);
});

test('workers started together over a directory above the bound evict the same oldest files, down to the bound', async (t) => {
  const dir = await tempDir(t);
  const names = Array.from({ length: 8 }, (_, i) => `f${i}.png`);
  await fill(dir, names);
  const workers = [0, 1].map(() => createFileStore({ baseDir: dir, maxBytes: 3000, adoptedShare: 1 / 2, fsync: false }));
  await Promise.all(workers.map((w) => w.ready));
  assert.deepEqual(await onDisk(dir), names.slice(2));
  assert.equal(await bytesOnDisk(dir), 6000);
  // Each then writes within its share: still under the bound.
  for (const [i, w] of workers.entries()) {
    for (let j = 0; j < 3; j++) await w.put(`new-${i}-${j}.png`, Buffer.alloc(1000), {});
  }
  assert.ok((await bytesOnDisk(dir)) <= 6000, `${await bytesOnDisk(dir)} bytes`);
});
