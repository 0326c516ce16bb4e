import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isPixgateError } from '../../../src/respond/errors.js';
import type { ErrorCode } from '../../../src/respond/error-table.js';
import { camoUrl, camoUrlSync, decodeCamoUrl, decodeCamoUrlSync } from '../../../src/sdk/camo.js';
import { nodeMac } from '../../../src/verify/node-mac.js';

// go-camo README, "url-tool" section (shared/reference/go-camo-readme.txt).
const GOPHER = 'http://golang.org/doc/gopher/frontpage.png';
const HEX = '/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67';
const B64 = '/D23vHLFHsOhPOcvdxeoQyAJTpvM/aHR0cDovL2dvbGFuZy5vcmcvZG9jL2dvcGhlci9mcm9udHBhZ2UucG5n';

const isCode = (code: ErrorCode) => (e: unknown) => isPixgateError(e) && e.code === code;

describe('camoUrl', () => {
  test("prints what go-camo's url-tool prints, hex and base64", async () => {
    assert.equal(await camoUrl(GOPHER, { key: 'test' }), HEX);
    assert.equal(await camoUrl(GOPHER, { key: 'test', encoding: 'hex' }), HEX);
    assert.equal(await camoUrl(GOPHER, { key: 'test', encoding: 'base64' }), B64);
    assert.equal(await camoUrl(GOPHER, { key: 'test', prefix: 'https://img.example.org' }), 'https://img.example.org' + HEX);
    assert.equal(await camoUrl(GOPHER, { key: 'test', encoding: 'base64', prefix: 'https://img.example.org' }), 'https://img.example.org' + B64);
  });

  test('drops a trailing slash of the prefix', async () => {
    assert.equal(await camoUrl(GOPHER, { key: 'test', prefix: 'https://img.example.org/camo/' }), 'https://img.example.org/camo' + HEX);
  });

  test('the synchronous variant gives the same URLs', () => {
    assert.equal(camoUrlSync(GOPHER, { key: 'test' }, nodeMac), HEX);
    assert.equal(camoUrlSync(GOPHER, { key: 'test', encoding: 'base64' }, nodeMac), B64);
  });

  test('Web Crypto and node:crypto sign every URL and key alike', async () => {
    await fc.assert(
      fc.asyncProperty(fc.webUrl(), fc.string({ minLength: 1 }), fc.constantFrom('hex' as const, 'base64' as const), async (url, key, encoding) => {
        assert.equal(await camoUrl(url, { key, encoding }), camoUrlSync(url, { key, encoding }, nodeMac));
      }),
      { numRuns: 100 },
    );
  });

  test('refuses an empty URL, an empty key and an unknown encoding', async () => {
    await assert.rejects(camoUrl('', { key: 'k' }), isCode('INVALID_PARAMS'));
    await assert.rejects(camoUrl(GOPHER, { key: '' }), isCode('INVALID_PARAMS'));
    await assert.rejects(camoUrl(GOPHER, { key: 'k', encoding: 'base32' as 'hex' }), isCode('INVALID_PARAMS'));
    assert.throws(() => camoUrlSync(GOPHER, { key: '' }, nodeMac), isCode('INVALID_PARAMS'));
  });
});

describe('decodeCamoUrl', () => {
  test("gives back the URL of go-camo's url-tool examples", async () => {
    assert.equal(await decodeCamoUrl('https://img.example.org' + HEX, { key: 'test' }), GOPHER);
    assert.equal(await decodeCamoUrl('https://img.example.org' + B64, { key: 'test' }), GOPHER);
    assert.equal(await decodeCamoUrl(HEX, { key: 'test' }), GOPHER);
    assert.equal(decodeCamoUrlSync(B64, { key: 'test' }, nodeMac), GOPHER);
  });

  test("reads camo's query form /digest?url=", async () => {
    const digest = HEX.split('/')[1]!;
    assert.equal(await decodeCamoUrl(`https://camo.example.org/${digest}?url=${encodeURIComponent(GOPHER)}`, { key: 'test' }), GOPHER);
  });

  test('refuses a digest made with another key, and accepts it when that key is in the list', async () => {
    await assert.rejects(decodeCamoUrl(HEX, { key: 'other' }), isCode('BAD_SIGNATURE'));
    assert.equal(await decodeCamoUrl(HEX, { key: ['other', 'test'] }), GOPHER);
    assert.throws(() => decodeCamoUrlSync(B64, { key: 'other' }, nodeMac), isCode('BAD_SIGNATURE'));
  });

  test('refuses a URL whose encoded part was changed', async () => {
    const tampered = HEX.slice(0, -2) + '68'; // .../frontpage.pnh
    await assert.rejects(decodeCamoUrl(tampered, { key: 'test' }), isCode('BAD_SIGNATURE'));
    await assert.rejects(decodeCamoUrl(B64.replace('aHR0', 'aHR1'), { key: 'test' }), isCode('BAD_SIGNATURE'));
  });

  test('refuses text that is not a camo URL', async () => {
    await assert.rejects(decodeCamoUrl('https://img.example.org/onlyone', { key: 'test' }), isCode('INVALID_PARAMS'));
    await assert.rejects(decodeCamoUrl('', { key: 'test' }), isCode('INVALID_PARAMS'));
    await assert.rejects(decodeCamoUrl(HEX, { key: [] }), isCode('INVALID_PARAMS'));
  });

  test('is the inverse of camoUrl for any URL, key and encoding', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string({ minLength: 1, unit: 'grapheme' })),
        fc.string({ minLength: 1 }),
        fc.constantFrom('hex' as const, 'base64' as const),
        async (url, key, encoding) => {
          const signed = await camoUrl(url, { key, encoding, prefix: 'https://camo.example.com/p' });
          assert.equal(await decodeCamoUrl(signed, { key }), url);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('the synchronous variants and their MAC', () => {
  const noMac = undefined as unknown as Parameters<typeof camoUrlSync>[2];
  const whyNot = (e: unknown): string => (e as Error).message;

  test('camoUrlSync without a MAC throws INVALID_PARAMS naming mac and camoUrl, not "mac is not a function"', () => {
    assert.throws(
      () => camoUrlSync(GOPHER, { key: 'test' }, noMac),
      (e: unknown) => isCode('INVALID_PARAMS')(e) && /\bmac\b/.test(whyNot(e)) && /\bcamoUrl\b/.test(whyNot(e)) && !/is not a function/.test(whyNot(e)),
    );
  });

  test('decodeCamoUrlSync without a MAC throws INVALID_PARAMS naming decodeCamoUrl', () => {
    assert.throws(() => decodeCamoUrlSync(B64, { key: 'test' }, noMac), (e: unknown) => isCode('INVALID_PARAMS')(e) && /\bdecodeCamoUrl\b/.test(whyNot(e)));
  });

  test('a MAC that is not a function (the key in its place) is refused the same way', () => {
    assert.throws(() => camoUrlSync(GOPHER, { key: 'test' }, 'test' as unknown as typeof nodeMac), isCode('INVALID_PARAMS'));
  });

  test('an asynchronous MAC is refused, saying to use the async variant', () => {
    const webMac = (async () => new Uint8Array(20)) as unknown as typeof nodeMac;
    assert.throws(() => camoUrlSync(GOPHER, { key: 'test' }, webMac), (e: unknown) => isCode('INVALID_PARAMS')(e) && /Promise/.test(whyNot(e)) && /camoUrl/.test(whyNot(e)));
  });

  test('option errors still come first', () => {
    assert.throws(() => camoUrlSync('', { key: 'test' }, noMac), (e: unknown) => isCode('INVALID_PARAMS')(e) && /\burl\b/.test(whyNot(e)));
  });

  test('the async variants refuse a mac that is not a function', async () => {
    const mac = nodeMac as unknown as undefined; // a sync MAC where an async one belongs still works: it is awaited
    assert.equal(await camoUrl(GOPHER, { key: 'test', mac }), HEX);
    await assert.rejects(camoUrl(GOPHER, { key: 'test', mac: 'x' as unknown as undefined }), isCode('INVALID_PARAMS'));
    await assert.rejects(decodeCamoUrl(HEX, { key: 'test', mac: 42 as unknown as undefined }), isCode('INVALID_PARAMS'));
  });
});
