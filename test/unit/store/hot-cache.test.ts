import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHotCache } from '../../../src/store/hot-cache.js';

const entry = (n: number, fill = 1) => ({ data: Buffer.alloc(n, fill), contentType: 'image/png', lastModifiedMs: 0, etag: `"${fill}"` });

test('keeps entries until their TTL, then forgets them', () => {
  const c = createHotCache(1000, 100);
  c.set('a', entry(10), 0);
  assert.equal(c.get('a', 50)?.etag, '"1"');
  assert.equal(c.get('a', 100), undefined);
  assert.equal(c.bytes, 0);
});

test('stays within its byte bound, evicting the least recently used first', () => {
  const c = createHotCache(800, 10_000);
  for (const [i, key] of ['a', 'b', 'c', 'e', 'f', 'g', 'h', 'i'].entries()) c.set(key, entry(100, i + 1), 0);
  assert.equal(c.bytes, 800);
  c.get('a', 1); // a is now the most recently used
  c.set('d', entry(100, 9), 2);
  assert.ok(c.bytes <= 800);
  assert.equal(c.get('b', 3), undefined, 'b was the least recently used');
  assert.ok(c.get('a', 3));
  assert.ok(c.get('d', 3));
});

test('never holds an entry larger than an eighth of its bound, and holds nothing when off', () => {
  const c = createHotCache(800, 1000);
  c.set('big', entry(101), 0);
  assert.equal(c.get('big', 1), undefined);
  const off = createHotCache(0, 1000);
  off.set('a', entry(1), 0);
  assert.equal(off.get('a', 1), undefined);
});

test('replacing a key does not count its bytes twice', () => {
  const c = createHotCache(1000, 1000);
  c.set('a', entry(50), 0);
  c.set('a', entry(60), 0);
  assert.equal(c.bytes, 60);
});
