// security.md §4: every mutation of a valid signed URL is refused with 403 and never reaches the origin, for camo
// hex, camo base64 and imagor. Each mutation is made from a URL that the same server serves (checked first), so a
// 403 here is the signature check and nothing else. Both jobs are on, as in production with both keys: a path the
// camo router does not take falls through to the imagor verifier, which refuses it too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { serve, startOrigin, testImages, type Origin } from '../helpers/origin.js';
import { TEST_KEY, type Pixgate } from '../helpers/pixgate.js';
import { camoPath, IMAGOR_SECRET, imagorPath, rawGet, startSecure } from './harness.js';

let origin: Origin;
let px: Pixgate;

before(async () => {
  const images = await testImages();
  origin = await startOrigin({ host: '127.0.0.3' });
  origin.route('/img.png', serve(images.png));
  origin.route('/other.png', serve(images.png));
  // A query whose base64 needs the characters 62 and 63 (- and _), so alphabet swaps have something to swap.
  origin.route('/q.png', serve(images.png));
  px = await startSecure(['--allow-network', '127.0.0.3/32']);
});

after(async () => {
  await px?.close();
  await origin?.close();
});

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const flipHex = (s: string, i: number) => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);
const flipB64 = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
/** Swaps the case of the first letter at or after `from` (a case change is another base64 value). */
function swapCase(s: string, from = 0): string {
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (c.toLowerCase() !== c.toUpperCase()) return s.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + s.slice(i + 1);
  }
  throw new Error('no letter to swap');
}
const hmac = (key: string, text: string, alg = 'sha1') => createHmac(alg, key).update(text).digest();

type Mutation = readonly [id: string, name: string, path: () => string];

function refuses(cases: readonly Mutation[], valid: () => string): void {
  test('control: the unmutated URL is served', async () => {
    const res = await rawGet(px.url, valid());
    assert.equal(res.status, 200);
  });
  for (const [id, name, path] of cases) {
    test(`${id}: refuses ${name} with 403`, async () => {
      const before = origin.hits();
      const p = path();
      assert.notEqual(p, valid(), 'the mutation changed nothing');
      const res = await rawGet(px.url, p);
      assert.equal(res.status, 403, `${p.slice(0, 120)} -> ${res.status} ${res.text.slice(0, 60)}`);
      assert.equal(origin.hits(), before, 'the origin must not be contacted');
    });
  }
}

describe('camo, hex', () => {
  const source = () => origin.url('/img.png');
  const valid = () => camoPath(source(), 'hex');
  const parts = () => valid().split('/') as [string, string, string];
  const d = () => parts()[1];
  const u = () => parts()[2];
  refuses(
    [
      ['sig-missing', 'a path with no digest', () => `/${u()}`],
      ['sig-empty', 'an empty digest segment', () => `//${u()}`],
      ['sig-random', 'a random digest', () => `/${'5a'.repeat(20)}/${u()}`],
      ['sig-zero', 'an all-zero digest', () => `/${'0'.repeat(40)}/${u()}`],
      ['sig-flip-first', 'the first digest character flipped', () => `/${flipHex(d(), 0)}/${u()}`],
      ['sig-flip-last', 'the last digest character flipped', () => `/${flipHex(d(), 39)}/${u()}`],
      ['sig-url-flip', 'the encoded URL with one character flipped', () => `/${d()}/${flipHex(u(), u().length - 1)}`],
      ['sig-url-changed', 'the URL changed after signing', () => `/${d()}/${Buffer.from(source() + 'x').toString('hex')}`],
      ['sig-host-swapped', 'the host swapped to 127.0.0.1', () => `/${d()}/${Buffer.from(source().replace('127.0.0.3', '127.0.0.1')).toString('hex')}`],
      ['sig-other-path', 'the digest of another path', () => `/${hmac(TEST_KEY, origin.url('/other.png')).toString('hex')}/${u()}`],
      ['sig-other-key', 'a URL signed with another key', () => camoPath(source(), 'hex', 'another-key')],
      ['sig-truncated-half', 'half the digest', () => `/${d().slice(0, 20)}/${u()}`],
      ['sig-truncated-one', 'the digest one character short', () => `/${d().slice(0, 39)}/${u()}`],
      ['sig-trailing-char', 'one extra digest character', () => `/${d()}0/${u()}`],
      ['sig-trailing-space', 'a trailing %20 on the digest', () => `/${d()}%20/${u()}`],
      ['sig-trailing-nul', 'a trailing %00 on the digest', () => `/${d()}%00/${u()}`],
      ['sig-percent-encoded', 'a digest character percent-encoded', () => `/%${d().charCodeAt(0).toString(16)}${d().slice(1)}/${u()}`],
      ['sig-very-long', 'a 10 000-character digest', () => `/${d().repeat(250)}/${u()}`],
      ['sig-digest-duplicated', 'the digest duplicated in the path', () => `/${d()}/${d()}/${u()}`],
      ['sig-query-form-other', 'the query form with the digest of another URL', () => `/${hmac(TEST_KEY, origin.url('/other.png')).toString('hex')}?url=${encodeURIComponent(source())}`],
      ['sig-hex-with-base64-url', 'a hex digest with a base64 URL', () => `/${d()}/${Buffer.from(source()).toString('base64url')}`],
    ],
    valid,
  );
});

describe('camo, base64', () => {
  const source = () => origin.url('/q.png?a=>>>&b=???');
  const valid = () => camoPath(source(), 'base64');
  const parts = () => valid().split('/') as [string, string, string];
  const d = () => parts()[1];
  const u = () => parts()[2];
  refuses(
    [
      ['sig-flip-first', 'the first digest character flipped', () => `/${flipB64(d(), 0)}/${u()}`],
      ['sig-flip-last', 'the last digest character changed', () => `/${d().slice(0, 26)}${B64[(B64.indexOf(d()[26]!) + 4) % 64]}/${u()}`],
      ['sig-case-change', 'a case change in the digest', () => `/${swapCase(d())}/${u()}`],
      ['sig-case-change-last', 'a case change late in the digest', () => `/${swapCase(d(), 20)}/${u()}`],
      ['sig-url-case-change', 'a case change in the encoded URL', () => `/${d()}/${swapCase(u(), 10)}`],
      ['sig-padding-double', 'padding "==" on the 27-character digest', () => `/${d()}==/${u()}`],
      ['sig-padding-triple', 'padding "===" on the digest', () => `/${d()}===/${u()}`],
      ['sig-url-padding-wrong', 'padding that the encoded URL does not need', () => `/${d()}/${u()}${u().length % 4 === 0 ? '=' : '==='}`],
      ['sig-non-canonical-bits', 'a non-canonical last digest character (same bytes for Go)', () => `/${d().slice(0, 26)}${B64[B64.indexOf(d()[26]!) | 1]}/${u()}`],
      ['sig-std-alphabet', 'the + / alphabet instead of - _', () => `/${d()}/${u().replace(/-/g, '+').replace(/_/g, '/')}`],
      ['sig-truncated', 'the digest one character short', () => `/${d().slice(0, 26)}/${u()}`],
      ['sig-trailing-char', 'one extra digest character', () => `/${d()}A/${u()}`],
      ['sig-other-path', 'the digest of another path', () => `/${hmac(TEST_KEY, origin.url('/other.png')).toString('base64url')}/${u()}`],
      ['sig-url-changed', 'the URL changed after signing', () => `/${d()}/${Buffer.from(source() + 'x').toString('base64url')}`],
      ['sig-other-key', 'a URL signed with another key', () => camoPath(source(), 'base64', 'another-key')],
      ['sig-base64-with-hex-url', 'a base64 digest with a hex URL', () => `/${d()}/${Buffer.from(source()).toString('hex')}`],
    ],
    valid,
  );
  test('sig-non-canonical-bits is a real alias: Node decodes both spellings to the same bytes', () => {
    const alias = d().slice(0, 26) + B64[B64.indexOf(d()[26]!) | 1];
    if (alias !== d()) assert.deepEqual(Buffer.from(alias, 'base64url'), Buffer.from(d(), 'base64url'));
  });
});

describe('imagor', () => {
  const path = () => `fit-in/16x16/${origin.url('/img.png')}`;
  const valid = () => imagorPath(path());
  const hash = () => valid().split('/')[1]!;
  const sign = (p: string, secret = IMAGOR_SECRET, alg = 'sha1') => hmac(secret, p, alg).toString('base64url').padEnd(alg === 'sha1' ? 28 : 0, '=');
  const at = (s: string, i: number, insert: string) => s.slice(0, i) + insert + s.slice(i);
  refuses(
    [
      ['sig-missing', 'a path with no hash', () => `/${path()}`],
      ['sig-empty', 'an empty hash segment', () => `//${path()}`],
      ['sig-unsafe', 'the unsafe keyword (unsafe mode off)', () => `/unsafe/${path()}`],
      ['sig-random', 'a random hash', () => `/${'Zm9vYmFyYmF6cXV4cXV1eA0K'}aaa=/${path()}`],
      ['sig-flip-first', 'the first hash character flipped', () => `/${flipB64(hash(), 0)}/${path()}`],
      ['sig-flip-last', 'the last significant hash character changed', () => `/${hash().slice(0, 26)}${B64[(B64.indexOf(hash()[26]!) + 4) % 64]}=/${path()}`],
      ['sig-case-change', 'a case change in the hash', () => `/${swapCase(hash())}/${path()}`],
      ['sig-padding-removed', 'the = padding removed', () => `/${hash().replace(/=+$/, '')}/${path()}`],
      ['sig-padding-added', 'one more = of padding', () => `/${hash()}=/${path()}`],
      ['sig-truncated-17', 'the hash cut to 17 characters', () => `/${hash().slice(0, 17)}/${path()}`],
      ['sig-truncated-half', 'half the hash', () => `/${hash().slice(0, 14)}/${path()}`],
      ['sig-trailing-char', 'one extra hash character', () => `/${hash()}A/${path()}`],
      ['sig-trailing-space', 'a trailing %20 on the hash', () => `/${hash()}%20/${path()}`],
      ['sig-trailing-nul', 'a trailing %00 on the hash', () => `/${hash()}%00/${path()}`],
      ['sig-very-long', 'a 10 000-character hash', () => `/${hash().replace(/=+$/, '').repeat(370)}/${path()}`],
      ['sig-other-path', 'the hash of another path', () => `/${sign(`fit-in/16x16/${origin.url('/other.png')}`)}/${path()}`],
      ['sig-other-key', 'a path signed with another secret', () => `/${sign(path(), 'another-secret-entirely')}/${path()}`],
      ['sig-other-algorithm', 'the sha256 hash of the path (server is sha1)', () => `/${hmac(IMAGOR_SECRET, path(), 'sha256').toString('base64url')}=/${path()}`],
      ['sig-params-changed', 'the size changed after signing', () => `/${hash()}/${path().replace('16x16', '17x17')}`],
      ['sig-filter-appended', 'a filter added after signing', () => `/${hash()}/${path().replace('16x16/', '16x16/filters:quality(5)/')}`],
      ['sig-image-changed', 'the image changed after signing', () => `/${hash()}/${path().replace('/img.png', '/other.png')}`],
      ['sig-host-swapped', 'the host swapped to 127.0.0.1', () => `/${hash()}/${path().replace('127.0.0.3', '127.0.0.1')}`],
      ['sig-hash-duplicated', 'hash injection: the hash duplicated before the path', () => `/${hash()}/${hash()}/${path()}`],
      ['sig-hash-injected-middle', 'hash injection: the hash inside the path (a replace() would strip it)', () => `/${hash()}/${at(path(), 'fit-in/16x16/'.length, hash() + '/')}`],
      ['sig-hash-injected-end', 'hash injection: the hash appended to the image', () => `/${hash()}/${path()}${hash()}`],
      ['sig-hash-injected-encoded', 'hash injection with the padding %3D-encoded inside the path', () => `/${hash()}/${at(path(), 'fit-in/16x16/'.length, hash().replace(/=/g, '%3D') + '/')}`],
      ['sig-params-prefix', 'the signed path moved under params/ with another size', () => `/params/${hash()}/${path().replace('16x16', '1x1')}`],
    ],
    valid,
  );

  test('sig-expired: a signed URL whose expire() time has passed is refused (410)', async () => {
    const p = `fit-in/16x16/filters:expire(${Date.now() - 60_000})/${origin.url('/img.png')}`;
    const before = origin.hits();
    const res = await rawGet(px.url, imagorPath(p));
    assert.equal(res.status, 410, res.text);
    assert.equal(origin.hits(), before);
  });
});

// security.md §4 asks that malleable aliases "should" be refused. pixgate keeps three on purpose, for
// compatibility: hex in either case and optional base64 padding (go-camo decodes both), and imagor's retry
// with the whole path QueryUnescape'd (imagor.go). None of them can name another URL: each decodes to the very
// bytes that were signed. These tests pin that, so an alias that reached a different source would fail here.
describe('accepted aliases (peer compatibility) name the signed bytes and nothing else', () => {
  test('camo hex in upper case fetches the same origin path', async () => {
    const before = origin.hits('/img.png');
    const res = await rawGet(px.url, camoPath(origin.url('/img.png'), 'hex').toUpperCase());
    assert.equal(res.status, 200);
    assert.equal(origin.hits('/img.png'), before + 1);
  });
  test('camo base64 with its = padding fetches the same origin path', async () => {
    const [, d, u] = camoPath(origin.url('/img.png'), 'base64').split('/') as [string, string, string];
    const before = origin.hits('/img.png');
    const res = await rawGet(px.url, `/${d}=/${u}`);
    assert.equal(res.status, 200);
    assert.equal(origin.hits('/img.png'), before + 1);
  });
  test('imagor with the hash padding written %3D fetches the same origin path', async () => {
    const p = `fit-in/16x16/${origin.url('/img.png')}`;
    const [, h] = imagorPath(p).split('/') as [string, string];
    const before = origin.hits('/img.png');
    const res = await rawGet(px.url, `/${h.replace(/=/g, '%3D')}/${p}`);
    assert.equal(res.status, 200);
    assert.equal(origin.hits('/img.png'), before + 1);
  });
});
