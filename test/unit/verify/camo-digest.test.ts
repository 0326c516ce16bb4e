import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { isPixgateError } from '../../../src/respond/errors.js';
import { formatCamoUrl, looksLikeCamoDigest, signCamoUrl, verifyCamoPath, verifyCamoQuery } from '../../../src/verify/camo-digest.js';
import type { MacFn } from '../../../src/verify/mac.js';
import { nodeMac } from '../../../src/verify/node-mac.js';

// camo.md §1.3: the seed vector of go-camo's tests, README and man page.
const SEED_KEY = 'test';
const SEED_URL = 'http://golang.org/doc/gopher/frontpage.png';
const SEED_HEX = ['0f6def1cb147b0e84f39cbddc5ea10c80253a6f3', '687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67'] as const;
const SEED_B64 = ['D23vHLFHsOhPOcvdxeoQyAJTpvM', 'aHR0cDovL2dvbGFuZy5vcmcvZG9jL2dvcGhlci9mcm9udHBhZ2UucG5n'] as const;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isPixgateError(err)) return err.code;
    throw err;
  }
  return 'OK';
}

describe('signing', () => {
  test('signs the seed vector in hex', () => {
    assert.deepEqual(signCamoUrl(SEED_URL, SEED_KEY, 'hex', nodeMac), { digest: SEED_HEX[0], encodedUrl: SEED_HEX[1] });
  });

  test('signs the seed vector in unpadded URL-safe base64', () => {
    assert.deepEqual(signCamoUrl(SEED_URL, SEED_KEY, 'base64', nodeMac), { digest: SEED_B64[0], encodedUrl: SEED_B64[1] });
  });

  test('formats PREFIX/digest/encoded, dropping trailing slashes of the prefix (url-tool)', () => {
    const signed = { digest: 'd', encodedUrl: 'e' };
    assert.equal(formatCamoUrl('', signed), '/d/e');
    assert.equal(formatCamoUrl('https://camo.example/', signed), 'https://camo.example/d/e');
    assert.equal(formatCamoUrl('https://camo.example/camo//', signed), 'https://camo.example/camo/d/e');
  });

  test('signs the exact UTF-8 bytes of the URL, without normalising it', () => {
    const url = 'http://EXAMPLE.com/ü?a=%7e&b=~';
    const expected = createHmac('sha1', 'k').update(Buffer.from(url, 'utf8')).digest('hex');
    assert.equal(signCamoUrl(url, 'k', 'hex', nodeMac).digest, expected);
    assert.equal(signCamoUrl(url, 'k', 'hex', nodeMac).encodedUrl, Buffer.from(url, 'utf8').toString('hex'));
  });
});

describe('verifying the path form', () => {
  test('accepts the seed vector in hex, lower and upper case', () => {
    assert.equal(verifyCamoPath(SEED_HEX[0], SEED_HEX[1], [SEED_KEY], nodeMac), SEED_URL);
    assert.equal(verifyCamoPath(SEED_HEX[0].toUpperCase(), SEED_HEX[1].toUpperCase(), [SEED_KEY], nodeMac), SEED_URL);
  });

  test('accepts the seed vector in base64, with and without padding', () => {
    assert.equal(verifyCamoPath(SEED_B64[0], SEED_B64[1], [SEED_KEY], nodeMac), SEED_URL);
    assert.equal(verifyCamoPath(SEED_B64[0] + '=', SEED_B64[1], [SEED_KEY], nodeMac), SEED_URL);
    const url = SEED_URL + 'x'; // 44 bytes: its base64 needs padding
    const b64 = Buffer.from(url).toString('base64url');
    assert.notEqual(b64.length % 4, 0);
    const digest = createHmac('sha1', SEED_KEY).update(url).digest('base64url');
    assert.equal(verifyCamoPath(digest, b64 + '='.repeat(4 - (b64.length % 4)), [SEED_KEY], nodeMac), url);
  });

  test('any key of the rotation list verifies', () => {
    assert.equal(verifyCamoPath(SEED_HEX[0], SEED_HEX[1], ['new-key', SEED_KEY], nodeMac), SEED_URL);
    assert.equal(codeOf(() => verifyCamoPath(SEED_HEX[0], SEED_HEX[1], ['new-key', 'other'], nodeMac)), 'BAD_SIGNATURE');
    assert.equal(codeOf(() => verifyCamoPath(SEED_HEX[0], SEED_HEX[1], [], nodeMac)), 'BAD_SIGNATURE');
  });

  test('tries every key whichever one matches, so timing does not tell which key verified', () => {
    for (const keys of [[SEED_KEY, 'a', 'b'], ['a', SEED_KEY, 'b'], ['a', 'b', SEED_KEY], ['a', 'b', 'c']]) {
      let calls = 0;
      const counting: MacFn = (alg, key, msg) => {
        calls++;
        return nodeMac(alg, key, msg);
      };
      codeOf(() => verifyCamoPath(SEED_HEX[0], SEED_HEX[1], keys, counting));
      assert.equal(calls, 3, keys.join(','));
    }
  });

  const refused: ReadonlyArray<readonly [name: string, digest: string, url: string]> = [
    ['hex digest with a base64 URL (go-camo url_test)', SEED_HEX[0], SEED_B64[1]],
    ['base64 digest with a hex URL', SEED_B64[0], SEED_HEX[1]],
    ['a digest one hex character short', SEED_HEX[0].slice(1), SEED_HEX[1]],
    ['a digest with one extra byte', SEED_HEX[0] + '00', SEED_HEX[1]],
    ['a hex URL of odd length', SEED_HEX[0], SEED_HEX[1].slice(1)],
    ['a hex URL with a non-hex character', SEED_HEX[0], SEED_HEX[1].slice(0, -1) + 'g'],
    ['an empty URL', SEED_HEX[0], ''],
    ['a base64 URL with + or / (not URL-safe)', SEED_B64[0], Buffer.from(SEED_URL + '?>>>').toString('base64')],
    ['a base64 URL with bad padding', SEED_B64[0], SEED_B64[1] + '=='],
    ['the last digest character changed', SEED_HEX[0].slice(0, -1) + '4', SEED_HEX[1]],
    ['a digest that verifies another URL', SEED_HEX[0], Buffer.from(SEED_URL + '?').toString('hex')],
  ];
  for (const [name, digest, url] of refused) {
    test(`refuses ${name} with BAD_SIGNATURE`, () => {
      assert.equal(codeOf(() => verifyCamoPath(digest, url, [SEED_KEY], nodeMac)), 'BAD_SIGNATURE');
    });
  }

  test('refuses a non-canonical base64 digest spelling that Go would accept', () => {
    // 'M' (12) and 'N' (13) differ only in the two unused low bits of the 27th character.
    const alias = SEED_B64[0].slice(0, -1) + 'N';
    assert.deepEqual(Buffer.from(alias, 'base64url'), Buffer.from(SEED_B64[0], 'base64url'));
    assert.equal(codeOf(() => verifyCamoPath(alias, SEED_B64[1], [SEED_KEY], nodeMac)), 'BAD_SIGNATURE');
  });

  test('refuses signed bytes that are not UTF-8 with BAD_URL', () => {
    const bytes = Buffer.from([0x68, 0x74, 0x74, 0x70, 0xc3, 0x28]);
    const digest = createHmac('sha1', SEED_KEY).update(bytes).digest('hex');
    assert.equal(codeOf(() => verifyCamoPath(digest, bytes.toString('hex'), [SEED_KEY], nodeMac)), 'BAD_URL');
  });

  test('keeps a URL that really contains U+FFFD or starts with a BOM, byte for byte', () => {
    for (const url of ['http://example.com/\uFFFD.png', '\uFEFFhttp://example.com/']) {
      const s = signCamoUrl(url, 'k', 'hex', nodeMac);
      assert.equal(verifyCamoPath(s.digest, s.encodedUrl, ['k'], nodeMac), url);
    }
  });

  test('round-trips any URL text in both encodings, and never verifies under another key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }), fc.constantFrom('hex' as const, 'base64' as const), (url, enc) => {
        const s = signCamoUrl(url, 'k1', enc, nodeMac);
        assert.equal(verifyCamoPath(s.digest, s.encodedUrl, ['k1'], nodeMac), url);
        assert.equal(codeOf(() => verifyCamoPath(s.digest, s.encodedUrl, ['k2'], nodeMac)), 'BAD_SIGNATURE');
      }),
    );
  });
});

describe("verifying camo's query form", () => {
  const url = 'http://example.com/a b.png?x=1';
  const digest = createHmac('sha1', 'k').update(url).digest('hex');

  test('verifies the HMAC of the unescaped URL with a hex digest, either case', () => {
    assert.equal(verifyCamoQuery(digest, url, ['k'], nodeMac), url);
    assert.equal(verifyCamoQuery(digest.toUpperCase(), url, ['old', 'k'], nodeMac), url);
  });

  test('refuses a base64 digest, an empty URL and another URL', () => {
    const b64 = createHmac('sha1', 'k').update(url).digest('base64url');
    assert.equal(codeOf(() => verifyCamoQuery(b64, url, ['k'], nodeMac)), 'BAD_SIGNATURE');
    assert.equal(codeOf(() => verifyCamoQuery(digest, '', ['k'], nodeMac)), 'BAD_SIGNATURE');
    assert.equal(codeOf(() => verifyCamoQuery(digest, url + '#', ['k'], nodeMac)), 'BAD_SIGNATURE');
  });
});

describe('looksLikeCamoDigest', () => {
  test('accepts 40 hex characters in either case and 27 base64url characters with optional =', () => {
    for (const ok of [SEED_HEX[0], SEED_HEX[0].toUpperCase(), SEED_B64[0], SEED_B64[0] + '=', '_'.repeat(27), '-'.repeat(27)]) {
      assert.equal(looksLikeCamoDigest(ok), true, ok);
    }
  });
  test('refuses other lengths and alphabets', () => {
    for (const bad of [SEED_HEX[0].slice(1), SEED_HEX[0] + 'a', SEED_B64[0].slice(1), SEED_B64[0] + 'A', SEED_B64[0] + '==', 'g'.repeat(40) + '/', '+'.repeat(27), '', 'healthcheck']) {
      assert.equal(looksLikeCamoDigest(bad), false, bad);
    }
  });
});
