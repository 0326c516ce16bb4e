import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeBase64Url, decodeHex, encodeBase64Url, encodeHex, equalBytesConstantTime } from '../../../src/verify/encoding.js';

test('hex round-trips and decodes either case', () => {
  const bytes = new Uint8Array(randomBytes(37));
  const hex = encodeHex(bytes);
  assert.equal(hex, Buffer.from(bytes).toString('hex'));
  assert.deepEqual(decodeHex(hex), bytes);
  assert.deepEqual(decodeHex(hex.toUpperCase()), bytes);
});

test('hex rejects odd length and non-hex characters', () => {
  assert.equal(decodeHex('abc'), undefined);
  assert.equal(decodeHex('zz'), undefined);
  assert.equal(decodeHex('0g'), undefined);
});

test('base64url matches Node for every length, padded and unpadded', () => {
  for (let n = 0; n < 40; n++) {
    const bytes = new Uint8Array(randomBytes(n));
    const unpadded = Buffer.from(bytes).toString('base64url');
    const padded = Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    assert.equal(encodeBase64Url(bytes, false), unpadded);
    assert.equal(encodeBase64Url(bytes, true), padded);
    assert.deepEqual(decodeBase64Url(unpadded), bytes);
    assert.deepEqual(decodeBase64Url(padded), bytes);
  }
});

test('base64url refuses the standard alphabet, bad padding and non-canonical trailing bits', () => {
  assert.equal(decodeBase64Url('ab+/'), undefined);
  assert.equal(decodeBase64Url('a'), undefined);
  assert.equal(decodeBase64Url('ab='), undefined); // padding must complete a quantum
  // "D23vHLFHsOhPOcvdxeoQyAJTpvM" is canonical; changing the last char's low bits gives an alias Go accepts
  assert.ok(decodeBase64Url('D23vHLFHsOhPOcvdxeoQyAJTpvM'));
  assert.equal(decodeBase64Url('D23vHLFHsOhPOcvdxeoQyAJTpvN'), undefined);
});

test('constant-time compare answers equality and refuses different lengths', () => {
  assert.equal(equalBytesConstantTime(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(equalBytesConstantTime(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.equal(equalBytesConstantTime(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), false);
});
