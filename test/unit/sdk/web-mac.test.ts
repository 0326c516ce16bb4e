import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { isPixgateError } from '../../../src/respond/errors.js';
import { createWebCryptoMac, runWithAsyncMac, webCryptoMac } from '../../../src/sdk/web-mac.js';
import type { MacAlgorithm, MacFn } from '../../../src/verify/mac.js';
import { nodeMac } from '../../../src/verify/node-mac.js';

const ALGORITHMS: readonly MacAlgorithm[] = ['sha1', 'sha256', 'sha512'];
const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('webCryptoMac', () => {
  test('gives the RFC 4231 test case 2 HMAC-SHA256 and SHA512', async () => {
    // RFC 4231 section 4.3: key "Jefe", data "what do ya want for nothing?".
    const key = text('Jefe');
    const data = text('what do ya want for nothing?');
    assert.equal(hex(await webCryptoMac('sha256', key, data)), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    assert.equal(
      hex(await webCryptoMac('sha512', key, data)),
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    );
  });

  test('gives the RFC 2202 test case 2 HMAC-SHA1', async () => {
    assert.equal(hex(await webCryptoMac('sha1', text('Jefe'), text('what do ya want for nothing?'))), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  });

  test('agrees with node:crypto for any algorithm, key (empty and longer than a block included) and message', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ALGORITHMS),
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        async (algorithm, key, message) => {
          const expected = createHmac(algorithm, key).update(message).digest('hex');
          assert.equal(hex(await webCryptoMac(algorithm, key, message)), expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('signs with an empty key as HMAC defines it (imagor default secret)', async () => {
    for (const algorithm of ALGORITHMS) {
      assert.equal(hex(await webCryptoMac(algorithm, new Uint8Array(0), text('foo.jpg'))), createHmac(algorithm, '').update('foo.jpg').digest('hex'));
    }
  });

  test('imports a key once per algorithm and key, and drops the least recently used', async () => {
    const real = globalThis.crypto.subtle;
    const imports: string[] = [];
    const subtle = {
      importKey: (...args: Parameters<SubtleCrypto['importKey']>) => {
        imports.push(`${(args[2] as HmacImportParams).hash as string}:${Buffer.from(args[1] as Uint8Array).toString()}`);
        return real.importKey(...args);
      },
      sign: real.sign.bind(real),
    } as unknown as SubtleCrypto;
    const mac = createWebCryptoMac({ subtle, maxCachedKeys: 2 });
    await Promise.all([mac('sha1', text('a'), text('1')), mac('sha1', text('a'), text('2'))]);
    await mac('sha1', text('a'), text('3'));
    assert.deepEqual(imports, ['SHA-1:a']);
    await mac('sha256', text('a'), text('1'));
    await mac('sha1', text('b'), text('1')); // third key: sha1:a is the least recently used and goes
    await mac('sha256', text('a'), text('1'));
    await mac('sha1', text('a'), text('1'));
    assert.deepEqual(imports, ['SHA-1:a', 'SHA-256:a', 'SHA-1:b', 'SHA-1:a']);
  });

  test('says so when Web Crypto is missing', async () => {
    const mac = createWebCryptoMac({ subtle: undefined });
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
    try {
      await assert.rejects(mac('sha1', text('k'), text('m')), (e) => isPixgateError(e) && /Web Crypto/.test(e.message));
    } finally {
      if (saved) Object.defineProperty(globalThis, 'crypto', saved);
    }
  });

  test('refuses an unknown algorithm', async () => {
    await assert.rejects(webCryptoMac('md5' as MacAlgorithm, text('k'), text('m')), (e) => isPixgateError(e) && e.code === 'INVALID_PARAMS');
    await assert.rejects(webCryptoMac('toString' as MacAlgorithm, text('k'), text('m')), (e) => isPixgateError(e) && e.code === 'INVALID_PARAMS');
  });
});

describe('runWithAsyncMac', () => {
  const twoMacs = (mac: MacFn) => hex(mac('sha1', text('k1'), text('m'))) + hex(mac('sha256', text('k2'), text('m')));

  test('gives what the function gives with the synchronous MAC', async () => {
    assert.equal(await runWithAsyncMac(twoMacs, webCryptoMac), twoMacs(nodeMac));
  });

  test('reports the outcome of the replay, not of the recording pass', async () => {
    const run = (mac: MacFn) => {
      if (mac('sha1', text('k'), text('m'))[0] !== createHmac('sha1', 'k').update('m').digest()[0]) throw new Error('mismatch');
      throw new Error('the real error');
    };
    await assert.rejects(runWithAsyncMac(run, webCryptoMac), /the real error/);
  });

  test('refuses a function that asks for different MACs on the second run', async () => {
    let calls = 0;
    const run = (mac: MacFn) => mac('sha1', text(`k${calls++}`), text('m'));
    await assert.rejects(runWithAsyncMac(run, webCryptoMac), (e) => isPixgateError(e) && e.code === 'INTERNAL');
  });
});
