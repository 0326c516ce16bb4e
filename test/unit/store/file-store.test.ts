import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createFileStore } from '../../../src/store/file-store.js';
import { digestPath } from '../../../src/store/keys.js';
import { isStorageError, type StorageFailure } from '../../../src/store/result-store.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pixgate-fs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every regular file under dir, with its size: the ground truth the bound is checked against. */
async function diskFiles(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out.set(full.slice(dir.length + 1), (await stat(full)).size);
  }
  return out;
}

const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

async function rejectsWith(p: Promise<unknown>, reason: StorageFailure, message?: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isStorageError(err), `${message ?? ''}: expected a StorageError, got ${String(err)}`);
    assert.equal(err.reason, reason, message);
    return true;
  });
}

test('keeps the Last-Modified its writer gives, so every reader sends the same one', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: join(base, 'results') });
  const made = Math.floor((Date.now() - 5000) / 1000) * 1000;
  const meta = await store.put('a.com/x.jpg', Buffer.from('hello'), { contentType: 'image/jpeg', modifiedMs: made + 999 });
  assert.equal(meta.modifiedMs, made);
  assert.equal((await store.get('a.com/x.jpg'))?.meta.modifiedMs, made);
  assert.equal((await createFileStore({ baseDir: join(base, 'results') }).get('a.com/x.jpg'))?.meta.modifiedMs, made, 'another instance on the same directory');
});

test('stores, reads, stats and deletes a blob under the base dir, with an mtime-size ETag', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: join(base, 'results') });
  const meta = await store.put('fit-in/100x100/filters:format(webp)/a.com/x.jpg', Buffer.from('hello'), { contentType: 'image/webp' });
  const onDisk = join(base, 'results', 'fit-in/100x100/filters%3Aformat%28webp%29/a.com/x.jpg');
  assert.equal(await readFile(onDisk, 'utf8'), 'hello');
  const st = await stat(onDisk);
  assert.equal(meta.size, 5);
  assert.equal(meta.modifiedMs, Math.floor(st.mtimeMs));
  assert.equal(meta.etag, `"${Math.floor(st.mtimeMs).toString(16)}-5"`);

  const hit = await store.get('fit-in/100x100/filters:format(webp)/a.com/x.jpg');
  assert.equal(hit?.body.toString(), 'hello');
  assert.deepEqual(hit?.meta, meta);
  assert.deepEqual(await store.stat('fit-in/100x100/filters:format(webp)/a.com/x.jpg'), meta);

  await store.delete('fit-in/100x100/filters:format(webp)/a.com/x.jpg');
  assert.equal(existsSync(onDisk), false);
  assert.equal(await store.get('fit-in/100x100/filters:format(webp)/a.com/x.jpg'), undefined);
  assert.equal(await store.stat('fit-in/100x100/filters:format(webp)/a.com/x.jpg'), undefined);
  await store.delete('fit-in/100x100/filters:format(webp)/a.com/x.jpg');
});

test('a missing base dir is a miss, and the first put creates it', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: join(base, 'not', 'yet') });
  assert.equal(await store.get('a.png'), undefined);
  assert.equal(await store.stat('a.png'), undefined);
  await store.put('a.png', Buffer.from('x'), {});
  assert.equal((await store.get('a.png'))?.body.toString(), 'x');
});

test('refuses keys that would leave the base dir, dot files and NUL, for every operation', async (t) => {
  const base = await tempDir(t);
  const root = join(base, 'root');
  await mkdir(root);
  await writeFile(join(base, 'secret.txt'), 'OUTSIDE-ROOT-CANARY');
  const store = createFileStore({ baseDir: root });
  const keys = ['../secret.txt', 'a/../../secret.txt', '%2e%2e/secret.txt', '..%2fsecret.txt', '%252e%252e/secret.txt',
    '.hidden', 'a/.git/config', 'ok.png\0.txt', '..\\secret.txt', 'sub/.\n./../secret.txt'];
  for (const key of keys) {
    await rejectsWith(store.get(key), 'invalid-key', `get ${JSON.stringify(key)}`);
    await rejectsWith(store.stat(key), 'invalid-key', `stat ${JSON.stringify(key)}`);
    await rejectsWith(store.put(key, Buffer.from('x'), {}), 'invalid-key', `put ${JSON.stringify(key)}`);
    await rejectsWith(store.delete(key), 'invalid-key', `delete ${JSON.stringify(key)}`);
  }
  assert.equal(await readFile(join(base, 'secret.txt'), 'utf8'), 'OUTSIDE-ROOT-CANARY');
  assert.deepEqual(await readdir(root), []);
});

test('refuses symlinks that lead out of the base dir, for reads and writes', async (t) => {
  const base = await tempDir(t);
  const root = join(base, 'root');
  const outside = join(base, 'root-sibling');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(join(outside, 'secret.png'), 'SIBLING-CANARY');
  await symlink(outside, join(root, 'linkdir'));
  await symlink(join(outside, 'secret.png'), join(root, 'linkfile.png'));
  const store = createFileStore({ baseDir: root });
  await rejectsWith(store.get('linkdir/secret.png'), 'invalid-key');
  await rejectsWith(store.get('linkfile.png'), 'invalid-key');
  await rejectsWith(store.stat('linkfile.png'), 'invalid-key');
  await rejectsWith(store.put('linkdir/new.png', Buffer.from('x'), {}), 'invalid-key');
  await rejectsWith(store.delete('linkdir/secret.png'), 'invalid-key');
  assert.deepEqual(await readdir(outside), ['secret.png']);
  assert.equal(await readFile(join(outside, 'secret.png'), 'utf8'), 'SIBLING-CANARY');
  // A symlink that stays inside the root is followed.
  await mkdir(join(root, 'real'));
  await writeFile(join(root, 'real', 'in.png'), 'inside');
  await symlink(join(root, 'real'), join(root, 'alias'));
  assert.equal((await store.get('alias/in.png'))?.body.toString(), 'inside');
});

test('applies the path prefix: only keys under it, stored without it', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: base, pathPrefix: 'results' });
  await store.put('/results/a/b.png', Buffer.from('x'), {});
  assert.equal(await readFile(join(base, 'a', 'b.png'), 'utf8'), 'x');
  assert.equal((await store.get('results/a/b.png'))?.body.toString(), 'x');
  await rejectsWith(store.get('other/a/b.png'), 'invalid-key');
  await rejectsWith(store.put('results-sibling/x.png', Buffer.from('x'), {}), 'invalid-key');
});

test('treats entries older than the expiration as misses without deleting them', async (t) => {
  const base = await tempDir(t);
  let clock = Date.now();
  const store = createFileStore({ baseDir: base, expirationMs: 60_000, now: () => clock });
  await store.put('a.png', Buffer.from('x'), {});
  assert.ok(await store.get('a.png'));
  clock += 59_000;
  assert.ok(await store.get('a.png'));
  clock += 2_000;
  assert.equal(await store.get('a.png'), undefined);
  assert.ok(await store.stat('a.png'), 'stat ignores expiration, as imagor');
  assert.equal(existsSync(join(base, 'a.png')), true);
});

test('creates files and directories with the configured permissions (under the umask)', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: base, mkdirMode: 0o750, writeMode: 0o640 });
  await store.put('d1/d2/a.png', Buffer.from('x'), {});
  const mask = process.umask();
  assert.equal((await stat(join(base, 'd1', 'd2', 'a.png'))).mode & 0o777, 0o640 & ~mask);
  assert.equal((await stat(join(base, 'd1', 'd2'))).mode & 0o777, 0o750 & ~mask);
});

test('a concurrent reader sees the old file or the new one, never a partial write', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: base, fsync: false });
  const a = Buffer.alloc(512 * 1024, 0x61);
  const b = Buffer.alloc(300 * 1024, 0x62);
  await store.put('x.png', a, {});
  let writing = true;
  const writer = (async () => {
    for (let i = 0; i < 40; i++) {
      // Streamed in small chunks so that a non-atomic write would be visible half-done.
      const body = i % 2 === 0 ? b : a;
      await store.put('x.png', Readable.from(Array.from({ length: 16 }, (_, k) => body.subarray((k * body.length) / 16, ((k + 1) * body.length) / 16))), {});
    }
    writing = false;
  })();
  let reads = 0;
  while (writing) {
    const got = await store.get('x.png');
    assert.ok(got);
    assert.ok(got.body.equals(a) || got.body.equals(b), `read ${got.body.length} bytes that are neither version`);
    reads++;
  }
  await writer;
  assert.ok(reads > 5);
  assert.deepEqual((await readdir(base)).filter((n) => n.startsWith('.')), [], 'no temp files left');
});

test('a failed streamed write leaves the previous version and no temp file', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: base });
  await store.put('x.png', Buffer.from('old'), {});
  const failing = new Readable({
    read() {
      this.push(Buffer.from('new-part'));
      this.destroy(new Error('source broke'));
    },
  });
  await rejectsWith(store.put('x.png', failing, {}), 'io');
  assert.equal((await store.get('x.png'))?.body.toString(), 'old');
  assert.deepEqual(await readdir(base), ['x.png']);
});

test('an aborted put writes nothing; an oversized one is refused', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: base, maxObjectBytes: 10 });
  await rejectsWith(store.put('x.png', Buffer.from('x'), {}, AbortSignal.abort()), 'aborted');
  await rejectsWith(store.put('y.png', Buffer.alloc(11), {}), 'too-large');
  await rejectsWith(store.put('z.png', Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), {}), 'too-large');
  assert.deepEqual(await readdir(base), []);
});

test('a refused or failed put releases the stream it was given', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: base });
  const body = new Readable({ read() {} });
  await rejectsWith(store.put('../x.png', body, {}), 'invalid-key');
  assert.equal(body.destroyed, true);
});

test('storage failures surface as StorageError, never as raw fs errors', async (t) => {
  const base = await tempDir(t);
  await rejectsWith(createFileStore({ baseDir: base }).put(`${'x'.repeat(300)}.png`, Buffer.from('x'), {}), 'invalid-key');
  await writeFile(join(base, 'file'), 'not a dir');
  const store = createFileStore({ baseDir: join(base, 'file', 'sub') });
  await rejectsWith(store.put('a.png', Buffer.from('x'), {}), 'io');
  const err = await store.put('a.png', Buffer.from('x'), {}).catch((e: unknown) => e);
  assert.ok(isStorageError(err) && err.code === 'INTERNAL' && err.op === 'put');
});

test('keeps the directory under its byte bound while filling it with many results, evicting the least recently used', async (t) => {
  const base = await tempDir(t);
  const maxBytes = 64 * 1024;
  const store = createFileStore({ baseDir: base, maxBytes, fsync: false });
  await store.ready;
  const size = (i: number): number => 1000 + ((i * 37) % 1500);
  for (let i = 0; i < 300; i++) {
    await store.put(digestPath(`result-${i}`), Buffer.alloc(size(i), i % 256), {});
    if (i === 10) assert.ok(await store.get(digestPath('result-3')), 'result-3 still there');
    if (i % 25 === 0) assert.ok(sum(await diskFiles(base)) <= maxBytes, `over the bound after ${i} puts`);
  }
  const files = await diskFiles(base);
  assert.ok(sum(files) <= maxBytes);
  assert.ok(sum(files) > maxBytes - 2500, 'the bound is used, not emptied');
  assert.deepEqual(store.usage(), { bytes: sum(files), files: files.size });
  // The newest results are kept, the oldest are gone.
  assert.ok(await store.get(digestPath('result-299')));
  assert.equal(await store.get(digestPath('result-0')), undefined);
  assert.equal(await store.get(digestPath('result-3')), undefined);
  // Evicted entries' empty digest directories are removed too.
  const dirs = (await readdir(base, { recursive: true, withFileTypes: true })).filter((e) => e.isDirectory());
  assert.ok(dirs.length <= 2 * files.size + 256, `${dirs.length} directories for ${files.size} files`);
});

test('reading an entry makes it recent, so it outlives older unread ones', async (t) => {
  const base = await tempDir(t);
  const store = createFileStore({ baseDir: base, maxBytes: 3000, fsync: false });
  await store.ready;
  for (const k of ['a', 'b', 'c']) await store.put(`${k}.png`, Buffer.alloc(1000), {});
  assert.ok(await store.get('a.png'));
  await store.put('d.png', Buffer.alloc(1000), {});
  assert.ok(await store.get('a.png'), 'a was read after b');
  assert.equal(await store.get('b.png'), undefined, 'b is the least recently used');
  assert.ok(await store.get('c.png'));
  assert.ok(await store.get('d.png'));
});

test('rebuilds its index from the directory after a restart, oldest use first, and applies a smaller bound', async (t) => {
  const base = await tempDir(t);
  const first = createFileStore({ baseDir: base, fsync: false });
  const t0 = Date.now() / 1000 - 1000;
  for (let i = 0; i < 10; i++) {
    await first.put(`r/${i}.png`, Buffer.alloc(1000), {});
    // Last use i seconds after t0: 0 is the least recently used.
    await utimes(join(base, 'r', `${i}.png`), t0 + i, t0 + i);
  }
  // A stale temp file of a crashed writer is cleaned up; a fresh one (a live writer's) is left alone.
  await writeFile(join(base, 'r', '.pixgate-tmp-1-stale'), 'x');
  await utimes(join(base, 'r', '.pixgate-tmp-1-stale'), t0, t0);
  await writeFile(join(base, 'r', '.pixgate-tmp-1-fresh'), 'x');

  const second = createFileStore({ baseDir: base, maxBytes: 6000, fsync: false });
  await second.ready;
  const files = await diskFiles(base);
  assert.deepEqual([...files.keys()].filter((k) => !k.includes('.pixgate-tmp-')).sort(), ['4', '5', '6', '7', '8', '9'].map((i) => `r/${i}.png`));
  assert.equal(files.has('r/.pixgate-tmp-1-stale'), false);
  assert.equal(files.has('r/.pixgate-tmp-1-fresh'), true);
  assert.deepEqual(second.usage(), { bytes: 6000, files: 6 });
  // And it keeps counting from there.
  await second.put('r/new.png', Buffer.alloc(1000), {});
  assert.equal(existsSync(join(base, 'r', '4.png')), false);
  assert.equal(second.usage().bytes, 6000);
});
